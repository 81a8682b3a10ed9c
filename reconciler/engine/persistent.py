"""An immutable mapping whose copy-with-a-change costs O(1): the state's maps of 10,000 keys.

``State`` is a value: each recorded create returns a new state, and an older one (handed to
a plan, say) must keep reading as it was. Copying a dict of every id per create made an apply
of N creates O(N²) (1 ms a create at 10,000 ids). ``PersistentMap`` keeps one dict for the
newest version and, in each older version, only what undoes the change made after it (Baker's
"shallow binding"): deriving a version from the newest one is O(1) whatever the size, and
reading it is a dict lookup. Reading an older version after that rebuilds it once (O(size)),
which is what every change cost before; an older version is rarely read.

Not thread-safe: a state is changed by one task at a time (the applier records each change
through its one ``StateStore``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_MISSING: Final[Any] = object()


class PersistentMap(Mapping[K, V]):
    """A read-only mapping; ``changed`` returns a new one and leaves this one as it was."""

    __slots__ = ("_data", "_next", "_undo")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        # The newest version of a line holds the dict (``_next`` is None); an older one
        # holds the version made from it and how to undo that change.
        self._data: dict[K, V] | None = dict(items)
        self._next: PersistentMap[K, V] | None = None
        self._undo: tuple[tuple[K, Any], ...] = ()

    # ------------------------------------------------------------------ reading

    def _view(self) -> dict[K, V]:
        data = self._data
        if data is not None:
            return data
        # An older version: walk to the newest, copy it, undo the changes back to this one.
        chain: list[PersistentMap[K, V]] = []
        node: PersistentMap[K, V] = self
        while node._data is None:
            chain.append(node)
            assert node._next is not None
            node = node._next
        copy = dict(node._data)
        for older in reversed(chain):
            for key, old in reversed(older._undo):
                if old is _MISSING:
                    copy.pop(key, None)
                else:
                    copy[key] = old
        self._data, self._next, self._undo = copy, None, ()
        return copy

    def __getitem__(self, key: K) -> V:
        return self._view()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._view()

    def __iter__(self) -> Iterator[K]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | D, /) -> V | D: ...
    def get(self, key: K, default: Any = None, /) -> Any:
        return self._view().get(key, default)

    def __repr__(self) -> str:
        return f"PersistentMap({self._view()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PersistentMap, (dict(self._view()),))

    # ------------------------------------------------------------------ changing

    def changed(
        self, *, put: Mapping[K, V] | None = None, drop: Iterable[K] = ()
    ) -> PersistentMap[K, V]:
        """A new map: this one with the keys of ``drop`` removed, then ``put`` set."""
        data = self._view()
        undo: list[tuple[K, Any]] = []
        for key in drop:
            if key in data:
                undo.append((key, data.pop(key)))
        for key, value in (put or {}).items():
            old = data.get(key, _MISSING)
            if old is not value:
                undo.append((key, old))
                data[key] = value
        newer: PersistentMap[K, V] = PersistentMap.__new__(PersistentMap)
        newer._data, newer._next, newer._undo = data, None, ()
        self._data, self._next, self._undo = None, newer, tuple(undo)
        return newer


__all__ = ["PersistentMap"]
