"""A Markdown document that must fit a size (GitHub's 65,536 characters for a comment). Pure.

A document is a head that is always kept, then sections of items. ``fit`` keeps whole items,
section by section in order of priority (what a reviewer must not miss first), and renders
the sections in their reading order; ``cut_note`` says how many items of which section did
not fit, and where the rest is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# Room kept for the cut note at the end.
NOTE_RESERVE = 600


@dataclass
class Section:
    """``heading``, ``intro`` (a paragraph), ``table`` (a table's header rows, written right
    above the items), then the items kept; ``joiner`` between items."""

    name: str
    heading: str
    items: list[str]
    intro: str = ""
    table: str = ""
    joiner: str = "\n"
    kept: int = field(default=0)

    def opening(self) -> str:
        text = self.heading + "\n\n" + (self.intro + "\n\n" if self.intro else "")
        return text + (self.table + "\n" if self.table else "")

    def render(self) -> str:
        if not self.kept:
            return ""
        body = self.joiner.join(self.items[: self.kept])
        return self.opening() + body + ("\n\n" if self.joiner else "")


def fit(
    sections: Sequence[Section], *, priority: Sequence[str | tuple[str, int]], budget: int
) -> str:
    """The sections rendered in order, each with as many of its items as the budget allows
    once the sections before it in ``priority`` took theirs. ``(name, n)`` in ``priority``
    lets a section take up to ``n`` items there (a few blocked series before the changes'
    summary, the rest of them after it); a later plain ``name`` takes the rest."""
    by_name = {s.name: s for s in sections}
    left = budget
    for step in priority:
        name, limit = step if isinstance(step, tuple) else (step, None)
        section = by_name[name]
        while section.kept < len(section.items) and (limit is None or section.kept < limit):
            item = section.items[section.kept]
            opening = len(section.opening()) + 2 if not section.kept else 0
            cost = len(item) + len(section.joiner) + opening
            if cost > left:
                break
            section.kept += 1
            left -= cost
    return "".join(s.render() for s in sections)


def cut(sections: Sequence[Section]) -> dict[str, int]:
    """How many items of each section were left out."""
    return {s.name: len(s.items) - s.kept for s in sections if s.kept < len(s.items)}


def cut_note(left_out: dict[str, int]) -> str:
    parts = "; ".join(f"{n:,} more {name} not shown" for name, n in left_out.items())
    return (
        f"> **Too long for one comment:** … {parts}: the full plan is in the plan.json "
        "artifact / run `reconciler show`. The counts above are complete.\n"
    )
