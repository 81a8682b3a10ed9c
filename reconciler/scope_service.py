"""A plan scoped to a change: which series it covers, and which files it reads for them.

``plan --changed-since REV`` covers the series whose files changed since ``REV``
(``files/changes.py``), the series they name, followed to the end (``{series: KEY}``), or
the whole folder when the settings or the policy file changed (``engine/scope.py``).

Reading 10,000 files costs seconds, most of a pull request's plan: a scoped plan parses and
checks only the files it covers, and every file whose text may declare a ``seriesCode``
(a key's marker, which identity needs for every key of the folder: the others' markers are
derived from their keys). Every file is still read for the digest, which is the whole
folder's, as in any plan. The files it covers are checked exactly as ``validate`` checks
them; the whole folder's validation is the cheap ``validate`` check beside it in CI, and the
scheduled plan's. An apply always loads and checks every file (``apply_scope``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from reconciler.engine.plan import Plan
from reconciler.engine.scope import ChangeScope, uncovered
from reconciler.errors import PlanMismatch, ValidationFailed
from reconciler.files.changes import Changes, changed_since, may_declare_marker
from reconciler.files.loader import LoadResult, load_series, load_settings
from reconciler.model.references import referenced_keys


def load_scoped(directory: Path, revision: str) -> tuple[LoadResult, ChangeScope]:
    """The files a plan of what changed since ``revision`` needs, and its scope.

    ``ValidationFailed`` when a file it parses has a problem (no call is made before).
    """
    changes = changed_since(directory, revision)
    settings = load_settings(directory)[0]
    defaults = [settings.defaults, *settings.environment_defaults.values()]
    if changes.folder_wide or any("seriesCode" in d for d in defaults):
        # Every series is planned, or every marker may come from the settings: read all.
        loaded = _valid(load_series(directory))
        return loaded, scope_of(changes, loaded)
    covered = frozenset(changes.keys)
    while True:
        loaded = _valid(load_series(directory, parse=_reading(covered)))
        named = _named(loaded, covered)
        if named <= covered:
            return loaded, _scope(changes, covered)
        covered |= named  # another pass (rare: a changed series naming an unchanged one)


def scope_of(changes: Changes, loaded: LoadResult) -> ChangeScope:
    """The scope of ``changes`` over files already loaded (all of them: an apply)."""
    if changes.folder_wide:
        return ChangeScope(
            since=changes.since,
            changed=tuple(sorted(changes.keys)),
            folder_wide=changes.folder_wide,
        )
    wanted = set(changes.keys)
    while not (named := _named(loaded, frozenset(wanted))) <= wanted:
        wanted |= named
    return _scope(changes, wanted)


def check_covered(
    *, reviewed: Plan, directory: Path, revision: str, loaded: LoadResult
) -> ChangeScope:
    """What changed since ``revision`` (the commit a merge changed), refused with
    ``PlanMismatch`` unless the reviewed plan covers it: a series whose change escaped the
    review, or a settings change reviewed as a few series, is never applied that way."""
    now = scope_of(changed_since(directory, revision), loaded)
    if reviewed.scope is not None:
        missing = uncovered(reviewed=reviewed.scope, now=now)
    elif reviewed.targets:
        missing = uncovered(reviewed=ChangeScope(since="", changed=reviewed.targets), now=now)
    else:
        missing = []  # a plan of the whole folder covers every change
    if missing:
        shown = (
            reviewed.scope.describe()
            if reviewed.scope
            else "the targets " + ", ".join(reviewed.targets)
        )
        raise PlanMismatch(
            [
                f"scope: reviewed: {shown}; now: changed since {now.since[:12]} and not "
                f"covered: {', '.join(missing)}"
            ]
        )
    return now


def _reading(covered: frozenset[str]) -> Callable[[str, bytes], bool]:
    def parse(key: str, raw: bytes) -> bool:
        return key in covered or may_declare_marker(raw)

    return parse


def _scope(changes: Changes, covered: Collection[str]) -> ChangeScope:
    return ChangeScope(
        since=changes.since,
        changed=tuple(sorted(changes.keys)),
        named=tuple(sorted(set(covered) - changes.keys)),
    )


def _named(loaded: LoadResult, covered: frozenset[str]) -> set[str]:
    """The keys the series of ``covered`` name, in any environment of the settings."""
    named: set[str] = set()
    for view in _views(loaded):
        for series in view.series:
            if series.key in covered:
                named.update(referenced_keys(series))
    return named


def _views(loaded: LoadResult) -> Iterable[LoadResult]:
    yield loaded
    for name in sorted(loaded.settings.environments):
        yield loaded.for_environment(name)


def _valid(loaded: LoadResult) -> LoadResult:
    if not loaded.ok:
        raise ValidationFailed(loaded.problems)
    return loaded


__all__ = ["check_covered", "load_scoped", "scope_of"]
