"""The sandbox's API surface: auth, reads, creates, full-replacement PUTs, errors, storage."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client.credentials import Credentials
from reconciler.sandbox import Faults, Sandbox, create_app
from reconciler.sandbox.store import FIRST_NEW_ID

from .helpers import AUTH, CREDS, Api, basic_header, minimal_series

ERROR_KEYS = {"warnings", "errors", "success"}


def codes(response: httpx.Response) -> list[int]:
    body = response.json()
    assert set(body) == ERROR_KEYS and body["success"] is False and body["warnings"] == []
    assert all(e["status"] is False and e["message"] for e in body["errors"])
    return [e["code"] for e in body["errors"]]


def put_body(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A PUT body: the required update fields of ``current``, and its ``orgId`` (the Update
    page's error table asks for it), with ``changes``."""
    keep = (
        "description",
        "discountCode",
        "discountType",
        "discountValue",
        "anyUser",
        "smsTemplate",
        "clientHandlingType",
        "seriesCode",
        "expiryStrategyType",
        "orgId",
    )
    body = {k: current[k] for k in keep}
    body.update(changes)
    return {"CouponSeriesV2": body}


# --- auth ------------------------------------------------------------------------------------


def test_basic_auth_with_md5_of_password(api: Api) -> None:
    assert api.get("/v2/coupon/series?ids=520591").status_code == 200
    wrong = api.get("/v2/coupon/series?ids=520591", headers=basic_header("test.till", "nope"))
    assert wrong.status_code == 401 and codes(wrong) == [401]
    # the password itself (not its md5) is refused
    import base64

    plain = base64.b64encode(b"test.till:test-password").decode()
    refused = api.get("/v2/coupon/series?ids=1", headers={"Authorization": f"Basic {plain}"})
    assert refused.status_code == 401


def test_missing_auth_is_401_on_every_route(app: Any) -> None:
    anonymous = Api(app, headers={})
    for method, url in (
        ("GET", "/v2/coupon/series?ids=520591"),
        ("POST", "/v2/coupon/series"),
        ("PUT", "/v2/coupon/series/520591"),
        ("GET", "/v1.1/coupon/series"),
    ):
        response = anonymous.request(method, url, json={"CouponSeriesV2": {}})
        assert response.status_code == 401, (method, url)
        assert codes(response) == [401]


