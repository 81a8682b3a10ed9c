"""Every documented answer imports to a file `validate` accepts, whose plan is empty, and the
imported series owns every field with a documented default (issue 21, points 6 and 8).

The CRM here holds the vendor's own answers (``tests/evidence.py``, verbatim data), stored
with ``Sandbox.preload`` so the test does not depend on how the sandbox seeds itself; every
step goes through the CLI, over loopback HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from reconciler.model.canonical import canonical
from reconciler.model.catalogue import BY_NAME, server_defaults
from tests.evidence import ANSWERS, CREATED_698948, GOLD_877510
from tests.scenarios.conftest import World
from tests.scenarios.test_multi_environment import Orgs, orgs

__all__ = ["orgs"]  # the two-org fixture, shared with test_multi_environment


def _stored(world: World, answer: dict[str, Any]) -> int:
    """The documented series, as the CRM holds it (its writable fields; the server's own
    id, counters and seriesCode are the sandbox's)."""
    body = {k: v for k, v in answer.items() if k in BY_NAME and BY_NAME[k].writable}
    (series_id,) = world.sandbox.preload([body])
    return series_id


def _file(world: World, key: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((world.series / f"{key}.yaml").read_text("utf-8"))
    return data


def _import(world: World, series_id: int, key: str) -> None:
    result = world.cli("import", str(series_id), "--key", key, "--env", "local")
    assert result.exit_code == 0, result.output
    assert "written" in result.output


def _valid_and_converged(world: World) -> None:
    valid = world.cli("validate")
    assert valid.exit_code == 0, valid.output
    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


# Every documented answer: the gold series, the GET page's two, the Update page's answer,
# and the Create page's answer (698948 as the create made it).
DOCUMENTED = {**{str(k): v for k, v in ANSWERS.items()}, "698948-created": CREATED_698948}


@pytest.mark.parametrize("documented", sorted(DOCUMENTED))
def test_a_documented_answer_imports_validates_and_plans_empty(
    world: World, documented: str
) -> None:
    series_id = _stored(world, DOCUMENTED[documented])
    _import(world, series_id, f"docs/s{documented}")
    _valid_and_converged(world)
    assert _file(world, f"docs/s{documented}")["reconciler"] == {"owns": "all"}


def test_all_documented_answers_in_one_folder_plan_empty(world: World) -> None:
    # One file with expiryStrategyValue -1 (SERIES_EXPIRY, 877510) must not stop the plan of
    # the others: it is valid.
    for documented, answer in sorted(ANSWERS.items()):
        _import(world, _stored(world, answer), f"docs/s{documented}")
    _valid_and_converged(world)


def test_the_gold_file_is_short_and_says_what_it_holds(world: World) -> None:
    _import(world, _stored(world, GOLD_877510), "gold")
    text = (world.series / "gold.yaml").read_text("utf-8")
    data = _file(world, "gold")
    # The server's defaults are held by owns: all, not written out; what it derived when the
    # series was made (info, tag, redemptionValidFrom) is written, as is every required field.
    assert "expiryStrategyValue" not in data and "minBillAmount" not in data
    assert data["info"] == data["tag"] == "Gold star coupons"
    assert str(data["redemptionValidFrom"]).startswith("2025-10-09")
    assert "owns: all" in text and "held at the server's documented default" in text
    assert len(data) < 20


def test_a_crm_edit_of_a_held_default_is_drift_and_is_put_back(world: World) -> None:
    series_id = _stored(world, GOLD_877510)
    _import(world, series_id, "gold")
    world.sandbox.edit_series(series_id, {"maxVouchersPerUser": 3})

    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "maxVouchersPerUser" in plan.output
    assert "held by owns: all" in plan.output

    applied = world.cli("apply", "--env", "local", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert world.sandbox.get_series(series_id)["maxVouchersPerUser"] == -1  # type: ignore[index]
    _valid_and_converged(world)


def test_adopt_keeps_a_crm_edit_of_a_held_default_in_the_file(world: World) -> None:
    series_id = _stored(world, GOLD_877510)
    _import(world, series_id, "gold")
    world.sandbox.edit_series(series_id, {"maxVouchersPerUser": 3})

    adopted = world.cli("adopt", "--env", "local")
    assert adopted.exit_code == 0, adopted.output
    assert _file(world, "gold")["maxVouchersPerUser"] == 3
    _valid_and_converged(world)
    assert world.sandbox.get_series(series_id)["maxVouchersPerUser"] == 3  # type: ignore[index]


def test_a_removed_derived_line_is_released_never_reset(world: World) -> None:
    series_id = _stored(world, GOLD_877510)
    _import(world, series_id, "gold")
    path = world.series / "gold.yaml"
    text = path.read_text("utf-8")
    path.write_text("".join(line for line in text.splitlines(True) if not line.startswith("info:")))

    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output  # no change: info stays as the CRM has it
    assert "info is no longer in the file" in plan.output, plan.output
    applied = world.cli("apply", "--env", "local", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert world.sandbox.get_series(series_id)["info"] == "Gold star coupons"  # type: ignore[index]


def test_a_series_adopted_for_an_existing_file_owns_every_defaulted_field(world: World) -> None:
    from tests.scenarios.conftest import series_text

    world.write("gold", series_text("Gold by hand", "GOLDX"))
    body = {
        "description": "Gold by hand",
        "discountCode": "GOLDX",
        "discountType": "ABS",
        "discountValue": 100,
        "anyUser": True,
        "smsTemplate": "Hi {{first_name}}, your code is {{voucher}}",  # the settings' default
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "validTillDate": "2030-09-30T00:00:00Z",
        "maxVouchersPerUser": 3,  # set in the CRM: the file never said
    }
    (series_id,) = world.sandbox.preload([body])
    result = world.cli("import", str(series_id), "--key", "gold", "--env", "local")
    assert result.exit_code == 0, result.output
    assert "recorded for the existing file; owns: all added to the file" in result.output
    assert _file(world, "gold")["reconciler"] == {"owns": "all"}

    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert (
        "maxVouchersPerUser: 3 → -1 (not in the file: the server's default, held by owns: all)"
        in (plan.output)
    )
    applied = world.cli("apply", "--env", "local", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    _valid_and_converged(world)


def test_two_series_sharing_a_discount_code_import_and_plan_empty(world: World) -> None:
    # 877510 and 927443 of one org share gold1234 (the newer Update page): a discountCode is
    # not unique, and each imported file's seriesCode tells them apart.
    first = _stored(world, GOLD_877510)
    second = _stored(world, {**GOLD_877510, "description": "Gold star coupons, again"})
    _import(world, first, "gold/one")
    _import(world, second, "gold/two")
    valid = world.cli("validate")
    assert valid.exit_code == 0, valid.output
    assert "discountCode 'gold1234' is also used by" in valid.output
    assert "each file's seriesCode tells the series apart" in valid.output
    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_a_file_imported_in_one_org_creates_the_series_in_another_with_every_default(
    orgs: Orgs,
) -> None:
    # Imported from testing, the file creates the series in production: the POST sends every
    # held default, so the new series holds the documented values from the start, whatever
    # that org's own defaults, and the plan after is empty in both.
    body = {k: v for k, v in GOLD_877510.items() if k in BY_NAME and BY_NAME[k].writable}
    (made,) = orgs.sandboxes["testing"].preload([body])
    # Its own seriesCode, as answered (preload's PRE<id> may name a series of the other org).
    orgs.sandboxes["testing"].edit_series(made, {"seriesCode": GOLD_877510["seriesCode"]})
    imported = orgs.cli("import", str(made), "--key", "gold", "--env", "testing")
    assert imported.exit_code == 0, imported.output
    plan = orgs.cli("plan", "--env", "production")
    assert plan.exit_code == 0, plan.output
    assert "sent at the server's documented default (owns: all)" in plan.output
    orgs.apply("production")
    created = orgs.live("production", "gold")
    # Production's own defaults (redeemAtStore [900, 901]) win over a held default.
    assert canonical("redeemAtStore", created["redeemAtStore"]) == [900, 901]
    for name, value in server_defaults().items():
        if name != "redeemAtStore":
            assert canonical(name, created.get(name)) == canonical(name, value), name
    orgs.empty_plan("production")
    orgs.empty_plan("testing")
