"""What the vendor's evidence asks of the catalogue, as the CLI meets it (issue 21.5-21.7).

The sandbox answers as gold_877510 and the OpenAPI types say (``docs/sandbox.md``); each test
here is one known counter-example to the catalogue as it was before the documented defaults
and types came in (``docs/assumptions.md``, rows C1-C10), run through the CLI against the
sandbox over loopback.
"""

from __future__ import annotations

from pathlib import Path

from tests.scenarios.conftest import World, series_text
from tests.vendor_evidence import evidence


def _post(world: World, body: dict[str, object]) -> int:
    return int(world.sandbox.create(body)["id"])


def test_a_series_made_with_the_required_fields_only_imports_and_plans_empty(
    world: World,
) -> None:
    gold = evidence("gold_877510")
    body = {
        k: gold[k]
        for k in (
            "description",
            "discountCode",
            "anyUser",
            "smsTemplate",
            "discountValue",
            "clientHandlingType",
            "expiryStrategyType",
            "discountType",
        )
    }
    sid = _post(world, {**body, "validTillDate": "2031-06-11T00:00:00+00:00"})
    imported = world.cli("import", str(sid), "--env", "local", "--key", "gold")
    assert imported.exit_code == 0, imported.output
    assert world.cli("validate").exit_code == 0
    plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_a_discount_cap_is_stored_in_single_precision(world: World) -> None:
    """The OpenAPI: discountUpto is a float. 40169870 is kept as 40169872: the tool must
    refuse it, or compare as the server stores, and in either case never plan for ever."""
    world.write("cap", series_text("Capped", "CAP1", extra="discountUpto: 40169870\n"))
    checked = world.cli("validate")
    if checked.exit_code == 0:
        assert world.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
        plan = world.cli("plan", "--env", "local", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.output
    else:
        assert "discountUpto" in checked.output


def test_an_int32_field_beyond_32_bits_is_never_sent(world: World) -> None:
    """The OpenAPI marks maxVouchersPerUser int32; the server wraps a larger value, as the
    Update pair shows for maxCreate: the tool must refuse it before the API sees it."""
    world.write("big", series_text("Big", "BIG1", extra=f"maxVouchersPerUser: {2**31 + 5}\n"))
    checked = world.cli("validate")
    assert checked.exit_code == 1 and "maxVouchersPerUser" in checked.output
    assert not Path(world.series / ".state" / "local.json").exists()
