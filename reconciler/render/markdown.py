"""A plan as Markdown for a pull-request comment, an issue body or a job summary. Pure.

Summary first, noise last:

1. a hidden marker line (a bot finds and updates its own comment), the title, the safety
   rails and the policy findings that refuse the plan, the counts and the summary line;
2. **Changes, riskiest first**: one table row per changed series with its badges, the
   fields it changes, and the coupons and status the live CRM reports;
3. the other policy findings, the validity timeline (a Mermaid Gantt that GitHub draws,
   ``render.timeline``) with the overlaps of series sharing a discountCode;
4. each changed series in a collapsible ``<details>`` (its business facts, what the change
   does to coupons already issued where the docs say so, a Field | Live | Desired table);
5. likely renames, blocked series, orphans, the warnings grouped by kind with counts and a
   few examples, and the ignore rules in effect.

Safety: every text from the files or the live CRM goes through ``mdescape.escape``; none
goes into the Mermaid chart. Size: the output stays within ``max_chars`` (60,000 by default,
under GitHub's 65,536); the head is always kept and the sections fit by priority
(``render.budget``), the summary rows first and the warnings late, so no amount of warnings
can push a change out of the comment.
"""

from __future__ import annotations

from typing import TextIO

from reconciler.engine.facts import Level, PolicyFinding
from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.render._review import (
    EXAMPLES,
    Entry,
    blocking_findings,
    business_line,
    change_line,
    entries,
    warning_groups,
    warning_where,
    window_text,
)
from reconciler.render._values import change_rows, grouped_ignores, series_rows
from reconciler.render._values import state_mv_command as _mv_command
from reconciler.render.budget import NOTE_RESERVE, Section, cut, cut_note, fit
from reconciler.render.markdown_apply import (
    APPLY_MARKER,
    render_apply_markdown,
    render_problems_markdown,
)
from reconciler.render.mdescape import cell, escape
from reconciler.render.terminal import plural
from reconciler.render.timeline import mermaid_gantt, timeline_rows

MARKER = "<!-- reconciler-plan -->"
DEFAULT_MAX_CHARS = 60_000
MAX_ROWS_PER_SERIES = 40
MAX_RAILS_SHOWN = 20
FIRST_FEW = 10  # blocked series, renames and findings kept before the summary rows
_LEVEL_BADGE = {"deny": "⛔ deny", "approve": "✋ approve", "warn": "⚠️ warn", "retire": "🏁 retire"}

__all__ = [
    "APPLY_MARKER",
    "DEFAULT_MAX_CHARS",
    "MARKER",
    "cell",
    "escape",
    "plan_markdown",
    "render_apply_markdown",
    "render_plan_markdown",
    "render_problems_markdown",
]


