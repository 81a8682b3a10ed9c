"""The settings file ``reconciler.yaml``: its defaults, ignore rules and environments.

Read first by every load; its ``defaults`` go under every series. Secrets never live in it
(a key that looks like one is a problem), and each environment's settings are checked here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, get_args

from reconciler.files.environments import Values, check_values, in_environment
from reconciler.files.paths import display_path
from reconciler.files.validate import (
    RESERVED_KEY,
    Source,
    check_field,
    check_ignore_rules,
    suggest,
)
from reconciler.files.yamlsafe import MAX_BYTES, DocPath, load_yaml
from reconciler.model.desired import IgnoreRule
from reconciler.model.hosts import base_url_problem
from reconciler.model.settings import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_PREFIX,
    SANDBOX_ENVIRONMENT,
    SETTINGS_FILE,
    AuthMethod,
    Environment,
    Settings,
)
from reconciler.problems import Problem
from reconciler.safefile import UnsafeFile, read_regular

SETTINGS_KEYS: Final = ("defaults", "ignore", "environments")
_SECRET = re.compile(
    r"pass(word|wd)?$|secret|token|(^|_)key$|apikey|api_key|credential", re.IGNORECASE
)
_PREFIX = re.compile(r"^[A-Z][A-Z0-9_]*$")


def load_settings(directory: Path) -> tuple[Settings, list[Problem]]:
    """Read ``reconciler.yaml`` in ``directory`` (optional) into ``Settings``."""
    read = read_settings(directory, display_root=None)
    return read.settings, list(read.problems)


def known_environments(settings: Settings) -> list[str]:
    # The sandbox is always there (plan --sandbox), whatever the settings say.
    return sorted({*settings.environments, SANDBOX_ENVIRONMENT})


@dataclass(frozen=True)
class _Rule:
    """What one environment setting may hold; its default is ``Environment``'s own."""

    kind: type[int] | type[float] | type[str] | None  # None: one of ``choices``
    choices: tuple[str, ...] = ()
    optional: bool = False  # null allowed (the default then decides)
    gt: float | None = None
    ge: float | None = None
    le: float | None = None


# One environment of the settings file (secrets excluded: they are variables). Strict, like
# the pydantic model it replaces (pydantic alone took 90 ms of every cold `validate`): a value
# of the wrong type is a problem, never converted; a whole number is a valid float.
_RULES: Final[dict[str, _Rule]] = {
    "base_url": _Rule(str, optional=True),
    "auth": _Rule(None, choices=get_args(AuthMethod), optional=True),
    "env_prefix": _Rule(str),
    "rate_limit_per_minute": _Rule(int, gt=0),
    "batch_size": _Rule(int, gt=0),
    "parallelism": _Rule(int, gt=0),
    "timeout_seconds": _Rule(float, gt=0),
    "max_update_share": _Rule(float, gt=0, le=1),
    "share_min_series": _Rule(int, ge=0),
    "create_settle_seconds": _Rule(float, ge=0),
}


def _check_setting(rule: _Rule, value: Any) -> tuple[Any, str]:
    """The value as the setting holds it, or ``""`` and why not (pydantic's wording)."""
    if value is None and rule.optional:
        return None, ""
    if rule.kind is None:
        if value in rule.choices and isinstance(value, str):
            return value, ""
        return None, "Input should be " + " or ".join(repr(c) for c in rule.choices)
    if rule.kind is str:
        return (value, "") if isinstance(value, str) else (None, "Input should be a valid string")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"Input should be a valid {'integer' if rule.kind is int else 'number'}"
    if rule.kind is int and not isinstance(value, int):
        return None, "Input should be a valid integer"
    number = float(value) if rule.kind is float else value
    if rule.le is not None and not number <= rule.le:
        return None, f"Input should be less than or equal to {rule.le:g}"
    if rule.gt is not None and not number > rule.gt:
        return None, f"Input should be greater than {rule.gt:g}"
    if rule.ge is not None and not number >= rule.ge:
        return None, f"Input should be greater than or equal to {rule.ge:g}"
    return number, ""


