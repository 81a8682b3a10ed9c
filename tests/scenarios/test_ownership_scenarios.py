"""Field ownership end to end: the CLI against the sandbox over loopback HTTP.

A line removed from a file is reset to the server's default, a dependent field is reset with
the fields it depends on (so the PUT, which replaces the whole series, carries no stale
value), and a field the tool never declared, set by a person in the CRM, is left as it is
through all of it (``kubectl apply``'s last-applied-configuration, kept in the state).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.scenarios.conftest import World, check_golden, series_text

# Set by a person in the CRM's own screens; no file ever declares them.
PERSON = {"info": "raised for the Diwali week (ops)", "minBillAmount": 250}

DAYS = series_text("Expiry days", "OWNEXP").replace(
    "expiryStrategyType: SERIES_EXPIRY", "expiryStrategyType: DAYS"
)


@pytest.fixture
def puts(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The bodies of the PUTs the sandbox received, as it received them (after HTTP)."""
    received: list[dict[str, Any]] = []
    update = world.sandbox.update

    def recording(series_id: int, sent: Mapping[str, Any]) -> dict[str, Any]:
        received.append(dict(sent))
        return update(series_id, sent)

    monkeypatch.setattr(world.sandbox, "update", recording)
    yield received


def cli(world: World, *args: str) -> tuple[int, str]:
    result = world.cli(*args, "--env", "local")
    return result.exit_code, result.output


def apply(world: World) -> str:
    code, out = cli(world, "apply", "--auto-approve")
    assert code == 0, out
    assert "Converged: a new plan is empty." in out, out
    return out


def plan(world: World, *args: str) -> tuple[int, str]:
    return cli(world, "plan", "--detailed-exitcode", *args)


def live(world: World, key: str) -> dict[str, Any]:
    found = world.sandbox.get_series(world.state()["ids"][key])
    assert found is not None
    return found


def assert_person_kept(world: World, key: str) -> None:
    series = live(world, key)
    assert {name: series.get(name) for name in PERSON} == PERSON


def test_a_removed_line_is_reset_to_the_default_and_the_plan_after_is_empty(
    world: World, puts: list[dict[str, Any]]
) -> None:
    world.write("own/limit", series_text("Limit", "OWNLIM", extra="maxRedeem: 500\n"))
    apply(world)
    assert "maxRedeem" in world.state()["fields"]["own/limit"]
    assert live(world, "own/limit")["maxRedeem"] == 500
    world.sandbox.edit_series(world.state()["ids"]["own/limit"], PERSON)
    assert plan(world)[0] == 0  # a person's fields are not drift

    world.write("own/limit", series_text("Limit", "OWNLIM"))  # the line is deleted
    code, out = plan(world)
    assert code == 2, out
    assert "maxRedeem: 500 → -1 (no longer in the file: server default)" in out
    check_golden("ownership_reset_plan.txt", out)
    code, out = plan(world, "--format", "json")
    (series,) = json.loads(out[out.index("{") :])["series"]
    assert series["changes"] == [
        {
            "field": "maxRedeem",
            "before": 500,
            "after": -1,
            "nested": [],
            "note": "no longer in the file: server default",
        }
    ]
    assert series["desired"] == {"maxRedeem": -1}

    puts.clear()
    apply(world)
    (body,) = puts
    assert body["maxRedeem"] == -1
    assert {name: body[name] for name in PERSON} == PERSON  # carried as they were
    assert live(world, "own/limit")["maxRedeem"] == -1
    assert_person_kept(world, "own/limit")
    assert "maxRedeem" not in world.state()["fields"]["own/limit"]
    assert plan(world)[0] == 0


