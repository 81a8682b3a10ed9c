"""A reviewed plan beside the plan made now: what differs, action by action. Pure.

``apply PLANFILE`` never writes what a plan file says. It makes the plan again from the files
at hand, the state and the live CRM, with the reviewed plan's targets, and compares the two
here: equal, it applies the plan it just made; different, it writes nothing and shows each
difference as "reviewed: X; now: Y". A plan file is evidence of what was reviewed (edited
after the review, or made before the CRM or the files moved, it no longer matches), never
the source of a body or an id. Like Terraform Cloud and Atlantis, the side that applies
computes the plan; the proposing side's copy is only compared.

What is compared, per series key: whether the plan has it, its action, its series id, the
digest of the live series it read (a series changed in the CRM since the review), the retire
flag, every field change (before, after, and why a change the file does not spell out is
made: a reset), and every value it would send (a create's whole body, an update's fields).
Per plan: the blocked keys, the likely renames (moves), the safety rails, the targets.
Warnings, notes, orphans and the time of the plan are what a reviewer reads, not what an
apply does, and are not compared.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler import __version__
from reconciler.engine.plan import Plan

_SHOWN = 160  # characters of a value in a difference


@dataclass(frozen=True)
class Difference:
    """One way the reviewed plan and the plan made now differ."""

    key: str  # the series key, or "" for the plan as a whole
    what: str  # the aspect: "action", "id", "discountValue", "sends discountValue", ...
    reviewed: str
    now: str

    def line(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{where}{self.what}: reviewed: {self.reviewed}; now: {self.now}"


def check_fresh(*, plan: Plan, digest: str, environment: str) -> list[str]:
    """The cheap first gate before a reviewed plan is made again: why it cannot be this
    tool's plan of these files for this environment (pure; empty: go on)."""
    reasons: list[str] = []
    if plan.tool_version != __version__:
        reasons.append(f"made by reconciler {plan.tool_version}, this is {__version__}")
    if plan.environment != environment:
        reasons.append(f"made for environment {plan.environment!r}, not {environment!r}")
    if plan.desired_digest != digest:
        reasons.append("the series files or the settings changed since the plan was made")
    return reasons


def differences(*, reviewed: Plan, now: Plan) -> tuple[Difference, ...]:
    """Every difference between ``reviewed`` and ``now`` in what an apply would do."""
    old, new = _data(reviewed), _data(now)
    out: list[Difference] = []
    if sorted(old["targets"]) != sorted(new["targets"]):
        out.append(Difference("", "targets", _list(old["targets"]), _list(new["targets"])))
    if sorted(old["rails"]) != sorted(new["rails"]):
        out.append(Difference("", "safety rails", _list(old["rails"]), _list(new["rails"])))
    out += _repeated(old)
    out += _series(_by(old["series"], "key"), _by(new["series"], "key"))
    out += _blocked(_by(old["blocked"], "key"), _by(new["blocked"], "key"))
    out += _moves(_by(old["moves"], "to_key"), _by(new["moves"], "to_key"))
    return tuple(sorted(out, key=lambda d: (d.key, d.what)))


def _data(plan: Plan) -> dict[str, Any]:
    """``plan`` as plain JSON data: both sides compared in the one form a plan file has."""
    data: dict[str, Any] = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    return data


def _repeated(data: Mapping[str, Any]) -> list[Difference]:
    """A key listed twice in one part of a plan: no plan this tool makes has one."""
    out = []
    for part, name in (("series", "key"), ("blocked", "key"), ("moves", "to_key")):
        seen = Counter(str(item[name]) for item in data[part])
        out += [
            Difference(key, f"{part} entries", str(count), "1")
            for key, count in sorted(seen.items())
            if count > 1
        ]
    return out


def _by(items: Iterable[Mapping[str, Any]], name: str) -> dict[str, Mapping[str, Any]]:
    return {str(item[name]): item for item in items}


def _series(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[Difference]:
    out: list[Difference] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            out.append(Difference(key, "series", _summary(a), _summary(b)))
            continue
        if a["action"] != b["action"]:
            out.append(Difference(key, "action", a["action"], b["action"]))
        if a["id"] != b["id"]:
            out.append(Difference(key, "series id", _value(a["id"]), _value(b["id"])))
        if a["live_digest"] != b["live_digest"]:
            out.append(
                Difference(
                    key,
                    "the live series",
                    _digest(a, "as the CRM had it at the review"),
                    _digest(b, "changed in the CRM since the plan was made"),
                )
            )
        if bool(a.get("retire")) != bool(b.get("retire")):
            out.append(Difference(key, "retire", _value(a.get("retire")), _value(b.get("retire"))))
        out += _changes(key, _by(a["changes"], "field"), _by(b["changes"], "field"))
        out += _sent(key, a["desired"], b["desired"])
    return out


def _changes(
    key: str, old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[Difference]:
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is not None and b is not None and _same_change(a, b):
            continue
        out.append(Difference(key, name, _change(a), _change(b)))
    return out


def _same_change(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (a["before"], a["after"], a.get("note") or "") == (
        b["before"],
        b["after"],
        b.get("note") or "",
    )


def _sent(key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Difference]:
    out = []
    for name in sorted(set(old) | set(new)):
        if name in old and name in new and old[name] == new[name]:
            continue
        out.append(
            Difference(
                key,
                f"sends {name}",
                _value(old[name]) if name in old else "not sent",
                _value(new[name]) if name in new else "not sent",
            )
        )
    return out


def _blocked(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[Difference]:
    # Only whether a key is blocked: the reason's suggested command spells the flags of
    # the command that made the plan, which may differ without changing any action.
    return [
        Difference(
            key,
            "blocked",
            "blocked" if key in old else "not blocked",
            "blocked" if key in new else "not blocked",
        )
        for key in sorted(set(old) ^ set(new))
    ]


def _moves(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> list[Difference]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and (a["from_key"], a["id"]) == (b["from_key"], b["id"]):
            continue
        out.append(Difference(key, "likely rename", _move(a), _move(b)))
    return out


def _summary(item: Mapping[str, Any] | None) -> str:
    if item is None:
        return "not in the plan"
    where = f" of series {item['id']}" if item.get("id") is not None else ""
    return f"{item['action']}{where}"


def _digest(item: Mapping[str, Any], meaning: str) -> str:
    digest = item.get("live_digest")
    return f"{meaning} (digest {str(digest)[:12]})" if digest else "no digest of the live series"


def _change(change: Mapping[str, Any] | None) -> str:
    if change is None:
        return "no change"
    note = change.get("note") or ""
    text = f"{_value(change['before'])} → {_value(change['after'])}"
    return f"{text} ({note})" if note else text


def _move(move: Mapping[str, Any] | None) -> str:
    if move is None:
        return "none"
    return f"from {move['from_key']} (id {move['id']})"


def _list(items: Iterable[Any]) -> str:
    values = [str(i) for i in items]
    return "; ".join(values) if values else "none"


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
