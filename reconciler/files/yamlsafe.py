"""A safe, bounded, line-aware YAML loader for series and settings files.

PyYAML's ``safe_load`` is not enough for files people edit by hand and CI loads unattended:
it silently keeps the last of two equal keys, turns ``2025-12-31`` into a ``date`` object,
expands an alias bomb into gigabytes, and forgets where each value was written. So this
module lets libyaml only *parse* (a flat stream of events, each with its position) and builds
the plain values itself (``yamlevents``), in one pass over the events, with no recursion and
no node tree:

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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from reconciler.files.yamlevents import (
    MAX_DEPTH,
    MAX_NODES,
    DocPath,
    EventBuilder,
    Mark,
    Refused,
    packed_key_line,
    unpack,
)
from reconciler.problems import Problem

MAX_BYTES: Final = 512 * 1024


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
            built = EventBuilder(self._text, file="", record=True)
            built.run()
            self._tables = (dict(built.key_list), dict(built.value_list))
        return self._tables

    @property
    def keys(self) -> Mapping[DocPath, Mark]:
        return self._all()[0]

    @property
    def values(self) -> Mapping[DocPath, Mark]:
        return self._all()[1]

    def key_line(self, path: DocPath) -> int:
        """``where(path, key=True).line``, without a ``Mark`` for a top-level key (asked
        once for every field of every file: 120,000 times at 10,000 files)."""
        if len(path) == 1 and isinstance(path[0], str):
            packed = self._top.get(path[0])
            if packed is not None:
                return packed_key_line(packed)
        return self.where(path, key=True).line

    def where(self, path: DocPath, *, key: bool = False) -> Mark:
        """Where the key (``key=True``) or the value at ``path`` is; for a path that is not
        in the document, the nearest part of it that is (the top of the file at worst)."""
        if not path:
            return Mark(1, 1)
        if len(path) == 1 and path[0] in self._top:
            return unpack(self._top[path[0]], key=key)
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
    builder = EventBuilder(text, file=file, record=False)
    try:
        value, root_mark = builder.run()
    except Refused as refused:
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
