"""The request/response pairs of the vendor's pages, as the tests replay them.

The pairs are read from ``tests/data/evidence/`` (the vendor's examples copied verbatim), so
the sandbox is checked against the published data itself and not against a copy someone
retyped. ``seeds/NNN`` names the vendor's reference page each comes from (update, create,
get); the Create page's short request, which has no answer, is kept here as literal data.
"""

from __future__ import annotations

from typing import Any

from tests.vendor_evidence import evidence

_UPDATE = evidence("update_pair")
_CREATE = evidence("create_pair")

# seeds/000: the request body of the update page, and its answer
UPDATE_REQUEST: dict[str, Any] = {"CouponSeriesV2": _UPDATE["req"]}
UPDATE_RESPONSE: dict[str, Any] = _UPDATE["ans"]

# seeds/003: 'With redemptionPerCouponMaxLimit' request, and its answer
CREATE_REQUEST: dict[str, Any] = {"CouponSeriesV2": _CREATE["req"]}
CREATE_RESPONSE: dict[str, Any] = _CREATE["ans"]

# seeds/002: the Get page's two answers (``GET /v2/coupon/series?ids=``)
GET_ANSWERS: list[dict[str, Any]] = evidence("gets")

# The newer Update page's "Result": a series made with only the required fields
GOLD_877510: dict[str, Any] = evidence("gold_877510")

# seeds/003: 'Request body' (no real answer is shown for it)
CREATE_MINIMAL_REQUEST: dict[str, Any] = {
    "CouponSeriesV2": {
        "description": "April 100",
        "discountCode": "XYZ12345",
        "validTillDate": "2025-06-12T00:00:00+05:30",
        "anyUser": False,
        "smsTemplate": "Hi {{first_name}} {{last_name}} your voucher code "
        "//////{{voucher}}is valid",
        "discountValue": 500,
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "discountType": "ABS",
    }
}
