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
from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME
from reconciler.files.loader import load_series
from reconciler.render.markdown import MARKER
from reconciler.sandbox import create_app
from tests.scenarios.conftest import series_text as scenario_series

GITHUB_LIMIT = 65_536
WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
GITHUB_SCRIPT = Path(__file__).resolve().parents[1] / "workflows" / "github_script.cjs"
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


def _run_script(
    workflow: str,
    step: str,
    env: dict[str, str],
    payload: dict[str, object],
    cwd: Path | None = None,
) -> dict:
    """Run the github-script ``step`` of ``workflow`` with node against the fake GitHub API of
    the workflow simulations; return the API's state afterwards (what the script posted)."""
    import subprocess
    import tempfile

    import yaml

    doc = yaml.safe_load((WORKFLOWS / workflow).read_text(encoding="utf-8"))
    (script,) = [
        s["with"]["script"]
        for job in doc["jobs"].values()
        for s in job["steps"]
        if s.get("name", "").startswith(step)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "script.js").write_text(script, encoding="utf-8")
        api = {
            "next_id": 1,
            "comments": [],
            "issues": [],
            "pulls": [],
            "artifacts": [],
            "runs": {},
            "labels": [],
            "calls": [],
        }
        (root / "api.json").write_text(json.dumps(api))
        context = {
            "payload": payload,
            "runId": 1,
            "sha": "0123abc" + "0" * 33,
            "serverUrl": "https://github.com",
            "repo": {"owner": "o", "repo": "r"},
        }
        (root / "context.json").write_text(json.dumps(context))
        for name in ("out", "summary"):
            (root / name).touch()
        from tests.workflows.runner import tool

        done = subprocess.run(
            [
                tool("node"),  # the test extra's, where the machine has none
                str(GITHUB_SCRIPT),
                str(root / "script.js"),
                str(root / "api.json"),
                str(root / "context.json"),
            ],
            env={
                **os.environ,
                **env,
                "GITHUB_OUTPUT": str(root / "out"),
                "GITHUB_STEP_SUMMARY": str(root / "summary"),
            },
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        result: dict = json.loads((root / "api.json").read_text())
        return result


def pr_comment(plan_md: str, tmp: Path) -> tuple[str, bool]:
    """The comment body as plan.yml's comment job builds it from a plan leg's report, and
    whether it had to cut the plan."""
    reports = tmp / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "plan-production.md").write_text(plan_md, encoding="utf-8")
    report = {
        "environment": "production",
        "changed": "true",
        "fork": "false",
        "credentials": "true",
        "plan_outcome": "success",
        "plan_digest": "d" * 64,
        "plan_rails": "0",
    }
    (reports / "report-production.json").write_text(json.dumps(report), encoding="utf-8")
    payload = {"pull_request": {"number": 7, "head": {"sha": "0123abc" + "0" * 33}}}
    (comment,) = _run_script("plan.yml", "Comment the plan", {}, payload, cwd=tmp)["comments"]
    body: str = comment["body"]
    return body, "… cut to fit" in body


def drift_body(plan_md: str, tmp: Path) -> tuple[str, bool]:
    """The drift issue body as drift.yml's script builds it, and whether it had to cut."""
    path = tmp / "plan-production.md"
    path.write_text(plan_md, encoding="utf-8")
    env = {
        "ENVIRONMENT": "production",
        "DRIFT": "true",
        "PLAN_MARKDOWN": str(path),
        "DRIFT_LABEL": "reconciler-drift",
        "DEFAULT_BRANCH": "main",
    }
    (issue,) = _run_script("drift.yml", "Open, update or close", env, {})["issues"]
    body: str = issue["body"]
    return body, "… cut to fit" in body


def from_the_plan(body: str, plan_md: str) -> str:
    """The lines of ``body`` that came from the rendered plan (the workflow's own text, which
    carries its own backticks and links, left out)."""
    plan_lines = set(plan_md.splitlines())
    own = [ln for ln in without_footer(body).splitlines() if ln not in plan_lines]
    assert len(own) < 15, own  # a few lines of the workflow's own, nothing else
    assert not any("script" in ln or "@org" in ln for ln in own), own
    return "\n".join(ln for ln in body.splitlines() if ln in plan_lines)


def without_footer(body: str) -> str:
    """The body without the workflow's own footer (which links to the run)."""
    head, separator, _footer = body.partition("\n\n---\n<sub>")
    assert separator, "no footer"
    return head


# --- checks ----------------------------------------------------------------------------------

_TABLE_ROW = re.compile(r"^\|.*\|$")
_OUR_HTML = re.compile(
    r"<!-- reconciler-(?:plan|drift)(?::[a-z]+)? -->|</?details>|</?summary>|</?b>|<br>|</?sub>",
    re.M,
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
    # The cut note gives the exact number of summary rows and details not shown; the shown
    # ones are whole.
    rows = len(re.findall(r"^\| [^|]*\| [~+] \*\*(bulk|new)/", text, re.M))
    assert 0 < rows < CREATED + UPDATED
    note = re.search(r"… ([\d,]+) more summary rows not shown", text)
    assert note, text[-800:]
    assert int(note[1].replace(",", "")) == CREATED + UPDATED - rows
    shown = text.count("<details>")
    assert shown == text.count("</details>") == text.count("</summary>")
    details = re.search(r"([\d,]+) more series details not shown", text)
    assert details and int(details[1].replace(",", "")) == CREATED + UPDATED - shown
    assert "plan.json artifact" in text and "The counts above are complete." in text
    assert text.rstrip("\n").splitlines()[-1].startswith("> **Too long for one comment:**")
    assert_inert(text)
    assert_tables_well_formed(text)


def test_the_hostile_text_is_shown_escaped_not_dropped(rendered: Rendered) -> None:
    # 2,025 changes fill the comment with summary rows, whose values are shortened: each
    # begins as written, escaped (the whole values, newlines and all, are in test_markdown).
    text = rendered.markdown
    assert "@&#8203;org/team &lt;script&gt;x&lt;/scri" in text
    assert "old &lt;b&gt;@&#8203;ops&lt;/b&gt; &lt;script&gt;a" in text


def test_the_pull_request_comment_fits_whole(rendered: Rendered, tmp_path: Path) -> None:
    body, sliced = pr_comment(rendered.markdown, tmp_path)
    # The workflow's own cut (which could split an entity or a table) never fires.
    assert not sliced
    assert len(body) < GITHUB_LIMIT
    assert body.startswith("<!-- reconciler-plan:production -->\n## Reconciler plan")
    assert body.count("<!-- reconciler-") == 1, "one marker"
    assert f"| ~ update | {UPDATED:,} |" in body
    assert_inert(from_the_plan(body, rendered.markdown))
    assert_tables_well_formed(body)


def test_the_drift_issue_body_fits_whole(rendered: Rendered, tmp_path: Path) -> None:
    body, sliced = drift_body(rendered.markdown, tmp_path)
    assert not sliced
    assert len(body) < GITHUB_LIMIT
    assert body.startswith(
        "<!-- reconciler-drift:production -->\nSomeone changed coupon series in the production CRM"
    )
    assert body.count("<!-- reconciler-") == 1, "one marker"
    assert f"| ~ update | {UPDATED:,} |" in body
    assert "more summary rows not shown" in body
    assert "/runs/" not in without_footer(body), "the compared part names no run"
    assert_inert(from_the_plan(body, rendered.markdown))
    assert_tables_well_formed(body)
