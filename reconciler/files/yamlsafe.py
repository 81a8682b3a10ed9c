"""A safe, bounded, line-aware YAML loader for series and settings files.

PyYAML's ``safe_load`` is not enough for files people edit by hand and CI loads unattended:
it silently keeps the last of two equal keys, turns ``2025-12-31`` into a ``date`` object,
expands an alias bomb into gigabytes, and forgets where each value was written. So this
module lets libyaml only *parse* (a flat stream of events, each with its position) and builds
the plain values itself, in one pass over the events, with no recursion and no node tree:

- every mapping key and value has its 1-based (line, column), looked up by its path in the
  document (``doc.where(("productInfo", 0, "productType"))``);
- a key repeated in one mapping is a problem naming both lines;
- only the JSON-like scalars are built (null, bool, int, float, str); YAML timestamps stay the
  text that was written, and any other tag (``!!python/object``, ``!!binary``, ``!foo``) is a
  problem, never an object;
- files over ``MAX_BYTES`` are refused before parsing, and building stops at the first event
  past ``MAX_NODES`` values (aliases count each time they are used) or ``MAX_DEPTH`` levels
  of nesting: 30,000 nested ``[`` cost a millisecond, never a stack overflow (PyYAML's C
  composer recurses once a level and crashes the process on such a file);
- bytes that are not UTF-8, an empty file and a top level that is not a mapping are problems.

Positions cost memory (a 10,000-file folder has 200,000 values): a document keeps those of
its top-level keys, which every load asks for, and its text; the first question about a
deeper position parses the text again and keeps every position from then on.

Nothing here raises for bad input: ``load_yaml`` returns problems.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode

from reconciler.problems import Problem, Severity

MAX_BYTES: Final = 512 * 1024
MAX_NODES: Final = 100_000
MAX_DEPTH: Final = 64

# The C parser is an order of magnitude faster; both give the same events and marks.
_LOADER: Final[type[Any]] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_STR: Final = f"{_TAG}str"
_SEQ: Final = f"{_TAG}seq"
_MAP: Final = f"{_TAG}map"
_MERGE: Final = f"{_TAG}merge"
_SCALAR_TAGS: Final = frozenset(
    {f"{_TAG}null", f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float", _STR, f"{_TAG}timestamp"}
)
# The safe loader's implicit tags by first character (``yes`` is a bool, ``0x1F`` an int...).
_RESOLVERS: Final[dict[Any, list[tuple[str, Any]]]] = yaml.SafeLoader.yaml_implicit_resolvers
_WILDCARD: Final = tuple(_RESOLVERS.get(None, []))
_BY_FIRST: Final = {
    first: (*resolvers, *_WILDCARD) for first, resolvers in _RESOLVERS.items() if first is not None
}
_NULL: Final = f"{_TAG}null"
_TEXT_TAGS: Final = frozenset({_STR, f"{_TAG}timestamp"})

PathPart = str | int
DocPath = tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a file."""

    line: int
    column: int


class Document:
    """The plain value of a YAML file and where each part of it was written.

    ``keys`` holds the position of each mapping key, ``values`` of each value (list items
    included), both by path from the top: ``("productInfo", 0, "productType")``. Only the
    top-level positions are kept from the first parse; the others come from parsing the text
    again, once, at the first question about them.
    """

    __slots__ = ("_tables", "_text", "_top", "data")

    def __init__(
        self,
        data: dict[str, Any],
        *,
        text: str = "",
        top: dict[str, int] | None = None,
        tables: tuple[dict[DocPath, Mark], dict[DocPath, Mark]] | None = None,
    ) -> None:
        self.data = data
        self._text = text
        self._top = top or {}
        self._tables = tables

    def located_only(self) -> Document:
        """This document without its values: what a checked file keeps to place a problem
        found later (its text and its top level's positions, not the value tree)."""
        return Document({}, text=self._text, top=self._top)

    def forget_top(self) -> None:
        """Drop the top level's positions too (a few hundred bytes a file); a question about
        a position parses the text again."""
        self._top = {}

    def _all(self) -> tuple[dict[DocPath, Mark], dict[DocPath, Mark]]:
        if self._tables is None:
            built = _Builder(self._text, file="", record=True)
            built.run()
            self._tables = (dict(built.key_list), dict(built.value_list))
        return self._tables

    @property
    def keys(self) -> Mapping[DocPath, Mark]:
        return self._all()[0]

    @property
    def values(self) -> Mapping[DocPath, Mark]:
        return self._all()[1]

    def where(self, path: DocPath, *, key: bool = False) -> Mark:
        """Where the key (``key=True``) or the value at ``path`` is; for a path that is not
        in the document, the nearest part of it that is (the top of the file at worst)."""
        if not path:
            return Mark(1, 1)
        if len(path) == 1 and path[0] in self._top:
            packed = self._top[path[0]]
            if key:
                packed >>= 40
            return Mark((packed >> 20 & _FIELD) + 1, (packed & _FIELD) + 1)
        if not self._text and self._tables is None:
            return Mark(1, 1)
        keys, values = self._all()
        table = keys if key else values
        probe = tuple(path)
        while probe:
            mark = table.get(probe) or values.get(probe) or keys.get(probe)
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
    builder = _Builder(text, file=file, record=False)
    try:
        value, root_mark = builder.run()
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
    if root_mark is None:
        return problem(f"the file is empty: a {what} file is a mapping of names to values")
    if not isinstance(value, dict):
        found = "a list" if isinstance(value, list) else "a single value"
        return problem(
            f"the top level of a {what} file must be a mapping of names to values, not {found}",
            root_mark.line,
            root_mark.column,
        )
    document = Document(value, text=text, top=builder.top)
    return Loaded(document, tuple(builder.problems))


