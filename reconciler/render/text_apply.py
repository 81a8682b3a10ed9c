"""An apply result and validation problems as plain text, for a terminal or a log. Pure."""

from __future__ import annotations

from typing import TextIO

from reconciler.engine.plan import Action
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.render._values import value_text
from reconciler.render.terminal import BOLD, DIM, GREEN, RED, YELLOW, Paint, plural
from reconciler.render.text import (
    INDENT,
    blocked_lines,
    moves_lines,
    section,
    series_block,
)
from reconciler.textsafe import printable

_MARKS = {
    Outcome.DONE: ("✓ done", GREEN),
    Outcome.SKIPPED: ("↷ skipped", YELLOW),
    Outcome.FAILED: ("✗ failed", RED),
    Outcome.NOT_STARTED: ("· not started", DIM),
}


def render_apply_text(result: ApplyResult, *, stream: TextIO, color: bool = False) -> None:
    """Write the final summary of an apply to ``stream``."""
    stream.write("\n".join(apply_lines(result, color=color)) + "\n")


def apply_lines(result: ApplyResult, *, color: bool = False) -> list[str]:
    paint = Paint(color=color)
    out = [paint(f"Apply to {printable(result.environment)}:", BOLD)]
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
        out += section(
            "Fields the server did not take as sent (a normalisation the tool does not model; "
            "please report):",
            mismatches,
            paint,
        )
    out += section("Notes:", (paint(f"{INDENT}{printable(n)}", DIM) for n in result.notes), paint)
    out += section(
        "Safety rails lifted by --force:",
        (paint(f"{INDENT}! {printable(f)}", RED) for f in result.forced),
        paint,
    )
    out += section(
        "Policy rules overridden (recorded in the ledger):",
        (paint(f"{INDENT}! {printable(o)}", YELLOW) for o in result.overrides),
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
                RED,
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


def _convergence(result: ApplyResult, paint: Paint) -> list[str]:
    after = result.after
    if after is None and result.check_error:
        return [
            paint(
                "Not verified: the plan after the apply failed: "
                f"{printable(result.check_error)}. What is listed above was done; plan "
                "again to check.",
                RED,
            )
        ]
    if after is None:
        return [paint("Not verified: no plan was made after the apply.", YELLOW)]
    if not after.has_changes:
        return [paint("Converged: a new plan is empty.", GREEN)]
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
            RED,
        )
    ]
    for series in changed:
        out += [f"  {line}" for line in series_block(series, paint=paint)]
    out += moves_lines(after, paint) + blocked_lines(after, paint)
    return out
