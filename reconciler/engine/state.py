"""The state of one environment: a cache of which series id each key has, and creates in flight.

Identity comes from the live CRM (``reconciler.engine.identity``); this file only saves a lookup and
keeps the one thing the CRM cannot show yet: a create that was started (*intent*) and whose
series may still be on its way. A lost, late or older state costs a lookup, never a duplicate.

On disk, per environment (``series/.state/<environment>.json``):

- the **state file**: JSON, keys sorted, one entry a line, written atomically (temporary file,
  fsync, rename), so diffs stay readable and a reader sees the old file or the new one;
- the **journal** beside it (``<environment>.journal``): one JSON line per change (intent, id,
  clear, ...), appended and fsynced, so recording a change costs O(1) whatever the number of
  series. Loading replays the journal over the file; ``compact`` folds it in. Every journal
  operation is idempotent, so a crash between writing the file and removing the journal
  replays harmlessly.

A line cut short (a crash, a full disk or a file-size limit in the middle of an append) was
never acted on: its append raised before the call it records was made. So the reader skips
a torn last line, the next append first cuts it off (so the new entry starts a line of its
own), and a line that an older version appended after a torn one is read from where its
entry starts. A write that fails names the file and the reason (``safefile.write_failure``);
a compaction that fails at the end of a command leaves the journal, which holds every
change, to the next one, and says so.

Everything read is checked: a damaged, conflicted (git markers) or inconsistent file (two keys
sharing an id, an id that is not an integer) is refused with the exact recovery command,
never read as "nothing exists".
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reconciler.engine.state_value import FORMAT_VERSION, Intent, IntentStatus, State, intent_dict
from reconciler.errors import StateError
from reconciler.safefile import (
    cut_torn_line,
    fsync_folder,
    write_all,
    write_atomic,
    write_failure,
)

logger = logging.getLogger("reconciler.state")

STATE_DIR = ".state"
READABLE_VERSIONS = (1, 2)
JOURNAL_SUFFIX = ".journal"
# What a recorded key may look like: a series file's path under the folder, without suffix.
_KEY = re.compile(r"^[^\x00-\x1f\x7f/\\][^\x00-\x1f\x7f\\]{0,511}$")
_CONFLICT = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)
_MAX_ID = 2**63 - 1
_ENTRY_START = b'{"op":'


def _known_before(value: Any) -> tuple[int, ...] | None:
    """An intent's ``known_before`` as read from a file; ``ValueError`` when it is not ids."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(is_series_id(v) for v in value):
        raise ValueError("known_before must be a list of series ids")
    return tuple(value)


def state_path(directory: Path, environment: str) -> Path:
    return directory / STATE_DIR / f"{environment}.json"


def journal_path(path: Path) -> Path:
    return path.with_suffix(JOURNAL_SUFFIX)


# ---------------------------------------------------------------------------- reading


def load_state(path: Path, *, environment: str, rebuild_hint: str = "") -> State:
    """The state at ``path`` with its journal replayed; empty when neither exists yet."""
    hint = rebuild_hint or "reconciler state rebuild"
    state = _read_file(path, environment=environment, hint=hint)
    return _replay(journal_path(path), state, hint=hint)


