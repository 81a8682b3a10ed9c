"""Markdown for a pull-request comment, an issue body or a job summary. Pure.

Layout: a hidden marker line (so a bot can find and update its own comment), a title with
the environment, the summary table and line (always kept), a note when targets limit the
plan, then each changed series in a collapsible ``<details>`` section with a
Field | Live | Desired table (a change the file does not spell out, such as a removed line
reset to the server's default, says why after its desired value), then likely renames,
blocked series, orphans, warnings and the ignore rules in effect.

Safety: every text that came from the files or the live CRM goes through ``escape``: HTML
specials become entities, table pipes, backticks, brackets and emphasis characters are
neutralised, newlines become ``<br>``, and ``@`` / ``#`` get a zero-width space after them so
that no one is mentioned and no issue is cross-referenced. Untrusted text is never put in a
code span.

Size: the output stays within ``max_chars`` (60,000 by default, under GitHub's 65,536 limit
for a comment). The head is always kept; past the budget the sections are cut, blocked
series and renames last, with a note saying how much is not shown and where the full plan is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.engine.result import ApplyResult, Outcome
from reconciler.problems import Problem
from reconciler.render._values import (
    change_rows,
    grouped_ignores,
    plural,
    series_rows,
    state_mv_command,
    value_text,
)
from reconciler.textsafe import printable

MARKER = "<!-- reconciler-plan -->"
APPLY_MARKER = "<!-- reconciler-apply -->"
DEFAULT_MAX_CHARS = 60_000
MAX_ROWS_PER_SERIES = 40
VALUE_LIMIT = 120

_ZWSP = "&#8203;"
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        "|": "&#124;",
        "`": "&#96;",
        "\\": "&#92;",
        "[": "&#91;",
        "]": "&#93;",
        "*": "&#42;",
        "_": "&#95;",
        "~": "&#126;",
        "!": "&#33;",
        "@": "@" + _ZWSP,
        "#": "#" + _ZWSP,
        # GitHub renders $...$ and $$...$$ as math; its documented escape is \$.
        "$": "\\$",
        # Only escape() puts a zero-width space in: printable() spelled out any that came in.
        "\u200b": _ZWSP,
        "\n": "<br>",
    }
)
# Autolinks (GitHub's and linkify's): a scheme's "://", "www.", a bare domain's dots.
_SCHEME = re.compile(r":(?=/)")
_WWW = re.compile(r"(?i)(?<![^\W_])www(?=\.)")
_REFERENCE = re.compile(r"(?i)(?<![^\W_])gh-(?=\d)")
# A dot between word characters, before a letter: what a bare domain needs (a TLD starts with
# a letter), while a number such as 15.1 stays as written.
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")


def escape(text: str) -> str:
    """Untrusted text, safe anywhere in this document: a table cell, a summary, a list item.

    Nothing in it can become HTML, a link (GitHub autolinks ``https://...``, ``www....`` and
    e-mail addresses; linkify also bare domains), a mention, an issue reference, math, code
    or emphasis, and control, bidi and invisible characters are spelled as escapes.
    Newlines become ``<br>``.
    """
    text = text.replace("\r\n", "\n").translate(_LINE_BREAKS)
    text = "\n".join(printable(line) for line in text.split("\n"))
    # A zero-width space breaks what GitHub scans for, whatever it does with the entities.
    text = _SCHEME.sub(":\u200b", text)
    text = _WWW.sub("www\u200b", text)
    text = _REFERENCE.sub(lambda m: m.group() + "\u200b", text)
    text = text.translate(_ESCAPES).replace("//", "&#47;&#47;")
    # An entity is a token of its own for linkify: "example&#46;com" is no domain.
    return _DOMAIN_DOT.sub("&#46;", text)


_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\t": " "})


def cell(value: Any) -> str:
    """A canonical value, shortened, as a safe table cell; ``(not set)`` in italics."""
    if value is None:
        return "_(not set)_"
    return escape(value_text(value, limit=VALUE_LIMIT))


# --- plan -----------------------------------------------------------------------------------


def render_plan_markdown(plan: Plan, *, stream: TextIO, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """Write ``plan`` as markdown to ``stream``, at most ``max_chars`` characters."""
    stream.write(plan_markdown(plan, max_chars=max_chars))


def plan_markdown(plan: Plan, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    head = _head(plan)
    changed = [s for s in plan.series if s.action is not Action.UNCHANGED]
    sections = [
        _Section("series", "### Changes", [_series_details(s) for s in changed]),
        _Section(
            "likely renames",
            "### Likely renamed",
            _moves(plan),
            intro="The state still has the old key; nothing is created. Record each rename:",
        ),
        _Section(
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
        _Section(
            "orphans",
            "### Orphaned",
            [
                f"- **{escape(o.key)}** (id {o.series_id})"
                + (f": {escape(o.description)}" if o.description else "")
                for o in plan.orphans
            ],
            intro="In the state, no file: left alone; the API has no delete.",
        ),
        _Section(
            "warnings",
            "### Warnings",
            [_warning(w.message, w.key, w.file, w.line) for w in plan.warnings],
        ),
        _Section(
            "ignore rules",
            "### Ignore rules in effect",
            _ignores(plan),
            intro=f"{plural(plan.counts.ignored_fields, 'field')} left out of the plan:",
        ),
    ]
    # Budget order: what a reviewer must not miss first.
    priority = ["blocked series", "likely renames", "warnings", "series", "orphans", "ignore rules"]
    body = _fit(sections, priority=priority, budget=max_chars - len(head) - _NOTE_RESERVE)
    cut = {s.name: len(s.items) - s.kept for s in sections if s.kept < len(s.items)}
    text = head + body
    if cut:
        text += _cut_note(cut)
    return text


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
        "| Action | Count |",
        "| --- | ---: |",
        *(f"| {name} | {count:,} |" for name, count in rows),
        "",
        f"**{escape(plan.summary())}**",
        "",
    ]
    if not plan.has_changes:
        lines += ["No changes. The live series match the files.", ""]
    if plan.targets:
        targets = ", ".join(escape(t) for t in plan.targets)
        lines += [
            f"> **Note:** this plan is limited to the targets {targets}; "
            "series outside them are not shown or counted.",
            "",
        ]
    return "\n".join(lines) + "\n"


MAX_RAILS_SHOWN = 20


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


def _series_details(series: SeriesPlan) -> str:
    if series.action is Action.CREATE:
        title = f"+ create <b>{escape(series.key)}</b> ({escape(series.file)})"
        rows = series_rows(series)
    else:
        ident = f"id {series.series_id}" if series.series_id is not None else escape(series.file)
        title = f"~ update <b>{escape(series.key)}</b> ({ident})"
        rows = [row for change in series.changes for row in change_rows(change)]
    if series.retire:
        title += " — retires the series"
    lines = ["<details><summary>" + title + "</summary>", ""]
    shown = rows[:MAX_ROWS_PER_SERIES]
    if series.action is Action.CREATE:
        # A new series has no live side: one column of the values it is created with.
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


def _moves(plan: Plan) -> list[str]:
    return [
        f"- {escape(m.from_key)} → **{escape(m.to_key)}** (id {m.series_id}): "
        f"{escape(m.reason)}<br>record it: "
        f"{escape(m.command or _mv(m.from_key, m.to_key, plan.environment))}"
        for m in plan.moves
    ]


def _mv(from_key: str, to_key: str, environment: str) -> str:
    return state_mv_command(from_key=from_key, to_key=to_key, environment=environment)


def _warning(message: str, key: str, file: str, line: int) -> str:
    where = (file + (f":{line}" if line else "")) if file else key
    return f"- {escape(where) + ': ' if where else ''}{escape(message)}"


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


# --- budget ---------------------------------------------------------------------------------

_NOTE_RESERVE = 600


@dataclass
class _Section:
    name: str
    heading: str
    items: list[str]
    intro: str = ""
    kept: int = field(default=0)

    def opening(self) -> str:
        return self.heading + "\n\n" + (self.intro + "\n\n" if self.intro else "")

    def render(self) -> str:
        if not self.kept:
            return ""
        joiner = "" if self.name == "series" else "\n"
        body = joiner.join(self.items[: self.kept])
        return self.opening() + body + ("\n\n" if joiner else "")


def _fit(sections: Sequence[_Section], *, priority: Sequence[str], budget: int) -> str:
    by_name = {s.name: s for s in sections}
    left = budget
    for name in priority:
        section = by_name[name]
        for item in section.items:
            cost = len(item) + 1 + (len(section.opening()) + 2 if not section.kept else 0)
            if cost > left:
                break
            section.kept += 1
            left -= cost
    return "".join(s.render() for s in sections)


def _cut_note(cut: dict[str, int]) -> str:
    parts = "; ".join(f"{n:,} more {name} not shown" for name, n in cut.items())
    return (
        f"> **Too long for one comment:** … {parts}: the full plan is in the plan.json "
        "artifact / run `reconciler show`. The counts above are complete.\n"
    )


# --- apply result -------------------------------------------------------------------------

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
        _Section(
            "forced",
            "### Safety rails lifted by --force",
            [f"- {escape(f)}" for f in result.forced],
        ),
        _Section("series outcomes", "### Series that need a look", items),
        _Section("notes", "### Notes", [f"- {escape(n)}" for n in result.notes]),
    ]
    body = _fit(
        sections,
        priority=["forced", "series outcomes", "notes"],
        budget=max_chars - len(head) - _NOTE_RESERVE,
    )
    cut = {s.name: len(s.items) - s.kept for s in sections if s.kept < len(s.items)}
    stream.write(head + body + (_cut_note(cut) if cut else ""))


# --- problems -----------------------------------------------------------------------------


def render_problems_markdown(problems: Sequence[Problem], *, stream: TextIO) -> None:
    """A Severity | Where | Problem table."""
    errors = sum(1 for p in problems if p.is_error)
    stream.write(f"**{plural(errors, 'error')}, {plural(len(problems) - errors, 'warning')}**\n\n")
    if not problems:
        return
    stream.write("| Severity | Where | Problem |\n| --- | --- | --- |\n")
    for p in sorted(problems):
        stream.write(f"| {p.severity.value} | {escape(p.location())} | {escape(p.message)} |\n")
