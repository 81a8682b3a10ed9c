"""libyaml's event stream → plain values, in one flat pass (the engine of ``yamlsafe``).

``EventBuilder`` reads the events of a text (a stack, never recursion), builds only the
JSON-like scalars, refuses other tags, merge keys, keys that are not plain names, anchors
named twice, aliases used inside what they name, more than ``MAX_NODES`` values (aliases
count each time they are used) and more than ``MAX_DEPTH`` levels, as the events come. It
keeps the top level's positions packed in one int each (``unpack``) or, with ``record``, the
position of every key and value. ``yamlsafe`` turns its refusals into problems.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from typing import Any, Final

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode

from reconciler.problems import Problem, Severity

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


class Refused(Exception):
    """Building stopped: the file is unsafe or unusable."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


# A top-level key's position and its value's, 0-based, in one int of four 20-bit fields (a
# file is under 512 KiB, so a line or a column is under 2**19): a 10,000-file load keeps
# 140,000 of them until every environment is checked, four Marks each would be 40 MB.
_FIELD: Final = (1 << 20) - 1


def _pack(key: Any, value: Any) -> int:
    packed: int = (key.line << 60) | (key.column << 40) | (value.line << 20) | value.column
    return packed


def event_mark(event: Any) -> Mark:
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


class EventBuilder:
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
                        self._count(0, event_mark(event))
                    value = self._scalar(event)
                    if event.anchor is not None:
                        self._anchor_scalar(event, value, self._path_here(stack))
                    if record:
                        self.value_list.append((self._path_here(stack), event_mark(event)))
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
                    root, root_mark = self._scalar(event), event_mark(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                mark = event_mark(event)
                if stack and stack[-1].key is None and isinstance(stack[-1].out, dict):
                    raise Refused("a key must be a plain name, not a list or a mapping", mark)
                if len(stack) >= MAX_DEPTH:
                    raise Refused(f"the file is nested more than {MAX_DEPTH} levels deep", mark)
                self._count(1, mark)
                is_map = kind is yaml.MappingStartEvent
                tag = event.tag
                if tag is not None and tag not in ("!", _MAP if is_map else _SEQ):
                    raise Refused(
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
                mark = event_mark(event)
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
            raise Refused(
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
            raise Refused(
                "merge keys (<<) are not supported: write the fields out in full",
                event_mark(event),
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
        mark = event_mark(event)
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
            raise Refused(
                f"the alias *{event.anchor} is used inside the value it names: it never ends",
                mark,
            )
        if stack and stack[-1].key is None and isinstance(stack[-1].out, dict):
            if anchor.text is None:
                raise Refused("a key must be a plain name, not a list or a mapping", mark)
            self.count += 1
            self._set_key(stack[-1], anchor.text, event.start_mark)
            return
        if len(stack) + anchor.height > MAX_DEPTH:
            raise Refused(f"the file is nested more than {MAX_DEPTH} levels deep", mark)
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
            raise Refused(
                f"the tag {shown} is not allowed: only plain text, numbers, true/false and "
                "null are",
                event_mark(event),
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
        raise Refused(message, event_mark(event))


def packed_key_line(packed: int) -> int:
    """``unpack(packed, key=True).line``, without building the ``Mark``."""
    return (packed >> 60 & _FIELD) + 1


def unpack(packed: int, *, key: bool) -> Mark:
    """The 1-based position of a top-level key (``key``) or its value, from ``pack``."""
    if key:
        packed >>= 40
    return Mark((packed >> 20 & _FIELD) + 1, (packed & _FIELD) + 1)


__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "DocPath",
    "EventBuilder",
    "Mark",
    "PathPart",
    "Refused",
    "event_mark",
    "packed_key_line",
    "unpack",
]
