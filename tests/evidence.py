"""The vendor's own examples, read verbatim from ``tests/data/evidence/`` (copied unchanged from
the vendor's pages as data): the oracle the catalogue and the importer are checked against.

Nothing here is computed from the tool's code, so a test that compares the two proves
something about the tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVIDENCE = Path(__file__).resolve().parent / "data" / "evidence"


def load(name: str) -> Any:
    return json.loads((EVIDENCE / name).read_text(encoding="utf-8"))


# The answer to a create that sent only the required fields (the newer Update page).
GOLD_877510: dict[str, Any] = load("gold_877510.json")
# The GET page's two series.
GET_520591: dict[str, Any] = load("gets.json")[0]["entity"][0]
GET_698948: dict[str, Any] = load("gets.json")[1]["entity"][0]
# The request/response pairs of the Create and Update pages.
CREATE_PAIR: dict[str, Any] = load("create_pair.json")
UPDATE_PAIR: dict[str, Any] = load("update_pair.json")

# Every documented answer that is a whole series, by id.
ANSWERS: dict[int, dict[str, Any]] = {
    877510: GOLD_877510,
    520591: GET_520591,
    698948: GET_698948,
    751412: UPDATE_PAIR["ans"],
}
# The create page's answer is series 698948 again, as the create made it.
CREATED_698948: dict[str, Any] = CREATE_PAIR["ans"]

# The fields the Create page marks required: what the minimal create of 877510 sent.
REQUIRED_ON_CREATE = (
    "description",
    "discountCode",
    "validTillDate",
    "anyUser",
    "smsTemplate",
    "discountValue",
    "clientHandlingType",
    "expiryStrategyType",
    "discountType",
)
