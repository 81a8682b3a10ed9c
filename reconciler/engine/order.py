"""The order of an apply's series: a series naming another one this apply creates waits for it.

A field holding series ids may name another file's series by key; when that series is created
by the same apply, its id exists only once its POST is answered. The referenced series is
created first and its id filled in before the referring one is sent (the API refuses an id
that does not exist, error 756).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from reconciler.engine.plan import Action, SeriesPlan
from reconciler.model.references import dependencies


class CreateOrder:
    """Which series of a plan wait for a create of the same apply (they name it by key)."""

    def __init__(self, waits: Mapping[str, tuple[str, ...]]) -> None:
        self.waits = dict(waits)
        self.finished = {k: asyncio.Event() for ks in waits.values() for k in ks}

    @classmethod
    def of(cls, work: Sequence[SeriesPlan]) -> CreateOrder:
        creating = {s.key for s in work if s.action is Action.CREATE}
        waits = {
            key: tuple(k for k in keys if k in creating and k != key)
            for key, keys in dependencies({s.key: s.desired for s in work}).items()
        }
        return cls({k: v for k, v in _acyclic(waits).items() if v})

    async def ready(self, key: str) -> None:
        for other in self.waits.get(key, ()):
            await self.finished[other].wait()

    def done(self, key: str) -> None:
        if key in self.finished:
            self.finished[key].set()


def _acyclic(waits: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """``waits`` without the waits of a cycle (files with a reference cycle do not validate,
    so only a plan made from something else could hold one): those series are sent unfilled
    and fail."""
    left = {k: set(v) for k, v in waits.items()}
    changed = True
    while changed:
        changed = False
        for key in list(left):
            if not any(k in left for k in left[key]):
                del left[key]
                changed = True
    return {k: v for k, v in waits.items() if k not in left}