def _read_file(path: Path, *, environment: str, hint: str) -> State:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State(environment=environment)
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or str(error)
        raise StateError(f"cannot read the state file {path}: {why}") from None
    if _CONFLICT.search(text):
        raise StateError(
            f"the state file {path} holds git conflict markers (two branches recorded ids at "
            f"once). The CRM knows which series exist: run `{hint}` to write it anew from the "
            "live org (nothing is created meanwhile: a plan refuses to run on it)"
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise StateError(
            f"the state file {path} is not valid JSON ({_short(error)}); run `{hint}`"
        ) from None
    return _state_from(data, path=path, environment=environment, hint=hint)


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _state_from(data: Any, *, path: Path, environment: str, hint: str) -> State:
    def damaged(why: str) -> StateError:
        return StateError(f"the state file {path} is damaged: {why}; run `{hint}`")

    if not isinstance(data, dict):
        raise damaged("it is not a JSON object")
    version = data.get("format_version")
    if version not in READABLE_VERSIONS:
        raise StateError(
            f"{path}: format_version {version!r} is not one this tool reads {READABLE_VERSIONS}"
        )
    recorded = data.get("environment", environment)
    if recorded != environment:
        raise StateError(
            f"{path} belongs to environment {recorded!r}, not {environment!r}: "
            "ids of one environment never go into another's state"
        )
    raw_ids = data.get("ids", {})
    raw_intents = data.get("intents", {})
    raw_fields = data.get("fields", {})
    if not all(isinstance(x, dict) for x in (raw_ids, raw_intents, raw_fields)):
        raise damaged("'ids', 'intents' and 'fields' must be objects")
    ids: dict[str, int] = {}
    owners: dict[int, str] = {}
    for key, value in raw_ids.items():
        if not _KEY.match(key):
            raise damaged(f"{key!r} is not the key of a series file")
        if not is_series_id(value):
            raise damaged(f"the id of {key!r} is {value!r}, not a positive integer")
        if value in owners:
            raise damaged(f"{owners[value]!r} and {key!r} both claim series {value}")
        owners[value] = key
        ids[key] = value
    intents: dict[str, Intent] = {}
    for key, value in raw_intents.items():
        if not _KEY.match(key) or not isinstance(value, dict):
            raise damaged(f"the intent {key!r} is not an object of a series key")
        try:
            status = IntentStatus(value.get("status"))
        except ValueError:
            raise damaged(f"the intent of {key!r} has an unknown status") from None
        try:
            known_before = _known_before(value.get("known_before"))
        except ValueError:
            raise damaged(f"the intent of {key!r} lists ids that are not series ids") from None
        intents[key] = Intent(
            key=key,
            status=status,
            started_at=str(value.get("started_at", "")),
            discount_code=str(value.get("discount_code", "")),
            description=str(value.get("description", "")),
            detail=str(value.get("detail", "")),
            known_before=known_before,
        )
    fields: dict[str, tuple[str, ...]] = {}
    for key, value in raw_fields.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise damaged(f"the fields of {key!r} are not a list of names")
        fields[key] = tuple(value)
    raw_unmarked = data.get("unmarked", [])
    if not isinstance(raw_unmarked, list) or not all(
        isinstance(k, str) and _KEY.match(k) for k in raw_unmarked
    ):
        raise damaged("'unmarked' must be a list of series keys")
    return State(
        environment=environment,
        ids=ids,
        intents=intents,
        fields=fields,
        unmarked=frozenset(raw_unmarked),
    )


def is_series_id(value: Any) -> bool:
    """A positive 64-bit integer: the only thing a recorded id (or an answer's) may be."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID


# ---------------------------------------------------------------------------- the journal


def _replay(path: Path, state: State, *, hint: str) -> State:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return state
    except OSError as error:
        raise StateError(f"cannot read the state journal {path}: {_short(error)}") from None
    lines = data.split(b"\n")
    # After the last newline: b"", unless the last append was cut short (a crash, a full
    # disk). Its append raised before what it records was done: it never happened.
    lines.pop()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        after = _applied(state, raw)
        if after is None:
            raise StateError(
                f"the state journal {path} is damaged at line {number}; run `{hint}`"
            ) from None
        state = after
    return state


def _applied(state: State, raw: bytes) -> State | None:
    """``state`` with the entry of one journal line, or None when the line is not one.

    A line an older version appended after a torn one holds the torn start, then a whole
    entry: the entry is read from where it starts (the torn start was never acted on).
    """
    starts = [0]
    at = raw.find(_ENTRY_START, 1)
    if at > 0:
        starts.append(at)
    for start in starts:
        try:
            return _apply_entry(state, json.loads(raw[start:].decode("utf-8")))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            continue
    return None


def _apply_entry(state: State, entry: Mapping[str, Any]) -> State:
    op = entry["op"]
    key = str(entry["key"])
    if op == "intent":
        return state.with_intent(
            Intent(
                key=key,
                status=IntentStatus(entry["status"]),
                started_at=str(entry.get("started_at", "")),
                discount_code=str(entry.get("discount_code", "")),
                description=str(entry.get("description", "")),
                detail=str(entry.get("detail", "")),
                known_before=_known_before(entry.get("known_before")),
            )
        )
    if op == "id":
        series_id = entry["id"]
        if not is_series_id(series_id):
            raise ValueError(series_id)
        state = state.with_id(key, series_id)
        return state.with_unmarked(key, unmarked=True) if entry.get("unmarked") else state
    if op == "marked":
        return state.with_unmarked(key, unmarked=False)
    if op == "clear":
        return state.without_intent(key)
    if op == "rm":
        return state.without_key(key)
    if op == "mv":
        return state.moved(key, str(entry["to"]))
    if op == "fields":
        return state.with_fields(key, tuple(str(f) for f in entry["fields"]))
    raise ValueError(op)


# ---------------------------------------------------------------------------- writing


def save_state(path: Path, state: State) -> None:
    """Write ``state`` to ``path`` atomically: a reader sees the old file or the new one."""
    text = json.dumps(state.to_dict(), indent=2, ensure_ascii=False) + "\n"
    _atomic_write(path, text)


def _atomic_write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as error:
        raise StateError(write_failure(path, error, what="the state file")) from None


def replace_state(path: Path, state: State) -> None:
    """Write a whole new state (``state rebuild``): the file, then no journal to replay."""
    save_state(path, state)
    with contextlib.suppress(FileNotFoundError):
        journal_path(path).unlink()
    fsync_folder(path.parent)


class StateStore:
    """The state of one environment on disk: each change appended to the journal at once.

    Use as a context manager (or call ``compact``) so the journal is folded into the state
    file at the end; until then a crash loses nothing: the journal is replayed on load.
    """

    def __init__(self, *, path: Path, environment: str, rebuild_hint: str = "") -> None:
        self.path = path
        self.environment = environment
        self.journal = journal_path(path)
        self.state = load_state(path, environment=environment, rebuild_hint=rebuild_hint)
        self._fd: int | None = None
        self._torn = False  # an append failed part-way: the next one cuts its line off first

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _append(self, entry: Mapping[str, Any], state: State, *, durable: bool = True) -> None:
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            fd = self._open()
            if self._torn:
                cut_torn_line(fd)
                self._torn = False
            self._torn = True
            write_all(fd, line.encode("utf-8"))
            self._torn = False
            if durable:
                os.fsync(fd)
        except OSError as error:
            raise StateError(
                write_failure(self.journal, error, what="a change to the state journal")
            ) from None
        self.state = state

    def _open(self) -> int:
        """The journal, open for appending, its torn last line (a crash's) cut off."""
        if self._fd is None:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            flags = (
                os.O_RDWR
                | os.O_APPEND
                | os.O_CREAT
                | getattr(os, "O_CLOEXEC", 0)
                | getattr(os, "O_BINARY", 0)
            )
            fd = os.open(self.journal, flags, 0o644)
            try:
                cut_torn_line(fd)
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def _close_journal(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        """Fold the journal in when possible; a failure leaves it for the next command.

        The journal holds every change, so a compaction that cannot be written (a full
        disk) loses nothing: it is said on stderr, and the next command folds it in.
        """
        try:
            self.compact()
        except (StateError, OSError) as error:
            said = str(error) if isinstance(error, StateError) else write_failure(None, error)
            logger.warning(
                "%s; every change is kept in %s, which the next command folds in",
                said,
                self.journal,
            )

    def compact(self) -> None:
        """Fold the journal into the state file (atomically), then remove the journal."""
        self._close_journal()
        if not self.journal.exists() and self.path.exists():
            return
        if not self.journal.exists() and not (self.state.ids or self.state.intents):
            return
        save_state(self.path, self.state)
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()
        fsync_folder(self.path.parent)

    def record_intent(self, intent: Intent) -> None:
        entry = {"op": "intent", "key": intent.key, **intent_dict(intent)}
        self._append(entry, self.state.with_intent(intent))

    def record_id(self, key: str, series_id: int, *, unmarked: bool = False) -> None:
        """The id of ``key``; ``unmarked``: its marker is still to be set (a fresh create).

        Only a series id is recorded: anything else would leave a state that cannot load.
        """
        if not is_series_id(series_id):
            raise StateError(f"refusing to record {series_id!r} as the id of {key!r}")
        entry: dict[str, Any] = {"op": "id", "key": key, "id": series_id}
        state = self.state.with_id(key, series_id)
        if unmarked:
            entry["unmarked"] = True
            state = state.with_unmarked(key, unmarked=True)
        self._append(entry, state)

    def record_marked(self, key: str) -> None:
        """``key``'s series carries its marker now. Not fsynced: if this line is lost, the
        next plan only sets the marker once more."""
        if key in self.state.unmarked:
            self._append(
                {"op": "marked", "key": key},
                self.state.with_unmarked(key, unmarked=False),
                durable=False,
            )

    def record_fields(self, key: str, names: tuple[str, ...]) -> None:
        if self.state.fields.get(key) == tuple(sorted(set(names))):
            return
        entry = {"op": "fields", "key": key, "fields": sorted(set(names))}
        self._append(entry, self.state.with_fields(key, names))

    def clear_intent(self, key: str) -> None:
        self._append({"op": "clear", "key": key}, self.state.without_intent(key))

    def remove(self, key: str) -> None:
        self._append({"op": "rm", "key": key}, self.state.without_key(key))

    def move(self, old: str, new: str) -> None:
        if old not in self.state.ids:
            raise StateError(f"no key {old!r} in the state of {self.environment!r}")
        if new in self.state.ids:
            raise StateError(f"the key {new!r} already has id {self.state.ids[new]}")
        self._append({"op": "mv", "key": old, "to": new}, self.state.moved(old, new))


@contextlib.contextmanager
def open_store(*, path: Path, environment: str, rebuild_hint: str = "") -> Iterator[StateStore]:
    """A ``StateStore`` whose journal is folded into the file when the block ends."""
    store = StateStore(path=path, environment=environment, rebuild_hint=rebuild_hint)
    try:
        yield store
    finally:
        store.close()


__all__ = [
    "FORMAT_VERSION",
    "JOURNAL_SUFFIX",
    "READABLE_VERSIONS",
    "STATE_DIR",
    "Intent",
    "IntentStatus",
    "State",
    "StateStore",
    "is_series_id",
    "journal_path",
    "load_state",
    "open_store",
    "replace_state",
    "save_state",
    "state_path",
]
