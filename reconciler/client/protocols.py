"""What the engine needs of a client, typed with the client's real results.

The planner and the applier depend on these rather than on ``CouponClient``, so that tests
may hand them a fake; ``CouponClient`` satisfies all of them (checked by mypy, below).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.client.events import FetchResult

if TYPE_CHECKING:
    from reconciler.client.coupons import CouponClient


class SeriesReader(Protocol):
    """Reads series by id (the planner's need)."""

    async def get_series(self, ids: Sequence[int]) -> FetchResult: ...


class SeriesLister(Protocol):
    """Lists every series of the org, camelCase keys, an integer ``id`` each."""

    async def list_series(self) -> list[dict[str, Any]]: ...


class SeriesApi(SeriesReader, SeriesLister, Protocol):
    """Everything the applier calls."""

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]: ...

    async def update_series(self, series_id: int, fields: Mapping[str, Any]) -> dict[str, Any]: ...


if TYPE_CHECKING:

    def _coupon_client_is_a_series_api(client: CouponClient) -> SeriesApi:
        return client  # mypy fails here if CouponClient drifts from the protocol


__all__ = ["SeriesApi", "SeriesLister", "SeriesReader"]
