"""The v1.1 list through the client (``client/listing.py``): read as its page documents it,
and never handed over as complete when it is not.

The oracle is the vendor's own example, verbatim (``tests/data/evidence/
v1_1_list_example.json``); the answers around it are built from it, changed only where a
test says so.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from reconciler.client import LIST_TIMEOUT_FACTOR, CouponClient
from reconciler.client.credentials import Credentials
from reconciler.errors import ApiError, BadResponse, IncompleteListing
from reconciler.model.ports import ListedSeries, Listing
from tests.vendor_evidence import evidence, v1_1_item

pytestmark = pytest.mark.anyio

BASE = "https://eu.api.capillarytech.com"
PASSWORD = "list-Passw0rd-xyz"
OK = {"success": "true", "code": "200", "message": "Success"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def answer(*items: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    """A list answer in the example's shape; one item as an object, as the page shows."""
    item: Any = items[0] if len(items) == 1 else list(items)
    return {
        "response": {
            "status": status or dict(OK),
            "series": {"items": {"item": item}} if items else {"items": ""},
        }
    }


def item(series_id: int, *, till: str = "2099-12-31", **changes: Any) -> dict[str, Any]:
    """The example's series, with another id and end day."""
    out = v1_1_item()
    out.update(id=str(series_id), valid_till_date=till, **changes)
    return out


def day(offset: int) -> str:
    return (datetime.now(UTC) + timedelta(days=offset)).strftime("%Y-%m-%d")


Answers = Callable[[str], Any]


