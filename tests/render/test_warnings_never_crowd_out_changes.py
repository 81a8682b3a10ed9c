"""Summary first, noise last, measured the way issue 23 found it: an imported org of 2,000
series, 1,900 of them expired (a warning each), and 20 updates. Through the loader, the
planner, the client and the CLI (``plan --sandbox --format markdown``), then the workflow's
own comment script: all 20 updates must be in the pull-request comment (before the change,
the warnings took the whole budget and 0 of 20 were shown)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME
from reconciler.files.loader import load_series
from reconciler.sandbox import create_app
from tests.scenarios.conftest import series_text

from .test_large_plans import GITHUB_LIMIT, assert_tables_well_formed, pr_comment

TOTAL = 2_000
EXPIRED = 1_900
UPDATED = 20
SMS = 'smsTemplate: "Hi {{first_name}}, your code is {{voucher}}"\n'


def text_for(key: str, i: int) -> str:
    body = series_text(f"series {i}", f"CODE{i}", extra=SMS)
    if key.startswith("expired/"):
        body = body.replace("2030-09-30T00:00:00Z", f"2024-0{1 + i % 9}-15T00:00:00Z")
    return body


@pytest.fixture(scope="module")
def comment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("crowd")
    series = root / "series"
    keys = [f"expired/{i:04d}" for i in range(EXPIRED)]
    keys += [f"live/{i:03d}" for i in range(TOTAL - EXPIRED - UPDATED)]
    keys += [f"changed/{i:02d}" for i in range(UPDATED)]
    for i, key in enumerate(keys):
        path = series / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text_for(key, i), encoding="utf-8")
    loaded = load_series(series)
    assert loaded.ok
    assert sum(1 for p in loaded.problems if "already past" in p.message) == EXPIRED
    # The live side: as the files say, except the 20 whose discountValue moved in the CRM.
    home = root / "sandbox"
    app = create_app(db_path=home / "sandbox.db", seed=False)
    bodies = []
    for desired in loaded.series:
        fields = dict(desired.fields)
        if desired.key.startswith("changed/"):
            fields["discountValue"] = 55
        bodies.append(fields)
    made = app.state.sandbox.preload(bodies)
    ids = {d.key: sid for d, sid in zip(loaded.series, made, strict=True)}
    app.state.sandbox.close()
    (home / "state.json").write_text(
        json.dumps({"format_version": 1, "environment": "sandbox", "ids": ids, "intents": {}})
    )
    env = {
        "RECONCILER_SANDBOX_DIR": str(home),
        "CAPILLARY_USERNAME": SANDBOX_USERNAME,
        "CAPILLARY_PASSWORD": SANDBOX_PASSWORD,
        "NO_COLOR": "1",
    }
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner(env=env).invoke(
            main, ["plan", "--sandbox", "--format", "markdown"], catch_exceptions=False
        )
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output[-2000:]
    body, sliced = pr_comment(result.stdout, root)
    assert not sliced
    yield result.stdout, body


def test_all_twenty_updates_are_in_the_comment(comment: tuple[str, str]) -> None:
    markdown, body = comment
    assert len(body) < GITHUB_LIMIT
    rows = re.findall(r"^\| [^|]* \| ~ \*\*(changed/\d\d)\*\*", body, re.M)
    assert sorted(rows) == [f"changed/{i:02d}" for i in range(UPDATED)]
    details = re.findall(r"<summary>~ update <b>(changed/\d\d)</b>", body)
    assert len(details) == UPDATED
    # The summary rows come before the first warning, the warnings last, grouped.
    assert body.index("### Changes, riskiest first") < body.index("### Warnings")
    assert f"### Warnings ({EXPIRED:,}, by kind)" in body
    assert f"- **{EXPIRED:,} ×** validTillDate … is already past" in body
    assert "not shown" not in markdown  # it all fits: grouped, 1,900 warnings are a few lines
    assert_tables_well_formed(body)
