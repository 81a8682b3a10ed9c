"""``engine/early_list.py``: the org's list, started before the files load.

A fake reader records every call; the promises: the list starts at once and is given once,
reads go to the API batch by batch, and a list nobody asked for is cancelled with its error.
Through the service: ``tests/test_service.py``.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from reconciler.engine.early_list import EarlyList
from reconciler.model.ports import FetchResult, ListedSeries, Listing


class Recorder:
    def __init__(self, *, fail_list: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_list = fail_list

    async def list_series(self) -> Listing:
        self.calls.append("list")
        await asyncio.sleep(0.01)
        if self.fail_list:
            raise RuntimeError("list failed")
        return Listing(series=(ListedSeries(series_id=1),))

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        self.calls.append(f"get {list(ids)}")
        return FetchResult(found={i: {"id": i} for i in ids})


class Streaming(Recorder):
    async def stream_series(self, ids: Sequence[int]) -> AsyncGenerator[FetchResult, None]:
        for i in ids:
            self.calls.append(f"batch {i}")
            yield FetchResult(found={i: {"id": i}})


def test_the_list_starts_at_once_and_is_given_once() -> None:
    api = Recorder()

    async def go() -> None:
        async with EarlyList(reader=api) as reader:
            await asyncio.sleep(0.02)  # the files load meanwhile
            assert api.calls == ["list"]
            first = await reader.list_series()
            assert [s.series_id for s in first.series] == [1]
            assert api.calls == ["list"]
            await reader.list_series()  # a later list is a call of its own
            assert api.calls == ["list", "list"]

    asyncio.run(go())


def test_reads_go_to_the_api_batch_by_batch() -> None:
    api = Streaming()

    async def go() -> list[FetchResult]:
        async with EarlyList(reader=api) as reader:
            return [batch async for batch in reader.stream_series([5, 6])]

    assert [set(b.found) for b in asyncio.run(go())] == [{5}, {6}]
    assert [c for c in api.calls if c != "list"] == ["batch 5", "batch 6"]


def test_a_reader_that_cannot_stream_answers_at_once() -> None:
    api = Recorder()

    async def go() -> list[FetchResult]:
        async with EarlyList(reader=api) as reader:
            return [batch async for batch in reader.stream_series([5, 6])]

    assert [set(b.found) for b in asyncio.run(go())] == [{5, 6}]


def test_a_failed_list_is_raised_where_it_is_asked_for() -> None:
    async def go() -> None:
        async with EarlyList(reader=Recorder(fail_list=True)) as reader:
            await reader.list_series()

    with pytest.raises(RuntimeError, match="list failed"):
        asyncio.run(go())


@pytest.mark.parametrize("fail", [False, True])
def test_a_list_nobody_asked_for_is_dropped_with_its_error(fail: bool) -> None:
    """A plan that fails before it needs the list (a file with a problem): the call is
    cancelled, a failed one's error is not reported later by the event loop."""
    reported: list[dict[str, Any]] = []

    async def go() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: reported.append(ctx))
        async with EarlyList(reader=Recorder(fail_list=fail)):
            if fail:
                await asyncio.sleep(0.05)  # it failed meanwhile
            raise ValueError("the files have problems")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="problems"):
            asyncio.run(go())
        gc.collect()
    assert reported == []
