"""A safe, bounded, line-aware YAML loader for series and settings files.

PyYAML's ``safe_load`` is not enough for files people edit by hand and CI loads unattended:
it silently keeps the last of two equal keys, turns ``2025-12-31`` into a ``date`` object,
expands an alias bomb into gigabytes, and forgets where each value was written. So this
module lets PyYAML only *compose* (parse into nodes that carry their marks) and builds the
plain values itself:

- every mapping key and value keeps its 1-based (line, column), looked up by its path in the
  document (``doc.where(("productInfo", 0, "productType"))``);
- a key repeated in one mapping is a problem naming both lines;
- only the JSON-like scalars are built (null, bool, int, float, str); YAML timestamps stay the
  text that was written, and any other tag (``!!python/object``, ``!!binary``, ``!foo``) is a
  problem, never an object;
- files over ``MAX_BYTES`` are refused before parsing, and building stops after ``MAX_NODES``
  nodes (aliases count each time they are used) or ``MAX_DEPTH`` levels of nesting;
- the depth and the number of nodes are first counted on the parser's event stream, which
  libyaml produces without recursion, and the file is refused there, before PyYAML's
  composer recurses once per level (30,000 nested ``[`` overflow the C stack: a segfault
  that no ``except`` can catch);
- bytes that are not UTF-8, an empty file and a top level that is not a mapping are problems.

Nothing here raises for bad input: ``load_yaml`` returns problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.problems import Problem, Severity

MAX_BYTES: Final = 512 * 1024
MAX_NODES: Final = 100_000
MAX_DEPTH: Final = 64

# The C parser is an order of magnitude faster; both give the same nodes and marks.
_LOADER: Final[type[Any]] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS: Final = frozenset(
    {f"{_TAG}null", f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float", f"{_TAG}str", f"{_TAG}timestamp"}
)

PathPart = str | int
DocPath = tuple[PathPart, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based position in a file."""

    line: int
    column: int


@dataclass(frozen=True)
class Document:
    """The plain value of a YAML file and where each part of it was written.

    ``keys`` holds the position of each mapping key, ``values`` of each value (list items
    included), both by path from the top: ``("productInfo", 0, "productType")``.
    """

    data: dict[str, Any]
    keys: Mapping[DocPath, Mark] = field(default_factory=dict)
    values: Mapping[DocPath, Mark] = field(default_factory=dict)

    def where(self, path: DocPath, *, key: bool = False) -> Mark:
        """Where the key (``key=True``) or the value at ``path`` is; for a path that is not
        in the document, the nearest part of it that is (the top of the file at worst)."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            mark = table.get(probe) or self.values.get(probe) or self.keys.get(probe)
            if mark is not None:
                return mark
            probe = probe[:-1]
        return Mark(1, 1)


@dataclass(frozen=True)
class Loaded:
    """The outcome of loading one file: a document unless the file is unusable, and the
    problems found (duplicate keys can come with a document)."""

    document: Document | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.document is not None and not any(p.is_error for p in self.problems)


class _Refused(Exception):
    """Building stopped: the file is unsafe or unusable (internal to this module)."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def load_yaml(data: bytes, *, file: str, what: str = "series") -> Loaded:
    """Load ``data`` (the bytes of ``file``) into a ``Document`` whose top level is a mapping.

    ``what`` names the kind of file in messages ("series", "settings").
    """

    def problem(message: str, line: int = 0, column: int = 0) -> Loaded:
        return Loaded(None, (Problem(file, line, column, message),))

    if len(data) > MAX_BYTES:
        return problem(
            f"the file is {len(data) // 1024} KiB, too large to be a {what} file "
            f"(the limit is {MAX_BYTES // 1024} KiB)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        return problem(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02X}): save it as UTF-8",
            line,
            error.start - line_start + 1,
        )
    if not text.strip():
        return problem(f"the file is empty: a {what} file is a mapping of names to values")
    try:
        if not _within_limits_by_size(text):
            _check_shape(text)
        root = yaml.compose(text, Loader=_LOADER)
    except _Refused as refused:
        return problem(refused.message, refused.mark.line, refused.mark.column)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return problem(_plain_message(error, text, mark), line, column)
    except yaml.YAMLError as error:  # ReaderError: characters YAML does not allow
        position = getattr(error, "position", None)
        if isinstance(position, int):
            line = text.count("\n", 0, position) + 1
            column = position - (text.rfind("\n", 0, position) + 1) + 1
            return problem(
                "the file contains a control character YAML does not allow", line, column
            )
        return problem(f"the file is not valid YAML: {error}")
    except RecursionError:
        return problem("the file is nested too deeply to be read")
    if root is None:
        return problem(f"the file is empty: a {what} file is a mapping of names to values")
    if not isinstance(root, MappingNode):
        found = "a list" if isinstance(root, SequenceNode) else "a single value"
        start = _mark(root)
        return problem(
            f"the top level of a {what} file must be a mapping of names to values, not {found}",
            start.line,
            start.column,
        )
    builder = _Builder(file)
    try:
        value = builder.build(root, (), 0)
    except _Refused as refused:
        return problem(refused.message, refused.mark.line, refused.mark.column)
    except RecursionError:
        return problem("the file is nested too deeply to be read")
    assert isinstance(value, dict)  # a MappingNode always builds a dict
    document = Document(value, builder.keys, builder.values)
    return Loaded(document, tuple(builder.problems))


def _within_limits_by_size(text: str) -> bool:
    """True when ``text`` is too small to break the limits, so it is parsed once, not twice.

    Every level of nesting starts at an indicator of its own (``[``, ``{``, ``-``, ``:``,
    ``?``), and every value takes at least a character or an indicator: counting them bounds
    the depth and the number of values from above without a parse (an alias adds no level,
    and the values it repeats are counted by the builder).
    """
    if 3 * len(text) > MAX_NODES:
        return False
    return sum(text.count(c) for c in "[{-:?") <= MAX_DEPTH


