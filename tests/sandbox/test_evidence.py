"""The sandbox against the vendor's examples, verbatim (``tests/data/evidence/``).

Each test makes the sandbox produce what one published example shows and compares the two
field by field: the answer to a minimal create (gold_877510), the Create and Update pairs,
the Get page's answers, and the v1.1 list. Only what depends on the moment of the call (ids,
times, the generated seriesCode, the user) is left out of a comparison, and each test says
which.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox import Sandbox
from tests.vendor_evidence import evidence

from .helpers import Api

# Values of the moment of the call, or of who made it: never equal to a page's.
OF_THE_CALL = {"id", "createdOn", "lastUsed", "dvsExpiryDate", "seriesCode", "createdBy"}


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")


def _gold_request() -> dict[str, Any]:
    """The required fields of gold_877510, as a create would send them."""
    gold = evidence("gold_877510")
    body = {
        name: gold[name]
        for name in (
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
    body["validTillDate"] = "2026-06-11T05:30:00+05:30"  # the UTC day 2026-06-11
    return body


def test_a_minimal_create_is_answered_as_gold_877510(api: Api) -> None:
    gold = evidence("gold_877510")
    answer = api.create(_gold_request())
    assert list(answer) == list(gold)  # the same keys, in the same order
    differ = {
        k: (answer[k], gold[k])
        for k in gold
        if k not in OF_THE_CALL | {"redemptionValidFrom"} and answer[k] != gold[k]
    }
    assert not differ, differ
    # derived at creation: the creation day (gold: created 2025-10-09T06:45:15Z, from
    # 2025-10-09T00:00:00Z), and the description for info and tag (compared above)
    assert answer["redemptionValidFrom"] == _today() == answer["createdOn"][:10] + "T00:00:00Z"
    assert answer["info"] == answer["tag"] == "Gold star coupons"


def test_the_defaults_are_the_documented_ones(api: Api) -> None:
    answer = api.create(_gold_request())
    # the list, one by one (both minimal creates of the pages agree on them)
    assert answer["expiryStrategyValue"] == -1
    assert answer["minBillAmount"] == -1 and answer["maxBillAmount"] == -1
    assert answer["alphaNumeric"] is False and answer["randomCodeLength"] == 0
    assert answer["resendMessageEnabled"] is True
    assert answer["termsAndConditions"] == "T&C"
    assert answer["validTillDateTime"] == "2026-06-11T23:59:59Z"


def test_a_put_of_the_required_fields_keeps_the_creation_day(api: Api) -> None:
    made = api.create(_gold_request())
    body = {**_gold_request(), "seriesCode": made["seriesCode"], "orgId": made["orgId"]}
    del body["validTillDate"]
    response = api.put(f"/v2/coupon/series/{made['id']}?format=json", json={"CouponSeriesV2": body})
    assert response.status_code == 200, response.text
    after = response.json()
    assert {k: v for k, v in after.items() if k not in {"lastUsed"}} == {
        k: v for k, v in made.items() if k not in {"lastUsed"}
    }


def test_the_create_pair_replayed(api: Api) -> None:
    pair = evidence("create_pair")
    answer = api.create(copy.deepcopy(pair["req"]))
    documented = pair["ans"]
    # the older page's answer has no validTillDateTime (gold_877510, newer, has it)
    assert set(answer) - set(documented) == {"validTillDateTime"}
    differ = {
        k: (answer.get(k, "<absent>"), v)
        for k, v in documented.items()
        if k not in OF_THE_CALL and answer.get(k, "<absent>") != v
    }
    assert not differ, differ


def test_the_update_pair_replayed(api: Api, sandbox: Sandbox) -> None:
    pair = evidence("update_pair")
    made = api.create(_gold_request())
    response = api.put(
        f"/v2/coupon/series/{made['id']}?format=json", json={"CouponSeriesV2": pair["req"]}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    documented = pair["ans"]
    assert set(answer) - set(documented) == {"validTillDateTime"}
    # the page's series was made elsewhere: its creation is not this one's
    differ = {
        k: (answer.get(k, "<absent>"), v)
        for k, v in documented.items()
        if k not in OF_THE_CALL and answer.get(k, "<absent>") != v
    }
    assert not differ, differ
    assert answer["seriesCode"] == "string"  # kept on update, as sent
    assert answer["createdOn"] == made["createdOn"]


def test_the_get_answers_are_the_pages(api: Api) -> None:
    for page in evidence("gets"):
        (entity,) = page["entity"]
        response = api.get(f"/v2/coupon/series?ids={entity['id']}")
        assert response.status_code == 200
        assert response.json() == page  # the whole body, byte for byte as data
        assert list(response.json()["entity"][0]) == list(entity)


def _the_example_series(api: Api, sandbox: Sandbox) -> int:
    """Series 405 of the v1.1 example, made through the API and the CRM's screens."""
    made = api.create(
        {
            "description": "API Coupon 3",
            "discountCode": "XYZ123",
            "validTillDate": "2017-12-31T00:00:00+00:00",
            "anyUser": False,
            "smsTemplate": "Hi",
            "discountValue": 10,
            "clientHandlingType": "DISC_CODE",
            "expiryStrategyType": "DAYS",
            "expiryStrategyValue": 30,
            "discountType": "PERC",
            "seriesType": "CAMPAIGN",
            "campaignId": 458,
            "isMultipleVouchersPerUserAllowed": True,
            "redemptionRange": '{"dom":["-1"],"dow":["-1"],"hours":["-1"]}',
            "minBillAmount": 0,
            "maxBillAmount": 0,
            "redemptionValidFrom": "2014-04-30T00:00:00+00:00",
            "offlineRedeemType": True,
            "redemptionOrgEntityDetails": [
                {"redemptionOrgEntityType": "TILL", "orgEntityId": 12808452}
            ],
        }
    )
    sandbox.edit_series(
        made["id"],
        {
            "seriesCode": "G8Z08NZL",
            "createdBy": 4,
            # the example's "2016-12-09 08:35:15" in the server's zone (+05:30 by default)
            "createdOn": "2016-12-09T03:05:15Z",
            "lastUsed": "2016-12-09T03:05:15Z",
            "dvsExpiryDate": "2017-01-09T00:00:00Z",
            "numIssued": 4558,
            "numRedeemed": 924,
        },
    )
    return int(made["id"])


