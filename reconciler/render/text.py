"""A plan as plain text for a terminal or a log, Terraform style. Pure: writes only to its
stream; colour (ANSI) only when the caller asks for it.

Summary first, noise last: the environment, the safety rails and the policy findings that
refuse the plan, the counts, then one line per changed series (riskiest first, with its
badges, the fields it changes, the coupons and status the live CRM reports), the other
policy findings and the overlaps; then one block per changed series (``+`` create with its
declared values, ``~`` update with only the changed fields as ``old → new``, and why in
brackets when the file does not spell the change out: ``maxRedeem: 500 → -1 (no longer in
the file: server default)``, then its business facts); then likely renames, blocked
series, orphans, the warnings grouped by kind, the ignore rules in effect, a note when
targets limit the plan, and the summary line again last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.render._review import (
    EXAMPLES,
    Entry,
    blocking_findings,
    business_line,
    change_line,
    entries,
    finding_line,
    warning_groups,
    warning_where,
    window_text,
)
from reconciler.render._values import (
    grouped_ignores,
    series_rows,
    state_mv_command,
    value_text,
)
from reconciler.render.terminal import BOLD, DIM, GREEN, RED, YELLOW, Paint, plural
from reconciler.textsafe import printable

INDENT = "    "
NO_CHANGES = "No changes. The live series match the files."


def render_plan_text(plan: Plan, *, stream: TextIO, color: bool = False) -> None:
    """Write ``plan`` as text to ``stream``."""
    stream.write("\n".join(plan_lines(plan, color=color)) + "\n")


def plan_lines(plan: Plan, *, color: bool = False) -> list[str]:
    paint = Paint(color=color)
    out: list[str] = [paint(f"Environment: {printable(plan.environment)}", BOLD), ""]
    out += rails_lines(plan, paint=paint)
    out += _refusals(plan, paint)
    out += [paint(plan.summary(), BOLD), ""]
    changed = entries(plan)
    if not plan.has_changes:
        out += [NO_CHANGES, ""]
    elif not changed:
        out += ["Nothing to create or update; the items below need a person first.", ""]
    out += section("Changes, riskiest first:", (_glance(e, paint) for e in changed), paint)
    out += section(
        "Policy:",
        (f"{INDENT}{printable(finding_line(f))}" for f in plan.policy if not f.blocking),
        paint,
    )
    out += section(
        "Series sharing a discountCode in the same days:",
        (
            paint(
                f"{INDENT}! {printable(o.key)} and {printable(o.other)} share "
                f"{printable(o.discount_code)} from {o.start} to {o.end}",
                YELLOW,
            )
            for o in plan.overlaps
        ),
        paint,
    )
    for entry in changed:
        out += series_block(entry.series, paint=paint, facts=True)
        out.append("")
    out += moves_lines(plan, paint)
    out += blocked_lines(plan, paint)
    out += _orphans(plan, paint)
    out += _warnings(plan, paint)
    out += _ignores(plan, paint)
    out += _targets(plan, paint)
    out.append(paint(plan.summary(), BOLD))
    return out


def rails_lines(plan: Plan, *, paint: Paint) -> list[str]:
    """The safety rails the plan trips, first: a reviewer must not have to scroll for them."""
    lines = [paint(f"{INDENT}! {printable(r)}", RED) for r in plan.rails]
    return section(
        "Safety rails tripped (the apply refuses this plan unless the rails are lifted with "
        "--force):",
        lines,
        paint,
    )


def _refusals(plan: Plan, paint: Paint) -> list[str]:
    lines = [paint(f"{INDENT}! {printable(finding_line(f))}", RED) for f in blocking_findings(plan)]
    return section(
        "The policy refuses this plan (an approve rule needs --override RULE=REASON; a deny "
        "rule cannot be overridden):",
        lines,
        paint,
    )


def _glance(entry: Entry, paint: Paint) -> str:
    s = entry.series
    mark = paint("+", GREEN) if s.action is Action.CREATE else paint("~", YELLOW)
    name = printable(s.key) + (f" (id {s.series_id})" if s.series_id is not None else "")
    badges = f" [{', '.join(entry.badges)}]" if entry.badges else ""
    facts = business_line(s)
    text = f"{INDENT}{mark} {name}{paint(badges, RED if entry.blocking else YELLOW)}"
    text += f": {printable(change_line(s))}"
    return text + (f" | {printable(facts)}" if facts else "")


def series_block(series: SeriesPlan, *, paint: Paint, facts: bool = False) -> list[str]:
    key = printable(series.key)
    if series.action is Action.CREATE:
        head = paint(f"+ {key}", GREEN) + f" ({printable(series.file)})"
        rows = [
            f"{INDENT}{printable(row.name)}: {value_text(row.after)}" for row in series_rows(series)
        ]
    else:
        ident = f"id {series.series_id}" if series.series_id is not None else printable(series.file)
        head = paint(f"~ {key}", YELLOW) + f" ({ident})"
        rows = [
            f"{INDENT}{printable(row.name)}: {value_text(row.before)} → {value_text(row.after)}"
            + (f" ({printable(row.note)})" if row.note else "")
            for row in series_rows(series)
        ]
    if series.retire:
        head += paint("  (retires the series)", RED)
    notes = [paint(f"{INDENT}# {printable(n)}", DIM) for n in series.notes]
    told = _facts(series, paint) if facts else []
    return [head, *rows, *told, *notes]


def _facts(series: SeriesPlan, paint: Paint) -> list[str]:
    facts = series.business
    if facts is None:
        return []
    lines = [f"coupons: {business_line(series)}"]
    if facts.before is not None or facts.after is not None:
        lines.append(f"validity: {window_text(facts.before)} → {window_text(facts.after)}")
    lines += [f"impact: {i}" for i in facts.impacts]
    return [paint(f"{INDENT}# {printable(line)}", DIM) for line in lines]


def section(title: str, lines: Iterable[str], paint: Paint) -> list[str]:
    body = list(lines)
    return [paint(title, BOLD), *body, ""] if body else []


def moves_lines(plan: Plan, paint: Paint) -> list[str]:
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
    return section(
        "Likely renamed (the state still has the old key; nothing is created):", lines, paint
    )


def blocked_lines(plan: Plan, paint: Paint) -> list[str]:
    lines = [
        paint(f"{INDENT}! {printable(b.key)}", RED)
        + (f" ({printable(b.file)})" if b.file else "")
        + f": {printable(b.reason)}"
        for b in plan.blocked
    ]
    return section("Blocked (the apply will not touch these until a person acts):", lines, paint)


def _orphans(plan: Plan, paint: Paint) -> list[str]:
    lines = [
        f"{INDENT}{printable(o.key)} (id {o.series_id})"
        + (f": {value_text(o.description)}" if o.description else "")
        for o in plan.orphans
    ]
    return section(
        "Orphaned (in the state, no file): left alone; the API has no delete.", lines, paint
    )


def _warnings(plan: Plan, paint: Paint) -> list[str]:
    lines = []
    for group in warning_groups(plan.warnings):
        lines.append(f"{INDENT}{group.count:,} × {printable(group.kind)}")
        for w in group.examples:
            where = warning_where(w)
            lines.append(
                f"{INDENT}    {printable(where) + ': ' if where else ''}{printable(w.message)}"
            )
        if group.count > EXAMPLES:
            lines.append(f"{INDENT}    … and {group.count - EXAMPLES:,} more like these")
    title = f"Warnings ({len(plan.warnings):,}, by kind; reconciler validate lists every one):"
    return section(title, lines, paint)


def _ignores(plan: Plan, paint: Paint) -> list[str]:
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
    return section(title, lines, paint)


def _some(keys: Sequence[str], *, limit: int = 5) -> str:
    shown = ", ".join(printable(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit:,} more" if len(keys) > limit else "")


def _targets(plan: Plan, paint: Paint) -> list[str]:
    if plan.scope is not None:
        return [paint(f"Note: {printable(plan.scope.describe())}", DIM), ""]
    if not plan.targets:
        return []
    targets = ", ".join(printable(t) for t in plan.targets)
    return [
        paint(
            f"Note: this plan is limited to the targets {targets}; "
            "series outside them are not shown or counted.",
            DIM,
        ),
        "",
    ]
