"""Test fakes' org listings: v2-form series (camelCase) as the list call's ``Listing``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.model.ports import ListedSeries, Listing


def listing(series: Iterable[Mapping[str, Any]]) -> Listing:
    """``series`` (each with an ``id``) as the org's list would give them."""
    return Listing(
        series=tuple(
            ListedSeries(
                series_id=int(s["id"]),
                series_code=str(s.get("seriesCode") or ""),
                discount_code=str(s.get("discountCode") or ""),
                description=str(s.get("description") or ""),
                created=str(s.get("createdOn") or ""),
                valid_till=str(s.get("validTillDate") or ""),
                issued=s.get("numIssued"),
                redeemed=s.get("numRedeemed"),
            )
            for s in series
        )
    )