def test_oauth_token_and_its_expiry(app: Any, sandbox: Sandbox) -> None:
    anonymous = Api(app, headers={})
    sandbox.configure(token_ttl_seconds=0.3)
    bad = anonymous.post("/v3/oauth/token/generate", json={"key": "test-key", "secret": "x"})
    assert bad.status_code == 401 and bad.json()["data"] is None and bad.json()["errors"]
    answer = anonymous.post("/v3/oauth/token/generate", json={"key": "test-key", "secret": "t-s"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["errors"] is None and body["data"]["ttlSeconds"] == 0
    token = body["data"]["accessToken"]
    header = {"X-CAP-API-OAUTH-TOKEN": token}
    assert anonymous.get("/v2/coupon/series?ids=698948", headers=header).status_code == 200
    time.sleep(0.35)
    expired = anonymous.get("/v2/coupon/series?ids=698948", headers=header)
    assert expired.status_code == 401 and codes(expired) == [401]
    forged = anonymous.get("/v2/coupon/series?ids=1", headers={"X-CAP-API-OAUTH-TOKEN": "x"})
    assert forged.status_code == 401


def test_default_ttl_is_300_seconds(app: Any) -> None:
    answer = Api(app, headers={}).post(
        "/v3/oauth/token/generate", json={"key": "test-key", "secret": "t-s"}
    )
    assert answer.json()["data"]["ttlSeconds"] == 300


def test_default_credentials_are_the_sandbox_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("USERNAME", "PASSWORD", "OAUTH_KEY", "OAUTH_SECRET"):
        monkeypatch.delenv(f"CAPILLARY_{name}", raising=False)
    app = create_app(db_path=tmp_path / "d.db")
    defaults = Credentials.sandbox()
    header = basic_header(defaults.username or "", defaults.password or "")
    assert Api(app, headers=header).get("/v2/coupon/series?ids=520591").status_code == 200
    app.state.sandbox.close()


# --- content type and bodies ---------------------------------------------------------------


def test_content_type_must_be_json(api: Api) -> None:
    response = api.post("/v2/coupon/series", content=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and codes(response) == [415]


def test_malformed_json_is_400(api: Api) -> None:
    response = api.post(
        "/v2/coupon/series", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_body_without_wrapper_is_400(api: Api) -> None:
    response = api.post("/v2/coupon/series", json=minimal_series())
    assert response.status_code == 400 and codes(response) == [744]


def test_unknown_route_is_404_with_error_body(api: Api) -> None:
    response = api.get("/v2/nothing")
    assert response.status_code == 404 and codes(response) == [404]


# --- reads -----------------------------------------------------------------------------------


def test_read_ids_in_the_documented_form(api: Api, sandbox: Sandbox) -> None:
    # the Get page: "?ids=520591" and "Example: ?ids=18426&ids=84516"
    body = api.get("/v2/coupon/series?ids=520591&ids=698948").json()
    assert [e["id"] for e in body["entity"]] == [520591, 698948]
    assert body["warnings"] == []
    # no page shows ids=1,2: refused by default, taken when the switch says so
    comma = api.get("/v2/coupon/series?ids=520591,698948")
    assert comma.status_code == 400 and codes(comma) == [755]
    sandbox.configure(comma_ids="accept")
    body = api.get("/v2/coupon/series?ids=520591,698948").json()
    assert [e["id"] for e in body["entity"]] == [520591, 698948]


def test_unknown_id_is_left_out_with_a_warning(api: Api) -> None:
    body = api.get("/v2/coupon/series?ids=520591&ids=42").json()
    assert [e["id"] for e in body["entity"]] == [520591]
    assert body["warnings"] == [
        {"status": False, "code": 707, "message": "Coupon Series ID = 42 is invalid"}
    ]


def test_non_numeric_or_missing_ids_are_400(api: Api) -> None:
    assert codes(api.get("/v2/coupon/series?ids=abc")) == [755]
    assert codes(api.get("/v2/coupon/series?ids=")) == [755]
    assert codes(api.get("/v2/coupon/series")) == [755]


def test_max_batch(api: Api, sandbox: Sandbox) -> None:
    sandbox.configure(max_batch_size=2)
    assert api.get("/v2/coupon/series?ids=1&ids=2").status_code == 200
    assert api.get("/v2/coupon/series?ids=1&ids=1&ids=2").status_code == 200  # repeats: once
    too_many = api.get("/v2/coupon/series?ids=1&ids=2&ids=3")
    assert too_many.status_code == 400 and codes(too_many) == [400]
    assert "At most 2 ids" in too_many.json()["errors"][0]["message"]


def test_answers_carry_only_what_the_evidence_shows(api: Api) -> None:
    created = api.create(minimal_series())
    read = api.read(created["id"])[0]
    for answer in (created, read):
        assert "brandId" not in answer and "offerType" not in answer
        # gold_877510 (the newer Update page) carries the last second of the end day
        assert answer["validTillDateTime"] == "2031-01-30T23:59:59Z"
    assert created["warnings"] == [] and "warnings" not in read


# --- creates ---------------------------------------------------------------------------------


def test_create_fills_defaults_and_server_fields(api: Api) -> None:
    answer = api.create(
        minimal_series(
            orgId=1, createdBy=2, numIssued=50, id=7, campaignName="x", fixedExpiryDate=1, ownerId=5
        )
    )
    assert answer["id"] >= FIRST_NEW_ID
    assert answer["orgId"] == 100737 and answer["ownerId"] == -1
    assert answer["numIssued"] == 0 and answer["fixedExpiryDate"] == 1927497600000
    assert answer["validTillDate"] == "2031-01-30T00:00:00Z"
    assert "campaignName" not in answer
    assert answer["expiryStrategyValue"] == -1 and answer["maxCreate"] == -1  # gold_877510
    assert answer["redemptionPerCouponMaxLimit"] == -1
    assert answer["info"] == answer["tag"] == "Test 10 off"  # the description
    assert answer["redemptionValidFrom"] == answer["createdOn"][:10] + "T00:00:00Z"
    assert answer["shortSMSTemplate"].startswith("Hello {{cust_name}}")
    for absent in ("customPropertyMap", "targetUserDetails", "productInfo", "genericCode"):
        assert absent not in answer
    assert answer["latestIssualTime"] == 0 and answer["numUploadedTotal"] == 0


def test_new_ids_increase_and_codes_differ(api: Api) -> None:
    a = api.create(minimal_series())
    b = api.create(minimal_series())
    assert b["id"] == a["id"] + 1
    assert a["seriesCode"] != b["seriesCode"]


def test_required_on_create(api: Api) -> None:
    body = minimal_series()
    del body["discountCode"], body["validTillDate"]
    response = api.post("/v2/coupon/series", json={"CouponSeriesV2": body})
    assert response.status_code == 400 and codes(response) == [744, 744]
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "discountCode" in messages and "validTillDate" in messages


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("discountType", "HALF"),
        ("clientHandlingType", "X"),
        ("expiryStrategyType", "WEEKS"),
        ("discountOn", "CART"),
        ("seriesType", "X"),
        ("ownedBy", "ME"),
        ("anyUser", "yes"),
        ("maxCreate", "10"),
        ("validTillDate", "tomorrow"),
        ("couponPrefix", "has space"),
        ("productInfo", [{"productType": "COLOUR", "productIds": [1]}]),
        ("redemptionOrgEntityDetails", [{"redemptionOrgEntityType": "CITY", "orgEntityId": 1}]),
    ],
)
def test_invalid_values_are_400(api: Api, field: str, value: Any) -> None:
    response = api.post(
        "/v2/coupon/series", json={"CouponSeriesV2": minimal_series(**{field: value})}
    )
    assert response.status_code == 400 and codes(response) == [744], field


def test_generic_needs_generic_code(api: Api) -> None:
    response = api.post(
        "/v2/coupon/series", json={"CouponSeriesV2": minimal_series(clientHandlingType="GENERIC")}
    )
    assert response.status_code == 400 and codes(response) == [754]
    ok = api.create(minimal_series(clientHandlingType="GENERIC", genericCode="SAVE10"))
    assert ok["genericCode"] == "SAVE10"


@pytest.mark.parametrize(
    "value",
    [
        '{"dom": [32]}',
        '{"dow": [0]}',
        '{"hours": [24]}',
        '{"weeks": [1]}',
        "not json",
        "[1]",
        '{"dom": []}',
    ],
)
def test_invalid_redemption_range_is_729(api: Api, value: str) -> None:
    response = api.post(
        "/v2/coupon/series", json={"CouponSeriesV2": minimal_series(redemptionRange=value)}
    )
    assert response.status_code == 400 and codes(response) == [729]


def test_valid_redemption_range_is_kept_verbatim(api: Api) -> None:
    text = '{"dom" : [1, 13, 31], "dow": ["1", 7], "hours": [0, 23]}'
    assert api.create(minimal_series(redemptionRange=text))["redemptionRange"] == text


@pytest.mark.parametrize("value", ["[424242]", "nope", '{"a": 1}', '["x"]'])
def test_invalid_mutual_exclusive_ids_is_756(api: Api, value: str) -> None:
    response = api.post(
        "/v2/coupon/series", json={"CouponSeriesV2": minimal_series(mutualExclusiveSeriesIds=value)}
    )
    assert response.status_code == 400 and codes(response) == [756]


def test_mutual_exclusive_ids_of_existing_series(api: Api) -> None:
    answer = api.create(minimal_series(mutualExclusiveSeriesIds='[520591, "698948"]'))
    assert answer["mutualExclusiveSeriesIds"] == '[520591, "698948"]'


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({"redemptionPerCouponMaxLimit": 5}, True),
        ({"redemptionPerCouponMaxLimit": None}, True),
        ({"redemptionPerCouponMaxLimit": -1}, True),
        ({"redemptionPerCouponMaxLimit": 0}, False),
        ({"redemptionPerCouponMaxLimit": -5}, False),
        ({"redemptionPerCouponMaxLimit": 5, "anyUser": False}, False),
        (
            {"redemptionPerCouponMaxLimit": 5, "clientHandlingType": "GENERIC", "genericCode": "G"},
            False,
        ),
        ({"redemptionPerCouponMaxLimit": 5, "clientHandlingType": "DISC_CODE_PIN"}, True),
    ],
)
def test_redemption_per_coupon_limit_rules(api: Api, changes: dict[str, Any], ok: bool) -> None:
    response = api.post("/v2/coupon/series", json={"CouponSeriesV2": minimal_series(**changes)})
    if ok:
        assert response.status_code == 200
        expected = changes["redemptionPerCouponMaxLimit"] or -1
        assert response.json()["redemptionPerCouponMaxLimit"] == expected
    else:
        assert response.status_code == 400 and codes(response) == [744]


