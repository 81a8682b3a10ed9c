"""The state of one environment: which series id each key has, and creates in flight.

The API reads series only by id, so the tool records, per environment, the id of each key in
a file it owns (``series/.state/<environment>.json``), committed to git. Before a POST the
tool records an *intent* for the key; after, the id. An intent left without an id (a killed
apply, a POST whose answer was lost) blocks a blind second create of that key.

The file is JSON written atomically (temporary file, fsync, rename), keys sorted, one entry a
line, so diffs in pull requests stay readable.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from reconciler.errors import StateError, StateLocked

STATE_DIR = ".state"
FORMAT_VERSION = 1


class IntentStatus(str, Enum):
    # Recorded before the POST; still there means the apply died before it heard back.
    PENDING = "pending"
    # The POST may have reached the server but no answer came (timeout, reset).
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class Intent:
    key: str
    status: IntentStatus
    started_at: str
    discount_code: str = ""
    description: str = ""
    detail: str = ""


@dataclass(frozen=True)
class State:
    environment: str
    ids: Mapping[str, int] = field(default_factory=dict)
    intents: Mapping[str, Intent] = field(default_factory=dict)

    def key_of(self, series_id: int) -> str | None:
        for key, value in self.ids.items():
            if value == series_id:
                return key
        return None

    def with_id(self, key: str, series_id: int) -> State:
        ids = dict(self.ids)
        ids[key] = series_id
        intents = {k: v for k, v in self.intents.items() if k != key}
        return replace(self, ids=ids, intents=intents)

    def with_intent(self, intent: Intent) -> State:
        intents = dict(self.intents)
        intents[intent.key] = intent
        return replace(self, intents=intents)

    def without_intent(self, key: str) -> State:
        return replace(self, intents={k: v for k, v in self.intents.items() if k != key})

    def without_key(self, key: str) -> State:
        return replace(
            self,
            ids={k: v for k, v in self.ids.items() if k != key},
            intents={k: v for k, v in self.intents.items() if k != key},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "environment": self.environment,
            "ids": dict(sorted(self.ids.items())),
            "intents": {
                key: {
                    "status": i.status.value,
                    "started_at": i.started_at,
                    "discount_code": i.discount_code,
                    "description": i.description,
                    "detail": i.detail,
                }
                for key, i in sorted(self.intents.items())
            },
        }


def state_path(directory: Path, environment: str) -> Path:
    return directory / STATE_DIR / f"{environment}.json"


def load_state(path: Path, *, environment: str) -> State:
    """The state at ``path``; an empty one when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State(environment=environment)
    except OSError as error:
        raise StateError(f"cannot read the state file {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
        if data.get("format_version") != FORMAT_VERSION:
            raise StateError(
                f"{path}: format_version {data.get('format_version')!r} is not {FORMAT_VERSION}"
            )
        recorded = data.get("environment", environment)
        if recorded != environment:
            raise StateError(
                f"{path} belongs to environment {recorded!r}, not {environment!r}: "
                "ids of one environment never go into another's state"
            )
        ids = {str(k): int(v) for k, v in data.get("ids", {}).items()}
        intents = {
            str(k): Intent(
                key=str(k),
                status=IntentStatus(v["status"]),
                started_at=str(v.get("started_at", "")),
                discount_code=str(v.get("discount_code", "")),
                description=str(v.get("description", "")),
                detail=str(v.get("detail", "")),
            )
            for k, v in data.get("intents", {}).items()
        }
    except StateError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise StateError(
            f"the state file {path} is damaged ({error}); restore it from git"
        ) from None
    return State(environment=environment, ids=ids, intents=intents)


def save_state(path: Path, state: State) -> None:
    """Write ``state`` to ``path`` atomically: a reader sees the old file or the new one."""
    text = json.dumps(state.to_dict(), indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class StateStore:
    """The state of one environment on disk, saved after every change."""

    def __init__(self, *, path: Path, environment: str) -> None:
        self.path = path
        self.environment = environment
        self.state = load_state(path, environment=environment)

    def _commit(self, state: State) -> None:
        save_state(self.path, state)
        self.state = state

    def record_intent(self, intent: Intent) -> None:
        self._commit(self.state.with_intent(intent))

    def record_id(self, key: str, series_id: int) -> None:
        self._commit(self.state.with_id(key, series_id))

    def clear_intent(self, key: str) -> None:
        self._commit(self.state.without_intent(key))

    def remove(self, key: str) -> None:
        self._commit(self.state.without_key(key))

    def move(self, old: str, new: str) -> None:
        if old not in self.state.ids:
            raise StateError(f"no key {old!r} in the state of {self.environment!r}")
        if new in self.state.ids:
            raise StateError(f"the key {new!r} already has id {self.state.ids[new]}")
        series_id = self.state.ids[old]
        self._commit(self.state.without_key(old).with_id(new, series_id))


@contextlib.contextmanager
def environment_lock(path: Path) -> Iterator[None]:
    """Hold the apply lock of the environment whose state is at ``path`` (one machine).

    The lock file lives in the system's temporary folder, named after the state file's
    absolute path, so the series repository gets no stray file. The lock dies with the
    process, so a killed apply never leaves the environment locked.
    """
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    lock_dir = Path(tempfile.gettempdir()) / "reconciler-locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock_file = lock_dir / f"{digest}.lock"
    handle = open(lock_file, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateLocked(
                f"another apply is running on this environment ({path}); wait for it to finish"
            ) from None
        yield
    finally:
        handle.close()
