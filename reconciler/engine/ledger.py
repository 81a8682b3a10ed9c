"""The ledger: one record per apply of an environment, append-only, beside its state.

``series/.state/<environment>.ledger.jsonl`` (the sandbox: ``state.ledger.jsonl`` in its
home) lives beside the state, so it goes where the state goes (in CI, the state branch: the
push of the state must carry it too). Each apply appends JSON lines, each written to the
file before the apply goes on:

- ``begin`` before the first write call, fsynced: the record's number, when, which
  environment, the commit, who ran it and who approved it (where CI says), the digest of the
  plan applied (and of the reviewed plan file), the overrides used, and what the plan was
  going to do;
- ``series`` as each series ends: its action, id and result (written, not fsynced: a killed
  process loses none; see ``Recorder.outcome``);
- ``end`` when the apply ends, fsynced: its result, the counts, the outcomes not logged yet.

So a record survives a process killed at any point: its ``begin`` and the series done so
far are on disk, and ``history`` shows it as unfinished (the next apply finishes the work,
as a new record). A line torn by a crash mid-append is the last line of the file: it is
ignored when read and cut off before the next append, so no record is lost or doubled.
Records are numbered from 1 in the order they began; the lock of the environment (held by
every apply) keeps two applies from numbering at once.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.errors import StateError
from reconciler.safefile import cut_torn_line, write_all, write_failure

logger = logging.getLogger("reconciler.ledger")

LEDGER_SUFFIX = ".ledger.jsonl"
FORMAT_VERSION = 1


def ledger_path(state_file: Path) -> Path:
    """The ledger beside the state file ``state_file``."""
    return state_file.with_name(state_file.stem + LEDGER_SUFFIX)


@dataclass(frozen=True)
class Provenance:
    """Who and what an apply came from, as far as the machine knows (no secret)."""

    commit: str = ""  # the commit of the series files ("" unknown)
    dirty: bool = False  # the files differ from that commit
    ran_by: str = ""
    approved_by: str = ""
    run_url: str = ""


@dataclass(frozen=True)
class SeriesRecord:
    key: str
    action: str
    series_id: int | None
    result: str  # done | skipped | failed | not_started | planned (no outcome known)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "action": self.action,
            "id": self.series_id,
            "result": self.result,
            "message": self.message,
        }


@dataclass(frozen=True)
class ApplyRecord:
    """One apply, as the ledger holds it (``finished_at`` empty: it never ended)."""

    number: int
    apply_id: str
    started_at: str
    environment: str
    provenance: Provenance
    plan_digest: str
    plan_file_digest: str = ""
    overrides: tuple[Mapping[str, str], ...] = ()
    planned: tuple[SeriesRecord, ...] = ()
    series: tuple[SeriesRecord, ...] = ()
    finished_at: str = ""
    result: str = ""  # ok | failed | not converged | interrupted | refused | error
    detail: str = ""
    forced: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return bool(self.finished_at)

    @property
    def status(self) -> str:
        return self.result if self.finished else "unfinished (killed or crashed)"

    def outcomes(self) -> tuple[SeriesRecord, ...]:
        """Each planned series with its result (``planned`` when none was recorded)."""
        known = {s.key: s for s in self.series}
        out = [known.pop(p.key, p) for p in self.planned]
        return (*out, *known.values())

    def to_dict(self) -> dict[str, Any]:
        p = self.provenance
        return {
            "number": self.number,
            "apply_id": self.apply_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at or None,
            "environment": self.environment,
            "status": self.status,
            "result": self.result or None,
            "detail": self.detail,
            "commit": p.commit or None,
            "dirty": p.dirty,
            "ran_by": p.ran_by or None,
            "approved_by": p.approved_by or None,
            "run_url": p.run_url or None,
            "plan_digest": self.plan_digest,
            "plan_file_digest": self.plan_file_digest or None,
            "overrides": [dict(o) for o in self.overrides],
            "forced": list(self.forced),
            "counts": dict(self.counts),
            "series": [s.to_dict() for s in self.outcomes()],
        }


class Ledger:
    """The ledger file of one environment."""

    def __init__(self, path: Path) -> None:
        self.path = path

    # --- reading ----------------------------------------------------------------------

    def read(self) -> tuple[list[ApplyRecord], int]:
        """Every record, oldest first, and how many damaged lines were skipped (a line torn
        by a crash at the end of the file is not counted: it never happened)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], 0
        except OSError as error:
            raise StateError(f"cannot read the ledger {self.path}: {error.strerror}") from None
        # What follows the last newline is empty, or a line torn by a crash: never read.
        lines = data.split(b"\n")[:-1]
        records: dict[str, dict[str, Any]] = {}
        damaged = 0
        for raw in lines:
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
                _fold(records, entry)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                damaged += 1
        built = [_record(r) for r in records.values()]
        return sorted(built, key=lambda r: r.number), damaged

    def records(self) -> list[ApplyRecord]:
        return self.read()[0]

    # --- writing ----------------------------------------------------------------------

    def begin(
        self,
        *,
        environment: str,
        started_at: str,
        provenance: Provenance,
        plan_digest: str,
        plan_file_digest: str = "",
        overrides: Sequence[Mapping[str, str]] = (),
        planned: Sequence[SeriesRecord] = (),
    ) -> Recorder:
        """Start a record (fsynced before this returns): call before the first write."""
        number = max((r.number for r in self.records()), default=0) + 1
        apply_id = uuid.uuid4().hex
        p = provenance
        self.append(
            {
                "op": "begin",
                "v": FORMAT_VERSION,
                "apply": apply_id,
                "number": number,
                "at": started_at,
                "environment": environment,
                "commit": p.commit,
                "dirty": p.dirty,
                "ran_by": p.ran_by,
                "approved_by": p.approved_by,
                "run_url": p.run_url,
                "plan_digest": plan_digest,
                "plan_file_digest": plan_file_digest,
                "overrides": [dict(o) for o in overrides],
                "planned": [s.to_dict() for s in planned],
            }
        )
        return Recorder(self, apply_id, number)

    def append(self, entry: Mapping[str, Any], *, durable: bool = True) -> None:
        """Append one line, cutting a torn last line first; ``durable``: fsynced before this
        returns (a line that is not is still on disk if the process is killed, as the kernel
        holds it: only a power cut before the next fsync can lose it)."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as error:
            raise StateError(write_failure(self.path, error, what="the ledger")) from None
        try:
            cut_torn_line(fd)
            os.lseek(fd, 0, os.SEEK_END)
            # Whole or an error: a file-size limit makes os.write write part of the line and
            # return, and the record would be lost without a word.
            write_all(fd, line)
            if durable:
                os.fsync(fd)
        except OSError as error:
            raise StateError(write_failure(self.path, error, what="the ledger")) from None
        finally:
            os.close(fd)


class Recorder:
    """Appends the lines of one apply's record."""

    def __init__(self, ledger: Ledger, apply_id: str, number: int) -> None:
        self.ledger = ledger
        self.apply_id = apply_id
        self.number = number
        self._logged: set[str] = set()
        self._unwritten = False  # a series line could not be written (said once)

    def outcome(self, outcome: SeriesOutcome) -> None:
        """A series ended. Not fsynced (it would stall every call in flight: the apply's
        loop waits on it): a kill loses nothing, a power cut at most the outcomes since the
        last fsync, and those the next plan shows anyway (the state's journal, fsynced, is
        what a create's recovery reads)."""
        try:
            self.ledger.append(
                {"op": "series", "apply": self.apply_id, **_outcome(outcome)}, durable=False
            )
        except StateError as error:
            # A full disk: the ledger is the record, not the recovery (the state's journal
            # is), so the apply goes on; the end line carries this series if it can.
            if not self._unwritten:
                logger.warning("%s; the apply goes on", error)
            self._unwritten = True
            return
        self._logged.add(outcome.key)

    def end(
        self,
        *,
        finished_at: str,
        result: ApplyResult | None = None,
        refused: str = "",
        error: str = "",
    ) -> None:
        """Close the record: with the apply's result, or why it was refused or failed."""
        entry: dict[str, Any] = {"op": "end", "apply": self.apply_id, "at": finished_at}
        if result is not None:
            entry["result"] = verdict(result)
            entry["counts"] = {o.value: len(result.of(o)) for o in Outcome}
            entry["forced"] = list(result.forced)
            entry["series"] = [_outcome(o) for o in result.outcomes if o.key not in self._logged]
        elif refused:
            entry["result"], entry["detail"] = "refused", refused
        else:
            entry["result"], entry["detail"] = "error", error
        self.ledger.append(entry)


