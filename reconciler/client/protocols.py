"""``CouponClient`` satisfies the engine's ports (``reconciler.model.ports``): mypy checks it
here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.model.ports import BatchReader, SeriesApi, SeriesReader

if TYPE_CHECKING:
    from reconciler.client.coupons import CouponClient


if TYPE_CHECKING:

    def _coupon_client_is_a_series_api(client: CouponClient) -> SeriesApi:
        return client  # mypy fails here if CouponClient drifts from the protocol

    def _coupon_client_streams(client: CouponClient) -> BatchReader:
        return client


__all__ = ["BatchReader", "SeriesApi", "SeriesReader"]
