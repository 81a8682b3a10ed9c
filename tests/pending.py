"""Tests that wait for another engineer's half of issue 21, marked in one place.

The sandbox now answers as the vendor's evidence shows (``docs/sandbox.md``), and that shows
two guesses of the catalogue wrong, which engineer ``model`` fixes in the same round:

- a minimal create is answered ``expiryStrategyValue: -1`` (gold_877510), which ``import``
  writes and ``validate`` refuses ("must be at least 1"): issue 21, points 5 and 6;
- ``discountUpto`` is a float (the OpenAPI; stored in single precision) and eight more
  fields are int32 (they wrap): the tool does not model either: issue 21, point 7.

``NEEDS_MODEL`` is a strict xfail: once the catalogue lands, these tests pass, the mark turns
them into failures, and the mark is to be removed. ``SKIP_UNTIL_MODEL`` skips the two
property tests whose failing examples take minutes to shrink; ``tests/scenarios/
test_evidence_catalogue.py`` holds their known counter-examples under ``NEEDS_MODEL``.
"""

from __future__ import annotations

import pytest

NEEDS_MODEL = pytest.mark.xfail(
    strict=True,
    reason="needs engineer model's catalogue (issue 21.5-21.7): documented defaults such as "
    "expiryStrategyValue -1, float and int32 fields; remove this mark when it lands",
)

SKIP_UNTIL_MODEL = pytest.mark.skip(
    reason="needs engineer model's catalogue (issue 21.5-21.7); its known counter-examples "
    "are tests/scenarios/test_evidence_catalogue.py (strict xfail): unskip when they pass",
)
