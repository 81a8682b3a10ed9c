"""`reconciler import --all-unmanaged` names the series it imports together by key.

Keys are chosen for every series of the run before any file is written, so a series listed
before the one it names still names it by key; exclusion set on both sides in the CRM (a
cycle, which the tool refuses) stays an id on one side.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.scenarios.conftest import series_body
from tests.scenarios.test_multi_environment import Orgs, orgs

__all__ = ["orgs"]  # the two-org fixture, shared with test_multi_environment


def _names(orgs: Orgs, key: str) -> list[Any]:
    data = yaml.safe_load((orgs.series / f"{key}.yaml").read_text(encoding="utf-8"))
    names: list[Any] = data.get("mutualExclusiveSeriesIds", [])
    return names


def test_all_unmanaged_names_every_series_of_the_run_by_key(orgs: Orgs) -> None:
    sandbox = orgs.sandboxes["testing"]
    # Listed first (lower id), naming a series listed after it.
    early = sandbox.create(series_body("Early", "EARLY1"))["id"]
    late = sandbox.create(series_body("Late", "LATE1"))["id"]
    sandbox.edit_series(early, {"mutualExclusiveSeriesIds": json.dumps([late, 424242])})
    # Exclusion set on both sides.
    left = sandbox.create(series_body("Left", "LEFT1"))["id"]
    right = sandbox.create(series_body("Right", "RIGHT1"))["id"]
    sandbox.edit_series(left, {"mutualExclusiveSeriesIds": json.dumps([right])})
    sandbox.edit_series(right, {"mutualExclusiveSeriesIds": json.dumps([left])})

    result = orgs.cli("import", "--all-unmanaged", "--env", "testing")
    assert result.exit_code == 0, result.output
    assert _written(orgs) == 4
    assert _names(orgs, "imported/early") == [{"series": "imported/late"}, 424242]
    assert "mutualExclusiveSeriesIds" not in yaml.safe_load(
        (orgs.series / "imported/late.yaml").read_text(encoding="utf-8")
    )
    # One side names the other by key, the other keeps the id: no cycle, the folder is valid.
    assert _names(orgs, "imported/left") == [{"series": "imported/right"}]
    assert _names(orgs, "imported/right") == [left]
    valid = orgs.cli("validate", "--dir", "series")
    assert valid.exit_code == 0, valid.output
    orgs.empty_plan("testing")


def _written(orgs: Orgs) -> int:
    return len(list((orgs.series / "imported").glob("*.yaml")))
