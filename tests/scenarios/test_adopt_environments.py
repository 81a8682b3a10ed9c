"""`reconciler adopt` in a folder that serves two orgs: references and per-environment values.

Drift made in the production org is adopted from it. The files must then say exactly what
production holds (its plan is empty), name the folder's series by key, and leave every value
the testing org reads as it was (its plan, drift included, is the same before and after).
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from tests.scenarios.conftest import check_golden, series_body, series_text
from tests.scenarios.test_multi_environment import ENVIRONMENTS, Orgs, orgs

__all__ = ["orgs"]  # the two-org fixture, shared with test_multi_environment

MAIN = series_text(
    "Main",
    "MAIN1",
    extra="""\
mutualExclusiveSeriesIds:
  - series: promo/base          # never both
storeIdsJson: [101, 102]        # flagship stores
maxCreate: 500
reconciler:
  environments:
    production:
      storeIdsJson: [201, 202, 203]   # production's flagships
""",
)

# Only in production: its top-level values are read by no other environment.
PROD_ONLY = series_text(
    "Prod only",
    "PRODONLY1",
    extra="""\
mutualExclusiveSeriesIds:
  - series: promo/base
reconciler:
  only: [production]
""",
)


def _plan(orgs: Orgs, env: str) -> dict[str, Any]:
    """The plan of ``env`` without what changes with the files' bytes or the clock."""
    result = orgs.cli("plan", "--env", env, "--format", "json")
    assert result.exit_code == 0, result.output
    plan: dict[str, Any] = json.loads(result.output)
    for volatile in ("created_at", "desired_digest"):
        plan.pop(volatile, None)
    return plan


def _diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"before/{name}",
            f"after/{name}",
        )
    )


def test_adopt_from_one_org_writes_references_and_its_block_and_leaves_the_other(
    orgs: Orgs,
) -> None:
    orgs.write("promo/base", series_text("Base", "BASE1"))
    orgs.write("promo/other", series_text("Other", "OTHER1"))
    orgs.write("promo/main", MAIN)
    orgs.write("promo/prod-only", PROD_ONLY)
    for env in ENVIRONMENTS:
        orgs.apply(env)
    prod = orgs.ids("production")
    testing = orgs.ids("testing")
    assert prod["promo/other"] != testing["promo/other"]  # the key, not the id, travels
    # A series no file manages: it stays an id.
    foreign = orgs.sandboxes["production"].create(series_body("Hand made", "HAND1"))["id"]

    # Drift in production: a reference field read from the top level by testing too, a
    # field of production's block, one from production's defaults, one from the global
    # defaults; and the top-level references of a series only production has.
    orgs.sandboxes["production"].edit_series(
        prod["promo/main"],
        {
            "mutualExclusiveSeriesIds": json.dumps(
                [prod["promo/base"], prod["promo/other"], foreign]
            ),
            "storeIdsJson": "[201, 202, 203, 204]",
            "redeemAtStore": "[900]",
            "smsTemplate": "Production's own text {{voucher}}",
        },
    )
    orgs.sandboxes["production"].edit_series(
        prod["promo/prod-only"],
        {"mutualExclusiveSeriesIds": json.dumps([prod["promo/other"], prod["promo/base"]])},
    )
    # Drift in testing, not adopted: its plan shows it before and after alike.
    orgs.sandboxes["testing"].edit_series(testing["promo/main"], {"maxCreate": 700})
    testing_before = _plan(orgs, "testing")
    assert [s["action"] for s in testing_before["series"] if s["key"] == "promo/main"] == ["update"]

    result = orgs.cli("adopt", "--env", "production")
    assert result.exit_code == 0, result.output
    assert "promo/main: adopted mutualExclusiveSeriesIds, redeemAtStore, smsTemplate, " in (
        result.output
    )
    assert (
        "written in its reconciler: environments: production: block: mutualExclusiveSeriesIds, "
        "redeemAtStore, smsTemplate, storeIdsJson" in result.output
    )

    diffs = [
        _diff(text, (orgs.series / f"{key}.yaml").read_text(encoding="utf-8"), f"{key}.yaml")
        for key, text in (("promo/main", MAIN), ("promo/prod-only", PROD_ONLY))
    ]
    check_golden(
        "adopt_environments.diff",
        "".join(diffs).replace(str(foreign), "<hand-made id>"),
    )
    orgs.empty_plan("production")
    assert _plan(orgs, "testing") == testing_before
    # The testing org keeps its own ids for the keys: nothing production-specific leaked.
    assert json.loads(orgs.live("testing", "promo/main")["mutualExclusiveSeriesIds"]) == [
        testing["promo/base"]
    ]

    again = orgs.cli("adopt", "--env", "production")
    assert again.exit_code == 0 and "Nothing to adopt" in again.output