def verdict(result: ApplyResult) -> str:
    if result.interrupted:
        return "interrupted"
    if result.ok:
        return "ok"
    if result.of(Outcome.FAILED) or result.of(Outcome.SKIPPED):
        return "failed"
    return "not converged"


def _outcome(o: SeriesOutcome) -> dict[str, Any]:
    return SeriesRecord(o.key, o.action.value, o.series_id, o.outcome.value, o.message).to_dict()


def _series(data: Mapping[str, Any]) -> SeriesRecord:
    sid = data.get("id")
    return SeriesRecord(
        key=str(data["key"]),
        action=str(data.get("action", "")),
        series_id=sid if isinstance(sid, int) and not isinstance(sid, bool) else None,
        result=str(data.get("result", "")),
        message=str(data.get("message", "")),
    )


def _fold(records: dict[str, dict[str, Any]], entry: Mapping[str, Any]) -> None:
    op = entry["op"]
    apply_id = str(entry["apply"])
    if op == "begin":
        if apply_id in records:
            raise ValueError("a record begun twice")
        number = entry["number"]
        if not isinstance(number, int):
            raise TypeError(number)
        records[apply_id] = {"begin": dict(entry), "series": [], "end": None}
        return
    record = records[apply_id]  # a line of a record that never began: damaged
    if op == "series":
        record["series"].append(_series(entry))
    elif op == "end":
        record["end"] = dict(entry)
        record["series"].extend(_series(s) for s in entry.get("series", ()))
    else:
        raise ValueError(op)


