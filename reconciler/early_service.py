"""A whole plan's first call, made while its series files load.

Loading 10,000 files takes seconds of CPU, and the org's list takes seconds of waiting;
neither needs the other to start. A whole plan (no ``--target``, no ``--changed-since``)
opens its workspace from the settings file alone, starts the list (``engine.early_list``),
and loads the files meanwhile in a thread. Whatever can go wrong before a plan keeps its
order: when the settings, the environment or the state have a problem, the folder is loaded
first as always, so every problem of the files is reported, and no call is made before.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass

from reconciler import service
from reconciler.engine.state import State
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.files.loader import LoadResult, load_settings
from reconciler.model.ports import SeriesReader
from reconciler.model.settings import Settings
from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Early:
    """A whole plan's workspace opened from the settings file alone, so that its first call
    starts while the series files load (``files_and_reader``); the state when it loaded."""

    ws: Workspace
    settings: Settings
    state: State


def open_early(where: service.Where) -> Early | None:
    """The workspace before the series files are loaded, or None when anything about it is
    wrong: the settings' problems, a refused environment, a state that does not load, the
    sandbox's first use. Then the folder is loaded first, as always, so every problem of
    the files is reported before any other error and before any call."""
    settings, problems = load_settings(where.directory)
    if any(p.is_error for p in problems):
        return None
    try:
        ws = where.open_settings(settings)
        if ws.sandbox_is_new:
            return None  # the demo's first run records ids from the list first
        state = ws.load_state()
    except ReconcilerError:
        return None
    return Early(ws=ws, settings=settings, state=state)


@contextlib.asynccontextmanager
async def files_and_reader(
    early: Early | None, loaded: LoadResult | None, *, client: SeriesReader
) -> AsyncIterator[tuple[LoadResult, SeriesReader]]:
    """The series files and the reader a plan uses.

    With ``early``, the org's list starts first (``EarlyList``) and the files load
    meanwhile in a thread: the waits overlap. A folder with problems still fails with all
    of them (``ValidationFailed``); the list is dropped unused, and no write can come
    before the files are valid.
    """
    if early is None:
        assert loaded is not None
        yield loaded, client
        return
    from reconciler.engine.early_list import EarlyList

    async with EarlyList(reader=client) as reader:
        files = await asyncio.to_thread(service.load_valid, early.ws.directory)
        if files.settings != early.settings:
            raise ConfigError(
                "reconciler.yaml changed while the plan was being made: nothing was "
                "planned; plan again"
            )
        gc.freeze()  # the loaded series, out of the collector's passes (heap_settled)
        yield files, reader
