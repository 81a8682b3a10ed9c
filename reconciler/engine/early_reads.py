"""The org's list and the state's series, read while the files are still being loaded.

A whole plan of a large folder spends seconds loading its files and seconds more waiting for
the API; neither needs the other to start. ``EarlyReads`` starts the list and the reads of
the state's ids at once and answers the planner's first calls from them, so the two waits
overlap (``service.make_plan``).

Nothing read early is trusted more than a read made then: the state's ids only choose what
to read, identity still judges every id against the list, and an early answer is given only
for a series that list shows (a state id the list leaves out is read again after it, as the
planner's check of an incomplete list needs: read by id *after* the list). Each early answer
is given once, and the list once; every later call goes to the API, so nothing of this
outlives the plan it was made for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from reconciler.model.ports import FetchResult, Listing, SeriesReader


class EarlyReads:
    """A ``SeriesReader`` whose first list and reads of ``ids`` were started when it was made.

    Use it as an async context manager: leaving it cancels what nobody asked for (a plan
    that failed before it needed them), and its errors are dropped with it.
    """

    def __init__(self, *, reader: SeriesReader, ids: Sequence[int]) -> None:
        self._reader = reader
        self._list: asyncio.Task[Listing] | None = asyncio.ensure_future(reader.list_series())
        wanted = sorted(set(ids))
        self._reads: asyncio.Task[FetchResult] | None = (
            asyncio.ensure_future(reader.get_series(wanted)) if wanted else None
        )
        self._unused = frozenset(wanted)
        self._listed: frozenset[int] = frozenset()
        self._warned = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        pending = [t for t in (self._list, self._reads) if t is not None]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task

    async def list_series(self) -> Listing:
        if self._list is None:
            return await self._reader.list_series()
        task, self._list = self._list, None
        listing = await task
        self._listed = frozenset(s.series_id for s in listing.series)
        return listing

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        asked = list(dict.fromkeys(ids))
        usable = self._unused & self._listed
        early = [i for i in asked if i in usable]
        if not early or self._reads is None:
            return await self._reader.get_series(asked)
        answered = await self._reads
        self._unused -= set(early)
        found = {i: answered.found[i] for i in early if i in answered.found}
        missing = [i for i in early if i not in answered.found]
        # The reads' own warnings (a batch refused whole) once, with the first early answer.
        warnings: tuple[Any, ...] = () if self._warned else answered.warnings
        self._warned = True
        if not self._unused:
            self._reads = None
        rest = [i for i in asked if i not in usable]
        if rest:
            more = await self._reader.get_series(rest)
            found.update(more.found)
            missing += more.missing
            warnings += more.warnings
        return FetchResult(found=found, missing=tuple(missing), warnings=warnings)
