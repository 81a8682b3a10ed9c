"""The safety rails a plan trips travel with the plan (JSON) and come first in every format."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from reconciler.engine.diff import FieldChange
from reconciler.engine.plan import Plan, Rails, with_rails
from reconciler.render import render_plan

from .factory import HOSTILE, background, plan, scenarios, update

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_the_json_plan_carries_the_rails_and_reads_them_back() -> None:
    tripped = scenarios()["rails"]
    data = json.loads(tripped.to_json())
    assert data["rails"] == [
        "5 of 13 existing series would be updated (38%, more than the 30% allowed)",
        "docs/vishu: maxCreate 100 is below the 120 coupons already issued (the API refuses it)",
    ]
    assert Plan.from_json(tripped.to_json()) == tripped


def test_a_plan_file_without_rails_still_reads() -> None:
    data = json.loads(scenarios()["mixed"].to_json())
    del data["rails"]
    assert Plan.from_dict(data).rails == ()


def test_rails_follow_the_environment_thresholds() -> None:
    four_of_ten = plan(
        series=[
            *(update(f"u/{i}", 100 + i, FieldChange("discountValue", 1, 2)) for i in range(4)),
            *background(6),
        ]
    )
    assert with_rails(four_of_ten, rails=Rails(), now=NOW).rails  # 40% > 30%
    assert not with_rails(four_of_ten, rails=Rails(max_update_share=0.5), now=NOW).rails
    assert not with_rails(four_of_ten, rails=Rails(share_min_series=11), now=NOW).rails


def test_rails_do_not_change_what_detailed_exitcode_means() -> None:
    tripped = scenarios()["rails"]
    assert tripped.has_changes == plan(series=tripped.series).has_changes


def test_rails_come_before_the_summary_in_every_format() -> None:
    tripped = scenarios()["rails"]
    for fmt, first_rail in [
        ("markdown", "> - 5 of 13"),
        ("text", "    ! 5 of 13"),
        ("github", "::warning title=reconciler%3A safety rail::The apply refuses this plan: 5 of"),
    ]:
        out = io.StringIO()
        render_plan(tripped, fmt=fmt, stream=out)
        text = out.getvalue()
        assert first_rail in text, fmt
        assert text.index(first_rail) < text.index("Plan: 0 to create"), fmt


def test_a_rail_naming_a_hostile_key_is_escaped_in_markdown() -> None:
    hostile = plan(series=[update("k", 1, FieldChange("discountValue", 1, 2))], rails=[HOSTILE])
    out = io.StringIO()
    render_plan(hostile, fmt="markdown", stream=out)
    text = out.getvalue()
    assert "<img" not in text and "![x]" not in text and "@org" not in text
    assert "&lt;img" in text
