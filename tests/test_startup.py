"""What a command loads costs every run: nothing it does not need, nothing looked up twice."""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
from typing import Any


class _Counting(importlib.abc.MetaPathFinder):
    def __init__(self, name: str) -> None:
        self.name = name
        self.lookups = 0

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == self.name:
            self.lookups += 1


def test_httpcore_finds_sniffio_once_not_at_every_lock() -> None:
    # httpcore imports sniffio at every lock it takes; when sniffio is missing (anyio 4.5+ no
    # longer brings it) each of those imports searches sys.path and fails: ~40 µs, several a
    # call. The dependency on sniffio makes it one import, then a dict lookup.
    from httpcore._synchronization import current_async_library

    async def twice() -> tuple[str, str]:
        return current_async_library(), current_async_library()

    asyncio.run(twice())  # the first import, if any
    finder = _Counting("sniffio")
    sys.meta_path.insert(0, finder)
    try:
        assert asyncio.run(twice()) == ("asyncio", "asyncio")
    finally:
        sys.meta_path.remove(finder)
    assert finder.lookups == 0
