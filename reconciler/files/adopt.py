"""Write live values into a series file, as a person would have: a minimal text patch. Pure.

``adopt_text`` replaces the value of each adopted field where it is written, in the form the
file used for it (a YAML list stays a list, a JSON string stays a string, a flow list stays
flow, a bare date stays a bare date, a date with an offset keeps its offset), and leaves
every other byte alone: comments, key order, quoting, blank lines. A field the file does
not write (it came from the settings' defaults) is added before the ``reconciler:`` block,
or at the end.

Environments (``Scope``): a value adopted from environment E is written where E reads it
without changing what any other environment reads (``placement``): in the file's
``reconciler: environments: E:`` block when the field is there; else at the top level when
no other environment of the settings reads the file's top-level value (each has its own in
its block, or its ``only:`` leaves it out); else in E's block, made if need be. A field that
came from E's own defaults in the settings goes into E's block.

References: in a field holding series ids, an id of a series of the folder (``keys``: id →
key, in that environment) is written ``{series: KEY}``; other ids stay ids. Items the file
already lists keep their order; new ones follow.

PyYAML only *composes* the file here (nodes with their start and end marks); no YAML is
re-emitted, so nothing the loader reads can change except the adopted values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import ReconcilerError
from reconciler.files.importer import by_key
from reconciler.files.options import OWNS_ALL, RESERVED_KEY
from reconciler.files.yamltext import (
    block_lines,
    date_like,
    flow,
    inline,
    json_text,
    key_text,
    scalar,
)
from reconciler.model.canonical import canonical, shortest_single, to_friendly
from reconciler.model.catalogue import ABSENT, BY_NAME, Field, Kind

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2}))?$")


class AdoptError(ReconcilerError):
    """A file cannot be patched safely (an alias, a shape the writer does not know)."""


ENVIRONMENTS_KEY = "environments"
ONLY_KEY = "only"
OWNS_KEY = "owns"
TOP = "top"
BLOCK = "block"


@dataclass(frozen=True)
class _Entry:
    key: ScalarNode
    value: Node


@dataclass(frozen=True)
class Scope:
    """Which environment the live values come from, and which others must keep theirs.

    ``others``: the other environments of the settings (a file's ``only:`` is read from the
    file); ``defaults``: the fields the settings give ``name`` in its own ``defaults:``. The
    empty scope writes every value at the top level (one environment, as before).
    """

    name: str = ""
    others: tuple[str, ...] = ()
    defaults: frozenset[str] = frozenset()


def adopt_text(
    *,
    text: str,
    live: Mapping[str, Any],
    fields: Iterable[str],
    file: str = "",
    scope: Scope = Scope(),
    keys: Mapping[int, str] | None = None,
) -> str:
    """``text`` with the live value of each of ``fields`` written in.

    ``live`` holds the live values, in API or canonical form (both canonicalise the same);
    a field missing from it, or ``None``, is written as the field's "no value" spelling.
    ``keys`` maps ids to the keys of the folder's series in ``scope.name``: those ids are
    written as ``{series: KEY}`` in a field that holds series ids.
    """
    if "\r\n" in text:  # keep a file's Windows line ends: patch in \n, give back \r\n
        patched = adopt_text(
            text=text.replace("\r\n", "\n"),
            live=live,
            fields=fields,
            file=file,
            scope=scope,
            keys=keys,
        )
        return patched.replace("\n", "\r\n")
    names = sorted(set(fields))
    for name in names:
        spec = BY_NAME.get(name)
        if spec is None or not spec.writable:
            raise AdoptError(f"{file or 'the file'}: {name} is not a field a file can declare")
    root = _root(text, file)
    entries = _entries(root)
    block = _block_entries(root, scope.name)
    shared = _shared_nodes(root)
    patches: list[tuple[int, int, str]] = []
    added: list[str] = []
    added_in_block: list[tuple[str, Any]] = []
    for name in names:
        value = friendly_value(name, live.get(name, ABSENT))
        if BY_NAME[name].series_ids and keys:
            value = by_key(value, keys)
        where = _placement(root, name, scope)
        entry = (block if where == BLOCK else entries).get(name)
        if entry is None:
            if where == BLOCK:
                # Copied from the top level into the block: in the order written there.
                top = entries.get(name)
                if top is not None:
                    value = _in_file_order(BY_NAME[name], value, top.value)
                added_in_block.append((name, value))
            else:
                added.extend(_new_entry(name, value, column=0))
            continue
        node = entry.value
        if id(node) in shared or node.start_mark.index < entry.key.end_mark.index:
            raise AdoptError(
                f"{file}:{entry.key.start_mark.line + 1}: {name} uses a YAML anchor or alias: "
                "change it by hand"
            )
        value = _in_file_order(BY_NAME[name], value, node)
        patches.extend(_patches(BY_NAME[name], value, node, text))
    reserved = entries.get(RESERVED_KEY)
    if added_in_block:
        lines = _block_lines(root, scope.name, added_in_block, file=file)
        if reserved is None:
            added.extend(lines.lines)
        else:
            patches.append(_append_to(lines.into, lines.lines, text))
    if added:
        patches.append(_insertion(text, added, reserved=reserved))
    out = text
    # Last first, so earlier offsets hold; of two inserts at one place, the one made first
    # (a list's new item) stays first (before a key added at the end of the file).
    order = sorted(range(len(patches)), key=lambda i: (patches[i][0], patches[i][1], i))
    for start, end, new in (patches[i] for i in reversed(order)):
        out = out[:start] + new + out[end:]
    return out


def owning_all(*, text: str, file: str = "") -> str | None:
    """``text`` with ``owns: all`` in its ``reconciler:`` block (made when missing): the series
    then owns every field with a documented server default. None when the file already says
    ``owns:``: its own choice stands. Every other byte is left as it was."""
    if "\r\n" in text:
        patched = owning_all(text=text.replace("\r\n", "\n"), file=file)
        return None if patched is None else patched.replace("\n", "\r\n")
    root = _root(text, file)
    reserved = _entries(root).get(RESERVED_KEY)
    line = f"{OWNS_KEY}: {OWNS_ALL}"
    if reserved is None:
        return _splice(text, _insertion(text, [f"{RESERVED_KEY}:", f"  {line}"], reserved=None))
    block = reserved.value
    if not isinstance(block, MappingNode) or block.flow_style or not block.value:
        raise AdoptError(
            f"{file}:{reserved.key.start_mark.line + 1}: {RESERVED_KEY}: is not a block mapping "
            f"the writer can add to: write {line} under it by hand"
        )
    if OWNS_KEY in _entries(block):
        return None
    column = int(block.value[0][0].start_mark.column)
    return _splice(text, _append_to(block, [f"{' ' * column}{line}"], text))


def _splice(text: str, patch: tuple[int, int, str]) -> str:
    start, end, new = patch
    return text[:start] + new + text[end:]


def friendly_value(name: str, value: Any) -> Any:
    """A live value as a file writes it: lists for id lists, a mapping for the redemption
    range, the shortest decimal for single precision, known key order in objects, and the
    field's "no value" spelling for a value that is not set."""
    spec = BY_NAME[name]
    value = canonical(name, value)
    if value is None:
        for unset in spec.unset:
            if unset is not None:
                return unset
        default = spec.default
        return None if default is ABSENT else to_friendly(name, default)
    if isinstance(value, float):
        short = shortest_single(value)
        return value if short is None else short
    if spec.kind is Kind.OBJECT_LIST and isinstance(value, list):
        return [_ordered(spec, item) for item in value]
    if spec.kind is Kind.OBJECT and isinstance(value, Mapping):
        return _ordered(spec, value)
    return value


