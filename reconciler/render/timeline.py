"""The validity timeline of a plan: each changed series' window before and after, the plan's
day marked, overlaps flagged. Pure.

``timeline_rows`` is format-neutral (the HTML report draws it as SVG); ``mermaid_gantt``
writes it as a Mermaid Gantt chart, which GitHub renders natively in a comment.

Mermaid parses its own language inside the fence, so no text from the files or the CRM ever
goes in: a label is the series' rank and its key reduced to ``[A-Za-z0-9_./-]`` (a key can
hold ``:``, ``#``, ``%%{init}%%`` or a backtick, each meaningful to Mermaid or to the fence),
dates are re-spelled from parsed ``date`` values, and everything else is the tool's own words.
The full, escaped names and the overlaps are listed under the chart by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from reconciler.engine.facts import Window
from reconciler.engine.plan import Plan
from reconciler.render._review import Entry

MAX_ROWS = 30  # more bars than this are unreadable: the riskiest are drawn, the rest counted
OPEN_END_DAYS = 365  # how far a window with no end is drawn past its start
_UNSAFE = re.compile(r"[^A-Za-z0-9_./-]")
_LABEL = 40


@dataclass(frozen=True)
class Bar:
    start: date
    end: date  # the last day, included
    open_end: bool = False


@dataclass(frozen=True)
class Row:
    """One changed series: its rank in the summary, key, and windows."""

    rank: int
    key: str
    before: Bar | None
    after: Bar | None
    overlaps: bool


@dataclass(frozen=True)
class Timeline:
    today: date
    rows: tuple[Row, ...]
    left_out: int  # changed series not drawn (beyond MAX_ROWS, or with no dates)


def timeline_rows(plan: Plan, entries: Sequence[Entry]) -> Timeline:
    today = _parse(plan.created_at[:10]) or date(1970, 1, 1)
    overlapping = {o.key for o in plan.overlaps}
    rows: list[Row] = []
    for rank, entry in enumerate(entries, 1):
        facts = entry.series.business
        if facts is None or len(rows) >= MAX_ROWS:
            continue
        before = _bar(facts.before, today)
        after = _bar(facts.after, today)
        if before is None and after is None:
            continue
        rows.append(Row(rank, entry.series.key, before, after, entry.series.key in overlapping))
    return Timeline(today=today, rows=tuple(rows), left_out=len(entries) - len(rows))


def safe_label(key: str) -> str:
    """``key`` reduced to characters with no meaning to Mermaid or Markdown."""
    text = _UNSAFE.sub("_", key)
    return text if len(text) <= _LABEL else text[: _LABEL - 1] + "_"


def mermaid_gantt(timeline: Timeline) -> list[str]:
    """The lines of a ```mermaid fence (the fence included); empty with no rows."""
    if not timeline.rows:
        return []
    lines = [
        "```mermaid",
        "gantt",
        "    dateFormat YYYY-MM-DD",
        "    axisFormat %Y-%m-%d",
        "    todayMarker off",
        "    section Plan",
        f"    Plan day :milestone, m0, {timeline.today.isoformat()}, 0d",
    ]
    for row in timeline.rows:
        lines.append(f"    section {row.rank}. {safe_label(row.key)}")
        if row.before is not None:
            lines.append(_task("live now", "done", f"b{row.rank}", row.before))
        if row.after is not None:
            tags = "crit, active" if row.overlaps else "active"
            name = "after apply - overlaps" if row.overlaps else "after apply"
            lines.append(_task(name, tags, f"a{row.rank}", row.after))
    lines.append("```")
    return lines


def _task(name: str, tags: str, ident: str, bar: Bar) -> str:
    # Mermaid's end date is exclusive: the day after the last one.
    end = bar.end + timedelta(days=1)
    # No ( ) , # : ; in a task's name: Mermaid's lexer gives them meanings there.
    label = name + (" - no end date" if bar.open_end else "")
    return f"    {label} :{tags}, {ident}, {bar.start.isoformat()}, {end.isoformat()}"


def _bar(window: Window | None, today: date) -> Bar | None:
    if window is None:
        return None
    start = _parse(window.start)
    end = _parse(window.end)
    if start is None and end is None:
        return None
    if start is None:
        start = min(today, end) if end is not None else today
    if end is None:
        return Bar(start, start + timedelta(days=OPEN_END_DAYS), open_end=True)
    if end < start:  # ended before it started (allowed: a series ended early)
        return Bar(end, end)
    return Bar(start, end)


def _parse(day: str | None) -> date | None:
    try:
        return date.fromisoformat(day) if day else None
    except ValueError:
        return None