def client_for(answers: Answers, seen: list[httpx.Request] | None = None) -> CouponClient:
    """A client whose list answers are ``answers(expired)`` (expired: "true"/"false")."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        assert request.url.path == "/v1.1/coupon/series"
        return httpx.Response(200, json=answers(request.url.params["expired"]))

    return CouponClient(
        base_url=BASE,
        credentials=Credentials(username="till", password=PASSWORD),
        transport=httpx.MockTransport(handler),
        timeout_seconds=5,
    )


async def listed(answers: Answers) -> Listing:
    async with client_for(answers) as client:
        return await client.list_series()


async def test_the_vendors_example_reads_every_field_identity_needs() -> None:
    example = evidence("v1_1_list_example")  # valid till 2017-12-31: an expired series
    result = await listed(lambda expired: example if expired == "true" else answer())
    assert result == Listing(
        series=(
            ListedSeries(
                series_id=405,
                series_code="G8Z08NZL",
                discount_code="XYZ123",
                description="API Coupon 3",
                created="2016-12-09 08:35:15",  # the server's text: its zone is unknown
                valid_till="2017-12-31",
                issued=4558,
                redeemed=924,
            ),
        )
    )


async def test_both_lists_asked_active_first_each_with_the_list_timeout() -> None:
    seen: list[httpx.Request] = []
    async with client_for(lambda e: answer(), seen) as client:
        assert await client.list_series() == Listing()
    assert [r.url.params["expired"] for r in seen] == ["false", "true"]
    assert all(r.url.params["format"] == "json" for r in seen)
    assert all(r.extensions["timeout"]["read"] == 5 * LIST_TIMEOUT_FACTOR for r in seen)


async def test_merged_by_id() -> None:
    active = answer(item(1), item(2), item(3, till=day(0)))
    gone = answer(item(3, till=day(0)), item(4, till="2020-01-01"))  # 3: on its last day
    result = await listed(lambda expired: gone if expired == "true" else active)
    assert [s.series_id for s in result.series] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "empty",
    [{"items": ""}, {"items": None}, {"items": []}, {"items": {}}, {"items": {"item": []}}],
)
async def test_an_empty_org_in_any_of_its_possible_spellings(empty: dict[str, Any]) -> None:
    body = {"response": {"status": dict(OK), "series": empty}}
    assert await listed(lambda e: body) == Listing()


@pytest.mark.parametrize("success", ["false", False, "", None, "FALSE"])
async def test_a_failure_inside_a_200_is_never_an_empty_org(success: Any) -> None:
    failed = {"success": success, "code": "500", "message": "Unable to fetch"}
    with pytest.raises(IncompleteListing) as caught:
        await listed(lambda e: answer(status=failed))
    message = str(caught.value)
    assert "said the list failed" in message and "Unable to fetch" in message
    assert "GET /v1.1/coupon/series?expired=false" in message
    assert "no create can follow" in message


async def test_a_failed_list_in_the_second_answer_fails_too() -> None:
    failed = {"success": "false", "code": "500", "message": "x"}
    with pytest.raises(IncompleteListing, match="expired=true"):
        await listed(lambda e: answer(item(1)) if e == "false" else answer(status=failed))


async def test_a_missing_status_is_not_success() -> None:
    body = answer(item(1))
    del body["response"]["status"]
    with pytest.raises(IncompleteListing, match=r"no response\.status"):
        await listed(lambda e: body)


@pytest.mark.parametrize(
    "status",
    [
        {"success": "false", "code": "701", "message": "Unable to fetch the coupon series"},
        None,
        "true",
    ],
)
async def test_a_series_listed_as_failed_fails_the_list(status: Any) -> None:
    bad = item(2)
    if status is None:
        del bad["item_status"]
    else:
        bad["item_status"] = status
    with pytest.raises(IncompleteListing, match="series 2 was listed with item_status"):
        await listed(lambda e: answer(item(1), bad) if e == "false" else answer())


@pytest.mark.parametrize("ident", [None, "", "x1", "1.5", True, 1.5])
async def test_a_series_without_an_id_fails_the_list(ident: Any) -> None:
    bad = item(2)
    bad["id"] = ident
    with pytest.raises(IncompleteListing, match="no integer id"):
        await listed(lambda e: answer(item(1), bad) if e == "false" else answer())


async def test_an_answer_that_ignores_its_filter_is_not_trusted() -> None:
    everything = answer(item(1, till=day(60)), item(2, till="2020-01-01"))
    with pytest.raises(IncompleteListing, match="did not filter by expired=false"):
        await listed(lambda e: everything)
    only_active = answer(item(1, till=day(60)))
    with pytest.raises(IncompleteListing, match="did not filter by expired=true"):
        await listed(lambda e: only_active)  # expired=true answered with an active series


async def test_a_day_either_side_is_not_taken_for_an_ignored_filter() -> None:
    """The server's zone is not documented: its day may be this machine's, give or take."""
    active = answer(item(1, till=day(-1)), item(2, till=day(0)))
    gone = answer(item(3, till=day(1)), item(4, till=day(0)))
    result = await listed(lambda e: gone if e == "true" else active)
    assert sorted(s.series_id for s in result.series) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "body",
    [
        {"something": "else"},
        {"response": {"status": OK}},
        {"response": {"status": OK, "series": {"items": {"nope": 1}}}},
        {"response": {"status": OK, "series": {"items": {"item": ["x"]}}}},
        [1, 2],
    ],
)
async def test_an_answer_not_in_the_documented_shape(body: Any) -> None:
    with pytest.raises(BadResponse) as caught:
        await listed(lambda e: body)
    assert not isinstance(caught.value, IncompleteListing)


async def test_secrets_never_in_the_error() -> None:
    failed = {"success": "false", "code": "500", "message": f"bad password {PASSWORD}"}
    with pytest.raises(ApiError) as caught:
        await listed(lambda e: answer(status=failed))
    assert PASSWORD not in str(caught.value)


async def test_values_as_the_example_spells_them_and_other_spellings_tolerated() -> None:
    """Counts may be numbers; a missing coupons block reads as unknown counts."""
    one = copy.deepcopy(item(7))
    one["coupons"] = {"issued": 3, "redeemed": "x"}
    two = item(8)
    del two["coupons"]
    result = await listed(lambda e: answer(one, two) if e == "false" else answer())
    assert [(s.issued, s.redeemed) for s in result.series] == [(3, None), (None, None)]


# --- decoded lean: the same reading, a fraction of the memory ------------------------------


def _read_both(body: Any, *, expired: bool) -> tuple[Any, Any]:
    """``read_list`` of ``body`` decoded whole and decoded lean: a value or the error's words."""
    from reconciler.client.answers import Unexpected
    from reconciler.client.listing import decode_list, read_list

    today = datetime.now(UTC).date()
    raw = json.dumps(body).encode()
    out = []
    for decoded in (json.loads(raw), decode_list(raw)):
        try:
            out.append(read_list(decoded, expired=expired, today=today))
        except Unexpected as error:
            out.append((type(error).__name__, str(error).split(":")[0]))
    return out[0], out[1]


