"""A plan as one self-contained HTML page, for people who read plans outside GitHub. Pure.

One file, nothing fetched: the styles are inline, the timeline is inline SVG, there is no
script, and a Content-Security-Policy forbids loading anything (``default-src 'none'``), so
the page shows the same offline, in a mail attachment or an artifact viewer.

Layout, summary first: a banner with the environment and the counts, the safety rails and
policy findings that refuse the plan, the changed series riskiest first with coloured badges
and the coupons and status the live CRM reports, the other findings, the validity timeline
(before and after windows, the plan's day marked, overlaps in red), each series' details,
then renames, blocked series, orphans, warnings grouped by kind and ignore rules.

Every text from the files or the live CRM is escaped (``html.escape`` after
``textsafe.printable``): it can never become markup, an attribute or a script.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date
from typing import TextIO

from reconciler.engine.facts import PolicyFinding
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
from reconciler.render._values import change_rows, grouped_ignores, series_rows, value_text
from reconciler.render.terminal import plural
from reconciler.render.timeline import Bar, Timeline, timeline_rows
from reconciler.textsafe import printable

# Colours the browser test looks for (tests/render/test_html_browser.py): keep them distinct.
BANNER = "#0b3d91"
BADGE_COLOURS = {
    "deny": "#b60205",
    "approve": "#d93f0b",
    "warn": "#b08800",
    "retire": "#6f42c1",
    "new": "#1b7c83",
    "discount": "#8250df",
    "validity": "#0e8a16",
    "limits": "#1d76db",
    "audience": "#5a6b7b",
}
BAR_BEFORE = "#8c959f"
BAR_AFTER = "#1f6feb"
BAR_OVERLAP = "#cf222e"
TODAY_LINE = "#e36209"

_STYLE = f"""
body {{ font-family: system-ui, sans-serif; margin: 0; color: #1f2328; background: #fff; }}
main {{ padding: 0 24px 48px; max-width: 1200px; }}
.banner {{ background: {BANNER}; color: #fff; padding: 16px 24px; }}
.banner h1 {{ margin: 0 0 8px; font-size: 22px; }}
.banner .meta {{ opacity: .85; font-size: 13px; margin: 0 0 10px; }}
.counts {{ display: flex; gap: 12px; flex-wrap: wrap; margin: 0; padding: 0; list-style: none; }}
.counts li {{ background: rgba(255,255,255,.15); padding: 6px 10px; border-radius: 6px; }}
.counts b {{ font-size: 18px; margin-right: 4px; }}
.line {{ font-weight: 600; margin: 10px 0 0; }}
.caution {{ border-left: 6px solid #b60205; background: #ffebe9; padding: 8px 16px;
  margin: 16px 0; }}
h2 {{ font-size: 18px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 28px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; }}
.badge {{ display: inline-block; color: #fff; border-radius: 10px; padding: 1px 8px; margin: 1px;
  font-size: 12px; font-weight: 600; }}
{"".join(f".badge-{name} {{ background: {colour}; }}" for name, colour in BADGE_COLOURS.items())}
.note {{ color: #59636e; font-size: 13px; }}
details {{ margin: 8px 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 10px; }}
summary {{ cursor: pointer; font-weight: 600; }}
code, .value {{ font-family: ui-monospace, monospace; word-break: break-all; }}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(text: object) -> str:
    """Any text, safe as HTML element content or a quoted attribute value."""
    return html.escape(printable(str(text)), quote=True)


def render_plan_html(plan: Plan, *, stream: TextIO) -> None:
    stream.write(plan_html(plan))


def plan_html(plan: Plan) -> str:
    changed = entries(plan)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Reconciler plan: {esc(plan.environment)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        _banner(plan),
        "<main>",
        *_refusals(plan),
        *_changes(changed),
        *_findings(plan),
        *_timeline(plan, changed),
        *_details(changed),
        *_others(plan),
        *_warnings(plan),
        *_ignores(plan),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _banner(plan: Plan) -> str:
    c = plan.counts
    counts = [
        ("to create", c.create),
        ("to update", c.update),
        ("unchanged", c.unchanged),
        ("orphaned", c.orphaned),
        ("likely renamed", c.moved),
        ("blocked", c.blocked),
    ]
    items = "".join(f"<li><b>{n:,}</b>{esc(label)}</li>" for label, n in counts)
    targets = (
        f'<p class="meta">{esc(plan.scope.describe())}</p>'
        if plan.scope is not None
        else f'<p class="meta">Limited to the targets {esc(", ".join(plan.targets))}</p>'
        if plan.targets
        else ""
    )
    return (
        f'<header class="banner" id="summary"><h1>Reconciler plan: {esc(plan.environment)}</h1>'
        f'<p class="meta">made {esc(plan.created_at)} by reconciler {esc(plan.tool_version)}</p>'
        f'<ul class="counts">{items}</ul>{targets}'
        f'<p class="line">{esc(plan.summary())}</p></header>'
    )


def _refusals(plan: Plan) -> list[str]:
    out = []
    if plan.rails:
        out.append(
            '<div class="caution" id="rails"><b>Safety rails tripped: the apply refuses this '
            "plan unless they are lifted on purpose (--force).</b>"
            + _list(esc(r) for r in plan.rails)
            + "</div>"
        )
    blocking = blocking_findings(plan)
    if blocking:
        out.append(
            '<div class="caution" id="refusals"><b>The policy refuses this plan:</b> an approve '
            "rule needs an override naming it with a reason; a deny rule cannot be overridden."
            + _list(_finding(f) for f in blocking)
            + "</div>"
        )
    return out


def _badges(entry: Entry) -> str:
    return "".join(f'<span class="badge badge-{b}">{esc(b)}</span>' for b in entry.badges)


def _changes(changed: list[Entry]) -> list[str]:
    if not changed:
        return ['<p id="changes">No series to create or update.</p>']
    rows = []
    for entry in changed:
        s = entry.series
        mark = "+" if s.action is Action.CREATE else "~"
        ident = f" (id {s.series_id})" if s.series_id is not None else ""
        rows.append(
            f"<tr><td>{_badges(entry)}</td><td>{mark} <b>{esc(s.key)}</b>{ident}</td>"
            f'<td class="value">{esc(change_line(s))}</td><td>{esc(business_line(s))}</td></tr>'
        )
    return [
        '<section id="changes"><h2>Changes, riskiest first</h2><table>',
        "<tr><th>Badges</th><th>Series</th><th>Changes</th><th>Coupons and status</th></tr>",
        *rows,
        "</table></section>",
    ]


def _finding(f: PolicyFinding) -> str:
    text = (
        f'<span class="badge badge-{f.level.value}">{esc(f.level.value)}</span> '
        f"<b>{esc(f.rule)}</b> on <b>{esc(f.key)}</b>: {esc(f.message)}"
    )
    if f.override:
        text += f" — overridden: {esc(f.override)}" + (f" (by {esc(f.by)})" if f.by else "")
    return text


def _findings(plan: Plan) -> list[str]:
    shown = [f for f in plan.policy if not f.blocking]
    if not shown:
        return []
    return ['<section id="policy"><h2>Policy</h2>', _list(_finding(f) for f in shown), "</section>"]


# --- the timeline ---------------------------------------------------------------------------

_WIDTH, _LABELS, _ROW, _TOP = 960, 280, 34, 30


def _timeline(plan: Plan, changed: list[Entry]) -> list[str]:
    timeline = timeline_rows(plan, changed)
    if not timeline.rows:
        return []
    out = ['<section id="timeline"><h2>Validity timeline</h2>', _svg(timeline)]
    note = "Grey: live now; blue: after the apply; red: after the apply, overlapping a series "
    note += "with the same discountCode; the orange line is the plan's day."
    if timeline.left_out:
        note += f" {plural(timeline.left_out, 'more changed series', 'more changed series')} "
        note += "not drawn."
    out.append(f'<p class="note">{esc(note)}</p>')
    if plan.overlaps:
        out.append(
            _list(
                f"<b>{esc(o.key)}</b> and <b>{esc(o.other)}</b> share the discountCode "
                f"{esc(o.discount_code)} from {esc(o.start)} to {esc(o.end)}"
                for o in plan.overlaps
            )
        )
    out.append("</section>")
    return out


def _svg(timeline: Timeline) -> str:
    bars = [b for r in timeline.rows for b in (r.before, r.after) if b is not None]
    first = min([timeline.today, *(b.start for b in bars)])
    last = max([timeline.today, *(b.end for b in bars)])
    span = max((last - first).days + 1, 1)
    height = _TOP + _ROW * len(timeline.rows) + 10

    def x(day: date) -> float:
        return _LABELS + (_WIDTH - _LABELS - 10) * (day - first).days / span

    def rect(bar: Bar, y: float, colour: str) -> str:
        width = max(x(bar.end) - x(bar.start) + (_WIDTH - _LABELS - 10) / span, 2.0)
        return (
            f'<rect x="{x(bar.start):.1f}" y="{y:.1f}" width="{width:.1f}" height="11" '
            f'fill="{colour}"><title>{esc(bar.start.isoformat())} to '
            f"{esc(bar.end.isoformat())}</title></rect>"
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="validity timeline">',
        f'<text x="{_LABELS}" y="14" font-size="12">{esc(first.isoformat())}</text>',
        f'<text x="{_WIDTH - 10}" y="14" font-size="12" text-anchor="end">'
        f"{esc(last.isoformat())}</text>",
    ]
    for index, row in enumerate(timeline.rows):
        y = _TOP + index * _ROW
        label = row.key if len(row.key) <= 36 else row.key[:35] + "…"
        parts.append(f'<text x="4" y="{y + 16}" font-size="12">{row.rank}. {esc(label)}</text>')
        if row.before is not None:
            parts.append(rect(row.before, y, BAR_BEFORE))
        if row.after is not None:
            parts.append(rect(row.after, y + 14, BAR_OVERLAP if row.overlaps else BAR_AFTER))
    today = x(timeline.today)
    parts.append(
        f'<text x="{today:.1f}" y="{_TOP - 10}" font-size="11" text-anchor="middle" '
        f'fill="{TODAY_LINE}">plan day</text>'
    )
    parts.append(
        f'<line x1="{today:.1f}" y1="{_TOP - 8}" x2="{today:.1f}" y2="{height}" '
        f'stroke="{TODAY_LINE}" stroke-width="3"><title>plan day '
        f"{esc(timeline.today.isoformat())}</title></line>"
    )
    parts.append("</svg>")
    return "".join(parts)


# --- details and the rest -------------------------------------------------------------------


def _details(changed: list[Entry]) -> list[str]:
    if not changed:
        return []
    return ['<section id="details"><h2>Details</h2>', *(_one(e) for e in changed), "</section>"]


def _one(entry: Entry) -> str:
    s = entry.series
    verb = "create" if s.action is Action.CREATE else "update"
    ident = f" (id {s.series_id})" if s.series_id is not None else f" ({esc(s.file)})"
    head = f"<summary>{verb} {esc(s.key)}{ident} {_badges(entry)}</summary>"
    facts = _facts(s)
    if s.action is Action.CREATE:
        body = "<tr><th>Field</th><th>Value</th></tr>" + "".join(
            f'<tr><td>{esc(r.name)}</td><td class="value">{esc(value_text(r.after))}</td></tr>'
            for r in series_rows(s)
        )
    else:
        rows = [row for change in s.changes for row in change_rows(change)]
        body = "<tr><th>Field</th><th>Live</th><th>Desired</th></tr>" + "".join(
            f'<tr><td>{esc(r.name)}</td><td class="value">{esc(value_text(r.before))}</td>'
            f'<td class="value">{esc(value_text(r.after))}'
            + (f' <span class="note">({esc(r.note)})</span>' if r.note else "")
            + "</td></tr>"
            for r in rows
        )
    notes = _list(esc(n) for n in s.notes) if s.notes else ""
    return f"<details>{head}{facts}<table>{body}</table>{notes}</details>"


def _facts(series: SeriesPlan) -> str:
    facts = series.business
    if facts is None:
        return ""
    items = [f"<b>Coupons:</b> {esc(business_line(series))}"]
    if facts.before is not None or facts.after is not None:
        items.append(
            f"<b>Validity:</b> {esc(window_text(facts.before))} → {esc(window_text(facts.after))}"
        )
    items += [f"<b>Impact:</b> {esc(i)}" for i in facts.impacts]
    return _list(items)


def _others(plan: Plan) -> list[str]:
    out = []
    if plan.moves:
        out += [
            '<section id="renames"><h2>Likely renamed</h2>',
            _list(
                f"{esc(m.from_key)} → <b>{esc(m.to_key)}</b> (id {m.series_id}): {esc(m.reason)}"
                + (f"<br>record it: <code>{esc(m.command)}</code>" if m.command else "")
                for m in plan.moves
            ),
            "</section>",
        ]
    if plan.blocked:
        out += [
            '<section id="blocked"><h2>Blocked</h2>',
            _list(f"<b>{esc(b.key)}</b>: {esc(b.reason)}" for b in plan.blocked),
            "</section>",
        ]
    if plan.orphans:
        out += [
            '<section id="orphans"><h2>Orphaned</h2>',
            '<p class="note">In the state, no file: left alone; the API has no delete.</p>',
            _list(
                f"<b>{esc(o.key)}</b> (id {o.series_id})"
                + (f": {esc(o.description)}" if o.description else "")
                for o in plan.orphans
            ),
            "</section>",
        ]
    return out


def _warnings(plan: Plan) -> list[str]:
    groups = warning_groups(plan.warnings)
    if not groups:
        return []
    items = []
    for group in groups:
        text = f"<b>{group.count:,} ×</b> {esc(group.kind)}"
        text += _list(
            (esc(warning_where(w)) + ": " if warning_where(w) else "") + esc(w.message)
            for w in group.examples
        )
        if group.count > EXAMPLES:
            text += f'<span class="note">… and {group.count - EXAMPLES:,} more like these</span>'
        items.append(text)
    return [
        f'<section id="warnings"><h2>Warnings ({len(plan.warnings):,}, by kind)</h2>',
        _list(items),
        "</section>",
    ]


def _ignores(plan: Plan) -> list[str]:
    groups = grouped_ignores(plan.series)
    if not groups:
        return []
    items = [
        f"<b>{esc(name)}</b>: {esc(reason)}"
        + (f" (rule in {esc(source)})" if source else "")
        + f"; {plural(len(keys), 'series', 'series')}"
        + (f"; live differs in {len(differing):,}" if differing else "")
        for name, reason, source, keys, differing in groups
    ]
    return ['<section id="ignores"><h2>Ignore rules in effect</h2>', _list(items), "</section>"]


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