def _check_shape(text: str) -> None:
    """Refuse ``text`` when it nests deeper than ``MAX_DEPTH`` or holds more than
    ``MAX_NODES`` values, reading only the event stream (flat: no recursion, and it stops at
    the first level too deep, so a file of 250,000 ``[`` costs a millisecond)."""
    loader = _LOADER(text)
    try:
        depth = 0
        count = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refused(
                        f"the file is nested more than {MAX_DEPTH} levels deep", _event_mark(event)
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                count += 1
                if count > MAX_NODES:
                    raise _Refused(
                        f"the file holds more than {MAX_NODES:,} values: this is not a series file",
                        _event_mark(event),
                    )
    finally:
        loader.dispose()


def _event_mark(event: Any) -> Mark:
    return Mark(event.start_mark.line + 1, event.start_mark.column + 1)


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns composed nodes into plain values, recording marks and counting nodes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0
        self.keys: dict[DocPath, Mark] = {}
        self.values: dict[DocPath, Mark] = {}
        self.problems: list[Problem] = []
        # Only its scalar conversions are used (ints in any YAML base, floats, bools).
        self.scalars = SafeConstructor()

    def build(self, node: Node, path: DocPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(
                f"the file expands to more than {MAX_NODES:,} values (aliases such as *name "
                "repeat what they point to): this is not a series file",
                _mark(node),
            )
        if depth > MAX_DEPTH:
            raise _Refused(f"the file is nested more than {MAX_DEPTH} levels deep", _mark(node))
        self.values[path] = _mark(node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            self.check_tag(node, f"{_TAG}seq")
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            self.check_tag(node, f"{_TAG}map")
            return self.mapping(node, path, depth)
        raise _Refused("the file holds a YAML node of an unknown kind", _mark(node))

    def mapping(self, node: MappingNode, path: DocPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            self.count += 1
            key_mark = _mark(key_node)
            if not isinstance(key_node, ScalarNode):
                raise _Refused("a key must be a plain name, not a list or a mapping", key_mark)
            if key_node.tag == f"{_TAG}merge":
                raise _Refused(
                    "merge keys (<<) are not supported: write the fields out in full", key_mark
                )
            # Keys are names: keep the text as written (``yes`` stays "yes", ``1`` is "1").
            key = str(key_node.value)
            key_path = (*path, key)
            if key in out:
                first = self.keys[key_path]
                self.problems.append(
                    Problem(
                        self.file,
                        key_mark.line,
                        key_mark.column,
                        f"{key!r} is written twice in the same mapping (lines {first.line} "
                        f"and {key_mark.line}): keep one",
                        Severity.ERROR,
                        key if not path else str(path[0]),
                    )
                )
            self.keys[key_path] = key_mark
            out[key] = self.build(value_node, key_path, depth + 1)
        return out

    def check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            shown = node.tag.replace(_TAG, "!!")
            raise _Refused(
                f"the tag {shown} is not allowed: only plain YAML values are", _mark(node)
            )

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            shown = tag.replace(_TAG, "!!")
            raise _Refused(
                f"the tag {shown} is not allowed: only plain text, numbers, true/false and "
                "null are",
                _mark(node),
            )
        if tag in (f"{_TAG}str", f"{_TAG}timestamp"):
            # A date stays the text that was written: its offset and precision matter.
            return str(node.value)
        if tag == f"{_TAG}null":
            return None
        try:
            if tag == f"{_TAG}bool":
                return self.scalars.construct_yaml_bool(node)
            if tag == f"{_TAG}int":
                return self.scalars.construct_yaml_int(node)
            return self.scalars.construct_yaml_float(node)
        except (ConstructorError, ValueError) as error:
            raise _Refused(f"{node.value!r} is not a valid value: {error}", _mark(node)) from None


# PyYAML's messages, said the way a person editing a file can act on.
_PLAIN: Final = (
    (
        "mapping values are not allowed",
        "a colon where a value was expected: put quotes around a value that contains ': ', "
        "or check the indentation of this line",
    ),
    (
        "could not find expected ':'",
        "a line that is not 'name: value': add the colon, or check the indentation",
    ),
    ("found undefined alias", "an alias (*name) with no anchor (&name) to refer to"),
    (
        "expected a single document",
        "the file holds more than one YAML document (---): one series per file",
    ),
    ("found unexpected end of stream", "a quote or bracket is opened and never closed"),
    (
        "did not find expected key",
        "the indentation is wrong here, or a list item (-) is mixed with 'name: value' lines",
    ),
    ("expected <block end>", "the indentation is wrong here"),
    ("found duplicate anchor", "the same anchor (&name) is defined twice"),
    ("did not find expected ',' or ']'", "a list in brackets is not closed with ]"),
    ("did not find expected ',' or '}'", "a mapping in braces is not closed with }"),
    ("did not find expected '-' indicator", "a list item (-) is indented wrongly"),
)


def _plain_message(error: yaml.MarkedYAMLError, text: str, mark: Any) -> str:
    lines = text.splitlines()
    at_mark = lines[mark.line][mark.column :] if mark is not None and mark.line < len(lines) else ""
    if at_mark.startswith("\t"):
        return "the file is not valid YAML: a tab character: YAML indents with spaces only"
    problem = error.problem or ""
    context = error.context or ""
    for needle, message in _PLAIN:
        if needle in problem or needle in context:
            return f"the file is not valid YAML: {message}"
    return f"the file is not valid YAML: {problem or context or error}"


__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "DocPath",
    "Document",
    "Loaded",
    "Mark",
    "load_yaml",
]
