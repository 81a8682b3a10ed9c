"""``running.run_async``: a command's result is handed over, never ``repr``-ed on the way.

Python 3.11's ``asyncio.run`` builds the ``repr`` of its main task (and so of the task's
result) when it restores the SIGINT handler; for a plan of 10,000 series that was a string
of tens of megabytes, twice, at the end of every command.
"""

from __future__ import annotations

import asyncio
import signal
import threading

import pytest

from reconciler.running import run_async


class NoRepr:
    """Counts the times it is repr-ed (reprlib swallows a repr's exception)."""

    built = 0

    def __repr__(self) -> str:
        NoRepr.built += 1
        return "NoRepr()"


async def result() -> NoRepr:
    await asyncio.sleep(0)
    return NoRepr()


def test_the_result_is_returned_without_its_repr() -> None:
    NoRepr.built = 0
    assert isinstance(run_async(result()), NoRepr)
    assert NoRepr.built == 0


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="asyncio.run installs its SIGINT handler only in the main thread, over the default",
)
def test_plain_asyncio_run_would_have_built_it() -> None:
    """The reason for ``run_async``: if this starts passing on a newer Python, the wrapper
    can go (it stays harmless)."""
    NoRepr.built = 0
    asyncio.run(result())
    if NoRepr.built == 0:
        pytest.skip("this Python's asyncio.run does not repr its task's result")
