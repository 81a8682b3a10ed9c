"""``asyncio.run`` for the commands, without a copy of what they return.

Python 3.11's ``asyncio.run`` looks its SIGINT handler up in an enum when it restores it;
the failed lookup builds an error message from the handler's ``repr``, which includes the
main task's, which includes ``repr`` of the task's result. A plan of 10,000 series is a
string of tens of megabytes, built twice and thrown away at the end of every command
(measured: +44 MB of peak memory and about half a second at 10,000 series). The result is
handed over outside the task instead, so the task's result is None.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``'s result, never part of a task's ``repr``."""
    box: list[T] = []

    async def main() -> None:
        box.append(await work)

    asyncio.run(main())
    return box[0]
