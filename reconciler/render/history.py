"""The ledger of applies as text or JSON (``reconciler history``, ``show-apply N``). Pure.

Each record points at the commit to revert: undoing an apply is a ``git revert`` of that
commit's series files, then a normal reviewed plan and apply of the revert, never a replay
of old calls (the CRM may have moved since, and a reviewed plan shows what will change).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from reconciler.engine.ledger import ApplyRecord
from reconciler.textsafe import printable

FORMAT_VERSION = 1
_MARK = {"done": "✓ done", "skipped": "↷ skipped", "failed": "✗ failed"}
_MARK.update({"not_started": "· not started", "planned": "? no outcome"})


def revert_hint(record: ApplyRecord) -> str:
    """How to undo ``record`` (empty when nothing was applied)."""
    if record.result in ("refused", "error") and not record.series:
        return ""
    commit = record.provenance.commit
    if not commit:
        return (
            "no commit was recorded: revert the change of the series files by hand, then plan "
            "and apply it"
        )
    if record.provenance.dirty:
        return (
            f"the series files differed from commit {commit[:12]} when it was applied: revert "
            "their change by hand, then plan and apply it"
        )
    return (
        f"git revert {commit} (-m 1 for a merge commit), then plan and apply the revert like "
        "any change: reviewed, in a pull request"
    )


def render_history(
    records: Sequence[ApplyRecord],
    *,
    environment: str,
    path: Path,
    damaged: int,
    fmt: str,
    stream: TextIO,
) -> None:
    if fmt == "json":
        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "environment": environment,
            "ledger": str(path),
            "damaged_lines": damaged,
            "applies": [_summary_dict(r) for r in records],
        }
        stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    lines = [f"Applies to {printable(environment)} ({printable(str(path))}):", ""]
    if not records:
        lines.append("    (none recorded yet)")
    for r in records:
        lines.append(f"  {r.number:>4}  {printable(r.started_at)}  {_status(r)}")
        lines.append(f"        {_counts(r)}; {_who(r)}")
        if r.overrides:
            lines.append("        overrides: " + ", ".join(_override(o) for o in r.overrides))
        hint = revert_hint(r)
        if hint:
            lines.append(f"        to undo: {printable(hint)}")
    if damaged:
        lines += ["", f"{damaged} damaged line(s) of the ledger could not be read."]
    lines += ["", "reconciler show-apply N shows one apply, series by series."]
    stream.write("\n".join(lines) + "\n")


def render_apply_record(record: ApplyRecord, *, fmt: str, stream: TextIO) -> None:
    if fmt == "json":
        data = {"format_version": FORMAT_VERSION, **record.to_dict()}
        data["revert"] = revert_hint(record) or None
        stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    p = record.provenance
    lines = [
        f"Apply {record.number} to {printable(record.environment)}: {_status(record)}",
        f"    started:   {printable(record.started_at)}",
        f"    finished:  {printable(record.finished_at) or '-'}",
        f"    commit:    {printable(p.commit) or 'not known'}"
        + (" (the series files differed from it)" if p.dirty else ""),
        f"    {_who(record)}",
    ]
    if p.run_url:
        lines.append(f"    run:       {printable(p.run_url)}")
    lines.append(f"    plan:      sha256 {record.plan_digest}")
    if record.plan_file_digest:
        lines.append(f"    plan file: sha256 {record.plan_file_digest} (the reviewed plan)")
    if record.detail:
        lines.append(f"    detail:    {printable(record.detail)}")
    for o in record.overrides:
        lines.append(f"    override:  {_override(o)}")
    for f in record.forced:
        lines.append(f"    forced:    {printable(f)}")
    lines += ["", "Series:"]
    outcomes = record.outcomes()
    if not outcomes:
        lines.append("    (none)")
    for s in outcomes:
        ident = f", id {s.series_id}" if s.series_id is not None else ""
        text = f"    {_MARK.get(s.result, s.result):<14}{printable(s.key)} ({s.action}{ident})"
        lines.append(text + (f": {printable(s.message)}" if s.message else ""))
    hint = revert_hint(record)
    if hint:
        lines += ["", f"To undo it: {printable(hint)}"]
    stream.write("\n".join(lines) + "\n")


def _status(r: ApplyRecord) -> str:
    return r.status


def _counts(r: ApplyRecord) -> str:
    outcomes = r.outcomes()
    done = sum(1 for s in outcomes if s.result == "done")
    failed = sum(1 for s in outcomes if s.result == "failed")
    text = f"{done} of {len(outcomes)} series done"
    return text + (f", {failed} failed" if failed else "")


def _who(r: ApplyRecord) -> str:
    p = r.provenance
    text = f"ran by {printable(p.ran_by) or 'unknown'}"
    if p.approved_by:
        text += f", approved by {printable(p.approved_by)}"
    if p.commit:
        text += f", commit {printable(p.commit[:12])}"
    return text


def _override(o: Any) -> str:
    scope = f"@{o.get('key')}" if o.get("key") else ""
    by = f" (by {o.get('by')})" if o.get("by") else ""
    return printable(f"{o.get('rule', '?')}{scope}: {o.get('reason', '')}{by}")


def _summary_dict(r: ApplyRecord) -> dict[str, Any]:
    data = r.to_dict()
    outcomes = data.pop("series")
    data["series_count"] = len(outcomes)
    data["done"] = sum(1 for s in outcomes if s["result"] == "done")
    data["failed"] = sum(1 for s in outcomes if s["result"] == "failed")
    data["revert"] = revert_hint(r) or None
    return data