def render_plan_markdown(plan: Plan, *, stream: TextIO, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """Write ``plan`` as markdown to ``stream``, at most ``max_chars`` characters."""
    stream.write(plan_markdown(plan, max_chars=max_chars))


def plan_markdown(plan: Plan, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    head = _head(plan)
    changed = entries(plan)
    sections = [
        Section(
            "summary rows",
            "### Changes, riskiest first",
            [_glance(e) for e in changed],
            table="| Badges | Series | Changes | Coupons and status |\n| --- | --- | --- | --- |",
        ),
        Section("policy findings", "### Policy", _findings(plan)),
        Section("timeline", "### Validity timeline", _timeline(plan, changed), joiner=""),
        Section("series details", "### Details", [_details(e) for e in changed], joiner=""),
        Section(
            "likely renames",
            "### Likely renamed",
            _moves(plan),
            intro="The state still has the old key; nothing is created. Record each rename:",
        ),
        Section(
            "blocked series",
            "### Blocked",
            [
                f"- **{escape(b.key)}**"
                + (f" ({escape(b.file)})" if b.file else "")
                + f": {escape(b.reason)}"
                for b in plan.blocked
            ],
            intro="The apply will not touch these until a person acts.",
        ),
        Section(
            "orphans",
            "### Orphaned",
            [
                f"- **{escape(o.key)}** (id {o.series_id})"
                + (f": {escape(o.description)}" if o.description else "")
                for o in plan.orphans
            ],
            intro="In the state, no file: left alone; the API has no delete.",
        ),
        Section(
            "warning kinds",
            f"### Warnings ({len(plan.warnings):,}, by kind)",
            _warnings(plan),
            intro="reconciler validate lists every one." if plan.warnings else "",
        ),
        Section(
            "ignore rules",
            "### Ignore rules in effect",
            _ignores(plan),
            intro=f"{plural(plan.counts.ignored_fields, 'field')} left out of the plan:",
        ),
    ]
    # What a reviewer must not miss first: every change's summary row, what refuses or
    # blocks, then the picture, the details, and the noise last.
    priority: list[str | tuple[str, int]] = [
        # A few of what a person must act on, whatever the number of changes...
        ("blocked series", FIRST_FEW),
        ("likely renames", FIRST_FEW),
        ("policy findings", FIRST_FEW),
        # ...then every change's summary row, then the rest.
        "summary rows",
        "policy findings",
        "blocked series",
        "likely renames",
        "timeline",
        "series details",
        "warning kinds",
        "orphans",
        "ignore rules",
    ]
    body = fit(sections, priority=priority, budget=max_chars - len(head) - NOTE_RESERVE)
    left_out = cut(sections)
    return head + body + (cut_note(left_out) if left_out else "")


# --- the head ---------------------------------------------------------------------------


def _head(plan: Plan) -> str:
    c = plan.counts
    rows = [
        ("+ create", c.create),
        ("~ update", c.update),
        ("unchanged", c.unchanged),
        ("orphaned", c.orphaned),
        ("likely renamed", c.moved),
        ("blocked", c.blocked),
        ("ignored fields", c.ignored_fields),
    ]
    lines = [
        MARKER,
        f"## Reconciler plan: {escape(plan.environment)}",
        "",
        *_rails(plan),
        *_refusals(plan),
        "| Action | Count |",
        "| --- | ---: |",
        *(f"| {name} | {count:,} |" for name, count in rows),
        "",
        f"**{escape(plan.summary())}**",
        "",
    ]
    if not plan.has_changes:
        lines += ["No changes. The live series match the files.", ""]
    if plan.scope is not None:
        lines += [f"> **Note:** {escape(plan.scope.describe())}", ""]
    elif plan.targets:
        targets = ", ".join(escape(t) for t in plan.targets)
        lines += [
            f"> **Note:** this plan is limited to the targets {targets}; "
            "series outside them are not shown or counted.",
            "",
        ]
    return "\n".join(lines) + "\n"


def _rails(plan: Plan) -> list[str]:
    """A caution block on top: each safety rail the apply would trip, with its numbers."""
    if not plan.rails:
        return []
    shown = plan.rails[:MAX_RAILS_SHOWN]
    lines = [
        "> [!CAUTION]",
        f"> **{plural(len(plan.rails), 'safety rail')} tripped: the apply refuses this plan** "
        "unless they are lifted on purpose: --force, or in CI the force input of a manual "
        "apply, approved by the environment's reviewers.",
        ">",
        *(f"> - {escape(r)}" for r in shown),
    ]
    if len(plan.rails) > MAX_RAILS_SHOWN:
        lines.append(f"> - … and {len(plan.rails) - MAX_RAILS_SHOWN:,} more")
    return [*lines, ""]


def _refusals(plan: Plan) -> list[str]:
    """A caution block: the policy rules that refuse this plan as it stands."""
    blocking = blocking_findings(plan)
    if not blocking:
        return []
    lines = [
        "> [!CAUTION]",
        f"> **The policy refuses this plan ({plural(len(blocking), 'finding')})**: an approve "
        "rule needs an override naming it with a reason (--override RULE=REASON; in CI the "
        "override label); a deny rule cannot be overridden.",
        ">",
        *(f"> - {_finding(f)}" for f in blocking[:MAX_RAILS_SHOWN]),
    ]
    if len(blocking) > MAX_RAILS_SHOWN:
        lines.append(f"> - … and {len(blocking) - MAX_RAILS_SHOWN:,} more")
    return [*lines, ""]


def _finding(f: PolicyFinding) -> str:
    text = f"{_LEVEL_BADGE[f.level.value]} **{escape(f.rule)}** on **{escape(f.key)}**: "
    text += escape(f.message)
    if f.override:
        text += f" — overridden: {escape(f.override)}" + (f" (by {escape(f.by)})" if f.by else "")
    return text


# --- summary, policy, timeline ------------------------------------------------------------


def badges(entry: Entry) -> str:
    return " · ".join(_LEVEL_BADGE.get(b, b) for b in entry.badges)


def _glance(entry: Entry) -> str:
    s = entry.series
    name = ("+ " if s.action is Action.CREATE else "~ ") + f"**{escape(s.key)}**"
    if s.series_id is not None:
        name += f" (id {s.series_id})"
    return f"| {badges(entry)} | {name} | {escape(change_line(s))} | {escape(business_line(s))} |"


def _findings(plan: Plan) -> list[str]:
    """The findings that do not refuse the plan (those are on top): warnings, overrides."""
    shown = [f for f in plan.policy if not f.blocking]
    return [f"- {_finding(f)}" for f in sorted(shown, key=lambda f: f.level is Level.WARN)]


def _timeline(plan: Plan, changed: list[Entry]) -> list[str]:
    timeline = timeline_rows(plan, changed)
    chart = mermaid_gantt(timeline)
    if not chart:
        return []
    lines = [
        "Each changed series' validity (UTC days) live now and after the apply; the plan's "
        "day is marked. Bars are numbered as in the summary above.",
        "",
        *chart,
        "",
    ]
    if timeline.left_out:
        lines += [
            f"_{plural(timeline.left_out, 'more changed series', 'more changed series')} "
            "not drawn._",
            "",
        ]
    for o in plan.overlaps:
        lines.append(
            f"- ⚠️ **{escape(o.key)}** and **{escape(o.other)}** share the discountCode "
            f"{escape(o.discount_code)} from {o.start} to {o.end}"
        )
    return ["\n".join(lines) + "\n\n"]


# --- details ------------------------------------------------------------------------------


def _details(entry: Entry) -> str:
    series = entry.series
    if series.action is Action.CREATE:
        title = f"+ create <b>{escape(series.key)}</b> ({escape(series.file)})"
        rows = series_rows(series)
    else:
        ident = f"id {series.series_id}" if series.series_id is not None else escape(series.file)
        title = f"~ update <b>{escape(series.key)}</b> ({ident})"
        rows = [row for change in series.changes for row in change_rows(change)]
    if series.retire:
        title += " — retires the series"
    if entry.badges:
        title += f" — {badges(entry)}"
    lines = ["<details><summary>" + title + "</summary>", ""]
    facts = _facts(series)
    if facts:
        lines += [*facts, ""]
    shown = rows[:MAX_ROWS_PER_SERIES]
    if series.action is Action.CREATE:
        lines += ["| Field | Value |", "| --- | --- |"]
        lines += [f"| {escape(r.name)} | {cell(r.after)} |" for r in shown]
        filler = "|"
    else:
        lines += ["| Field | Live | Desired |", "| --- | --- | --- |"]
        lines += [
            f"| {escape(r.name)} | {cell(r.before)} | {cell(r.after)}"
            + (f" _({escape(r.note)})_" if r.note else "")
            + " |"
            for r in shown
        ]
        filler = "| |"
    if len(rows) > MAX_ROWS_PER_SERIES:
        lines.append(f"| … {len(rows) - MAX_ROWS_PER_SERIES:,} more changes not shown {filler}")
    lines.append("")
    lines += [f"- {escape(n)}" for n in series.notes]
    lines += ["", "</details>", ""] if series.notes else ["</details>", ""]
    return "\n".join(lines) + "\n"


def _facts(series: SeriesPlan) -> list[str]:
    facts = series.business
    if facts is None:
        return []
    out = [f"- **Coupons:** {escape(business_line(series))}"]
    if facts.before is not None or facts.after is not None:
        out.append(f"- **Validity:** {window_text(facts.before)} → {window_text(facts.after)}")
    out += [f"- **Impact:** {escape(i)}" for i in facts.impacts]
    return out


# --- the rest -----------------------------------------------------------------------------


def _moves(plan: Plan) -> list[str]:
    return [
        f"- {escape(m.from_key)} → **{escape(m.to_key)}** (id {m.series_id}): "
        f"{escape(m.reason)}<br>record it: "
        f"{escape(m.command or _mv(m.from_key, m.to_key, plan.environment))}"
        for m in plan.moves
    ]


def _mv(from_key: str, to_key: str, environment: str) -> str:
    return _mv_command(from_key=from_key, to_key=to_key, environment=environment)


def _warnings(plan: Plan) -> list[str]:
    out = []
    for group in warning_groups(plan.warnings):
        text = f"- **{group.count:,} ×** {escape(group.kind)}"
        for w in group.examples:
            where = warning_where(w)
            text += f"<br>e.g. {escape(where) + ': ' if where else ''}{escape(_clip(w.message))}"
        if group.count > EXAMPLES:
            text += f"<br>… and {group.count - EXAMPLES:,} more like these"
        out.append(text)
    return out


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ignores(plan: Plan) -> list[str]:
    out = []
    for name, reason, source, keys, differing in grouped_ignores(plan.series):
        text = f"- **{escape(name)}**: {escape(reason)}"
        if source:
            text += f" (rule in {escape(source)})"
        text += f"; {plural(len(keys), 'series', 'series')}"
        if differing:
            shown = ", ".join(escape(k) for k in differing[:5])
            more = f" and {len(differing) - 5:,} more" if len(differing) > 5 else ""
            text += f"; live differs in {len(differing):,}: {shown}{more}"
        out.append(text)
    return out
