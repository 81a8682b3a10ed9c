"""Markdown: hostile strings in every place of a plan, rendered, then parsed the way GitHub
renders a comment (CommonMark + GFM tables + autolinks: markdown-it-py with linkify,
which also links bare domains, so it is stricter than GitHub). Nothing may be clickable,
no HTML but the renderer's own tags, no live @mention or issue reference, no math."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.engine.diff import FieldChange, NestedChange
from reconciler.engine.facts import Business, Level, Overlap, PolicyFinding, Status, Window
from reconciler.engine.plan import Blocked, Move, Orphan, PlanWarning
from reconciler.render.markdown import escape, plan_markdown
from tests.reliability.harness import figure
from tests.render.factory import create, plan, update

OURS = re.compile(r"^(<!-- reconciler-plan -->|</?details>|</?summary>|</?b>|<br>)$")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff]")

CORPUS = [
    "https://evil.example/login",
    "http://127.0.0.1:8080/x",
    "HTTPS://EVIL.EXAMPLE",
    "www.evil.example",
    "WWW.Evil.Example/path",
    "evil.com",
    "mail me: ops@evil.example",
    "mailto:ops@evil.example",
    "ftp://files.evil.example",
    "//evil.example/x",
    "xmpp:user@evil.example",
    "<https://evil.example>",
    "[click](https://evil.example)",
    "[click][r]\n\n[r]: https://evil.example",
    "![img](https://evil.example/a.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "</details><details open>",
    "<!-- hidden -->",
    "<a href='https://evil.example'>a</a>",
    "&lt;b&gt; &amp;",
    "@octocat and @org/team",
    "#1 and GH-2 and org/repo#3",
    "$x^2$ and $$\\sum$$ and $`a`$",
    "```\ncode\n```",
    "`inline`",
    "*em* _em_ **strong** ~~strike~~",
    "| a | b |\n| --- | --- |",
    "> quote\n# heading\n- item\n1. item",
    "line\nbreak\r\nand\u2028sep",
    "\u202egnp.exe\u2066 bidi",
    "zero\u200bwidth\ufeffbom",
    "\x1b[2J\x07\x00 controls",
    "\\` escaped \\*",
    ":+1: :shipit:",
    "https://evil.example/" + "a" * 300,
    "evil.example\u3002com",
    "www\u200b.split.example",
    "a.b.c.d.example.co.uk",
    "user:pass@evil.example",
    # Mermaid's own language (a timeline is drawn next to these keys and codes).
    "%%{init: {'securityLevel': 'loose'}}%%",
    'click t1 href "javascript:alert(1)"',
    "x :crit, t9, 2020-01-01, 1d\n    section evil\n    click t9 call alert()",
    "```\n```mermaid\ngantt",
    "a; b # c : d",
]


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(
        ["linkify", "table", "strikethrough"]
    )


def _walk(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        if token.children:
            out += _walk(token.children)
    return out


# The only lines a validity timeline may hold (render.timeline writes them): anything else in a
# mermaid block is text that reached Mermaid's own language (a directive, a click, a fence).
_DAY = r"\d{4}-\d{2}-\d{2}"
MERMAID_LINE = re.compile(
    "|".join(
        [
            r"gantt",
            r"    dateFormat YYYY-MM-DD",
            r"    axisFormat %Y-%m-%d",
            r"    todayMarker off",
            r"    section Plan",
            rf"    Plan day :milestone, m0, {_DAY}, 0d",
            r"    section \d+\. [A-Za-z0-9_./-]{1,40}",
            rf"    (live now|after apply|after apply - overlaps)( - no end date)? "
            rf":(done|active|crit, active), [ab]\d+, {_DAY}, {_DAY}",
        ]
    )
)


def mermaid_violations(content: str) -> list[str]:
    return [f"mermaid: {ln!r}" for ln in content.splitlines() if not MERMAID_LINE.fullmatch(ln)]


def violations(markdown: str) -> list[str]:
    found = []
    for token in _walk(_md().parse(markdown)):
        if token.type == "fence" and token.info == "mermaid":
            found += mermaid_violations(token.content)
            continue
        if token.type in ("link_open", "image"):
            found.append(f"clickable: {token.attrs}")
        if token.type in ("html_inline", "html_block") and not all(
            OURS.match(part) for part in re.findall(r"<[^>]*>", token.content)
        ):
            found.append(f"raw HTML: {token.content!r}")
        if token.type in ("code_inline", "fence", "code_block"):
            found.append(f"code: {token.content!r}")
        if token.type == "text":
            if re.search(r"@[A-Za-z0-9]", token.content):
                found.append(f"mention: {token.content!r}")
            if re.search(r"(?<![&\w])#\d|GH-\d", token.content):
                found.append(f"reference: {token.content!r}")
            if UNSAFE.search(token.content):
                found.append(f"control or bidi character: {token.content!r}")
    if re.search(r"(?<!\\)\$", markdown):
        found.append("an unescaped $ (math)")
    return found


def hostile_plan(text: str) -> str:
    facts = Business(
        status=Status.ENDING,
        issued=3,
        redeemed=1,
        days_left=4,
        discount_code=text,
        before=Window("2026-01-01", "2026-11-27"),
        after=Window("2026-01-01", "2027-01-31"),
        impacts=(text,),
    )
    return plan_markdown(
        plan(
            environment=text,
            series=[
                replace(
                    create(f"k/{text}", {"description": text, "info": text}),
                    business=Business(status=Status.NEW, after=Window("2026-11-23", None)),
                ),
                update(
                    f"u/{text}",
                    7,
                    FieldChange(
                        "customPropertyMap",
                        {text: text},
                        {text: text + "2"},
                        nested=(NestedChange(f"root['{text}']", text, text + "2"),),
                    ),
                    FieldChange("maxRedeem", 500, -1, note=text),  # a reset's note
                    FieldChange("validTillDate", "2026-11-27T00:00:00Z", "2027-01-31T00:00:00Z"),
                    business=facts,
                ),
            ],
            policy=[
                PolicyFinding(text, Level.DENY, f"u/{text}", text),
                PolicyFinding(text, Level.APPROVE, f"k/{text}", text, override=text, by=text),
                PolicyFinding(text, Level.WARN, f"k/{text}", text),
            ],
            overlaps=[Overlap(f"u/{text}", text, text, "2026-01-01", "2026-11-27")],
            orphans=[Orphan(text, 1, text)],
            moves=[Move(text, text + "2", 2, text)],
            blocked=[Blocked(text, text, text)],
            warnings=[PlanWarning(text, key=text, file=text, line=3)],
            targets=(text,),
        )
    )


def test_the_hostile_corpus_renders_inert() -> None:
    failures = []
    for text in CORPUS:
        rendered = hostile_plan(text)
        # The timeline is there to be attacked: the keys, the code and the overlap go near it.
        assert rendered.count("```mermaid") == 1, text
        failures += [f"{text!r}: {v}" for v in violations(rendered)]
        failures += [f"{text!r} (escape): {v}" for v in violations(escape(text))]
    figure("markdown", "hostile strings", len(CORPUS))
    figure("markdown", "text fields of a plan each is put in", 36)
    figure("markdown", "clickable, HTML, mentions, references, code, math", len(failures))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("markdown", "kind"),
    [
        ("see https://evil.example", "clickable"),
        ("see evil.com", "clickable"),
        ("<img src=x>", "raw HTML"),
        ("hi @octocat", "mention"),
        ("fixes #12", "reference"),
        ("costs $5$", "math"),
        ("`x`", "code"),
        ("```mermaid\ngantt\n    click a call alert()\n```", "mermaid"),
        ("```mermaid\n%%{init: {'theme': 'x'}}%%\n```", "mermaid"),
    ],
)
def test_the_checker_sees_each_violation(markdown: str, kind: str) -> None:
    assert any(kind in v for v in violations(markdown)), violations(markdown)
