"""What the engine needs of an API client, in plain data: the ports the client plugs into.

The planner and the applier depend on these protocols, never on ``CouponClient`` (tests hand
them fakes); the client returns ``FetchResult`` and satisfies the protocols (checked by mypy
in ``reconciler.client.protocols``). They sit below both, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class FetchResult:
    """The series that came back, by id; the ids asked for that did not; the API's warnings."""

    found: dict[int, dict[str, Any]]
    missing: tuple[int, ...] = ()
    warnings: tuple[Any, ...] = ()


class SeriesReader(Protocol):
    """Reads series by id and lists the org (the planner's needs)."""

    async def get_series(self, ids: Sequence[int]) -> FetchResult: ...

    async def list_series(self) -> list[dict[str, Any]]: ...


class SeriesApi(SeriesReader, Protocol):
    """Everything the applier calls."""

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]: ...

    async def update_series(self, series_id: int, fields: Mapping[str, Any]) -> dict[str, Any]: ...
