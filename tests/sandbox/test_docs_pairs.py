"""Replay every request body of the vendor's pages and compare with the pages' answers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox import Sandbox

from . import docs_pairs
from .helpers import Api

# Fields the server owns or normalises, compared with the docs' answer value for value.
# (Times of the call, ids and the generated seriesCode are checked separately.)
NORMALISED = (
    "validTillDate",
    "redemptionValidFrom",
    "discountValue",
    "maxCreate",
    "maxRedeem",
    "redeemStoreType",
    "maxReferralsPerReferee",
    "fixedExpiryDate",
    "orgId",
    "validDaysFromCreation",
    "ownerId",
    "numIssued",
    "numRedeemed",
    "numTotal",
    "numUploadedNonIssued",
    "numUploadedTotal",
    "latestIssualTime",
    "latestRedemptionTime",
    "redemptionRange",
    "mutualExclusiveSeriesIds",
    "storeIdsJson",
    "redeemAtStore",
    "redemptionPerCouponMaxLimit",
    "discountUpto",
    "maxBillAmount",
)
TIMES_OF_CALL = ("createdOn", "lastUsed", "dvsExpiryDate", "createdBy", "id", "seriesCode")


def _compare(answer: dict[str, Any], documented: dict[str, Any], names: tuple[str, ...]) -> None:
    mismatches = {
        n: (answer.get(n, "<absent>"), documented.get(n, "<absent>"))
        for n in names
        if answer.get(n, "<absent>") != documented.get(n, "<absent>")
    }
    assert not mismatches, mismatches


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")


def test_create_pair_with_redemption_limit(api: Api) -> None:
    answer = api.create(copy.deepcopy(docs_pairs.CREATE_REQUEST["CouponSeriesV2"]))
    documented = docs_pairs.CREATE_RESPONSE
    _compare(answer, documented, NORMALISED)
    # every writable field the page answered, as the page answered it
    same = [k for k in documented if k not in TIMES_OF_CALL and k != "warnings"]
    _compare(answer, documented, tuple(same))
    assert answer["validTillDate"] == "2030-09-29T00:00:00Z"  # sent 2030-09-30T00:00+05:30
    assert answer["redemptionValidFrom"] == "1970-01-01T00:00:00Z"
    assert answer["fixedExpiryDate"] == 1916870400000  # sent 1916937000000
    assert answer["numTotal"] == 0  # sent -1
    assert answer["createdBy"] != 70  # sent 70
    assert answer["seriesCode"] != "seriesCode001"
    assert len(answer["seriesCode"]) == 10 and answer["seriesCode"].isalnum()
    assert answer["dvsExpiryDate"] == _today()  # sent 2022-02-23T00:00:00+05:30
    assert answer["createdOn"].startswith(_today()[:10])
    assert answer["id"] > 800000
    assert answer["redemptionRange"] == '{"dom":["-1"],"dow":["-1"],"hours":["-1"]}'
    assert answer["warnings"] == []
    assert api.read(answer["id"])[0]["seriesCode"] == answer["seriesCode"]


def test_create_minimal_request(api: Api) -> None:
    answer = api.create(copy.deepcopy(docs_pairs.CREATE_MINIMAL_REQUEST["CouponSeriesV2"]))
    assert answer["validTillDate"] == "2025-06-11T00:00:00Z"  # 2025-06-12T00:00+05:30
    assert answer["fixedExpiryDate"] == 1749600000000
    assert answer["anyUser"] is False
    assert answer["redemptionPerCouponMaxLimit"] == -1
    assert answer["mutualExclusiveSeriesIds"] == "[-1]"
    assert answer["redemptionRange"] == '{"dom" : [-1], "dow": [-1], "hours": [-1]}'
    assert answer["redeemStoreType"] == "redeemable_stores"
    assert answer["maxReferralsPerReferee"] == -1
    for absent in (
        "customPropertyMap",
        "targetUserDetails",
        "productInfo",
        "genericCode",
        "campaignName",
    ):
        assert absent not in answer


def test_update_pair_as_put_onto_a_created_series(api: Api, sandbox: Sandbox) -> None:
    created = api.create(copy.deepcopy(docs_pairs.CREATE_MINIMAL_REQUEST["CouponSeriesV2"]))
    response = api.put(
        f"/v2/coupon/series/{created['id']}?format=json", json=docs_pairs.UPDATE_REQUEST
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    documented = docs_pairs.UPDATE_RESPONSE
    _compare(answer, documented, NORMALISED)
    same = [k for k in documented if k not in TIMES_OF_CALL and k != "warnings"]
    _compare(answer, documented, tuple(same))
    assert answer["discountValue"] == 150000004759552  # sent 150000000000000
    assert answer["maxCreate"] == 1316432742  # sent 10000000297830
    assert answer["maxRedeem"] == 1316863212  # sent 10000000728300
    assert answer["validTillDate"] == "2025-04-25T00:00:00Z"  # sent 2025-04-25T23:50:79+05:30
    assert answer["redemptionValidFrom"] == "2025-04-23T00:00:00Z"  # 2025-04-24T00:00+05:30
    assert answer["redeemStoreType"] == "redeemable_stores"  # sent "string"
    assert answer["maxReferralsPerReferee"] == -1  # sent 0
    assert answer["ownerId"] == -1 and answer["orgId"] == 100737  # sent 0 and 0
    assert answer["validDaysFromCreation"] == 30  # sent 0
    assert answer["numTotal"] == 0  # sent 10
    assert answer["seriesCode"] == "string"  # kept on update
    assert answer["dvsExpiryDate"] == _today()
    assert answer["lastUsed"].startswith(_today()[:10])
    assert answer["createdOn"] == created["createdOn"]  # kept from the create
    assert answer["id"] == created["id"]
    assert "campaignName" not in answer
    assert answer["warnings"] == []
    assert sandbox.get_series(created["id"]) == {
        k: v for k, v in answer.items() if k not in ("warnings", "brandId", "offerType")
    }


def test_get_page_answers_are_seeded(api: Api) -> None:
    got = api.read(520591, 698948)
    assert [g["id"] for g in got] == [520591, 698948]
    assert got[0]["customPropertyMap"] == {"standard_terms_and_conditions": "terms and condtion"}
    assert got[0]["numIssued"] == 3
    assert "redemptionPerCouponMaxLimit" not in got[0]  # as the page answered
    assert got[1]["redemptionPerCouponMaxLimit"] == 3
    assert got[1]["seriesCode"] == "fEDH0qD8rr"
    assert "warnings" not in got[0]
