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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField

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


class RuleModel(BaseModel):
    """One rule of the policy file (the JSON Schema's ``rules`` items)."""

    model_config = ConfigDict(extra="forbid", title="Rule")

    id: str = PydanticField(
        pattern=_RULE_ID, description="Names the rule in findings and overrides (a-z, 0-9, -)."
    )
    level: Literal["warn", "approve", "deny"] = PydanticField(
        description="warn: shown; approve: plan and apply refuse unless an override names the "
        "rule with a reason; deny: refused, always."
    )
    reason: str = PydanticField("", description="Why the rule exists: shown with each finding.")
    series: list[str] = PydanticField(
        default_factory=list,
        description="Keys the rule covers (globs: vip/*); left out: every series.",
    )
    environments: list[str] = PydanticField(
        default_factory=list, description="Environments the rule covers; left out: every one."
    )
    percent_above: float | None = PydanticField(
        None, ge=0, description="A PERC discount above this many percent."
    )
    amount_above: float | None = PydanticField(
        None, ge=0, description="An ABS discount above this amount."
    )
    validity_longer_than_days: int | None = PydanticField(
        None,
        ge=0,
        description="A validity window (redemptionValidFrom to validTillDate) "
        "longer than this many days.",
    )
    frozen_once_issued: list[str] | None = PydanticField(
        None, min_length=1, description="Fields that may not change once coupons were issued."
    )
    protected: Literal[True] | None = PydanticField(
        None, description="Any create or update of the series it covers."
    )
    description_must_match: str | None = PydanticField(
        None,
        max_length=MAX_PATTERN,
        description="A regular expression the description must contain a match of (no "
        "nested repetition, alternation under repetition or back-references).",
    )


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", title="reconciler policy file")

    rules: list[RuleModel] = PydanticField(default_factory=list)


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
    """The JSON Schema of the policy file (for editors; the loader checks the same model)."""
    schema = PolicyModel.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    rule = schema["$defs"]["RuleModel"]
    # Exactly one check per rule: what the loader says too, for the editor to say first.
    rule["oneOf"] = [{"required": [name]} for name in CHECKS]
    return schema


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
        try:
            item = RuleModel.model_validate(raw_rule)
        except ValidationError as error:
            problems.extend(_structure_problems(error, top, where))
            # The rest of the rule is checked too: every problem at once.
            bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            problems.extend(_rule_problems(_lenient(raw_rule, bad), where, top, environments))
            continue
        found = _rule_problems(item, where, top, environments)
        if item.id in seen:
            found.append(
                top.problem(
                    (*where, "id"),
                    f"rule id {item.id!r} is also the id of rule {seen[item.id] + 1}: ids "
                    "name rules in overrides, so each must be unique",
                )
            )
        seen.setdefault(item.id, index)
        problems.extend(found)
        if found:
            continue
        (check,) = [name for name in CHECKS if getattr(item, name) is not None]
        value = getattr(item, check)
        rules.append(
            PolicyRule(
                id=item.id,
                level=item.level,
                check=check,
                value=tuple(value) if isinstance(value, list) else value,
                reason=item.reason,
                series=tuple(item.series),
                environments=tuple(item.environments),
                file=shown,
                line=loaded.document.where(where).line,
            )
        )
    if any(p.is_error for p in problems):
        return PolicyRead(Policy(file=shown), tuple(problems), raw)
    return PolicyRead(Policy(rules=tuple(rules), file=shown), tuple(problems), raw)


def _structure_problems(error: ValidationError, top: Source, where: DocPath) -> list[Problem]:
    out = []
    rule = f"rule {int(where[-1]) + 1}"
    for item in error.errors():
        loc: DocPath = tuple(item["loc"])
        extra = item["type"] == "extra_forbidden"
        name = ".".join(str(p) for p in loc)
        said = f"{rule}, {name}" if name else rule
        if extra and loc:
            known = list(RuleModel.model_fields)
            close = suggest(str(loc[-1]), known)
            hint = f"did you mean {close}? " if close else ""
            message = f"{rule} has no key {str(loc[-1])!r}: {hint}the keys are {', '.join(known)}"
        elif item["type"] == "string_pattern_mismatch" and loc == ("id",):
            message = f"{said}: a rule id is lower-case letters, digits and - (at most 63)"
        elif item["type"] == "missing":
            message = f"{rule} needs {name}:"
        else:
            message = f"{said}: {item['msg']}"
        out.append(top.problem((*where, *loc), message, key=extra or item["type"] == "missing"))
    return out


def _lenient(raw: Any, bad: set[str]) -> RuleModel:
    """What can be read of a rule that failed its structure check, for the other checks:
    the valid keys' values, and which checks it names (``True`` for a broken one)."""
    fields: dict[str, Any] = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            if name in CHECKS:
                fields[name] = True if name in bad else value
            elif name in ("id", "environments", "series") and name not in bad:
                fields[name] = value
    fields.setdefault("id", "?")
    if "frozen_once_issued" in bad:
        fields["frozen_once_issued"] = []
    if "description_must_match" in bad:
        fields["description_must_match"] = ""
    return RuleModel.model_construct(**fields)


def _rule_problems(
    item: RuleModel, where: DocPath, top: Source, environments: Sequence[str]
) -> list[Problem]:
    found: list[Problem] = []
    checks = [name for name in CHECKS if getattr(item, name) is not None]
    if len(checks) != 1:
        said = ", ".join(checks) if checks else "none"
        found.append(
            top.problem(
                where,
                f"rule {int(where[-1]) + 1} must have exactly one check ({said} given): one of "
                f"{', '.join(CHECKS)}; write two rules for two checks",
            )
        )
    for index, name in enumerate(item.frozen_once_issued or ()):
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
    if item.description_must_match is not None:
        why = pattern_problem(item.description_must_match)
        if why:
            found.append(top.problem((*where, "description_must_match"), why))
    known = set(environments)
    for index, name in enumerate(item.environments):
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
    for index, glob in enumerate(item.series):
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
    "POLICY_FILE",
    "Policy",
    "PolicyRead",
    "PolicyRule",
    "merged",
    "pattern_problem",
    "policy_schema",
    "read_policy",
]
