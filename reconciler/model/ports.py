"""What the engine needs of an API client, in plain data: the ports the client plugs into.

The planner and the applier depend on these protocols, never on ``CouponClient`` (tests hand
them fakes); the client returns ``FetchResult`` and satisfies the protocols (checked by mypy
in ``reconciler.client.protocols``). They sit below both, so neither imports the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class FetchResult:
    """The series that came back, by id; the ids asked for that did not; the API's warnings."""

    found: dict[int, dict[str, Any]]
    missing: tuple[int, ...] = ()
    warnings: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedSeries:
    """One series of the org's list (v1.1): only what identity and the plan read of it.

    The client builds it from the list's own spelling; nothing else of the answer is kept
    (a 10,000-series list answer is tens of megabytes). ``created`` is the creation time as
    the server wrote it (the list gives no zone); ``valid_till`` likewise.
    """

    series_id: int
    series_code: str = ""
    discount_code: str = ""
    description: str = ""
    created: str = ""
    valid_till: str = ""
    issued: int | None = None
    redeemed: int | None = None


@dataclass(frozen=True)
class Listing:
    """Every series of the org, as one list call (or several merged) answered it."""

    series: tuple[ListedSeries, ...] = ()


class SeriesReader(Protocol):
    """Reads series by id and lists the org (the planner's needs)."""

    async def get_series(self, ids: Sequence[int]) -> FetchResult: ...

    async def list_series(self) -> Listing: ...


@runtime_checkable
class BatchReader(Protocol):
    """A reader that also answers batch by batch (the real client): a plan then drops each
    series it has planned before the next batch comes (``planner.read_live``)."""

    def stream_series(self, ids: Sequence[int]) -> AsyncGenerator[FetchResult, None]: ...


async def batches_of(reader: SeriesReader, ids: Sequence[int]) -> AsyncGenerator[FetchResult, None]:
    """The series of ``ids`` batch by batch when ``reader`` can (``BatchReader``), else in
    one batch. Close it with ``contextlib.aclosing``: the batches still in flight are
    cancelled then, not when it is collected."""
    if isinstance(reader, BatchReader):
        async with contextlib.aclosing(reader.stream_series(ids)) as batches:
            async for batch in batches:
                yield batch
    else:
        yield await reader.get_series(ids)


class SeriesApi(SeriesReader, Protocol):
    """Everything the applier calls."""

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]: ...

    async def update_series(
        self, series_id: int, fields: Mapping[str, Any], *, org_id: int | None
    ) -> dict[str, Any]:
        """PUT ``fields`` (a full replacement) with ``org_id``, the live series' ``orgId``."""
        ...