@dataclass(frozen=True)
class SettingsRead:
    settings: Settings
    problems: tuple[Problem, ...]
    raw: bytes | None
    defaults: Mapping[str, Any]
    defaults_source: Source | None
    # Defaults with an error: reported once in the settings file, not again as missing.
    invalid_defaults: frozenset[str] = frozenset()
    # Each environment's own defaults (environments.NAME.defaults), checked.
    environment_defaults: Mapping[str, Values] = field(default_factory=dict)


def _fallback_environments() -> dict[str, Environment]:
    # No base_url here: the client reads CAPILLARY_BASE_URL itself, so the URL stays on the
    # trusted side (a variable) and trusted-settings checks compare like with like.
    return {DEFAULT_ENVIRONMENT: Environment(name=DEFAULT_ENVIRONMENT)}


def read_settings(directory: Path, *, display_root: Path | None) -> SettingsRead:
    path = directory / SETTINGS_FILE
    if not os.path.lexists(path):
        return SettingsRead(Settings(environments=_fallback_environments()), (), None, {}, None)
    shown = display_path(path, display_root)
    try:
        raw = read_regular(path, limit=MAX_BYTES, what="settings")
    except UnsafeFile as refused:
        problem = Problem(shown, 0, 0, f"the settings file: {refused.message}")
        return SettingsRead(
            Settings(environments=_fallback_environments(), file=shown), (problem,), None, {}, None
        )
    loaded = load_yaml(raw, file=shown, what="settings")
    problems = list(loaded.problems)
    document = loaded.document
    if document is None:
        return SettingsRead(
            Settings(environments=_fallback_environments(), file=shown),
            tuple(problems),
            raw,
            {},
            None,
        )
    top = Source(shown, document)
    data = document.data
    for key in data:
        if key not in SETTINGS_KEYS:
            close = suggest(key, SETTINGS_KEYS)
            hint = f"did you mean {close}? " if close else ""
            problems.append(
                top.problem(
                    (key,),
                    f"the settings file has no section {key!r}: "
                    f"{hint}The sections are {', '.join(SETTINGS_KEYS)}",
                    key=True,
                )
            )
    problems.extend(_secret_problems(data, top))

    defaults: dict[str, Any] = {}
    invalid_defaults: set[str] = set()
    default_lines: dict[str, int] = {}
    defaults_source = Source(shown, document, ("defaults",))
    raw_defaults = data.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        problems.append(
            top.problem(
                ("defaults",),
                "defaults must be a mapping of API fields to the values every series gets",
            )
        )
        raw_defaults = {}
    for name, value in raw_defaults.items():
        if name == RESERVED_KEY:
            problems.append(
                defaults_source.problem(
                    (name,),
                    f"{RESERVED_KEY}: belongs in a series file; in the settings file, "
                    "write ignore: at the top",
                    key=True,
                )
            )
            continue
        checked = check_field(name, value, source=defaults_source)
        problems.extend(checked.problems)
        if checked.ok:
            defaults[name] = checked.value
            default_lines[name] = document.where(("defaults", name), key=True).line
        else:
            invalid_defaults.add(name)

    ignore: tuple[IgnoreRule, ...] = ()
    if "ignore" in data:
        ignore, found = check_ignore_rules(data["ignore"], source=top, path=("ignore",))
        problems.extend(found)

    env_defaults: dict[str, Values] = {}
    environments = _environments(data.get("environments"), top, problems, env_defaults)
    settings = Settings(
        defaults=defaults,
        default_lines=default_lines,
        ignore=ignore,
        environments=environments or _fallback_environments(),
        file=shown,
        environment_defaults={k: dict(v.values) for k, v in env_defaults.items()},
    )
    return SettingsRead(
        settings,
        tuple(problems),
        raw,
        defaults,
        defaults_source,
        frozenset(invalid_defaults),
        env_defaults,
    )


