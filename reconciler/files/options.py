"""The reserved ``reconciler:`` key of a series file: the tool's own settings for the series.

Never sent to the API. ``ignore:`` (fields whose live value is left alone, and why),
``retire:`` (end the series today), ``only:`` (the environments it exists in) and
``environments:`` (values per environment, merged by the loader).
"""

from __future__ import annotations

from typing import Any, Final

from reconciler.files.field_checks import unknown_field_message
from reconciler.files.source import Source, shown, suggest
from reconciler.files.yamlsafe import DocPath
from reconciler.model.catalogue import BY_NAME
from reconciler.model.desired import IgnoreRule, SeriesOptions
from reconciler.problems import Problem

RESERVED_KEY: Final = "reconciler"
OPTION_KEYS: Final = ("ignore", "retire", "only", "environments", "owns", "distinct_from")
IGNORE_KEYS: Final = ("field", "reason")
# ``owns:``: the fields the series owns. ``written`` (the default): the fields the file and
# the settings' defaults write. ``all``: those, and every field with a documented server
# default, held at that default (``reconciler import`` writes it in every file it makes).
OWNS_WRITTEN: Final = "written"
OWNS_ALL: Final = "all"


def check_options(value: Any, *, source: Source) -> tuple[SeriesOptions, list[Problem]]:
    """Check the reserved ``reconciler:`` key of a series file."""
    path: DocPath = (RESERVED_KEY,)
    problems: list[Problem] = []
    if not isinstance(value, dict):
        problems.append(
            source.problem(
                path,
                f"{RESERVED_KEY}: holds the tool's settings for this series, a mapping "
                "with ignore:, retire:, only:, owns:, environments: and distinct_from:",
                field=RESERVED_KEY,
            )
        )
        return SeriesOptions(), problems
    for key in value:
        if key not in OPTION_KEYS:
            close = suggest(key, OPTION_KEYS)
            hint = f"did you mean {close}? " if close else ""
            problems.append(
                source.problem(
                    (*path, key),
                    f"{RESERVED_KEY}: has no setting {key!r}: {hint}The settings "
                    f"are {', '.join(OPTION_KEYS)}",
                    key=True,
                    field=RESERVED_KEY,
                )
            )
    rules, more = check_ignore_rules(value.get("ignore", []), source=source, path=(*path, "ignore"))
    problems.extend(more)
    retire = value.get("retire", False)
    if not isinstance(retire, bool):
        problems.append(
            source.problem(
                (*path, "retire"),
                f"retire must be true or false, not {shown(retire)}",
                field=RESERVED_KEY,
            )
        )
        retire = False
    only, more = _check_only(value.get("only"), source=source, path=(*path, "only"))
    problems.extend(more)
    distinct, more = _check_distinct(
        value.get("distinct_from"), source=source, path=(*path, "distinct_from")
    )
    problems.extend(more)
    overrides = value.get("environments")
    if overrides is not None and not (
        isinstance(overrides, dict) and all(isinstance(v, dict) for v in overrides.values())
    ):
        problems.append(
            source.problem(
                (*path, "environments"),
                "environments: maps environment names to the fields that differ there, such "
                "as {production: {storeIdsJson: [201, 202]}}",
                field=RESERVED_KEY,
            )
        )
    owns = value.get("owns", OWNS_WRITTEN)
    if owns not in (OWNS_WRITTEN, OWNS_ALL):
        problems.append(
            source.problem(
                (*path, "owns"),
                f"owns: is {OWNS_ALL} (every field with a documented server default is held at "
                f"it where the file writes nothing) or {OWNS_WRITTEN} (only the fields written "
                f"are managed; the default), not {shown(owns)}",
                field=RESERVED_KEY,
            )
        )
        owns = OWNS_WRITTEN
    options = SeriesOptions(
        ignore=rules,
        retire=retire,
        only=only,
        owns_all=owns == OWNS_ALL,
        distinct_from=distinct,
    )
    return options, problems


def _check_distinct(
    value: Any, *, source: Source, path: DocPath
) -> tuple[tuple[int, ...], list[Problem]]:
    """``distinct_from``: ids of existing series that share this file's discountCode but are
    not its series (so the plan creates it instead of blocking on them)."""
    if value is None:
        return (), []
    ids = value if isinstance(value, list) else None
    if not ids or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids
    ):
        message = (
            "distinct_from: lists the ids of existing series with this discountCode that are "
            "not this file's series, such as [877510]: positive integers"
        )
        return (), [source.problem(path, message, field=RESERVED_KEY)]
    return tuple(sorted(set(ids))), []


def _check_only(
    value: Any, *, source: Source, path: DocPath
) -> tuple[tuple[str, ...] | None, list[Problem]]:
    if value is None:
        return None, []
    names = [value] if isinstance(value, str) else value
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and n.strip() for n in names)
    ):
        message = (
            "only: lists the environments this series exists in, such as [testing]; "
            "leave it out for every environment"
        )
        return None, [source.problem(path, message, field=RESERVED_KEY)]
    return tuple(n.strip() for n in names), []


def check_ignore_rules(
    value: Any, *, source: Source, path: DocPath
) -> tuple[tuple[IgnoreRule, ...], list[Problem]]:
    """Check a list of ``{field: NAME, reason: TEXT}`` rules."""
    problems: list[Problem] = []
    rules: list[IgnoreRule] = []
    label = "ignore"
    if value is None:
        return (), problems
    if not isinstance(value, list):
        problems.append(
            source.problem(
                path,
                f"{label} must be a list of rules such as - {{field: maxRedeem, reason: "
                '"ops tune it"}',
                field=RESERVED_KEY,
            )
        )
        return (), problems
    for i, item in enumerate(value):
        at: DocPath = (*path, i)
        if not isinstance(item, dict):
            problems.append(
                source.problem(at, "each ignore rule is a mapping with field: and reason:")
            )
            continue
        for key in item:
            if key not in IGNORE_KEYS:
                problems.append(
                    source.problem(
                        (*at, key),
                        f"an ignore rule has no key {key!r}: write field: and reason: only",
                        key=True,
                    )
                )
        name = item.get("field")
        reason = item.get("reason")
        ok = True
        if not isinstance(name, str) or not name:
            problems.append(
                source.problem(
                    at, "an ignore rule needs field: the API field whose live value is left alone"
                )
            )
            ok = False
        elif name not in BY_NAME:
            problems.append(source.problem((*at, "field"), unknown_field_message(name), field=name))
            ok = False
        elif not BY_NAME[name].writable:
            problems.append(
                source.problem(
                    (*at, "field"),
                    f"{name} is set by the server and never compared: an ignore "
                    "rule for it has no effect; remove it",
                    field=name,
                )
            )
            ok = False
        if not isinstance(reason, str) or not reason.strip():
            problems.append(
                source.problem(
                    at,
                    "an ignore rule needs reason: say why the live value is left alone, for "
                    "the reviewers who will wonder",
                    field=name if isinstance(name, str) else "",
                )
            )
            ok = False
        if ok and isinstance(name, str) and isinstance(reason, str):
            rules.append(IgnoreRule(field=name, reason=reason.strip(), source=source.file))
    return tuple(rules), problems


__all__ = [
    "IGNORE_KEYS",
    "OPTION_KEYS",
    "OWNS_ALL",
    "OWNS_WRITTEN",
    "RESERVED_KEY",
    "check_ignore_rules",
    "check_options",
]