# A top-level key's position and its value's, 0-based, in one int of four 20-bit fields (a
# file is under 512 KiB, so a line or a column is under 2**19): a 10,000-file load keeps
# 140,000 of them until every environment is checked, four Marks each would be 40 MB.
_FIELD: Final = (1 << 20) - 1


def _pack(key: Any, value: Any) -> int:
    packed: int = (key.line << 60) | (key.column << 40) | (value.line << 20) | value.column
    return packed


def _event_mark(event: Any) -> Mark:
    return Mark(event.start_mark.line + 1, event.start_mark.column + 1)


class _Anchor:
    """What an anchor (``&name``) named: its value, how many values it holds, how deep it
    nests, and (when recording) the range of positions recorded inside it."""

    __slots__ = ("count", "done", "height", "key_range", "path", "text", "value", "value_range")

    def __init__(self, path: DocPath) -> None:
        self.path = path
        self.value: Any = None
        self.text: str | None = None  # a scalar's text, for an alias used as a key
        self.count = 0
        self.height = 0
        self.done = False
        self.key_range = (0, 0)
        self.value_range = (0, 0)


class _Frame:
    """A mapping or a list being built."""

    __slots__ = (
        "anchor",
        "count",
        "height",
        "is_map",
        "key",
        "key_mark",
        "keys",
        "out",
        "path",
        "start",
    )

    def __init__(self, out: Any, path: DocPath, anchor: _Anchor | None, start: int) -> None:
        self.out = out
        self.is_map = isinstance(out, dict)
        self.path = path
        self.anchor = anchor
        self.count = 0  # values built inside, for an anchor's use count
        self.height = 1
        self.start = start  # recorded positions before this collection (anchors only)
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_mark: Any = None  # libyaml's mark of the key (0-based)
        self.keys: dict[str, Any] = {}


