"""Markdown: escaping of untrusted text and the size budget of a pull-request comment."""

from __future__ import annotations

import io
import re

from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Blocked, Move, Orphan, Plan, PlanWarning
from reconciler.render import render_plan
from reconciler.render.markdown import DEFAULT_MAX_CHARS, MARKER, escape, plan_markdown

from .factory import HOSTILE, background, create, plan, update

GITHUB_LIMIT = 65_536
OUR_TAGS = re.compile(r"<!-- reconciler-plan -->|</?details>|</?summary>|</?b>|<br>|^> ", re.M)
LIVE_MENTION = re.compile(r"@[A-Za-z0-9]")


def assert_safe(text: str) -> None:
    stripped = OUR_TAGS.sub("", text)
    assert "<" not in stripped and ">" not in stripped, "raw HTML from the data"
    assert not LIVE_MENTION.search(text), "a live @mention"
    assert "![" not in text, "an image"
    assert not re.search(r"(?<!&)#\d", text), "a live issue reference"


def hostile_plan() -> Plan:
    return plan(
        environment="prod <b>@ops</b>",
        series=[
            create(f"evil/{HOSTILE}", {"description": HOSTILE}),
            update("docs/onam", 520591, FieldChange("description", "old", HOSTILE)),
            *background(),
        ],
        orphans=[Orphan("old/x", 1, HOSTILE)],
        moves=[Move("a|b", "c`d", 2, HOSTILE)],
        blocked=[Blocked("w", "series/w.yaml", HOSTILE)],
        warnings=[PlanWarning(HOSTILE, key="k", file="series/k.yaml", line=3)],
        targets=(HOSTILE,),
    )


def test_escape_neutralises_html_pipes_backticks_mentions_and_images() -> None:
    out = escape("@org/team <img src=x onerror=alert(1)> | ![x](http://evil) `c` & 'q\"\nn")
    assert "<img" not in out and "&lt;img" in out
    assert "|" not in out.replace("&#124;", "")
    assert "`" not in out
    assert "@&#8203;org" in out
    assert "![" not in out
    assert "&amp;" in out and "&#39;" in out and "&quot;" in out
    assert "\n" not in out and "<br>" in out


def test_hostile_values_everywhere_stay_inert() -> None:
    text = plan_markdown(hostile_plan())
    assert_safe(text)
    # Every table row still has exactly its cells: 2 or 3 (fields), 4 (the summary).
    for line in text.splitlines():
        if line.startswith("| ") and "Field" not in line and "---" not in line:
            assert line.count("|") in (3, 4, 5), line


def test_summary_table_comes_first_and_marker_is_line_one() -> None:
    text = plan_markdown(hostile_plan())
    lines = text.splitlines()
    assert lines[0] == MARKER
    assert lines[1].startswith("## Reconciler plan: prod &lt;b&gt;@&#8203;ops")
    assert text.index("| Action | Count |") < text.index("<details>")


def big_plan(n: int = 2_000) -> Plan:
    long = (HOSTILE + " ") * 40
    return plan(
        series=[
            update(
                f"bulk/{i:05d}-{HOSTILE[:20]}",
                100000 + i,
                FieldChange("description", long, long[::-1]),
                FieldChange("discountValue", i, i + 1),
            )
            for i in range(n)
        ],
        orphans=[Orphan(f"gone/{i}", i, long) for i in range(300)],
        blocked=[Blocked("stuck", "series/stuck.yaml", "an intent without an id")],
    )


def test_two_thousand_hostile_series_stay_under_the_limit_with_summary_and_note() -> None:
    big = big_plan()
    text = plan_markdown(big)
    assert len(text) <= DEFAULT_MAX_CHARS < GITHUB_LIMIT
    assert "| ~ update | 2,000 |" in text
    assert "| orphaned | 300 |" in text
    assert f"**{big.summary()}**" in text
    # Summary rows first: as many as fit, then no room for details, orphans.
    rows = len(re.findall(r"^\| [^|]*\| ~ \*\*bulk/", text, re.M))
    assert 100 < rows < 2_000
    note = re.search(r"… ([\d,]+) more summary rows not shown; 2,000 more series details", text)
    assert note and int(note[1].replace(",", "")) == 2_000 - rows, text[-600:]
    assert re.search(r"[\d,]+ more orphans not shown", text)
    assert "plan.json artifact" in text and "reconciler show" in text
    # The blocked series outranks the series details when the budget is short.
    assert "**stuck**" in text
    assert_safe(text)
    # Cut between whole sections, never in the middle of one.
    assert text.count("<details>") == text.count("</details>")


def test_max_chars_is_respected_even_when_tiny() -> None:
    big = big_plan(50)
    out = io.StringIO()
    render_plan(big, fmt="markdown", stream=out, max_chars=3_000)
    text = out.getvalue()
    assert len(text) <= 3_000
    assert "| ~ update | 50 |" in text
    assert re.search(r"\d+ more series details not shown", text)


def test_a_plan_that_fits_has_no_cut_note() -> None:
    text = plan_markdown(plan(series=background()))
    assert "not shown" not in text
    assert "No changes. The live series match the files." in text


def test_bare_urls_www_and_emails_are_not_autolinked() -> None:
    for text, gone in [
        ("see https://evil.example/x", "https://"),
        ("see http://localhost:8080", "http://"),
        ("see www.evil.example", "www."),
        ("mail ops@evil.example", "evil.example"),
        ("//evil.example/path", "//"),
        ("visit evil.co now", "evil.co"),
    ]:
        out = escape(text)
        assert gone not in out, (text, out)


def test_math_is_neutralised() -> None:
    out = escape("costs $5 and $x^2$ or $$\\sum$$")
    assert not re.search(r"(?<!\\)\$", out), out


def test_cross_references_are_neutralised() -> None:
    assert "GH-&#8203;12" in escape("fixes GH-12")
    assert "#&#8203;12" in escape("#12")


def test_bidi_controls_and_invisible_characters_are_visible_escapes() -> None:
    out = escape("key\u202eevil\u2066x\u200by\x1b[2Jz\x00")
    for char in "\u202e\u2066\u200b\x1b\x00":
        assert char not in out
    assert "&#92;u202e" in out and "&#92;u001b" in out
