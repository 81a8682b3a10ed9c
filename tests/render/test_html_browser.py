"""The HTML report (``plan --format html``) in a real headless browser: Debian's Chromium.

What a reader must see is checked in ways a new font version cannot break: the document the
browser built (``--dump-dom``: no script, no loaded resource, the hostile text as text) and
the colours of a screenshot (the summary banner and the badges above the fold, the bars and
the plan's day of the timeline), not a byte-identical PNG.

Chromium comes from the OS packages (``apt-get install chromium``; ``.ci/run`` installs it;
``RECONCILER_BROWSER`` may name another binary). Without it these tests are skipped, unless
``RECONCILER_REQUIRE_BROWSER=1`` (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reconciler.engine.facts import Overlap, PolicyFinding
from reconciler.engine.plan import Plan, PlanWarning
from reconciler.render.html import (
    BADGE_COLOURS,
    BANNER,
    BAR_AFTER,
    BAR_BEFORE,
    BAR_OVERLAP,
    TODAY_LINE,
    plan_html,
)

from .factory import HOSTILE, review_plan
from .png import read_png

BROWSER = (
    os.environ.get("RECONCILER_BROWSER")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
REQUIRED = os.environ.get("RECONCILER_REQUIRE_BROWSER") == "1"
WIDTH, FOLD = 1280, 800

pytestmark = pytest.mark.skipif(
    BROWSER is None and not REQUIRED,
    reason="no chromium (apt-get install chromium); RECONCILER_REQUIRE_BROWSER=1 makes this fail",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None, "chromium is required (RECONCILER_REQUIRE_BROWSER=1)"
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    done = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def hostile_plan() -> Plan:
    p = review_plan()
    series = tuple(
        replace(s, key=f"{s.key}/{HOSTILE}", notes=(HOSTILE,)) if s.key == "docs/pongal" else s
        for s in p.series
    )
    return replace(
        p,
        environment=f"prod {HOSTILE}",
        series=series,
        policy=(*p.policy, PolicyFinding("x", p.policy[0].level, HOSTILE, HOSTILE)),
        overlaps=(*p.overlaps, Overlap(HOSTILE, HOSTILE, HOSTILE, "2026-11-23", "2026-11-30")),
        warnings=(*p.warnings, PlanWarning(HOSTILE, key=HOSTILE, file=HOSTILE, line=1)),
    )


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.ids: set[str] = set()
        self.badges: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if "badge" in str(found.get("class", "")).split():
            self.badges.append(str(found["class"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def write(tmp_path: Path, plan: Plan) -> Path:
    page = tmp_path / "plan.html"
    page.write_text(plan_html(plan), encoding="utf-8")
    return page


def test_one_file_nothing_to_load_nothing_to_run(tmp_path: Path) -> None:
    page = write(tmp_path, hostile_plan())
    text = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    dom = Elements()
    dom.feed(chromium(tmp_path, "--dump-dom", page.as_uri()).stdout)
    assert "script" not in dom.tags and "img" not in dom.tags and "iframe" not in dom.tags
    assert "link" not in dom.tags and "object" not in dom.tags
    assert not [a for a, _ in dom.attributes if a in ("src", "href") or a.startswith("on")]
    assert {"summary", "refusals", "changes", "policy", "timeline", "details"} <= dom.ids
    # The hostile text is there, as text.
    joined = "".join(dom.text)
    assert "<img src=x onerror=alert(1)>" in joined
    assert joined.count("next line") >= 5


def test_the_summary_and_badges_are_above_the_fold_and_the_timeline_is_drawn(
    tmp_path: Path,
) -> None:
    page = write(tmp_path, review_plan())
    shot = tmp_path / "fold.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{FOLD}", page.as_uri())
    image = read_png(shot)
    assert (image.width, image.height) == (WIDTH, FOLD)
    # The banner (environment, counts, summary line) is the top of the page.
    banner = image.rows_with(BANNER, at_least=WIDTH // 2)
    assert banner and banner[0] < 5 and len(banner) > 60
    # The badges of the riskiest changes are visible without scrolling.
    for level in ("deny", "approve", "discount", "validity", "warn", "new"):
        assert image.count(BADGE_COLOURS[level]) > 80, level

    tall = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={tall}", f"--window-size={WIDTH},1600", page.as_uri())
    image = read_png(tall)
    # The timeline: live bars, bars after the apply, the overlapping one, the plan's day.
    assert image.count(BAR_BEFORE, tolerance=4) > 2_000
    assert image.count(BAR_AFTER, tolerance=4) > 2_000
    assert image.count(BAR_OVERLAP, tolerance=4) > 50
    day = image.rows_with(TODAY_LINE, at_least=2)
    assert len(day) > 100  # a vertical line across every row of bars
