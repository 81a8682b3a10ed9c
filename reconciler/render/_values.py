"""Shared, format-neutral helpers of the renderers: values and paths. Pure.

Values reach the renderers in canonical form (plain JSON; ``None`` means "not set"). Every
string that came from a file or the live CRM goes through ``printable`` (or a format's own
escaping) before it is shown, so a value cannot move a terminal cursor or reverse the text.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any, NamedTuple

from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import SeriesPlan
from reconciler.model.canonical import shortest_single
from reconciler.textsafe import printable

NOT_SET = "(not set)"


def value_text(value: Any, *, limit: int = 80) -> str:
    """A canonical value as one short line: ``(not set)``, ``10``, ``true``, ``"text"``.

    Strings are quoted; lists and objects are compact JSON. A value longer than ``limit``
    keeps its start and end around an ellipsis and says how long it really was.
    """
    if value is None:
        return NOT_SET
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, str):
        text = printable(value)
        if len(text) <= limit:
            return f'"{text}"'
        head, tail = _cut(text, limit)
        return f'"{head}…{tail}" ({len(value):,} chars)'
    text = printable(json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str))
    if len(text) <= limit:
        return text
    head, tail = _cut(text, limit)
    size = f"{len(value):,} items" if isinstance(value, list) else f"{len(value):,} keys"
    return f"{head} … {tail} ({size})" if isinstance(value, list | dict) else f"{head}…{tail}"


def float_text(value: float) -> str:
    """A float as a person reads it: a single-precision value by its shortest decimal."""
    short = shortest_single(value)
    return repr(value if short is None else short)


def display_numbers(value: Any) -> Any:
    """``value`` (plain JSON) with every single-precision float replaced by its shortest
    decimal (``shortest_single``): the JSON formats print what a person wrote."""
    if isinstance(value, float):
        short = shortest_single(value)
        return value if short is None else short
    if isinstance(value, dict):
        return {k: display_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [display_numbers(v) for v in value]
    return value


def _cut(text: str, limit: int) -> tuple[str, str]:
    tail_len = max(limit // 5, 4)
    head_len = max(limit - tail_len - 1, 4)
    return text[:head_len], text[-tail_len:]


class Row(NamedTuple):
    """One line of a series block: a field (or nested path), its live and desired values,
    and why it changes when the file does not say so (``FieldChange.note``)."""

    name: str
    before: Any
    after: Any
    note: str = ""


def change_rows(change: FieldChange) -> list[Row]:
    """The rows that show one field change.

    A change explained by nested differences shows each nested path; any other shows the
    field's whole value. The change's note goes with its first row.
    """
    if change.nested:
        # Nested paths already read like the file (``productInfo[0].productIds[1]``).
        rows = [Row(n.path, n.before, n.after) for n in change.nested]
        return [rows[0]._replace(note=change.note), *rows[1:]]
    return [Row(change.field, change.before, change.after, change.note)]


def series_rows(series: SeriesPlan) -> list[Row]:
    """The rows a series block shows: its changes, or (a create planned without changes)
    its declared values."""
    if series.changes:
        return [row for change in series.changes for row in change_rows(change)]
    return [Row(name, None, series.desired[name]) for name in sorted(series.desired)]


def grouped_ignores(
    series: Iterable[SeriesPlan],
) -> list[tuple[str, str, str, list[str], list[str]]]:
    """Ignore rules in effect: (field, reason, source, keys, keys where live differs)."""
    groups: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for s in series:
        for ignored in s.ignored:
            keys, differing = groups.setdefault(
                (ignored.field, ignored.reason, ignored.source), ([], [])
            )
            keys.append(s.key)
            if ignored.differs:
                differing.append(s.key)
    return [(f, r, src, keys, diff) for (f, r, src), (keys, diff) in sorted(groups.items())]


def state_mv_command(*, from_key: str, to_key: str, environment: str) -> str:
    """The exact command that records a rename in the state."""
    return (
        f"reconciler state mv {shlex.quote(from_key)} {shlex.quote(to_key)} "
        f"--env {shlex.quote(environment)}"
    )
