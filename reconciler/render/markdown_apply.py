"""An apply result and validation problems as Markdown (a job summary, a comment). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from reconciler.engine.result import ApplyResult, Outcome
from reconciler.problems import Problem
from reconciler.render.budget import NOTE_RESERVE, Section, cut, cut_note, fit
from reconciler.render.mdescape import cell, escape
from reconciler.render.terminal import plural

APPLY_MARKER = "<!-- reconciler-apply -->"
DEFAULT_MAX_CHARS = 60_000

_OUTCOME_LABEL = {
    Outcome.DONE: "✓ done",
    Outcome.SKIPPED: "↷ skipped",
    Outcome.FAILED: "✗ failed",
    Outcome.NOT_STARTED: "· not started",
}


def render_apply_markdown(
    result: ApplyResult, *, stream: TextIO, max_chars: int = DEFAULT_MAX_CHARS
) -> None:
    """A short apply report: counts, then one row per series that did not simply succeed."""
    lines = [
        APPLY_MARKER,
        f"## Reconciler apply: {escape(result.environment)}",
        "",
        "| Outcome | Count |",
        "| --- | ---: |",
    ]
    lines += [f"| {_OUTCOME_LABEL[o]} | {len(result.of(o)):,} |" for o in Outcome]
    lines.append("")
    if result.after is None:
        lines.append("**Not verified:** no plan was made after the apply.")
    elif result.converged:
        lines.append("**Converged:** a new plan is empty.")
    else:
        lines.append(f"**Not converged:** {escape(result.after.summary())}")
    if result.interrupted:
        waiting = len(result.of(Outcome.NOT_STARTED))
        lines.append(
            f"\n**Interrupted:** {plural(waiting, 'series', 'series')} not started; "
            "run apply again to finish."
        )
    lines.append("")
    head = "\n".join(lines) + "\n"
    items = []
    for o in result.outcomes:
        if o.outcome is Outcome.DONE and not o.mismatches:
            continue
        detail = [f"HTTP {o.status}"] if o.status is not None else []
        detail += ["codes " + ", ".join(map(str, o.codes))] if o.codes else []
        detail += [escape(o.message)] if o.message else []
        text = f"- {_OUTCOME_LABEL[o.outcome]} **{escape(o.key)}**" + (
            f": {'; '.join(detail)}" if detail else ""
        )
        for m in o.mismatches:
            text += (
                f"<br>{escape(m.field)}: sent {cell(m.before)}, server kept {cell(m.after)} "
                "— a normalisation the tool does not model; please report"
            )
        items.append(text)
    sections = [
        Section(
            "forced",
            "### Safety rails lifted by --force",
            [f"- {escape(f)}" for f in result.forced],
        ),
        Section(
            "overrides",
            "### Policy rules overridden",
            [f"- {escape(o)}" for o in result.overrides],
        ),
        Section("series outcomes", "### Series that need a look", items),
        Section("notes", "### Notes", [f"- {escape(n)}" for n in result.notes]),
    ]
    body = fit(
        sections,
        priority=["forced", "overrides", "series outcomes", "notes"],
        budget=max_chars - len(head) - NOTE_RESERVE,
    )
    left_out = cut(sections)
    stream.write(head + body + (cut_note(left_out) if left_out else ""))


def render_problems_markdown(problems: Sequence[Problem], *, stream: TextIO) -> None:
    """A Severity | Where | Problem table."""
    errors = sum(1 for p in problems if p.is_error)
    stream.write(f"**{plural(errors, 'error')}, {plural(len(problems) - errors, 'warning')}**\n\n")
    if not problems:
        return
    stream.write("| Severity | Where | Problem |\n| --- | --- | --- |\n")
    for p in sorted(problems):
        stream.write(f"| {p.severity.value} | {escape(p.location())} | {escape(p.message)} |\n")
