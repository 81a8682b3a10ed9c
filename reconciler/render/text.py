"""Plain text for a terminal or a log, Terraform style. Pure: writes only to its stream.

A plan shows one block per series that changes (``+`` create with its declared values,
``~`` update with only the changed fields as ``old → new``, and why in brackets when the
file does not spell the change out: ``maxRedeem: 500 → -1 (no longer in the file: server
default)``), then likely renames, blocked
series, orphans, warnings, ignore rules in effect, a note when targets limit the plan, and
the summary line last. Colour (ANSI) only when the caller asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.problems import Problem
from reconciler.render._values import (
    grouped_ignores,
    plural,
    series_rows,
    state_mv_command,
    value_text,
)
from reconciler.textsafe import printable

INDENT = "    "
NO_CHANGES = "No changes. The live series match the files."

_GREEN, _YELLOW, _RED, _DIM, _BOLD = "32", "33", "31", "2", "1"


class _Paint:
    def __init__(self, *, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text


# --- plan ---------------------------------------------------------------------------------


def render_plan_text(plan: Plan, *, stream: TextIO, color: bool = False) -> None:
    """Write ``plan`` as text to ``stream``."""
    stream.write("\n".join(plan_lines(plan, color=color)) + "\n")


def plan_lines(plan: Plan, *, color: bool = False) -> list[str]:
    paint = _Paint(color=color)
    out: list[str] = [paint(f"Environment: {printable(plan.environment)}", _BOLD), ""]
    out += rails_lines(plan, paint=paint)
    changed = [s for s in plan.series if s.action is not Action.UNCHANGED]
    if not plan.has_changes:
        out += [NO_CHANGES, ""]
    elif not changed:
        out += ["Nothing to create or update; the items below need a person first.", ""]
    for series in changed:
        out += series_block(series, paint=paint)
        out.append("")
    out += _moves(plan, paint)
    out += _blocked(plan, paint)
    out += _orphans(plan, paint)
    out += _warnings(plan, paint)
    out += _ignores(plan, paint)
    out += _targets(plan, paint)
    out.append(paint(plan.summary(), _BOLD))
    return out


def rails_lines(plan: Plan, *, paint: _Paint) -> list[str]:
    """The safety rails the plan trips, first: a reviewer must not have to scroll for them."""
    lines = [paint(f"{INDENT}! {printable(r)}", _RED) for r in plan.rails]
    return _section(
        "Safety rails tripped (the apply refuses this plan unless the rails are lifted with "
        "--force):",
        lines,
        paint,
    )


def series_block(series: SeriesPlan, *, paint: _Paint) -> list[str]:
    key = printable(series.key)
    if series.action is Action.CREATE:
        head = paint(f"+ {key}", _GREEN) + f" ({printable(series.file)})"
        rows = [
            f"{INDENT}{printable(row.name)}: {value_text(row.after)}" for row in series_rows(series)
        ]
    else:
        ident = f"id {series.series_id}" if series.series_id is not None else printable(series.file)
        head = paint(f"~ {key}", _YELLOW) + f" ({ident})"
        rows = [
            f"{INDENT}{printable(row.name)}: {value_text(row.before)} → {value_text(row.after)}"
            + (f" ({printable(row.note)})" if row.note else "")
            for row in series_rows(series)
        ]
    if series.retire:
        head += paint("  (retires the series)", _RED)
    notes = [paint(f"{INDENT}# {printable(n)}", _DIM) for n in series.notes]
    return [head, *rows, *notes]


def _section(title: str, lines: Iterable[str], paint: _Paint) -> list[str]:
    body = list(lines)
    return [paint(title, _BOLD), *body, ""] if body else []


def _moves(plan: Plan, paint: _Paint) -> list[str]:
    lines: list[str] = []
    for m in plan.moves:
        lines.append(
            f"{INDENT}{printable(m.from_key)} → {printable(m.to_key)} (id {m.series_id}): "
            f"{printable(m.reason)}"
        )
        command = m.command or state_mv_command(
            from_key=m.from_key, to_key=m.to_key, environment=plan.environment
        )
        lines.append(f"{INDENT}  record it: {printable(command)}")
    return _section(
        "Likely renamed (the state still has the old key; nothing is created):", lines, paint
    )


def _blocked(plan: Plan, paint: _Paint) -> list[str]:
    lines = [
        paint(f"{INDENT}! {printable(b.key)}", _RED)
        + (f" ({printable(b.file)})" if b.file else "")
        + f": {printable(b.reason)}"
        for b in plan.blocked
    ]
    return _section("Blocked (the apply will not touch these until a person acts):", lines, paint)


def _orphans(plan: Plan, paint: _Paint) -> list[str]:
    lines = [
        f"{INDENT}{printable(o.key)} (id {o.series_id})"
        + (f": {value_text(o.description)}" if o.description else "")
        for o in plan.orphans
    ]
    return _section(
        "Orphaned (in the state, no file): left alone; the API has no delete.", lines, paint
    )


def _warnings(plan: Plan, paint: _Paint) -> list[str]:
    lines = []
    for w in plan.warnings:
        where = w.file + (f":{w.line}" if w.file and w.line else "") if w.file else w.key
        lines.append(f"{INDENT}{printable(where) + ': ' if where else ''}{printable(w.message)}")
    return _section("Warnings:", lines, paint)


def _ignores(plan: Plan, paint: _Paint) -> list[str]:
    groups = grouped_ignores(plan.series)
    if not groups:
        return []
    lines = []
    for field, reason, source, keys, differing in groups:
        where = f" (rule in {printable(source)})" if source else ""
        lines.append(
            f"{INDENT}{printable(field)}: {printable(reason)}{where}; "
            f"{plural(len(keys), 'series', 'series')}"
            + (f", live differs in {len(differing):,}: {_some(differing)}" if differing else "")
        )
    title = (
        f"Ignore rules in effect ({plural(plan.counts.ignored_fields, 'field')} "
        "left out of the plan):"
    )
    return _section(title, lines, paint)


def _some(keys: Sequence[str], *, limit: int = 5) -> str:
    shown = ", ".join(printable(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit:,} more" if len(keys) > limit else "")


def _targets(plan: Plan, paint: _Paint) -> list[str]:
    if not plan.targets:
        return []
    targets = ", ".join(printable(t) for t in plan.targets)
    return [
        paint(
            f"Note: this plan is limited to the targets {targets}; "
            "series outside them are not shown or counted.",
            _DIM,
        ),
        "",
    ]


# --- apply result ---------------------------------------------------------------------------

_MARKS = {
    Outcome.DONE: ("✓ done", _GREEN),
    Outcome.SKIPPED: ("↷ skipped", _YELLOW),
    Outcome.FAILED: ("✗ failed", _RED),
    Outcome.NOT_STARTED: ("· not started", _DIM),
}


def render_apply_text(result: ApplyResult, *, stream: TextIO, color: bool = False) -> None:
    """Write the final summary of an apply to ``stream``."""
    stream.write("\n".join(apply_lines(result, color=color)) + "\n")


def apply_lines(result: ApplyResult, *, color: bool = False) -> list[str]:
    paint = _Paint(color=color)
    out = [paint(f"Apply to {printable(result.environment)}:", _BOLD)]
    width = max((len(label) for label, _ in _MARKS.values()), default=0)
    for o in result.outcomes:
        label, code = _MARKS[o.outcome]
        out.append(f"  {paint(label.ljust(width), code)}  {_outcome_text(o)}")
    if not result.outcomes:
        out.append(f"{INDENT}(nothing to do)")
    out.append("")
    mismatches = [
        f"{INDENT}{printable(o.key)} {printable(m.field)}: sent {value_text(m.before)}, "
        f"server kept {value_text(m.after)}"
        for o in result.outcomes
        for m in o.mismatches
    ]
    if mismatches:
        out += _section(
            "Fields the server did not take as sent (a normalisation the tool does not model; "
            "please report):",
            mismatches,
            paint,
        )
    out += _section("Notes:", (paint(f"{INDENT}{printable(n)}", _DIM) for n in result.notes), paint)
    out += _section(
        "Safety rails lifted by --force:",
        (paint(f"{INDENT}! {printable(f)}", _RED) for f in result.forced),
        paint,
    )
    counts = ", ".join(
        f"{len(result.of(outcome)):,} {outcome.value.replace('_', ' ')}" for outcome in Outcome
    )
    out.append(f"Applied: {counts}.")
    out += _convergence(result, paint)
    if result.interrupted:
        waiting = len(result.of(Outcome.NOT_STARTED))
        out.append(
            paint(
                f"Interrupted: {plural(waiting, 'series', 'series')} not started; "
                "run apply again to finish.",
                _RED,
            )
        )
    return out


def _outcome_text(o: SeriesOutcome) -> str:
    text = printable(o.key)
    verb = {Action.CREATE: "created", Action.UPDATE: "updated"}.get(o.action)
    if o.outcome is Outcome.DONE:
        detail = ", ".join(x for x in (verb or "", f"id {o.series_id}" if o.series_id else "") if x)
        return text + (f" ({detail})" if detail else "")
    if o.series_id is not None:
        text += f" (id {o.series_id})"
    if o.outcome is Outcome.FAILED:
        api = []
        if o.status is not None:
            api.append(f"HTTP {o.status}")
        if o.codes:
            api.append("codes " + ", ".join(str(c) for c in o.codes))
        text += ": " + "; ".join(
            [*api, printable(o.message)] if o.message else api or ["no detail"]
        )
    elif o.message:
        text += f": {printable(o.message)}"
    return text


def _convergence(result: ApplyResult, paint: _Paint) -> list[str]:
    after = result.after
    if after is None and result.check_error:
        return [
            paint(
                "Not verified: the plan after the apply failed: "
                f"{printable(result.check_error)}. What is listed above was done; plan "
                "again to check.",
                _RED,
            )
        ]
    if after is None:
        return [paint("Not verified: no plan was made after the apply.", _YELLOW)]
    if not after.has_changes:
        return [paint("Converged: a new plan is empty.", _GREEN)]
    changed = [s for s in after.series if s.action is not Action.UNCHANGED]
    counts = after.counts
    extra = [
        plural(n, what, what)
        for n, what in ((counts.moved, "likely renamed"), (counts.blocked, "blocked"))
        if n
    ]
    out = [
        paint(
            f"Not converged: {plural(len(changed), 'series', 'series')} still "
            + ("differs" if len(changed) == 1 else "differ")
            + (f" ({', '.join(extra)})" if extra else "")
            + ":",
            _RED,
        )
    ]
    for series in changed:
        out += [f"  {line}" for line in series_block(series, paint=paint)]
    out += _moves(after, paint) + _blocked(after, paint)
    return out


# --- problems -------------------------------------------------------------------------------


def render_problems_text(
    problems: Sequence[Problem], *, stream: TextIO, color: bool = False
) -> None:
    """One ``file:line:col: severity: message`` line per problem, then the counts."""
    paint = _Paint(color=color)
    for p in sorted(problems):
        code = _RED if p.is_error else _YELLOW
        stream.write(
            f"{printable(p.location())}: {paint(p.severity.value, code)}: {printable(p.message)}\n"
        )
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    if not problems:
        stream.write("No problems found.\n")
    else:
        stream.write(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}.\n")