def _record(data: Mapping[str, Any]) -> ApplyRecord:
    begin = data["begin"]
    end = data["end"] or {}
    provenance = Provenance(
        commit=str(begin.get("commit") or ""),
        dirty=bool(begin.get("dirty")),
        ran_by=str(begin.get("ran_by") or ""),
        approved_by=str(begin.get("approved_by") or ""),
        run_url=str(begin.get("run_url") or ""),
    )
    counts = end.get("counts") or {}
    return ApplyRecord(
        number=int(begin["number"]),
        apply_id=str(begin["apply"]),
        started_at=str(begin.get("at", "")),
        environment=str(begin.get("environment", "")),
        provenance=provenance,
        plan_digest=str(begin.get("plan_digest", "")),
        plan_file_digest=str(begin.get("plan_file_digest") or ""),
        overrides=tuple(
            {str(k): str(v) for k, v in o.items()}
            for o in begin.get("overrides", ())
            if isinstance(o, Mapping)
        ),
        planned=tuple(_series(s) for s in begin.get("planned", ())),
        series=tuple(data["series"]),
        finished_at=str(end.get("at", "")),
        result=str(end.get("result", "")),
        detail=str(end.get("detail", "")),
        forced=tuple(str(f) for f in end.get("forced", ())),
        counts={str(k): v for k, v in counts.items() if isinstance(v, int)},
    )


__all__ = [
    "LEDGER_SUFFIX",
    "ApplyRecord",
    "Ledger",
    "Provenance",
    "Recorder",
    "SeriesRecord",
    "ledger_path",
    "verdict",
]