def test_normalisations_on_create(api: Api) -> None:
    answer = api.create(
        minimal_series(
            discountValue=12.3,
            maxCreate=2**32 + 5,
            maxRedeem=-(2**31) - 1,
            maxReferralsPerReferee=0,
            redeemStoreType="anything",
            redemptionValidFrom="2024-01-01T02:00:00+03:00",
        )
    )
    assert answer["discountValue"] == pytest.approx(12.3, rel=1e-6)
    assert answer["discountValue"] != 12.3  # single precision
    assert answer["maxCreate"] == 5 and answer["maxRedeem"] == 2**31 - 1
    assert answer["maxReferralsPerReferee"] == -1
    assert answer["redeemStoreType"] == "redeemable_stores"
    assert answer["redemptionValidFrom"] == "2023-12-31T00:00:00Z"


# --- updates ---------------------------------------------------------------------------------


def test_put_is_a_full_replacement(api: Api) -> None:
    created = api.create(
        minimal_series(
            info="keep?",
            maxCreate=100,
            customPropertyMap={"standard_terms_and_conditions": "t"},
            targetUserDetails={"validMaxUserTransactionLimit": 2},
        )
    )
    response = api.put(f"/v2/coupon/series/{created['id']}", json=put_body(created))
    assert response.status_code == 200, response.text
    after = response.json()
    # back to the defaults (info: the description, as on a create)
    assert after["info"] == "Test 10 off" and after["maxCreate"] == -1
    assert "customPropertyMap" not in after and "targetUserDetails" not in after
    assert after["validTillDate"] == created["validTillDate"]  # no default: kept
    for owned in ("id", "orgId", "createdBy", "createdOn", "numIssued", "seriesCode"):
        assert after[owned] == created[owned]
    assert api.read(created["id"])[0]["info"] == "Test 10 off"