def _ordered(spec: Field, item: Any) -> Any:
    """An object's keys in the catalogue's order (productType before productIds)."""
    if not isinstance(item, Mapping):
        return item
    known = [sub.name for sub in spec.subfields if sub.name in item]
    rest = sorted(k for k in item if k not in known)
    return {k: item[k] for k in [*known, *rest]}


def placement(*, text: str, fields: Iterable[str], scope: Scope, file: str = "") -> dict[str, str]:
    """Where ``adopt_text`` writes each field: ``TOP`` or ``BLOCK`` (E's block)."""
    root = _root(text.replace("\r\n", "\n"), file)
    return {name: _placement(root, name, scope) for name in sorted(set(fields))}


def _placement(root: MappingNode, name: str, scope: Scope) -> str:
    """The place whose value environment ``scope.name`` reads for ``name``, such that no
    other environment reads a different value afterwards (see the module's docstring)."""
    if not scope.name:
        return TOP
    if name in _block_entries(root, scope.name):
        return BLOCK
    if name not in _entries(root) and name in scope.defaults:
        return BLOCK  # E's defaults gave it: a top-level value would replace others' too
    only = _only(root)
    readers = [
        other
        for other in scope.others
        if other != scope.name
        and (only is None or other in only)
        and name not in _block_entries(root, other)
    ]
    return BLOCK if readers else TOP