def test_the_v1_1_list_is_the_example(tmp_path: Any) -> None:
    from reconciler.sandbox import create_app

    from .helpers import CREDS

    app = create_app(db_path=tmp_path / "one.db", credentials=CREDS, seed=False)
    sandbox: Sandbox = app.state.sandbox
    try:
        api = Api(app)
        sid = _the_example_series(api, sandbox)
        body = api.get("/v1.1/coupon/series?format=json").json()
        example = evidence("v1_1_list_example")
        example["response"]["series"]["items"]["item"]["id"] = str(sid)
        assert body == example  # every key, every value, every string
        item = body["response"]["series"]["items"]["item"]
        assert list(item) == list(example["response"]["series"]["items"]["item"])
    finally:
        sandbox.close()


def test_the_v1_1_list_has_the_documented_keys_and_types(api: Api) -> None:
    api.create(_gold_request())
    body = api.get("/v1.1/coupon/series?format=json").json()
    example = evidence("v1_1_list_example")["response"]
    assert body["response"]["status"] == example["status"]
    items = body["response"]["series"]["items"]["item"]
    assert isinstance(items, list) and len(items) == 3  # several: a list
    model = example["series"]["items"]["item"]
    for item in items:
        assert list(item) == list(model)
        for key, value in item.items():
            assert type(value) is type(model[key]) or key == "valid_redemption_org_entities", key
        assert set(item["valid_redemption_org_entities"]) == {
            "concepts",
            "zones",
            "stores",
            "tills",
        }
        assert item["item_status"] == model["item_status"]
        assert "generic_code" not in item
        for key in ("any_user", "transferrable", "multiple_use", "disable_sms"):
            assert item[key] in ("0", "1"), key
        for key in ("valid_with_discounted_item", "offline_redemption_enabled"):
            assert item[key] in ("true", "false"), key
        assert len(item["created"]) == 19 and item["created"][10] == " "  # no offset
        assert len(item["valid_till_date"]) == 10  # a day, no time