def _environments(
    value: Any, top: Source, problems: list[Problem], env_defaults: dict[str, Values]
) -> dict[str, Environment]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(
            top.problem(
                ("environments",),
                "environments must be a mapping of names (such as production) to their settings",
            )
        )
        return {}
    out: dict[str, Environment] = {}
    for name, body in value.items():
        where: DocPath = ("environments", name)
        if not isinstance(body, dict):
            problems.append(
                top.problem(
                    where,
                    f"environment {name!r} must be a mapping with base_url:, auth: and the like",
                )
            )
            continue
        if "defaults" in body:
            env_defaults[str(name)] = _environment_defaults(body["defaults"], top, where, problems)
        secretless = {
            k: v for k, v in body.items() if not _SECRET.search(str(k)) and k != "defaults"
        }
        checked: dict[str, Any] = {}
        wrong = False
        for key, item in secretless.items():
            rule = _RULES.get(str(key))
            if rule is None:
                message = _setting_message(name, str(key), "", item, extra=True)
                problems.append(top.problem((*where, key), message, key=True))
                wrong = True
                continue
            setting, why = _check_setting(rule, item)
            if why:
                message = _setting_message(name, str(key), why, item, extra=False)
                problems.append(top.problem((*where, key), message))
                wrong = True
            elif setting is not None:
                checked[str(key)] = setting
        if wrong:
            continue
        base_url = checked.get("base_url")
        url_problem = base_url_problem(base_url) if base_url is not None else ""
        if url_problem:
            problems.append(top.problem((*where, "base_url"), url_problem))
            continue
        prefix = checked.get("env_prefix", DEFAULT_PREFIX)
        if not _PREFIX.match(prefix):
            problems.append(
                top.problem(
                    (*where, "env_prefix"),
                    f"env_prefix {prefix!r} must be upper-case "
                    "letters, digits and _ (the start of variable names such as CAPILLARY_PROD)",
                )
            )
            continue
        out[name] = Environment(name=name, **checked)
    return out


def _environment_defaults(
    value: Any, top: Source, where: DocPath, problems: list[Problem]
) -> Values:
    source = Source(top.file, top.document, (*where, "defaults"))
    if not isinstance(value, dict):
        problems.append(
            top.problem(
                (*where, "defaults"),
                "defaults of an environment must be a mapping of API fields to the values "
                "every series gets in that environment",
            )
        )
        return Values({}, {}, frozenset(), source)
    if RESERVED_KEY in value:
        problems.append(
            source.problem((RESERVED_KEY,), f"{RESERVED_KEY}: belongs in a series file", key=True)
        )
    fields = {k: v for k, v in value.items() if k != RESERVED_KEY}
    found: list[Problem] = []
    checked = check_values(fields, source, found)
    problems.extend(in_environment(p, str(where[-1])) for p in found)
    return checked


def _setting_message(env: str, where: str, why: str, found: Any, *, extra: bool) -> str:
    if extra:
        known = list(_RULES)
        close = suggest(where, known)
        hint = f"did you mean {close}? " if close else ""
        return (
            f"environment {env!r} has no setting {where!r}: {hint}The settings are "
            f"{', '.join(known)}"
        )
    if where == "base_url":  # an address may hold a secret: never quoted back
        return f"environment {env!r}, {where}: {why}"
    return f"environment {env!r}, {where}: {why} (found {found!r})"


def _secret_problems(data: Mapping[str, Any], top: Source) -> list[Problem]:
    """Keys that look like secrets, anywhere but inside ``defaults`` (API fields)."""
    found: list[Problem] = []

    def walk(value: Any, path: DocPath, prefix: str) -> None:
        if isinstance(value, dict):
            here = value.get("env_prefix") if isinstance(value.get("env_prefix"), str) else None
            prefix = here or prefix
            for key, item in value.items():
                top_defaults = path == () or (len(path) == 2 and path[0] == "environments")
                if top_defaults and key == "defaults":
                    continue
                if key != "env_prefix" and _SECRET.search(str(key)):
                    found.append(
                        top.problem(
                            (*path, key),
                            f"{key!r} looks like a secret, and secrets never live "
                            f"in files: set {prefix}_PASSWORD in the environment (or "
                            f"{prefix}_OAUTH_KEY and {prefix}_OAUTH_SECRET for OAuth), and remove "
                            "it from the file",
                            key=True,
                        )
                    )
                else:
                    walk(item, (*path, key), prefix)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*path, i), prefix)

    walk(data, (), DEFAULT_PREFIX)
    return found


__all__ = ["SETTINGS_KEYS", "SettingsRead", "known_environments", "load_settings", "read_settings"]
