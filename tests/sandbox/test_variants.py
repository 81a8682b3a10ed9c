"""The server variants: what the sandbox does where the vendor's pages leave it open.

Each switch of ``Faults`` that models an undocumented behaviour is tried both ways here; the
client and the CLI are tried against the same switches in ``tests/test_client_evidence.py``
and ``tests/scenarios/test_server_variants.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox import RETRY_LATER_CODES, Faults, Sandbox

from .helpers import Api, minimal_series


def _listed(api: Api, query: str = "") -> dict[str, Any]:
    response = api.get("/v1.1/coupon/series?format=json" + query)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()["response"]
    return body


def _ids(body: dict[str, Any]) -> set[int]:
    items = body["series"]["items"]
    item = items["item"] if isinstance(items, dict) else []
    return {int(i["id"]) for i in ([item] if isinstance(item, dict) else item)}


@pytest.fixture
def expired_one(api: Api) -> int:
    made = api.create(minimal_series(validTillDate="2020-01-01T00:00:00+00:00"))
    return int(made["id"])


def test_expired_selects_expired_or_active_and_the_default_lists_all(
    api: Api, sandbox: Sandbox, expired_one: int
) -> None:
    sandbox.configure(list_time_offset_minutes=0)
    today = _utc_today()
    gone = {s["id"] for s in sandbox.all_series() if s["validTillDate"][:10] < today}
    active = {s["id"] for s in sandbox.all_series()} - gone
    assert expired_one in gone and 698948 in active  # 698948 ends in 2030
    assert _ids(_listed(api, "&expired=true")) == gone
    assert _ids(_listed(api, "&expired=false")) == active
    assert _ids(_listed(api)) == active | gone  # the page: "all ... retrieved"
    sandbox.configure(list_default="active")
    assert _ids(_listed(api)) == active  # the variant: no parameter gives active only
    assert _ids(_listed(api, "&expired=true")) == gone


def test_the_last_day_is_still_active(api: Api, sandbox: Sandbox) -> None:
    sandbox.configure(list_time_offset_minutes=0)
    today = api.create(minimal_series(validTillDate=_utc_today() + "T12:00:00+00:00"))
    assert today["id"] in _ids(_listed(api, "&expired=false"))
    assert today["id"] not in _ids(_listed(api, "&expired=true"))


def _utc_today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d")


def test_a_failure_inside_a_200(api: Api, sandbox: Sandbox) -> None:
    sandbox.configure(list_fails=True)
    body = _listed(api)
    assert body["status"]["success"] == "false"
    assert body["series"]["items"] == ""  # nothing listed: not an empty org
    assert sandbox.count_series() == 2


def test_a_series_left_out_of_the_list(api: Api, sandbox: Sandbox) -> None:
    sandbox.configure(list_hidden_ids=(520591,))
    assert _ids(_listed(api)) == {698948}
    assert _listed(api)["status"]["success"] == "true"  # a success that is not complete
    assert api.read(520591)[0]["id"] == 520591  # it exists


def test_a_failed_item(api: Api, sandbox: Sandbox) -> None:
    sandbox.configure(list_failed_ids=(698948,))
    items = {i["id"]: i for i in _listed(api)["series"]["items"]["item"]}
    assert items["698948"]["item_status"]["success"] == "false"
    assert items["520591"]["item_status"]["success"] == "true"


def test_created_is_written_in_the_server_zone(api: Api, sandbox: Sandbox) -> None:
    made = api.create(minimal_series())
    stamp = made["createdOn"]  # 2031-...T05:36:41Z
    for offset, shift in ((330, "+05:30"), (0, "+00:00"), (-480, "-08:00")):
        sandbox.configure(list_time_offset_minutes=offset)
        (item,) = [i for i in _listed(api)["series"]["items"]["item"] if i["id"] == str(made["id"])]
        from datetime import datetime

        utc = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        local = datetime.fromisoformat(item["created"].replace(" ", "T") + shift)
        assert local == utc, (offset, item["created"])


def test_put_without_org_id(api: Api, sandbox: Sandbox) -> None:
    made = api.create(minimal_series())
    body = minimal_series(seriesCode=made["seriesCode"], description="changed")
    url = f"/v2/coupon/series/{made['id']}?format=json"
    refused = api.put(url, json={"CouponSeriesV2": body})
    assert refused.status_code == 400
    assert "orgId is provided" in refused.json()["errors"][0]["message"]
    assert sandbox.get_series(made["id"])["description"] == "Test 10 off"  # type: ignore[index]
    # the Update pair sends orgId 0 and is answered 100737: the value is not checked
    ok = api.put(url, json={"CouponSeriesV2": {**body, "orgId": 0}})
    assert ok.status_code == 200 and ok.json()["orgId"] == 100737
    sandbox.configure(put_requires_org_id=False)
    assert api.put(url, json={"CouponSeriesV2": body}).status_code == 200


@pytest.mark.parametrize("status", [400, 500])
def test_busy_answers_try_again_later(api: Api, sandbox: Sandbox, status: int) -> None:
    sandbox.configure(busy_status=status, busy_code=748)
    sandbox.fail_next_call("busy", method="POST")
    before = sandbox.count_series()
    refused = api.post("/v2/coupon/series", json={"CouponSeriesV2": minimal_series()})
    assert refused.status_code == status
    assert refused.json()["errors"][0]["code"] == 748
    assert sandbox.count_series() == before  # "busy": nothing made
    sandbox.fail_next_call("busy_after", method="POST")
    acted = api.post("/v2/coupon/series", json={"CouponSeriesV2": minimal_series()})
    assert acted.status_code == status
    assert sandbox.count_series() == before + 1  # "busy_after": made, all the same


def test_retry_later_codes_are_the_documented_ones() -> None:
    assert {748, 787, *range(789, 795), 796, 797, 798} == RETRY_LATER_CODES
    with pytest.raises(ValueError, match="busy_code"):
        Faults(busy_code=788)  # invalid configuration, not "try again later"
    with pytest.raises(ValueError, match="busy_status"):
        Faults(busy_status=200)
    with pytest.raises(ValueError, match="list_default"):
        Faults(list_default="expired")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="comma_ids"):
        Faults(comma_ids="maybe")  # type: ignore[arg-type]
    # random draws keep to the five transport modes unless "busy" is asked for
    assert "busy" not in Faults().failure_modes
    assert Faults(failure_modes=("busy",), failure_rate=1.0).failure_modes == ("busy",)
