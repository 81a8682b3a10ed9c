"""``running.run_async``: a command's result is handed over, never ``repr``-ed on the way.

Python 3.11's ``asyncio.run`` builds the ``repr`` of its main task (and so of the task's
result) when it restores the SIGINT handler; for a plan of 10,000 series that was a string
of tens of megabytes, twice, at the end of every command.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

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


_PLAIN = """
import asyncio

class Counted:
    built = 0
    def __repr__(self):
        Counted.built += 1
        return "Counted()"

async def result():
    return Counted()

asyncio.run(result())
print(Counted.built)
"""


def test_plain_asyncio_run_would_have_built_it() -> None:
    """The reason for ``run_async``, in a fresh interpreter (its main thread, the default
    SIGINT handler, as a command has them): if this Python's ``asyncio.run`` no longer
    builds the repr, the wrapper can go (it stays harmless)."""
    done = subprocess.run(
        [sys.executable, "-c", _PLAIN], capture_output=True, text=True, check=True, timeout=60
    )
    if int(done.stdout) == 0:
        pytest.skip("this Python's asyncio.run does not repr its task's result")