def test_put_with_and_without_format_json(api: Api) -> None:
    created = api.create(minimal_series())
    for url in (
        f"/v2/coupon/series/{created['id']}",
        f"/v2/coupon/series/{created['id']}?format=json",
    ):
        response = api.put(url, json=put_body(created, description="new"))
        assert response.status_code == 200 and response.json()["description"] == "new"


def test_put_can_change_the_series_code(api: Api) -> None:
    created = api.create(minimal_series())
    after = api.put(
        f"/v2/coupon/series/{created['id']}", json=put_body(created, seriesCode="MYCODE")
    ).json()
    assert after["seriesCode"] == "MYCODE"


def test_put_required_fields_and_series_code(api: Api) -> None:
    created = api.create(minimal_series())
    body = put_body(created)
    del body["CouponSeriesV2"]["smsTemplate"]
    response = api.put(f"/v2/coupon/series/{created['id']}", json=body)
    assert response.status_code == 400 and codes(response) == [744]
    for code in ("", None):
        empty = api.put(
            f"/v2/coupon/series/{created['id']}", json=put_body(created, seriesCode=code)
        )
        assert empty.status_code == 400 and codes(empty) == [753]


def test_put_to_another_series_code_is_751(api: Api) -> None:
    created = api.create(minimal_series())
    response = api.put(
        f"/v2/coupon/series/{created['id']}", json=put_body(created, seriesCode="fEDH0qD8rr")
    )
    assert response.status_code == 400 and codes(response) == [751]


def test_put_unknown_or_invalid_id(api: Api) -> None:
    created = api.create(minimal_series())
    unknown = api.put("/v2/coupon/series/999999999", json=put_body(created))
    assert unknown.status_code == 404 and codes(unknown) == [707]
    invalid = api.put("/v2/coupon/series/abc", json=put_body(created))
    assert invalid.status_code == 400 and codes(invalid) == [755]
    zero = api.put("/v2/coupon/series/0", json=put_body(created))
    assert zero.status_code == 400 and codes(zero) == [755]


def test_put_max_create_below_issued(api: Api, sandbox: Sandbox) -> None:
    created = api.create(minimal_series())
    sandbox.set_issued(created["id"], 10)
    url = f"/v2/coupon/series/{created['id']}"
    below = api.put(url, json=put_body(created, maxCreate=9))
    assert below.status_code == 400 and codes(below) == [744]
    assert api.put(url, json=put_body(created, maxCreate=10)).status_code == 200
    assert api.put(url, json=put_body(created, maxCreate=-1)).status_code == 200
    assert api.read(created["id"])[0]["numIssued"] == 10


