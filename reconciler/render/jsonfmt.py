"""JSON for machines. Pure. (Named ``jsonfmt`` so it does not shadow the standard ``json``.)

A plan is written in the plan file format, ``Plan.to_dict()`` (documented in
``reconciler.engine.plan``), indented by two spaces, with a trailing newline, and one key
more right after ``counts``, what a reviewer reads first::

    "summary": {
      "line": "Plan: 1 to create, 2 to update, 40 unchanged.",
      "changes": [                      # each changed series, riskiest first
        {"key": "summer/sale-10", "action": "update", "id": 751412,
         "badges": ["approve", "discount"], "blocking": true,
         "changes": ["discountValue 10 → 60"], "more_changes": 0,
         "issued": 1200, "redeemed": 56, "status": "ending",
         "status_text": "active, ending in 12 days", "impacts": ["..."]}
      ],
      "warning_kinds": [{"kind": "validTillDate … is already past: ...", "count": 1900,
                         "examples": [{"message": "...", "key": "", "file": "...",
                                       "line": 7}]}]
    }

(The plan file, ``plan --out``, holds ``Plan.to_dict()`` only: the summary is derived.)

Values the server keeps in single precision (discountValue) are written as the shortest
decimal that reads back as the same single-precision number (``15.1``, not
``15.100000381469727``), in changes and mismatches alike; a reader that rounds them to single
precision, as the tool's canonical form does, gets the exact value back.

An apply result (``format_version`` 1)::

    {
      "format_version": 1,
      "environment": "production",
      "ok": false,                 # nothing failed, skipped or left, and converged
      "converged": false,          # the plan made after the apply is empty
      "interrupted": false,
      "forced": ["<safety rail lifted by --force>"],
      "overrides": ["<policy rule lifted by an override: rule@key: reason (by who)>"],
      "notes": ["<note for the user>"],
      "counts": {"done": 1, "skipped": 0, "failed": 1, "not_started": 0},
      "outcomes": [
        {"key": "summer/sale-10", "action": "create", "outcome": "done", "id": 751412,
         "message": "", "status": null, "codes": [],
         "mismatches": [{"field": "discountValue", "sent": 10.1, "answered": 10.100000381}]}
      ],
      "after": {<the plan made after the apply, as above>} or null,
      "check_error": ""            # why that plan could not be made ("" when it was)
    }

Problems (``format_version`` 1)::

    {
      "format_version": 1,
      "counts": {"errors": 1, "warnings": 0},
      "problems": [{"file": "series/a.yaml", "line": 3, "column": 5, "severity": "error",
                    "field": "discountValue", "message": "..."}]
    }
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from reconciler.engine.plan import Plan
from reconciler.engine.result import ApplyResult, Outcome
from reconciler.problems import Problem
from reconciler.render._review import change_parts, entries, warning_groups
from reconciler.render._values import display_numbers

FORMAT_VERSION = 1


def _dump(data: Any, stream: TextIO) -> None:
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """``Plan.to_dict()`` with single-precision values shown as written, and the summary a
    reviewer reads first right after the counts (``summary``: see the module's docstring)."""
    data = plan.to_dict()
    for series in data["series"]:
        series["changes"] = display_numbers(series["changes"])
    out: dict[str, Any] = {}
    for name, value in data.items():
        out[name] = value
        if name == "counts":
            out["summary"] = summary_to_dict(plan)
    return out


def summary_to_dict(plan: Plan) -> dict[str, Any]:
    """The summary: one entry per changed series, riskiest first, and the warnings by kind."""
    changes = []
    for entry in entries(plan):
        s = entry.series
        parts, more = change_parts(s)
        facts = s.business
        changes.append(
            {
                "key": s.key,
                "action": s.action.value,
                "id": s.series_id,
                "badges": list(entry.badges),
                "blocking": entry.blocking,
                "changes": parts,
                "more_changes": more,
                "issued": facts.issued if facts is not None else s.live_issued,
                "redeemed": facts.redeemed if facts is not None else None,
                "status": facts.status.value if facts is not None else None,
                "status_text": facts.status_text() if facts is not None else None,
                "impacts": list(facts.impacts) if facts is not None else [],
            }
        )
    return {
        "line": plan.summary(),
        "changes": changes,
        "warning_kinds": [
            {
                "kind": group.kind,
                "count": group.count,
                "examples": [
                    {"message": w.message, "key": w.key, "file": w.file, "line": w.line}
                    for w in group.examples
                ],
            }
            for group in warning_groups(plan.warnings)
        ],
    }


def render_plan_json(plan: Plan, *, stream: TextIO) -> None:
    """The plan file format (``Plan.to_json``'s layout), values shown as written."""
    stream.write(json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n")


def apply_to_dict(result: ApplyResult) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "environment": result.environment,
        "ok": result.ok,
        "converged": result.converged,
        "interrupted": result.interrupted,
        "forced": list(result.forced),
        "overrides": list(result.overrides),
        "notes": list(result.notes),
        "counts": {outcome.value: len(result.of(outcome)) for outcome in Outcome},
        "outcomes": [
            {
                "key": o.key,
                "action": o.action.value,
                "outcome": o.outcome.value,
                "id": o.series_id,
                "message": o.message,
                "status": o.status,
                "codes": list(o.codes),
                "mismatches": [
                    {
                        "field": m.field,
                        "sent": display_numbers(m.before),
                        "answered": display_numbers(m.after),
                    }
                    for m in o.mismatches
                ],
            }
            for o in result.outcomes
        ],
        "after": None if result.after is None else plan_to_dict(result.after),
        "check_error": result.check_error,
    }


def render_apply_json(result: ApplyResult, *, stream: TextIO) -> None:
    _dump(apply_to_dict(result), stream)


def problems_to_dict(problems: Sequence[Problem]) -> dict[str, Any]:
    errors = sum(1 for p in problems if p.is_error)
    return {
        "format_version": FORMAT_VERSION,
        "counts": {"errors": errors, "warnings": len(problems) - errors},
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "severity": p.severity.value,
                "field": p.field,
                "message": p.message,
            }
            for p in sorted(problems)
        ],
    }


def render_problems_json(problems: Sequence[Problem], *, stream: TextIO) -> None:
    _dump(problems_to_dict(problems), stream)
