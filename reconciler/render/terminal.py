"""What every text renderer shares, and validation problems as text (``validate``'s output).

Kept apart from the plan's renderers, which import the engine's plan: a cold ``validate``
imports only this (and ``reconciler.problems``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from reconciler.problems import Problem
from reconciler.textsafe import printable

GREEN, YELLOW, RED, DIM, BOLD = "32", "33", "31", "2", "1"


class Paint:
    def __init__(self, *, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def render_problems_text(
    problems: Sequence[Problem], *, stream: TextIO, color: bool = False
) -> None:
    """One ``file:line:col: severity: message`` line per problem, then the counts."""
    paint = Paint(color=color)
    for p in sorted(problems):
        code = RED if p.is_error else YELLOW
        stream.write(
            f"{printable(p.location())}: {paint(p.severity.value, code)}: {printable(p.message)}\n"
        )
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    if not problems:
        stream.write("No problems found.\n")
    else:
        stream.write(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}.\n")
