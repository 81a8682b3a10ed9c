"""``engine/early_reads.py``: the list and the state's reads started before the files load.

A fake reader records every call in order; the promises: the early list and each early
answer are given once, an early answer only for a series the list showed (a state id the
list leaves out is read again, after the list), and what nobody asked for is cancelled with
its errors. Through the CLI over loopback: ``tests/scenarios/test_early_reads_plan.py``.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Sequence
from typing import Any

import pytest

from reconciler.engine.early_reads import EarlyReads
from reconciler.model.ports import FetchResult, ListedSeries, Listing


class Recorder:
    """Series 1, 2 and 3 exist; the list shows 1 and 2 only (an incomplete list)."""

    def __init__(self, *, fail_list: bool = False, fail_reads: bool = False) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        self.fail_list = fail_list
        self.fail_reads = fail_reads
        self.stored = {i: {"id": i, "description": f"series {i}"} for i in (1, 2, 3)}

    async def list_series(self) -> Listing:
        self.calls.append(("list", ()))
        await asyncio.sleep(0.01)
        if self.fail_list:
            raise RuntimeError("list failed")
        return Listing(series=(ListedSeries(series_id=1), ListedSeries(series_id=2)))

    async def get_series(self, ids: Sequence[int]) -> FetchResult:
        self.calls.append(("get", tuple(ids)))
        await asyncio.sleep(0.01)
        if self.fail_reads:
            raise RuntimeError("reads failed")
        found = {i: dict(self.stored[i]) for i in ids if i in self.stored}
        return FetchResult(found=found, missing=tuple(i for i in ids if i not in found))


def run(work: Any) -> Any:
    return asyncio.run(work)


def test_the_list_and_the_state_reads_start_before_anyone_asks() -> None:
    api = Recorder()

    async def go() -> None:
        async with EarlyReads(reader=api, ids=[2, 1, 2]):
            await asyncio.sleep(0.05)  # the files load meanwhile
            assert api.calls == [("list", ()), ("get", (1, 2))]

    run(go())


def test_early_answers_are_given_once_and_only_for_listed_series() -> None:
    api = Recorder()

    async def go() -> list[FetchResult]:
        async with EarlyReads(reader=api, ids=[1, 2, 3]) as reader:
            listing = await reader.list_series()
            assert [s.series_id for s in listing.series] == [1, 2]
            first = await reader.get_series([3])  # unlisted: read again, after the list
            second = await reader.get_series([1, 2, 9])  # 1, 2 early; 9 asked now
            third = await reader.get_series([1])  # given once: asked again
            await reader.list_series()  # the second list is a call of its own
            return [first, second, third]

    first, second, third = run(go())
    assert api.calls == [
        ("list", ()),
        ("get", (1, 2, 3)),
        ("get", (3,)),
        ("get", (9,)),
        ("get", (1,)),
        ("list", ()),
    ]
    assert set(first.found) == {3}
    assert set(second.found) == {1, 2} and second.missing == (9,)
    assert set(third.found) == {1}


def test_no_early_answer_is_given_before_the_list_was() -> None:
    """A read asked before the list (no plan does) goes to the API: nothing early is
    known to be listed yet."""
    api = Recorder()

    async def go() -> FetchResult:
        async with EarlyReads(reader=api, ids=[1]) as reader:
            return await reader.get_series([1])

    assert set(run(go()).found) == {1}
    assert sorted(api.calls) == [("get", (1,)), ("get", (1,)), ("list", ())]


def test_a_missing_series_read_early_is_missing() -> None:
    api = Recorder()
    api.stored.pop(2)

    async def go() -> FetchResult:
        async with EarlyReads(reader=api, ids=[1, 2]) as reader:
            await reader.list_series()
            return await reader.get_series([1, 2])

    result = run(go())
    assert set(result.found) == {1} and result.missing == (2,)


def test_an_early_failure_is_raised_where_it_is_asked_for() -> None:
    async def go() -> None:
        async with EarlyReads(reader=Recorder(fail_list=True), ids=[1]) as reader:
            await reader.list_series()

    with pytest.raises(RuntimeError, match="list failed"):
        run(go())

    async def reads() -> None:
        async with EarlyReads(reader=Recorder(fail_reads=True), ids=[1]) as reader:
            await reader.list_series()
            await reader.get_series([1])

    with pytest.raises(RuntimeError, match="reads failed"):
        run(reads())


@pytest.mark.parametrize("fail", [False, True])
def test_what_nobody_asked_for_is_dropped_with_its_errors(fail: bool) -> None:
    """A plan that fails before it needs the reads (a file with a problem): the pending
    calls are cancelled, a failed one's error is not reported later by the event loop."""
    api = Recorder(fail_list=fail, fail_reads=fail)
    reported: list[dict[str, Any]] = []

    async def go() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: reported.append(ctx))
        async with EarlyReads(reader=api, ids=[1, 2]):
            if fail:
                await asyncio.sleep(0.05)  # both failed meanwhile
            raise ValueError("the files have problems")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="problems"):
            run(go())
        gc.collect()
    assert reported == []