def _root(text: str, file: str) -> MappingNode:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, MappingNode):
        raise AdoptError(f"{file or 'the file'}: the top level is not a mapping")
    return root


# --- reading the file ------------------------------------------------------------------------


def _child(node: Node | None, name: str) -> _Entry | None:
    if not isinstance(node, MappingNode):
        return None
    return _entries(node).get(name)


def _block_entries(root: MappingNode, environment: str) -> dict[str, _Entry]:
    """The entries of ``reconciler: environments: ENVIRONMENT:`` (none: no such block)."""
    if not environment:
        return {}
    reserved = _child(root, RESERVED_KEY)
    blocks = _child(reserved.value if reserved else None, ENVIRONMENTS_KEY)
    block = _child(blocks.value if blocks else None, environment)
    if block is None or not isinstance(block.value, MappingNode):
        return {}
    return _entries(block.value)


def _only(root: MappingNode) -> set[str] | None:
    """The environments the file's ``only:`` names (None: every one)."""
    reserved = _child(root, RESERVED_KEY)
    only = _child(reserved.value if reserved else None, ONLY_KEY)
    if only is None:
        return None
    value = _constructed(only.value)
    if isinstance(value, str):
        return {value.strip()}
    if isinstance(value, list):
        return {str(v).strip() for v in value}
    return None


def _entries(root: MappingNode) -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}
    for key, value in root.value:
        if isinstance(key, ScalarNode):
            out[str(key.value)] = _Entry(key, value)
    return out


