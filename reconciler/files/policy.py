"""The policy file: guard-rails the repository declares beside its series (``policy.yaml``).

A reviewed file at the top of the series folder, read like the series files: safely (a
regular file, bounded, line-aware YAML), with every problem at once and its file:line, and
described by a JSON Schema (``reconciler schema --policy``) generated from the same model
that checks it::

    # series/policy.yaml
    rules:
      - id: big-percentage              # lower case, digits and -: overrides name it
        level: approve                  # warn | approve | deny
        reason: more than 50% off needs the marketing lead
        percent_above: 50
      - id: vip-frozen
        level: deny
        protected: true
        series: ["vip/*"]               # keys (globs); left out: every series
        environments: [production]      # left out: every environment

Each rule has exactly one check (``CHECKS``). What a match means, and when a check is
looked at, is ``reconciler.engine.policy``'s business; this module only reads the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reconciler.files.validate import Source, suggest
from reconciler.files.yamlsafe import MAX_BYTES, DocPath, load_yaml
from reconciler.model.catalogue import BY_NAME
from reconciler.problems import Problem
from reconciler.safefile import UnsafeFile, read_regular

POLICY_FILE: Final = "policy.yaml"
SCHEMA_ID: Final = "https://reconciler.invalid/schemas/policy.json"
MAX_PATTERN: Final = 200
CHECKS: Final = (
    "percent_above",
    "amount_above",
    "validity_longer_than_days",
    "frozen_once_issued",
    "protected",
    "description_must_match",
)
_RULE_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


LEVELS: Final = ("warn", "approve", "deny")


@dataclass(frozen=True)
class _Key:
    """What one key of a rule may hold: the loader checks it and the schema says it."""

    description: str
    kind: str  # string | number | integer | strings | level | true
    required: bool = False
    minimum: float | None = None
    pattern: str | None = None
    max_length: int | None = None
    min_items: int | None = None


# A rule's keys, strict like the settings file (a value of the wrong type is a problem, never
# converted); the one table both ``read_policy`` and ``policy_schema`` are made from.
_KEYS: Final[dict[str, _Key]] = {
    "id": _Key(
        "Names the rule in findings and overrides (a-z, 0-9, -).",
        "string",
        required=True,
        pattern=_RULE_ID,
    ),
    "level": _Key(
        "warn: shown; approve: plan and apply refuse unless an override names the rule with "
        "a reason; deny: refused, always.",
        "level",
        required=True,
    ),
    "reason": _Key("Why the rule exists: shown with each finding.", "string"),
    "series": _Key("Keys the rule covers (globs: vip/*); left out: every series.", "strings"),
    "environments": _Key("Environments the rule covers; left out: every one.", "strings"),
    "percent_above": _Key("A PERC discount above this many percent.", "number", minimum=0),
    "amount_above": _Key("An ABS discount above this amount.", "number", minimum=0),
    "validity_longer_than_days": _Key(
        "A validity window (redemptionValidFrom to validTillDate) longer than this many days.",
        "integer",
        minimum=0,
    ),
    "frozen_once_issued": _Key(
        "Fields that may not change once coupons were issued.", "strings", min_items=1
    ),
    "protected": _Key("Any create or update of the series it covers.", "true"),
    "description_must_match": _Key(
        "A regular expression the description must contain a match of (no nested "
        "repetition, alternation under repetition or back-references).",
        "string",
        max_length=MAX_PATTERN,
    ),
}


def _key_problem(key: _Key, value: Any) -> tuple[tuple[int, ...], str]:
    """Why ``value`` does not fit ``key`` ("" when it does), and the list index it is at."""
    if key.kind == "level":
        ok = isinstance(value, str) and value in LEVELS
        return (), "" if ok else "Input should be " + ", ".join(repr(v) for v in LEVELS[:-1]) + (
            f" or {LEVELS[-1]!r}"
        )
    if key.kind == "true":
        return (), "" if value is True else "the only value is true (leave the key out)"
    if key.kind == "string":
        if not isinstance(value, str):
            return (), "Input should be a valid string"
        if key.pattern and not re.match(key.pattern, value):
            return (), "a rule id is lower-case letters, digits and - (at most 63)"
        if key.max_length is not None and len(value) > key.max_length:
            return (), f"String should have at most {key.max_length} characters"
        return (), ""
    if key.kind == "strings":
        if not isinstance(value, list):
            return (), "Input should be a valid list"
        for index, item in enumerate(value):
            if not isinstance(item, str):
                return (index,), "Input should be a valid string"
        if key.min_items is not None and len(value) < key.min_items:
            return (), f"List should have at least {key.min_items} item"
        return (), ""
    integer = key.kind == "integer"
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        return (), f"Input should be a valid {'integer' if integer else 'number'}"
    if key.minimum is not None and value < key.minimum:
        return (), f"Input should be greater than or equal to {key.minimum:g}"
    return (), ""


def _key_schema(key: _Key) -> dict[str, Any]:
    shapes: dict[str, dict[str, Any]] = {
        "string": {"type": "string"},
        "number": {"type": "number"},
        "integer": {"type": "integer"},
        "strings": {"type": "array", "items": {"type": "string"}},
        "level": {"type": "string", "enum": list(LEVELS)},
        "true": {"const": True},
    }
    out: dict[str, Any] = {"description": key.description, **shapes[key.kind]}
    for name, value in (
        ("minimum", key.minimum),
        ("pattern", key.pattern),
        ("maxLength", key.max_length),
        ("minItems", key.min_items),
    ):
        if value is not None:
            out[name] = value
    return out


@dataclass(frozen=True)
class PolicyRule:
    """One checked rule; ``check`` is the name of its one check, ``value`` its setting."""

    id: str
    level: str
    check: str
    value: Any
    reason: str = ""
    series: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Policy:
    """The rules of a policy file (none: no file)."""

    rules: tuple[PolicyRule, ...] = ()
    file: str = ""

    def rule(self, rule_id: str) -> PolicyRule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None


@dataclass(frozen=True)
class PolicyRead:
    policy: Policy
    problems: tuple[Problem, ...]
    raw: bytes | None  # the file's bytes, for the plan's digest (None: no file)


def merged(files: Policy, trusted: Policy) -> Policy:
    """The rules of both: the policy of the files under review and the trusted copy (the
    default branch's). A pull request that weakens or drops a rule is still held to the
    trusted rule until the change is merged (reviewed on its own)."""

    def same(a: PolicyRule, b: PolicyRule) -> bool:
        return (a.id, a.level, a.check, a.value, a.series, a.environments) == (
            b.id,
            b.level,
            b.check,
            b.value,
            b.series,
            b.environments,
        )

    extra = [t for t in trusted.rules if not any(same(t, f) for f in files.rules)]
    return Policy(rules=(*files.rules, *extra), file=files.file or trusted.file)


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of the policy file (for editors), from the table the loader checks."""
    rule = {
        "title": "Rule",
        "type": "object",
        "additionalProperties": False,
        "properties": {name: _key_schema(key) for name, key in _KEYS.items()},
        "required": [name for name, key in _KEYS.items() if key.required],
        # Exactly one check per rule: what the loader says too, for the editor to say first.
        "oneOf": [{"required": [name]} for name in CHECKS],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "reconciler policy file",
        "type": "object",
        "additionalProperties": False,
        "properties": {"rules": {"type": "array", "items": {"$ref": "#/$defs/Rule"}}},
        "$defs": {"Rule": rule},
    }


def read_policy(
    path: Path, *, shown: str, environments: Sequence[str] = (), optional: bool = True
) -> PolicyRead:
    """Read and check the policy file at ``path`` (shown as ``shown``). Every problem at
    once; a file with problems yields no rules (the plan refuses to run on it)."""
    if optional and not os.path.lexists(path):
        return PolicyRead(Policy(), (), None)
    try:
        raw = read_regular(path, limit=MAX_BYTES, what="policy")
    except UnsafeFile as refused:
        return PolicyRead(Policy(file=shown), (Problem(shown, 0, 0, refused.message),), None)
    loaded = load_yaml(raw, file=shown, what="policy")
    problems = list(loaded.problems)
    if loaded.document is None:
        return PolicyRead(Policy(file=shown), tuple(problems), raw)
    top = Source(shown, loaded.document)
    data = loaded.document.data
    for key in data:
        if key != "rules":
            problems.append(
                top.problem((key,), f"unknown key {key!r}: a policy file holds rules:", key=True)
            )
    items = data.get("rules") or []
    if not isinstance(items, list):
        problems.append(top.problem(("rules",), "rules: must be a list of rules"))
        items = []
    rules: list[PolicyRule] = []
    seen: dict[str, int] = {}
    for index, raw_rule in enumerate(items):
        where: DocPath = ("rules", index)
        values, broken, found = _read_rule(raw_rule, where, top)
        found.extend(_rule_problems(values, broken, where, top, environments))
        rule_id = values.get("id")
        if rule_id is not None and rule_id in seen:
            found.append(
                top.problem(
                    (*where, "id"),
                    f"rule id {rule_id!r} is also the id of rule {seen[rule_id] + 1}: ids "
                    "name rules in overrides, so each must be unique",
                )
            )
        if rule_id is not None:
            seen.setdefault(rule_id, index)
        problems.extend(found)
        if found:
            continue
        (check,) = [name for name in CHECKS if name in values]
        value = values[check]
        rules.append(
            PolicyRule(
                id=values["id"],
                level=values["level"],
                check=check,
                value=tuple(value) if isinstance(value, list) else value,
                reason=values.get("reason", ""),
                series=tuple(values.get("series", ())),
                environments=tuple(values.get("environments", ())),
                file=shown,
                line=loaded.document.where(where).line,
            )
        )
    if any(p.is_error for p in problems):
        return PolicyRead(Policy(file=shown), tuple(problems), raw)
    return PolicyRead(Policy(rules=tuple(rules), file=shown), tuple(problems), raw)


def _read_rule(
    raw: Any, where: DocPath, top: Source
) -> tuple[dict[str, Any], set[str], list[Problem]]:
    """A rule's keys that hold what they may, the keys that do not, and why (every one)."""
    rule = f"rule {int(where[-1]) + 1}"
    if not isinstance(raw, dict):
        message = f"{rule} must be a mapping: id:, level:, and one check"
        return {}, set(), [top.problem(where, message)]
    values: dict[str, Any] = {}
    broken: set[str] = set()
    found: list[Problem] = []
    for name, value in raw.items():
        key = _KEYS.get(str(name))
        if key is None:
            close = suggest(str(name), list(_KEYS))
            hint = f"did you mean {close}? " if close else ""
            message = f"{rule} has no key {str(name)!r}: {hint}the keys are {', '.join(_KEYS)}"
            found.append(top.problem((*where, name), message, key=True))
            continue
        if value is None and not key.required:
            continue
        at, why = _key_problem(key, value)
        if why:
            broken.add(name)
            found.append(top.problem((*where, name, *at), f"{rule}, {name}: {why}"))
        else:
            values[name] = value
    for name, key in _KEYS.items():
        if key.required and name not in raw:
            found.append(top.problem((*where, name), f"{rule} needs {name}:", key=True))
    return values, broken, found


def _rule_problems(
    values: Mapping[str, Any],
    broken: set[str],
    where: DocPath,
    top: Source,
    environments: Sequence[str],
) -> list[Problem]:
    found: list[Problem] = []
    checks = [name for name in CHECKS if name in values or name in broken]
    if len(checks) != 1:
        said = ", ".join(checks) if checks else "none"
        found.append(
            top.problem(
                where,
                f"rule {int(where[-1]) + 1} must have exactly one check ({said} given): one of "
                f"{', '.join(CHECKS)}; write two rules for two checks",
            )
        )
    for index, name in enumerate(values.get("frozen_once_issued", ())):
        spec = BY_NAME.get(name)
        if spec is None or not spec.writable:
            close = suggest(name, [n for n, f in BY_NAME.items() if f.writable])
            hint = f": did you mean {close}?" if close else ""
            found.append(
                top.problem(
                    (*where, "frozen_once_issued", index),
                    f"{name!r} is not a field a series file sets{hint}",
                )
            )
    if "description_must_match" in values:
        why = pattern_problem(values["description_must_match"])
        if why:
            found.append(top.problem((*where, "description_must_match"), why))
    known = set(environments)
    for index, name in enumerate(values.get("environments", ())):
        if known and name not in known:
            close = suggest(name, sorted(known))
            hint = f"did you mean {close}? " if close else ""
            found.append(
                top.problem(
                    (*where, "environments", index),
                    f"{name!r} is not an environment of the settings: {hint}they are "
                    f"{', '.join(sorted(known))}",
                )
            )
    for index, glob in enumerate(values.get("series", ())):
        if not glob.strip():
            found.append(top.problem((*where, "series", index), "an empty series pattern"))
    return found


def pattern_problem(pattern: str) -> str:
    """Why ``pattern`` is not accepted as a description pattern ("" when it is).

    A pattern runs in CI on every plan, against descriptions from pull requests and from
    the CRM: one with exponential backtracking (``(a+)+$``) would hang the job. Python's
    ``re`` has no time limit, so the shapes that backtrack exponentially are refused: a
    repetition inside a repetition, an alternation under a repetition, a back-reference.
    """
    try:
        re.compile(pattern)
    except re.error as error:
        return f"not a regular expression: {error}"
    # The parse tree of the pattern: the only way to see its shape (typeshed has no stub).
    import re._parser as parser  # type: ignore[import-not-found]

    try:
        tree = parser.parse(pattern)
    except re.error as error:  # pragma: no cover - compile above parses the same
        return f"not a regular expression: {error}"
    if _risky(list(tree), under_repeat=False):
        return (
            "this pattern could take minutes on a long description (a repetition inside a "
            "repetition, an alternation under a repetition, or a back-reference): write it "
            "without, such as '^Summer [0-9]+% off'"
        )
    return ""


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _risky(items: list[Any], *, under_repeat: bool) -> bool:
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return True
        if name in _REPEATS:
            if under_repeat:
                return True
            if _risky(list(arg[2]), under_repeat=True):
                return True
        elif name == "BRANCH":
            if under_repeat:
                return True
            if any(_risky(list(branch), under_repeat=False) for branch in arg[1]):
                return True
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            body = arg[-1]
            if _risky(list(body), under_repeat=under_repeat):
                return True
        elif name in ("ASSERT", "ASSERT_NOT") and _risky(list(arg[1]), under_repeat=under_repeat):
            return True
    return False


__all__ = [
    "CHECKS",
    "LEVELS",
    "POLICY_FILE",
    "Policy",
    "PolicyRead",
    "PolicyRule",
    "merged",
    "pattern_problem",
    "policy_schema",
    "read_policy",
]
