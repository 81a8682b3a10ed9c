"""The sandbox's storage: one SQLite file, one JSON document per series.

Every call takes one process-wide lock, so requests served on uvicorn's event loop, tests
poking the control object from another thread and the ``reconciler sandbox edit`` command
(another process: SQLite's own file lock, WAL mode, a busy timeout) never interleave a
read-modify-write.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

FIRST_NEW_ID = 800_001

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    doc TEXT NOT NULL
);
-- Creates and PUTs look a seriesCode up: without this every lookup reads every series
-- (thousands of creates grew quadratic, and the benchmarks measured the stand-in).
CREATE INDEX IF NOT EXISTS series_code ON series (json_extract(doc, '$.seriesCode'));
"""


class SeriesStore:
    """Series documents by id, in a SQLite file that survives restarts."""

    def __init__(self, *, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, timeout=10.0, isolation_level=None
        )
        with self._lock:
            if str(path) != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction, under the lock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def atomically(self, work: Callable[[SeriesStore], T]) -> T:
        """Run ``work`` (reads and writes through this store) as one transaction."""
        with self.transaction():
            return work(self)

    # --- reads -------------------------------------------------------------------------------

    def get(self, series_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT doc FROM series WHERE id = ?", (series_id,)).fetchone()
        return _load(row[0]) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT doc FROM series ORDER BY id").fetchall()
        return [_load(r[0]) for r in rows]

    def count(self) -> int:
        with self._lock:
            (n,) = self._conn.execute("SELECT COUNT(*) FROM series").fetchone()
        return int(n)

    def next_id(self) -> int:
        with self._lock:
            (top,) = self._conn.execute("SELECT MAX(id) FROM series").fetchone()
        return max(int(top or 0) + 1, FIRST_NEW_ID)

    def id_with_series_code(self, code: str) -> int | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id FROM series WHERE json_extract(doc, '$.seriesCode') = ?", (code,)
            ).fetchone()
        return int(row[0]) if row else None

    # --- writes ------------------------------------------------------------------------------

    def put(self, doc: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO series (id, doc) VALUES (?, ?)",
                (int(doc["id"]), json.dumps(doc, ensure_ascii=False)),
            )

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM series")


def _load(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("a stored series is not a JSON object")
    return doc


__all__ = ["FIRST_NEW_ID", "SeriesStore"]
