"""The org's list, asked for while the files are still being loaded.

A whole plan of a large folder spends seconds loading its files and seconds more waiting for
the org's list (two calls of tens of megabytes at 10,000 series); neither needs the other
to start. ``EarlyList`` starts the list at once and answers the planner's first
``list_series`` from it (``early_service``), so the two waits overlap.

Only the list: the reads by id come after the load, batch by batch, and the planner drops
each batch's unchanged series before the next (``planner.read_live``); read before the
load, every answer would be held at once (about 44 MB at 10,000 series). The list is
given once; every later call goes to the API, so nothing of this outlives the plan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from types import TracebackType
from typing import Self

from reconciler.model.ports import FetchResult, Listing, SeriesReader, batches_of


class EarlyList:
    """A ``SeriesReader`` whose first list was started when it was made.

    Use it as an async context manager: leaving it cancels the list when nobody asked for
    it (a plan that failed before it needed it), and drops its error with it.
    """

    def __init__(self, *, reader: SeriesReader) -> None:
        self._reader = reader
        self._list: asyncio.Task[Listing] | None = asyncio.ensure_future(reader.list_series())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._list is not None:
            task, self._list = self._list, None
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def list_series(self) -> Listing:
        if self._list is None:
            return await self._reader.list_series()
        task, self._list = self._list, None
        return await task

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        return await self._reader.get_series(ids)

    async def stream_series(self, ids: Sequence[int]) -> AsyncGenerator[FetchResult, None]:
        async with contextlib.aclosing(batches_of(self._reader, ids)) as batches:
            async for batch in batches:
                yield batch