class _Builder:
    """Builds plain values from libyaml's events (a stack, never recursion), counting values
    and levels as they come; with ``record``, keeps the position of every key and value."""

    def __init__(self, text: str, *, file: str, record: bool) -> None:
        self.text = text
        self.file = file
        self.record = record
        self.count = 0
        # The top level's keys: where each key and its value are (``_pack``).
        self.top: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.anchors: dict[str, _Anchor] = {}
        self.anchor_marks: dict[str, Mark] = {}
        # Only when recording: (path, mark) in document order, turned into tables at the end.
        self.key_list: list[tuple[DocPath, Mark]] = []
        self.value_list: list[tuple[DocPath, Mark]] = []
        # Only its scalar conversions are used (ints in any YAML base, floats, bools).
        self.scalars = SafeConstructor()

    def run(self) -> tuple[Any, Mark | None]:
        """The value of the single document, and where it starts (None: an empty stream)."""
        loader = _LOADER(self.text)
        try:
            return self._events(loader)
        finally:
            loader.dispose()

    def _events(self, loader: Any) -> tuple[Any, Mark | None]:
        stack: list[_Frame] = []
        root: Any = None
        root_mark: Mark | None = None
        documents = 0
        first_document: Any = None
        get = loader.get_event
        scalar_event = yaml.ScalarEvent
        record = self.record
        top = self.top
        while True:
            event = get()
            kind = type(event)
            if kind is scalar_event:
                if stack:
                    frame = stack[-1]
                    if frame.is_map and frame.key is None:
                        key = event.value
                        if event.anchor is None and key != "<<" and not record:
                            # The common case, inline: a plain key (see ``_key``).
                            self.count += 1
                            key = sys.intern(key)
                            raw = event.start_mark
                            if key in frame.keys:
                                self._set_key(frame, key, raw)
                            else:
                                frame.keys[key] = frame.key_mark = raw
                                frame.key = key
                        else:
                            self._key(frame, event)
                        continue
                    self.count += 1
                    if self.count > MAX_NODES:
                        self._count(0, _event_mark(event))
                    value = self._scalar(event)
                    if event.anchor is not None:
                        self._anchor_scalar(event, value, self._path_here(stack))
                    if record:
                        self.value_list.append((self._path_here(stack), _event_mark(event)))
                    elif len(stack) == 1 and frame.is_map:
                        top[frame.key] = _pack(frame.key_mark, event.start_mark)  # type: ignore[index]
                    frame.count += 1
                    if frame.is_map:
                        frame.out[frame.key] = value
                        frame.key = None
                    else:
                        frame.out.append(value)
                else:
                    self.count += 1
                    root, root_mark = self._scalar(event), _event_mark(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                mark = _event_mark(event)
                if stack and stack[-1].key is None and isinstance(stack[-1].out, dict):
                    raise _Refused("a key must be a plain name, not a list or a mapping", mark)
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(f"the file is nested more than {MAX_DEPTH} levels deep", mark)
                self._count(1, mark)
                is_map = kind is yaml.MappingStartEvent
                tag = event.tag
                if tag is not None and tag not in ("!", _MAP if is_map else _SEQ):
                    raise _Refused(
                        f"the tag {tag.replace(_TAG, '!!')} is not allowed: only plain YAML "
                        "values are",
                        mark,
                    )
                path = self._path_here(stack)
                anchor = self._new_anchor(event, path)
                frame = _Frame({} if is_map else [], path, anchor, len(self.value_list))
                if self.record:
                    self.value_list.append((path, mark))
                elif len(stack) == 1 and stack[0].key is not None:
                    self._top_value(stack[0], event.start_mark)
                if not stack:
                    root_mark = mark
                stack.append(frame)
                if anchor is not None:
                    anchor.key_range = (len(self.key_list), 0)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor is not None:
                    anchor = frame.anchor
                    anchor.value, anchor.count, anchor.height = frame.out, frame.count, frame.height
                    anchor.key_range = (anchor.key_range[0], len(self.key_list))
                    anchor.value_range = (frame.start, len(self.value_list))
                    anchor.done = True
                if stack:
                    parent = stack[-1]
                    parent.count += frame.count + 1
                    parent.height = max(parent.height, frame.height + 1)
                    self._attach(parent, frame.out)
                else:
                    root = frame.out
            elif kind is yaml.AliasEvent:
                mark = _event_mark(event)
                self._alias(stack, event, mark)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents == 1:
                    first_document = event
                else:
                    raise yaml.composer.ComposerError(
                        "expected a single document in the stream",
                        first_document.start_mark,
                        "but found another document",
                        event.start_mark,
                    )
            elif kind is yaml.StreamEndEvent:
                return root, root_mark
            # StreamStart and DocumentEnd carry nothing.

    # ---------------------------------------------------------------- one event each

    def _count(self, more: int, mark: Mark) -> None:
        self.count += more
        if self.count > MAX_NODES:
            raise _Refused(
                f"the file holds more than {MAX_NODES:,} values (aliases such as *name "
                "repeat what they point to): this is not a series file",
                mark,
            )

    def _path_here(self, stack: list[_Frame]) -> DocPath:
        if not stack:
            return ()
        top = stack[-1]
        if isinstance(top.out, dict):
            assert top.key is not None
            return (*top.path, top.key)
        return (*top.path, len(top.out))

    def _key(self, frame: _Frame, event: Any) -> None:
        self.count += 1
        key = event.value
        if key == "<<" and event.tag is None and event.implicit[0]:
            raise _Refused(
                "merge keys (<<) are not supported: write the fields out in full",
                _event_mark(event),
            )
        # Keys are names: keep the text as written (``yes`` stays "yes", ``1`` is "1"), one
        # string for every file's "description" (interned: 10,000 files share it).
        self._set_key(frame, sys.intern(key), event.start_mark)
        if event.anchor is not None:
            anchor = self._new_anchor(event, (*frame.path, key))
            assert anchor is not None
            anchor.value = anchor.text = key
            anchor.count, anchor.done = 1, True

    def _set_key(self, frame: _Frame, key: str, raw: Any) -> None:
        first = frame.keys.get(key)
        if first is not None:
            path = frame.path
            self.problems.append(
                Problem(
                    self.file,
                    raw.line + 1,
                    raw.column + 1,
                    f"{key!r} is written twice in the same mapping (lines {first.line + 1} "
                    f"and {raw.line + 1}): keep one",
                    Severity.ERROR,
                    key if not path else str(path[0]),
                )
            )
        frame.keys[key] = raw
        frame.key = key
        frame.key_mark = raw
        if self.record:
            self.key_list.append(((*frame.path, key), Mark(raw.line + 1, raw.column + 1)))

    def _top_value(self, frame: _Frame, mark: Any) -> None:
        assert frame.key is not None and frame.key_mark is not None
        self.top[frame.key] = _pack(frame.key_mark, mark)

    def _attach(self, frame: _Frame, value: Any) -> None:
        if isinstance(frame.out, dict):
            assert frame.key is not None
            frame.out[frame.key] = value
            frame.key = None
        else:
            frame.out.append(value)

    def _new_anchor(self, event: Any, path: DocPath) -> _Anchor | None:
        name = event.anchor
        if name is None:
            return None
        mark = _event_mark(event)
        if name in self.anchors:
            first = self.anchor_marks[name]
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {name!r}; first occurrence",
                yaml.Mark("", 0, first.line - 1, first.column - 1, None, 0),
                "second occurrence",
                event.start_mark,
            )
        anchor = _Anchor(path)
        self.anchors[name] = anchor
        self.anchor_marks[name] = mark
        return anchor

    def _anchor_scalar(self, event: Any, value: Any, path: DocPath) -> None:
        anchor = self._new_anchor(event, path)
        assert anchor is not None
        anchor.value, anchor.text, anchor.count, anchor.done = value, event.value, 1, True
        anchor.value_range = (len(self.value_list), len(self.value_list) + 1)

    def _alias(self, stack: list[_Frame], event: Any, mark: Mark) -> None:
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise yaml.composer.ComposerError(
                None, None, f"found undefined alias {event.anchor!r}", event.start_mark
            )
        if not anchor.done:
            raise _Refused(
                f"the alias *{event.anchor} is used inside the value it names: it never ends",
                mark,
            )
        if stack and stack[-1].key is None and isinstance(stack[-1].out, dict):
            if anchor.text is None:
                raise _Refused("a key must be a plain name, not a list or a mapping", mark)
            self.count += 1
            self._set_key(stack[-1], anchor.text, event.start_mark)
            return
        if len(stack) + anchor.height > MAX_DEPTH:
            raise _Refused(f"the file is nested more than {MAX_DEPTH} levels deep", mark)
        self._count(anchor.count, mark)
        here = self._path_here(stack)
        if self.record:
            self._copy_positions(anchor, here)
            self.value_list.append((here, mark))  # the alias itself: where it is written
        value = anchor.value
        if isinstance(value, dict | list):
            value = copy.deepcopy(value)  # each use its own value, as if written out again
        if not stack:
            return
        frame = stack[-1]
        if not self.record and len(stack) == 1 and frame.key is not None:
            self._top_value(frame, event.start_mark)
        frame.count += anchor.count
        frame.height = max(frame.height, anchor.height + 1)
        self._attach(frame, value)

    def _copy_positions(self, anchor: _Anchor, here: DocPath) -> None:
        """Positions inside an alias are those of what it names, under the alias's path."""
        size = len(anchor.path)
        start, end = anchor.value_range
        self.value_list.extend(
            ((*here, *path[size:]), mark) for path, mark in self.value_list[start:end]
        )
        start, end = anchor.key_range
        self.key_list.extend(
            ((*here, *path[size:]), mark) for path, mark in self.key_list[start:end]
        )

    def _scalar(self, event: Any) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return text  # quoted: text
            tag = _STR
            for candidate, regexp in _BY_FIRST.get(text[:1], _WILDCARD):
                if regexp.match(text):
                    tag = candidate
                    break
        if tag in _TEXT_TAGS:
            # A date stays the text that was written: its offset and precision matter.
            return text
        if tag == _NULL:
            return None
        if tag not in _SCALAR_TAGS:
            shown = tag.replace(_TAG, "!!")
            raise _Refused(
                f"the tag {shown} is not allowed: only plain text, numbers, true/false and "
                "null are",
                _event_mark(event),
            )
        node = ScalarNode(tag, text)
        try:
            if tag == f"{_TAG}bool":
                return self.scalars.construct_yaml_bool(node)
            if tag == f"{_TAG}int":
                return self.scalars.construct_yaml_int(node)
            return self.scalars.construct_yaml_float(node)
        except (ConstructorError, ValueError) as error:
            message = f"{text!r} is not a valid value: {error}"
        except (IndexError, KeyError):  # an explicit !!int, !!float or !!bool on other text
            message = f"{text!r} is not a valid value: not a {tag.replace(_TAG, '!!')}"
        raise _Refused(message, _event_mark(event))


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
