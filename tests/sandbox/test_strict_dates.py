"""``Faults.strict_dates``: the sandbox refuses any date-time not in the docs' request form."""

from __future__ import annotations

import copy

import pytest

from reconciler.sandbox import Sandbox

from . import docs_pairs
from .helpers import Api, minimal_series

NOT_DOCUMENTED = [
    "2031-01-31 00:00:00+05:30",
    "2031-01-31T00:00:00Z",
    "2031-01-31T00:00:00z",
    "2031-01-31T00:00+05:30",
    "2031-01-31T00:00:00+05",
    "2031-01-31T00:00:00+0530",
    "2031-01-31T00:00:00.5+05:30",
    "2031-01-31",
    " 2031-01-31T00:00:00+05:30",
]


@pytest.mark.parametrize("spelling", NOT_DOCUMENTED)
@pytest.mark.parametrize("name", ["validTillDate", "redemptionValidFrom"])
def test_strict_mode_refuses_other_spellings_on_create_and_update(
    api: Api, sandbox: Sandbox, name: str, spelling: str
) -> None:
    made = api.create(minimal_series())  # default: lenient, as the real server's parser
    assert api.create(minimal_series(discountCode="LENIENT", **{name: spelling}))["id"]
    sandbox.configure(strict_dates=True)
    before = sandbox.count_series()
    response = api.post(
        "/v2/coupon/series", json={"CouponSeriesV2": minimal_series(**{name: spelling})}
    )
    assert response.status_code == 400
    assert response.json() == {
        "warnings": [],
        "errors": [
            {
                "status": False,
                "code": 744,
                "message": f'{name} must be YYYY-MM-DDTHH:MM:SS+hh:mm, not "{spelling}"',
            }
        ],
        "success": False,
    }
    assert sandbox.count_series() == before
    body = minimal_series(seriesCode=made["seriesCode"], orgId=made["orgId"], **{name: spelling})
    response = api.put(f"/v2/coupon/series/{made['id']}", json={"CouponSeriesV2": body})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 744
    assert sandbox.get_series(made["id"]) == {
        k: v for k, v in made.items() if k not in ("warnings", "brandId", "offerType")
    }


def test_strict_mode_takes_the_documented_form_and_the_docs_own_requests(
    api: Api, sandbox: Sandbox
) -> None:
    sandbox.configure(strict_dates=True)
    made = api.create(minimal_series(redemptionValidFrom="2030-01-01T10:00:00-08:00"))
    assert made["redemptionValidFrom"] == "2030-01-01T00:00:00Z"
    for body in (docs_pairs.CREATE_REQUEST, docs_pairs.CREATE_MINIMAL_REQUEST):
        assert api.create(copy.deepcopy(body["CouponSeriesV2"]))["id"]
    response = api.put(
        f"/v2/coupon/series/{made['id']}?format=json", json=docs_pairs.UPDATE_REQUEST
    )
    assert response.status_code == 200, response.text


def test_strict_mode_names_every_bad_date_at_once(api: Api, sandbox: Sandbox) -> None:
    sandbox.configure(strict_dates=True)
    body = minimal_series(validTillDate=20310131, redemptionValidFrom="2031-01-31Z")
    response = api.post("/v2/coupon/series", json={"CouponSeriesV2": body})
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        "validTillDate must be YYYY-MM-DDTHH:MM:SS+hh:mm, not 20310131",
        'redemptionValidFrom must be YYYY-MM-DDTHH:MM:SS+hh:mm, not "2031-01-31Z"',
    ]
