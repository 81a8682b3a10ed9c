"""GitHub Actions: workflow-command annotations, then the plain text rendering. Pure.

Annotations (``::error …::`` / ``::warning …::`` / ``::notice …::``) put problems, policy
findings (an error when it refuses the plan), plan warnings, blocked series, likely renames,
resets of fields no longer in a file and failed series on the pull request's "Files changed"
view and the run summary. Data is escaped as
GitHub's runner expects (``escapeData`` / ``escapeProperty``): in a message ``%`` ``\\r``
``\\n``; in a property also ``:`` and ``,``.

The text that follows is wrapped in ``::stop-commands::TOKEN`` … ``::TOKEN::`` so nothing in
a series (a description that starts a line with ``::``) can be taken for a workflow command.
The token is a digest of that text: deterministic, and not something the text can contain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from io import StringIO
from typing import TextIO

from reconciler.engine.plan import Plan
from reconciler.engine.result import ApplyResult, Outcome
from reconciler.problems import Problem
from reconciler.render import terminal, text, text_apply
from reconciler.render._review import finding_line
from reconciler.render._values import state_mv_command, value_text

TITLE = "reconciler"


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str, message: str, *, file: str = "", line: int = 0, col: int = 0, title: str = TITLE
) -> str:
    """One workflow command line, ``level`` being ``error``, ``warning`` or ``notice``."""
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
        if line > 0:
            props.append(f"line={line}")
            if col > 0:
                props.append(f"col={col}")
    if title:
        props.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def _guarded(lines: Iterable[str], body: str, stream: TextIO) -> None:
    for line in lines:
        stream.write(line + "\n")
    token = "reconciler-" + hashlib.sha256(body.encode()).hexdigest()[:32]
    stream.write(f"::stop-commands::{token}\n{body}::{token}::\n")


def plan_annotations(plan: Plan) -> list[str]:
    files = {s.key: s.file for s in plan.series}
    out = [
        annotation("warning", f"The apply refuses this plan: {r}", title=f"{TITLE}: safety rail")
        for r in plan.rails
    ]
    # The policy next: GitHub shows only the first few annotations of each level in a step.
    for f in plan.policy:
        level = "error" if f.blocking else ("notice" if f.override else "warning")
        out.append(
            annotation(
                level,
                finding_line(f),
                file=files.get(f.key, ""),
                title=f"{TITLE}: policy {f.rule} ({f.level.value})",
            )
        )
    for b in plan.blocked:
        out.append(
            annotation(
                "warning", f"{b.key} is blocked: {b.reason}", file=b.file, title=f"{TITLE}: blocked"
            )
        )
    for m in plan.moves:
        command = m.command or state_mv_command(
            from_key=m.from_key, to_key=m.to_key, environment=plan.environment
        )
        out.append(
            annotation(
                "warning",
                f"{m.from_key} → {m.to_key} (id {m.series_id}) is most likely a rename: "
                f"{m.reason}. "
                f"Record it with: {command}",
                file=files.get(m.to_key, ""),
                title=f"{TITLE}: likely renamed",
            )
        )
    for w in plan.warnings:
        message = f"{w.key}: {w.message}" if w.key and not w.file else w.message
        out.append(annotation("warning", message, file=w.file, line=w.line))
    # A reset writes a field the file no longer shows: say so where the file is reviewed.
    for s in plan.series:
        for c in s.changes:
            if c.note:
                out.append(
                    annotation(
                        "notice",
                        f"{s.key}: {c.field} {value_text(c.before)} → {value_text(c.after)} "
                        f"({c.note})",
                        file=s.file,
                        title=f"{TITLE}: reset",
                    )
                )
    return out


def render_plan_github(plan: Plan, *, stream: TextIO) -> None:
    body = StringIO()
    text.render_plan_text(plan, stream=body)
    _guarded(plan_annotations(plan), body.getvalue(), stream)


def render_apply_github(result: ApplyResult, *, stream: TextIO) -> None:
    notes = []
    for o in result.outcomes:
        if o.outcome is Outcome.FAILED:
            api = [f"HTTP {o.status}"] if o.status is not None else []
            api += ["codes " + ", ".join(map(str, o.codes))] if o.codes else []
            status = f" ({'; '.join(api)})" if api else ""
            notes.append(
                annotation(
                    "error", f"{o.key} failed{status}: {o.message}", title=f"{TITLE}: apply failed"
                )
            )
        elif o.outcome is Outcome.SKIPPED:
            notes.append(
                annotation("warning", f"{o.key} skipped: {o.message}", title=f"{TITLE}: skipped")
            )
        for m in o.mismatches:
            notes.append(
                annotation(
                    "warning",
                    f"{o.key} {m.field}: sent {value_text(m.before)}, server kept "
                    f"{value_text(m.after)} — a "
                    "normalisation the tool does not model; please report",
                    title=f"{TITLE}: server changed a value",
                )
            )
    for forced in result.forced:
        notes.append(annotation("warning", forced, title=f"{TITLE}: safety rail lifted by --force"))
    if result.after is not None and result.after.has_changes:
        notes.append(
            annotation(
                "error", f"Not converged: {result.after.summary()}", title=f"{TITLE}: not converged"
            )
        )
    if result.interrupted:
        notes.append(
            annotation(
                "error", "Interrupted: run apply again to finish.", title=f"{TITLE}: interrupted"
            )
        )
    body = StringIO()
    text_apply.render_apply_text(result, stream=body)
    _guarded(notes, body.getvalue(), stream)


def render_problems_github(problems: Sequence[Problem], *, stream: TextIO) -> None:
    lines = [
        annotation(p.severity.value, p.message, file=p.file, line=p.line, col=p.column)
        for p in sorted(problems)
    ]
    body = StringIO()
    terminal.render_problems_text(problems, stream=body)
    _guarded(lines, body.getvalue(), stream)
