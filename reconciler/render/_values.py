"""Shared, format-neutral helpers of the renderers: values, paths, plurals. Pure.

Values reach the renderers in canonical form (plain JSON; ``None`` means "not set"). Every
string that came from a file or the live CRM goes through ``printable`` (or a format's own
escaping) before it is shown, so a value cannot move a terminal cursor or reverse the text.
"""

from __future__ import annotations

import json
import math
import shlex
import struct
from collections.abc import Iterable
from typing import Any

from reconciler.diff import FieldChange
from reconciler.plan import SeriesPlan
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


def _single(value: float) -> float | None:
    """``value`` rounded to single precision; None when single precision cannot hold it."""
    try:
        rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return None
    return rounded


def shortest_single(value: float) -> float | None:
    """The shortest decimal that reads back as ``value`` through single precision, as the
    double nearest to it (so ``repr`` and JSON print that decimal); None when ``value`` is
    not a single-precision number.

    The server keeps discountValue in single precision, so its canonical value is the float32
    nearest to what the file says (15.1 is kept as 15.100000381469727). Showing that double's
    ``repr`` makes a value look changed when it is exactly what was written; the shortest
    decimal that rounds to the same float32 is what a person wrote. Comparison still uses the
    exact value: this is for display only, and two different float32 values never share a
    shortest decimal.
    """
    if not math.isfinite(value) or _single(value) != value:
        return None
    for digits in range(1, 10):  # 9 significant digits always round-trip a float32
        candidate = float(f"{value:.{digits}g}")
        if _single(candidate) == value:
            return candidate
    return value


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


def change_rows(change: FieldChange) -> list[tuple[str, Any, Any]]:
    """The (name, before, after) rows that show one field change.

    A change explained by nested differences shows each nested path; any other shows the
    field's whole value.
    """
    if change.nested:
        # Nested paths already read like the file (``productInfo[0].productIds[1]``).
        return [(n.path, n.before, n.after) for n in change.nested]
    return [(change.field, change.before, change.after)]


def series_rows(series: SeriesPlan) -> list[tuple[str, Any, Any]]:
    """The rows a series block shows: its changes, or (a create planned without changes)
    its declared values."""
    if series.changes:
        return [row for change in series.changes for row in change_rows(change)]
    return [(name, None, series.desired[name]) for name in sorted(series.desired)]


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


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
