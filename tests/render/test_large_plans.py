"""A large plan end to end: 2,000 changed series on disk → ``reconciler plan --format markdown``
→ the pull-request comment and the drift issue body, as the workflows assemble them.

test_markdown.py checks the renderer on hand-built plans; this one goes through the loader,
the planner, the client and the CLI (the embedded sandbox, ``--sandbox``), with hostile text
on both sides of every change (the live description and the file's), and then wraps the
output the way ``.github/workflows/plan.yml`` and ``drift.yml`` do before posting it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME
from reconciler.loader import load_series
from reconciler.render.markdown import MARKER
from reconciler.sandbox import create_app
from tests.scenarios.conftest import series_text as scenario_series

GITHUB_LIMIT = 65_536
WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
UPDATED = 2_000
CREATED = 25
UNCHANGED = 40
HOSTILE = "@org/team <script>x</script> | ![x](http://e) ``` `` ` #7 **b** _i_ [l](http://e)"
LIVE_HOSTILE = "old <b>@ops</b> <script>alert(1)</script> | ```sh\nrm -rf /\n``` @org/admins"

SMS = 'smsTemplate: "Hi {{first_name}}, your code is {{voucher}}"\n'


def series_text(description: str, code: str, value: int = 100) -> str:
    # JSON strings are YAML strings: the hostile text goes in exactly as written.
    return scenario_series(json.dumps(description), code, value, extra=SMS)


@dataclass(frozen=True)
class Rendered:
    markdown: str
    plan: dict[str, object]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """``plan --sandbox --format markdown --out plan.json`` over 2,065 series files."""
    root = tmp_path_factory.mktemp("large")
    series = root / "series"
    keys = {
        "update": [f"bulk/{i:04d}" for i in range(UPDATED)],
        "unchanged": [f"same/{i:02d}" for i in range(UNCHANGED)],
        "create": [f"new/{i:02d}" for i in range(CREATED)],
    }
    for kind, names in keys.items():
        for i, key in enumerate(names):
            path = series / f"{key}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = (
                series_text(f"same {i}", f"SAME{i}")
                if kind == "unchanged"
                else series_text(f"{HOSTILE} {kind} {i}", f"{kind.upper()}{i}", value=150)
            )
            path.write_text(text, encoding="utf-8")
    # The live side: the updated series as they were before (hostile too), the unchanged ones
    # as the files say. Written straight into the sandbox's store in one transaction.
    loaded = load_series(series)
    assert loaded.ok, loaded.problems[:3]
    home = root / "sandbox"
    app = create_app(db_path=home / "sandbox.db", seed=False)
    existing = [s for s in loaded.series if not s.key.startswith("new/")]
    bodies = []
    for n, desired in enumerate(existing):
        fields = dict(desired.fields)
        if desired.key.startswith("bulk/"):
            fields.update(description=f"{LIVE_HOSTILE} {n}", discountValue=100)
        bodies.append(fields)
    made = app.state.sandbox.preload(bodies)
    ids = {desired.key: sid for desired, sid in zip(existing, made, strict=True)}
    app.state.sandbox.close()
    home.mkdir(exist_ok=True)
    (home / "state.json").write_text(
        json.dumps({"format_version": 1, "environment": "sandbox", "ids": ids, "intents": {}})
    )

    old = Path.cwd()
    env = {
        "RECONCILER_SANDBOX_DIR": str(home),
        "CAPILLARY_USERNAME": SANDBOX_USERNAME,
        "CAPILLARY_PASSWORD": SANDBOX_PASSWORD,
        "NO_COLOR": "1",
    }
    os.chdir(root)
    try:
        result = CliRunner(env=env).invoke(
            main,
            [
                "plan",
                "--sandbox",
                "--format",
                "markdown",
                "--out",
                "plan.json",
                "--detailed-exitcode",
            ],
            catch_exceptions=False,
        )
    finally:
        os.chdir(old)
    assert result.exit_code == 2, result.output[-2000:]
    yield Rendered(
        markdown=result.stdout, plan=json.loads((root / "plan.json").read_text(encoding="utf-8"))
    )


# --- what the workflows post -----------------------------------------------------------------


def _js_string_sum(source: str, name: str) -> str:
    """The value of ``const NAME = "a" + "b" ...;`` in a workflow's script (plain literals)."""
    match = re.search(r"const " + name + r' =\s*((?:"(?:[^"\\]|\\.)*"\s*\+?\s*)+);', source)
    assert match, f"const {name} not found in the workflow"
    return "".join(json.loads(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', match[1]))


def _js_limit(source: str) -> tuple[int, int]:
    match = re.search(r"const limit = (\d+) - .* - (\d+);", source)
    assert match, "const limit not found in the workflow"
    return int(match[1]), int(match[2])


def pr_comment(plan_md: str) -> tuple[str, bool]:
    """The comment body as plan.yml builds it, and whether its own cut had to slice the plan."""
    source = (WORKFLOWS / "plan.yml").read_text(encoding="utf-8")
    total, spare = _js_limit(source)
    marker = "<!-- reconciler-plan -->"
    footer = "\n\n---\n<sub>Plan for 0123abc · [run](https://github.com/o/r/actions/runs/1)</sub>\n"
    limit = total - len(marker) - len(footer) - spare
    sliced = len(plan_md) > limit
    body = plan_md[:limit] + "\n\n… cut to fit a comment" if sliced else plan_md
    return f"{marker}\n{body}{footer}", sliced


def drift_body(plan_md: str) -> tuple[str, bool]:
    """The drift issue body as drift.yml builds it, and whether it had to slice the plan."""
    source = (WORKFLOWS / "drift.yml").read_text(encoding="utf-8")
    total, spare = _js_limit(source)
    marker = "<!-- reconciler-drift -->"
    intro = _js_string_sum(source, "intro")
    limit = total - len(marker) - len(intro) - spare
    sliced = len(plan_md) > limit
    plan = plan_md[:limit] + "\n\n… cut to fit" if sliced else plan_md
    footer = "\n\n---\n<sub>Last checked by [this run](https://x/runs/1) on 2026-11-23T10:00:00Z"
    return f"{marker}\n{intro}{plan}{footer}</sub>\n", sliced


def without_footer(body: str) -> str:
    """The body without the workflow's own footer (which links to the run)."""
    head, separator, _footer = body.partition("\n\n---\n<sub>")
    assert separator, "no footer"
    return head


# --- checks ----------------------------------------------------------------------------------

_TABLE_ROW = re.compile(r"^\|.*\|$")
_OUR_HTML = re.compile(
    r"<!-- reconciler-(?:plan|drift) -->|</?details>|</?summary>|</?b>|<br>|</?sub>", re.M
)


def assert_inert(text: str) -> None:
    """No HTML, mention, image, fence or issue reference came through from the data."""
    assert "<script" not in text.lower()
    assert "<" not in _OUR_HTML.sub("", text).replace("<sub>", ""), "raw HTML from the data"
    assert not re.search(r"@[A-Za-z0-9]", text), "a live @mention"
    assert "![" not in text, "an image"
    assert "```" not in text and "``" not in text, "a code fence or span from the data"
    assert not re.search(r"(?<!&)#\d", text), "a live issue reference"
    assert "](http" not in text, "a live link from the data"
    # The only backticks are the tool's own, in its cut note.
    for line in text.splitlines():
        if "`" in line:
            assert line.startswith("> **Too long for one comment:**"), line


def assert_tables_well_formed(text: str) -> None:
    """Every table row has as many cells as its table's header; no cell breaks a row."""
    columns = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not _TABLE_ROW.match(line):
            columns = 0
            continue
        cells = line.count("|") - 1
        if columns == 0:
            columns = cells  # the header row
        assert cells == columns, f"line {number}: {cells} cells, the table has {columns}: {line}"


def test_the_plan_file_counts_every_series(rendered: Rendered) -> None:
    counts = rendered.plan["counts"]
    assert isinstance(counts, dict)
    assert (counts["create"], counts["update"], counts["unchanged"]) == (
        CREATED,
        UPDATED,
        UNCHANGED,
    )


def test_the_markdown_stays_under_the_limit_with_complete_counts_and_the_cut_note(
    rendered: Rendered,
) -> None:
    text = rendered.markdown
    assert len(text) <= 60_000 < GITHUB_LIMIT
    lines = text.splitlines()
    assert lines[0] == MARKER
    assert f"| + create | {CREATED} |" in lines
    assert f"| ~ update | {UPDATED:,} |" in lines
    assert f"| unchanged | {UNCHANGED} |" in lines
    assert f"**Plan: {CREATED} to create, {UPDATED} to update, {UNCHANGED} unchanged.**" in lines
    # The cut note gives the exact number of series not shown; the shown ones are whole.
    shown = text.count("<details>")
    assert shown == text.count("</details>") == text.count("</summary>")
    assert 0 < shown < CREATED + UPDATED
    note = re.search(r"… ([\d,]+) more series not shown", text)
    assert note, text[-800:]
    assert int(note[1].replace(",", "")) == CREATED + UPDATED - shown
    assert "plan.json artifact" in text and "The counts above are complete." in text
    assert text.rstrip("\n").splitlines()[-1].startswith("> **Too long for one comment:**")
    assert_inert(text)
    assert_tables_well_formed(text)


def test_the_hostile_text_is_shown_escaped_not_dropped(rendered: Rendered) -> None:
    text = rendered.markdown
    assert "@&#8203;org/team &lt;script&gt;x&lt;/script&gt; &#124; &#33;&#91;x&#93;" in text
    assert "&#96;&#96;&#96;" in text
    assert "old &lt;b&gt;@&#8203;ops&lt;/b&gt;" in text
    # The live newlines stay inside their cell (a JSON-style \\n, its backslash escaped).
    assert "&#96;&#96;&#96;sh&#92;nrm -rf /&#92;n&#96;&#96;&#96;" in text


def test_the_pull_request_comment_fits_whole(rendered: Rendered) -> None:
    body, sliced = pr_comment(rendered.markdown)
    # The workflow's own blind cut (which could split an entity or a table) never fires.
    assert not sliced
    assert len(body) < GITHUB_LIMIT
    assert body.startswith("<!-- reconciler-plan -->\n")
    assert f"| ~ update | {UPDATED:,} |" in body
    assert_inert(without_footer(body))
    assert_tables_well_formed(body)


def test_the_drift_issue_body_fits_whole(rendered: Rendered) -> None:
    body, sliced = drift_body(rendered.markdown)
    assert not sliced
    assert len(body) < GITHUB_LIMIT
    assert body.startswith("<!-- reconciler-drift -->\nSomeone changed coupon series")
    assert f"| ~ update | {UPDATED:,} |" in body
    assert "more series not shown" in body
    assert_inert(without_footer(body))
    assert_tables_well_formed(body)