def test_switching_the_expiry_strategy_sends_no_stale_value(
    world: World, puts: list[dict[str, Any]]
) -> None:
    world.write("own/expiry", DAYS + "expiryStrategyValue: 14\n")
    apply(world)
    assert live(world, "own/expiry")["expiryStrategyValue"] == 14
    world.sandbox.edit_series(world.state()["ids"]["own/expiry"], PERSON)

    # DAYS -> SERIES_EXPIRY, and the value line deleted with it.
    world.write("own/expiry", series_text("Expiry days", "OWNEXP"))
    code, out = plan(world)
    assert code == 2, out
    assert 'expiryStrategyType: "DAYS" → "SERIES_EXPIRY"' in out
    # The server's default, -1 (the answers to minimal creates), is a value SERIES_EXPIRY
    # allows: the removed line goes back to it, never a stale 14.
    assert "expiryStrategyValue: 14 → -1 (no longer in the file: server default)" in out

    puts.clear()
    apply(world)
    (body,) = puts
    assert (body["expiryStrategyType"], body["expiryStrategyValue"]) == ("SERIES_EXPIRY", -1)
    stored = live(world, "own/expiry")
    assert (stored["expiryStrategyType"], stored["expiryStrategyValue"]) == ("SERIES_EXPIRY", -1)
    assert_person_kept(world, "own/expiry")
    assert plan(world)[0] == 0


def test_a_value_a_person_set_is_reset_only_when_the_new_strategy_forbids_it(
    world: World, puts: list[dict[str, Any]]
) -> None:
    """expiryStrategyValue never declared: a value SERIES_EXPIRY allows (1, or the server's
    -1) is left as a person set it; a person's DAYS/30, which the file's SERIES_EXPIRY puts
    back, takes the pages' 1 with it, never a stale 30."""
    world.write("own/expiry", series_text("Expiry days", "OWNEXP"))
    apply(world)
    sid = world.state()["ids"]["own/expiry"]
    world.sandbox.edit_series(sid, {**PERSON, "expiryStrategyValue": 1})
    assert plan(world)[0] == 0

    world.sandbox.edit_series(sid, {"expiryStrategyType": "DAYS", "expiryStrategyValue": 30})
    code, out = plan(world)
    assert code == 2, out
    assert (
        "expiryStrategyValue: 30 → 1 (reset with expiryStrategyType SERIES_EXPIRY: coupons end "
        "with the series: the pages say 1)"
    ) in out
    puts.clear()
    apply(world)
    (body,) = puts
    assert body["expiryStrategyValue"] == 1
    assert_person_kept(world, "own/expiry")
    assert plan(world)[0] == 0


def test_an_ignore_rule_keeps_a_removed_line_out_of_the_plan(world: World) -> None:
    world.write("own/limit", series_text("Limit", "OWNLIM", extra="maxRedeem: 500\n"))
    apply(world)
    ignore = "reconciler:\n  ignore:\n    - field: maxRedeem\n      reason: ops own it now\n"
    world.write("own/limit", series_text("Limit", "OWNLIM", extra=ignore))
    code, out = plan(world)
    assert code == 0, out
    assert live(world, "own/limit")["maxRedeem"] == 500


def test_an_imported_file_edited_later_resets_the_removed_line(world: World) -> None:
    body = {
        "description": "Made in the CRM",
        "discountCode": "OWNIMP",
        "discountType": "ABS",
        "discountValue": 50,
        "anyUser": True,
        "smsTemplate": "Hi {{first_name}}, your code is {{voucher}}",
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "validTillDate": "2030-09-30T00:00:00Z",
        "maxCreate": 900,
    }
    (sid,) = world.sandbox.preload([body])
    code, out = cli(world, "import", str(sid), "--key", "own/imported")
    assert code == 0, out
    assert "maxCreate" in world.state()["fields"]["own/imported"]
    assert plan(world)[0] == 0

    path = world.series / "own/imported.yaml"
    text = path.read_text(encoding="utf-8")
    assert "maxCreate: 900\n" in text
    path.write_text(text.replace("maxCreate: 900\n", ""), encoding="utf-8")
    code, out = plan(world)
    assert code == 2, out
    # An imported file owns every defaulted field (owns: all): the line's field goes back to
    # the server's default it holds.
    assert "maxCreate: 900 → -1 (not in the file: the server's default, held by owns: all)" in out
    apply(world)
    assert world.sandbox.get_series(sid)["maxCreate"] == -1  # type: ignore[index]
    assert plan(world)[0] == 0