def test_put_past_valid_till_date_is_accepted(api: Api) -> None:
    # seeds/000: the PUT answered on 2025-05-12 set validTillDate 2025-04-25 (in the past)
    created = api.create(minimal_series())
    response = api.put(
        f"/v2/coupon/series/{created['id']}",
        json=put_body(created, validTillDate="2020-01-01T00:00:00Z"),
    )
    assert response.status_code == 200
    assert response.json()["fixedExpiryDate"] == 1577836800000


def test_put_onto_seeded_series_fills_redemption_limit(api: Api) -> None:
    seeded = api.read(520591)[0]
    assert "redemptionPerCouponMaxLimit" not in seeded
    after = api.put("/v2/coupon/series/520591", json=put_body(seeded)).json()
    assert after["redemptionPerCouponMaxLimit"] == -1
    assert after["numIssued"] == 3 and after["orgId"] == 100458


# --- behind the API's back, storage, concurrency -------------------------------------------


def test_edit_behind_the_back(api: Api, sandbox: Sandbox) -> None:
    created = api.create(minimal_series())
    edited = sandbox.edit_series(
        created["id"],
        {
            "description": "edited in the CRM",
            "validTillDate": "2032-02-02T10:00:00+05:30",
            "tag": None,
        },
    )
    assert edited["validTillDate"] == "2032-02-02T00:00:00Z"
    assert edited["fixedExpiryDate"] == 1959292800000
    read = api.read(created["id"])[0]
    assert read["description"] == "edited in the CRM" and "tag" not in read
    with pytest.raises(KeyError):
        sandbox.edit_series(1, {"description": "x"})
    with pytest.raises(ValueError, match="id"):
        sandbox.edit_series(created["id"], {"id": 5})


def test_control_counts_and_reset(api: Api, sandbox: Sandbox) -> None:
    assert sandbox.count_series() == 2
    api.create(minimal_series())
    assert sandbox.count_series() == 3
    assert {s["id"] for s in sandbox.all_series()} >= {520591, 698948}
    sandbox.configure(latency_seconds=0.01)
    sandbox.reset()
    assert sandbox.count_series() == 2 and sandbox.faults.latency_seconds == 0


def test_no_seed(tmp_path: Path) -> None:
    app = create_app(db_path=tmp_path / "e.db", credentials=CREDS, seed=False)
    assert app.state.sandbox.count_series() == 0
    assert Api(app).get("/v2/coupon/series?ids=520591").json()["entity"] == []
    app.state.sandbox.close()


def test_restart_keeps_the_data(db_path: Path) -> None:
    first = create_app(db_path=db_path, credentials=CREDS)
    created = Api(first).create(minimal_series())
    Api(first).put(
        f"/v2/coupon/series/{created['id']}", json=put_body(created, description="after")
    )
    first.state.sandbox.close()
    second = create_app(db_path=db_path, credentials=CREDS)
    assert second.state.sandbox.count_series() == 3  # not seeded twice
    assert Api(second).read(created["id"])[0]["description"] == "after"
    assert Api(second).create(minimal_series())["id"] == created["id"] + 1
    second.state.sandbox.close()


def test_concurrent_creates_get_distinct_ids(base_url: str, sandbox: Sandbox) -> None:
    def create(_: int) -> int:
        with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as client:
            answer = client.post("/v2/coupon/series", json={"CouponSeriesV2": minimal_series()})
            assert answer.status_code == 200
            ident: int = answer.json()["id"]
            return ident

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(16)))
    assert len(set(ids)) == 16
    assert sandbox.count_series() == 18


def test_faults_validate() -> None:
    with pytest.raises(ValueError, match="failure mode"):
        Faults(fail_next=["explode"])
    with pytest.raises(ValueError, match="failure_rate"):
        Faults(failure_rate=2)


def test_preload_stores_series_as_creates_would(sandbox: Sandbox) -> None:
    body = {
        "description": "Bulk",
        "discountCode": "BULK1",
        "validTillDate": "2030-09-30T00:00:00+05:30",
        "anyUser": True,
        "smsTemplate": "Hi",
        "discountValue": 150000000000000,
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "discountType": "ABS",
    }
    first, second = sandbox.preload([body, {**body, "discountCode": "BULK2"}])
    assert second == first + 1
    stored = sandbox.get_series(first)
    assert stored is not None
    assert stored["validTillDate"] == "2030-09-29T00:00:00Z"
    assert stored["discountValue"] == 150000004759552