def _hostile_answers() -> list[Any]:
    """The example's answer bent every way the checks look at, and a few they do not."""
    odd = item(5)
    odd["coupons"] = {"issued": "1", "redeemed": "2", "item_status": {"success": "true"}}
    nested = item(6)
    nested["extra"] = {"item_status": {"success": "false"}, "id": "x"}
    no_status = item(7)
    del no_status["item_status"]
    failed = item(8, item_status={"success": "false", "message": "nope"})
    no_id = item(9)
    del no_id["id"]
    top = answer(item(1))
    top["response"]["item_status"] = {"success": "true"}
    inner = answer(item(1))
    inner["response"]["status"]["item_status"] = {"success": "true"}
    return [
        evidence("v1_1_list_example"),
        answer(item(1), item(2, till=day(3)), odd, nested),
        answer(item(1), no_status),
        answer(failed),
        answer(no_id, item(2)),
        answer(item(1, till="2020-01-01")),  # ignores its filter (expired=false)
        answer(),
        top,
        inner,
        answer(status={"success": "false", "code": "500"}),
        {"response": {"status": OK, "series": {"items": {"item": [item(1), "x"]}}}},
        {"response": {"status": OK, "series": {"items": {"nope": 1}}}},  # never an empty org
        {"response": {"status": OK, "series": {"items": {"item_status": {}, "nope": 1}}}},
    ]


@pytest.mark.parametrize("index", range(len(_hostile_answers())))
@pytest.mark.parametrize("expired", [False, True])
def test_decoded_lean_reads_and_refuses_exactly_as_decoded_whole(index: int, expired: bool) -> None:
    whole, lean = _read_both(_hostile_answers()[index], expired=expired)
    assert lean == whole


def test_a_repeated_key_keeps_its_last_value_as_json_loads_does() -> None:
    from reconciler.client.listing import decode_list

    raw = b'{"id": "1", "item_status": {"success": "true"}, "id": "2", "x": 1}'
    assert decode_list(raw) == {"id": "2", "item_status": {"success": "true"}}
    assert list(decode_list(raw)) == list(json.loads(raw))[:2]


def test_decoded_lean_keeps_a_few_fields_a_series_and_a_fraction_of_the_memory() -> None:
    """2,000 series of the example (58 fields each): what the lean decoding holds is under
    40% of the whole one (measured 29%), its peak, the answer's text included, under 60%
    (measured 50%), and each series keeps 8 fields."""
    import gc
    import tracemalloc

    from reconciler.client.listing import decode_list

    raw = json.dumps(answer(*(item(i) for i in range(1, 2001)))).encode()

    def held(decode: Callable[[bytes], Any]) -> tuple[int, int, Any]:
        gc.collect()
        tracemalloc.start()
        try:
            value = decode(raw)
            return (*tracemalloc.get_traced_memory(), value)
        finally:
            tracemalloc.stop()

    whole_held, whole_peak, whole = held(json.loads)
    lean_held, lean_peak, lean = held(decode_list)
    first = lean["response"]["series"]["items"]["item"][0]
    assert len(whole["response"]["series"]["items"]["item"][0]) == len(v1_1_item()) > 50
    kept = {"id", "item_status", "series_code", "discount_code", "description", "created"}
    assert set(first) == kept | {"valid_till_date", "coupons"}
    assert lean_held < 0.4 * whole_held, (lean_held, whole_held)
    assert lean_peak < 0.6 * whole_peak, (lean_peak, whole_peak)
