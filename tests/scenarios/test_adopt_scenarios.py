"""`reconciler adopt` through the CLI against the sandbox over loopback HTTP."""

from __future__ import annotations

import difflib

from tests.scenarios.conftest import World, check_golden

# Comments everywhere, a custom key order, both id-list spellings, a bare date and a date
# with an offset, a block mapping, a list of objects, quoting, CRLF-free LF text.
FILE = """\
# Summer weekends: owned by the growth team (ask #growth before changing).
discountCode: ADOPT15          # the POS code: never change it
description: "Summer weekends 15% off"
discountType: PERC
discountValue: 15              # agreed with finance
anyUser: false

# --- limits ---
maxCreate: 50000
maxRedeem: 50000               # ops may raise it
storeIdsJson: [101, 102]       # flagship stores
redeemAtStore: "[201, 202]"
validTillDate: 2030-08-31      # end of August
redemptionValidFrom: 2030-06-01T00:00:00+05:30
redemptionRange:
  dom: [-1]
  dow: [6, 7]                  # weekends
  hours: [10, 11, 12]
productInfo:
  - productType: CATEGORY
    productIds: [1201, 1202]   # shirts, trousers

clientHandlingType: DISC_CODE
expiryStrategyType: DAYS
expiryStrategyValue: 14
reconciler:
  ignore:
    - field: maxRedeem
      reason: ops raise it in the CRM when a campaign goes well
"""

CRM_EDITS = {
    "discountValue": 15.1,
    "maxCreate": 60000,
    "maxRedeem": 90000,  # ignored: never adopted
    "storeIdsJson": "[101, 102, 103]",
    "redeemAtStore": "[201]",
    "validTillDate": "2030-09-07T00:00:00Z",
    "redemptionValidFrom": "2030-06-10T00:00:00Z",
    "redemptionRange": '{"dom": [-1], "dow": [5, 6, 7], "hours": [10, 11, 12]}',
    "productInfo": [{"productType": "CATEGORY", "productIds": [1201, 1202, 1300]}],
    "info": "set by a person, never declared",  # not in the file: not drift, untouched
}


def _applied(world: World) -> int:
    world.write("summer/adopt", FILE)
    result = world.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 0, result.output
    series_id: int = world.state()["ids"]["summer/adopt"]
    return series_id


def test_adopt_keeps_the_file_and_the_plan_after_is_empty(world: World) -> None:
    series_id = _applied(world)
    world.sandbox.edit_series(series_id, CRM_EDITS)
    drift = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert drift.exit_code == 2, drift.output
    assert "discountValue: 15.1 → 15" in drift.stdout  # shown as written, not 15.1000003...

    result = world.cli("adopt", "--env", "local")
    assert result.exit_code == 0, result.output
    assert "summer/adopt: adopted discountValue, maxCreate, productInfo," in result.stdout
    assert "maxRedeem" not in result.stdout

    after = (world.series / "summer/adopt.yaml").read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            FILE.splitlines(keepends=True),
            after.splitlines(keepends=True),
            "before/summer/adopt.yaml",
            "after/summer/adopt.yaml",
        )
    )
    check_golden("adopt_file.diff", diff)

    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    live = world.sandbox.get_series(series_id)
    assert live is not None and live["info"] == CRM_EDITS["info"]

    again = world.cli("adopt", "--env", "local")
    assert again.exit_code == 0 and "Nothing to adopt" in again.stdout


def test_adopt_one_field_of_one_key(world: World) -> None:
    series_id = _applied(world)
    world.sandbox.edit_series(series_id, {"maxCreate": 60000, "description": "Edited"})
    result = world.cli("adopt", "summer/adopt", "--field", "maxCreate", "--env", "local")
    assert result.exit_code == 0, result.output
    after = (world.series / "summer/adopt.yaml").read_text(encoding="utf-8")
    assert after == FILE.replace("maxCreate: 50000", "maxCreate: 60000")
    plan = world.cli("plan", "--env", "local")
    assert "description" in plan.stdout and "maxCreate" not in plan.stdout


def test_adopt_refuses_an_unknown_field_and_key(world: World) -> None:
    _applied(world)
    bad_field = world.cli("adopt", "--field", "numIssued", "--env", "local")
    assert bad_field.exit_code == 1
    assert "numIssued" in bad_field.output and "Traceback" not in bad_field.output
    bad_key = world.cli("adopt", "no/such-key", "--env", "local")
    assert bad_key.exit_code == 1 and "no series file for no/such-key" in bad_key.output