def _shared_nodes(root: Node) -> set[int]:
    """Nodes that appear more than once (an anchor and its aliases): patching one patches all."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return shared


def _content_end(node: Node, text: str) -> int:
    """Where a value's own text ends: a block collection ends with its last item (not at the
    next key, which would swallow the comments and blank lines in between); a block scalar
    ends before its trailing line breaks."""
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _content_end(last[1] if isinstance(node, MappingNode) else last, text)
    end = int(node.end_mark.index)
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


# --- writing values ----------------------------------------------------------------------------


def _patches(spec: Field, value: Any, node: Node, text: str) -> list[tuple[int, int, str]]:
    """The text edits that make ``node`` say ``value``: inside a block collection of the
    same shape only the parts that differ, so comments on untouched items stay put."""
    if _same_shape(node, value):
        out: list[tuple[int, int, str]] = []
        if isinstance(node, MappingNode):
            for key, child in node.value:
                out.extend(_patches(spec, value[key.value], child, text))
        elif isinstance(node, SequenceNode):
            for child, item in zip(node.value, value, strict=True):
                if isinstance(child, ScalarNode) and _one_line_mapping(item):
                    # An id becomes a reference: "- 698948" reads "- series: a/b".
                    start, end = int(child.start_mark.index), _content_end(child, text)
                    new = _item_text(item)
                    out.append(
                        (start, _keep_comment_column(text, end, len(new) - end + start), new)
                    )
                    continue
                out.extend(_patches(spec, item, child, text))
        return out
    if _constructed(node) == value and type(_constructed(node)) is type(value):
        return []
    edits = _list_edits(spec, value, node, text)
    if edits is not None:
        return edits
    start, end = int(node.start_mark.index), _content_end(node, text)
    new = _replacement(spec, value, node, text)
    return [(start, _keep_comment_column(text, end, len(new) - (end - start)), new)]


def _list_edits(
    spec: Field, value: Any, node: Node, text: str
) -> list[tuple[int, int, str]] | None:
    """An id list in block style whose kept items come first (``_in_file_order``): the lines
    of the items that went are removed, the new items added after the last line, and every
    other line (its comment too) stays. None when the list is not of that kind."""
    if spec.kind is not Kind.ID_LIST or not isinstance(value, list):
        return None
    if not isinstance(node, SequenceNode) or node.flow_style or not node.value:
        return None
    written = [_constructed(child) for child in node.value]
    kept = [item for item in written if item in value]
    if not kept or value[: len(kept)] != kept:
        return None
    starts = [text.rfind("\n", 0, int(child.start_mark.index)) + 1 for child in node.value]
    if any(
        text[line : int(child.start_mark.index)].strip() != "-"
        for line, child in zip(starts, node.value, strict=True)
    ):
        return None  # not one item a line
    edits: list[tuple[int, int, str]] = []
    for line, child, item in zip(starts, node.value, written, strict=True):
        if item not in value:
            end = text.find("\n", _content_end(child, text))
            edits.append((line, len(text) if end < 0 else end + 1, ""))
    added = value[len(kept) :]
    if added:
        last = node.value[-1]
        dash = " " * (int(last.start_mark.index) - starts[-1] - 2)
        lines = [f"{dash}- {_item_text(item)}" for item in added]
        end = text.find("\n", _content_end(last, text))
        if end < 0:
            edits.append((len(text), len(text), "".join(f"\n{line}" for line in lines)))
        else:
            edits.append((end + 1, end + 1, "".join(f"{line}\n" for line in lines)))
    return edits


def _item_text(item: Any) -> str:
    """A list item after its dash: ``series: a/b`` for a reference, else flow."""
    if _one_line_mapping(item):
        return ", ".join(f"{key_text(k)}: {flow(v)}" for k, v in item.items())
    return flow(item)


def _one_line_mapping(item: Any) -> bool:
    return isinstance(item, dict) and len(item) == 1 and inline(item)


def _same_shape(node: Node, value: Any) -> bool:
    if isinstance(node, MappingNode) and not node.flow_style and isinstance(value, dict):
        keys = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
        return len(keys) == len(node.value) == len(set(keys)) and set(keys) == set(value)
    if isinstance(node, SequenceNode) and not node.flow_style and isinstance(value, list):
        return len(node.value) == len(value)
    return False


def _constructed(node: Node) -> Any:
    try:
        return yaml.SafeLoader("").construct_object(node, deep=True)
    except yaml.YAMLError:
        return _Unequal()


class _Unequal:
    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def _keep_comment_column(text: str, end: int, growth: int) -> int:
    """Where a patch ends: past the spaces it may take from before a trailing comment, so a
    comment lined up with its neighbours stays in its column."""
    spaces = 0
    while end + spaces < len(text) and text[end + spaces] == " ":
        spaces += 1
    if growth <= 0 or end + spaces >= len(text) or text[end + spaces] != "#":
        return end
    return end + min(growth, spaces - 1)


def _replacement(spec: Field, value: Any, node: Node, text: str) -> str:
    column = int(node.start_mark.column)
    if isinstance(node, ScalarNode):
        if isinstance(value, list | dict):
            references = isinstance(value, list) and any(isinstance(v, dict) for v in value)
            if spec.kind in (Kind.ID_LIST, Kind.REDEMPTION_RANGE) and not references:
                # The file carried the API's JSON string: keep carrying it.
                return scalar(json_text(value), style=node.style)
            return flow(value)
        if spec.kind is Kind.DATETIME and isinstance(value, str):
            spelled = date_like(value, written=str(node.value))
            # A plain date is YAML's timestamp, which the loader keeps as the text written.
            plain = node.style is None and _TIMESTAMP.match(spelled)
            return spelled if plain else scalar(spelled, style=node.style)
        return scalar(value, style=node.style)
    if not isinstance(value, list | dict):
        return scalar(value, style=None)
    if getattr(node, "flow_style", False) or not value:
        return flow(value)
    return "\n".join(block_lines(value, column)).removeprefix(" " * column)


@dataclass(frozen=True)
class _BlockLines:
    into: MappingNode  # the mapping the lines are appended to
    lines: list[str]


def _block_lines(
    root: MappingNode, environment: str, entries: Sequence[tuple[str, Any]], *, file: str
) -> _BlockLines:
    """The lines that add ``entries`` to environment's block, and the mapping they end: the
    deepest of ``reconciler:``, ``environments:``, ``ENV:`` that exists (what is missing of
    the path is made); the root when there is no ``reconciler:`` at all."""
    path = [RESERVED_KEY, ENVIRONMENTS_KEY, environment]
    into: MappingNode = root
    depth = 0
    while depth < len(path):
        entry = _child(into, path[depth])
        if entry is None:
            break
        where = f"{file}:{entry.key.start_mark.line + 1}"
        if (
            not isinstance(entry.value, MappingNode)
            or entry.value.flow_style
            or not (entry.value.value)
        ):
            shown = ": ".join(path[: depth + 1])
            raise AdoptError(
                f"{where}: {shown}: is not a block mapping the writer can add to: write "
                f"{', '.join(n for n, _ in entries)} under it by hand"
            )
        into = entry.value
        depth += 1
    column = int(into.value[0][0].start_mark.column) if into is not root else 0
    lines: list[str] = []
    for name in path[depth:]:
        lines.append(f"{' ' * column}{key_text(name)}:")
        column += 2
    for name, value in entries:
        lines.extend(_new_entry(name, value, column=column))
    return _BlockLines(into, lines)


def _append_to(mapping: MappingNode, lines: Sequence[str], text: str) -> tuple[int, int, str]:
    """Lines added after a block mapping's last entry (after that line's comment)."""
    end = _content_end(mapping, text)
    newline = text.find("\n", end)
    block = "".join(f"{line}\n" for line in lines)
    if newline < 0:
        return (len(text), len(text), "\n" + block)
    return (newline + 1, newline + 1, block)


def _in_file_order(spec: Field, value: Any, node: Node) -> Any:
    """An id list with the items the file already lists first, in the file's order (a set:
    the order is free, and a diff that moves nothing is the smaller one)."""
    if spec.kind is not Kind.ID_LIST or not isinstance(value, list):
        return value
    if not isinstance(node, SequenceNode):
        return value
    written = _constructed(node)
    if not isinstance(written, list):
        return value
    kept = [item for item in written if item in value]
    return kept + [item for item in value if item not in kept]


def _new_entry(name: str, value: Any, *, column: int) -> list[str]:
    """The lines of a new ``name: value`` entry at ``column``."""
    new = _new_value(name, value, column=column)
    pad = " " * column
    if new.startswith("\n"):
        return [f"{pad}{name}:", *new[1:].split("\n")]
    return [f"{pad}{name}: {new}"]


def _new_value(name: str, value: Any, *, column: int = 0) -> str:
    """A value for a key the file did not write: flow, except a list of objects."""
    spec = BY_NAME[name]
    if isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
        return "\n" + "\n".join(block_lines(value, column + 2))
    if spec.kind is Kind.DATETIME and isinstance(value, str) and _TIMESTAMP.match(value):
        return value
    if isinstance(value, list | dict):
        return flow(value)
    return scalar(value, style=None)


def _insertion(text: str, lines: Sequence[str], *, reserved: _Entry | None) -> tuple[int, int, str]:
    """New keys go before the ``reconciler:`` block (the fields stay together), else last."""
    block = "".join(f"{line}\n" for line in lines)
    if reserved is not None:
        at = text.rfind("\n", 0, reserved.key.start_mark.index) + 1
        return (at, at, block)
    return (len(text), len(text), block if not text or text.endswith("\n") else "\n" + block)


__all__ = [
    "BLOCK",
    "TOP",
    "AdoptError",
    "Scope",
    "adopt_text",
    "friendly_value",
    "owning_all",
    "placement",
]
