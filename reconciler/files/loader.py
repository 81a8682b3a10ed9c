"""Series files and the settings file → desired series, with every problem and where it is.

``load_series`` reads a directory: one series per ``*.yaml`` / ``*.yml`` file at any depth
(hidden files and folders skipped: the state lives in ``series/.state/``), its key the path
under the directory without the suffix (``summer/sale-10``). The optional settings file
``reconciler.yaml`` at the top is read first; its ``defaults`` are merged under every series.
The policy file ``policy.yaml`` at the top is no series either (``reconciler.files.policy``).
Reading never stops at the first problem: the result holds every problem of every file and
the series of the files that have none.

A series file is a mapping of API field names spelled as the API spells them, plus the one
reserved key ``reconciler:`` for the tool's own settings of that series::

    reconciler:
      ignore:
        - field: maxRedeem
          reason: ops tune it in the CRM
      retire: false
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final

from reconciler.errors import ConfigError
from reconciler.files.environments import (
    CheckMemo,
    Context,
    Template,
    Values,
    check_values,
    in_environment,
    tagged,
)
from reconciler.files.paths import PathDisplay, display_path, is_utf8
from reconciler.files.policy import POLICY_FILE, Policy, read_policy
from reconciler.files.settings_file import known_environments, load_settings, read_settings
from reconciler.files.validate import RESERVED_KEY, Source, check_options, suggest
from reconciler.files.yamlsafe import MAX_BYTES, DocPath, Document, load_yaml
from reconciler.model.desired import DesiredSeries, SeriesOptions
from reconciler.model.settings import SETTINGS_FILE, Settings
from reconciler.problems import Problem, Severity
from reconciler.safefile import UnsafeFile, read_regular

SUFFIXES: Final = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadResult:
    """Every series file of a directory, loaded and validated.

    Validation covers every environment of the settings (each one's resolved series);
    ``series`` are those of ``environment`` once ``for_environment`` chose one, else of the
    only environment, else the files as written with the settings' defaults (no
    per-environment values, no ``only:``).
    """

    series: tuple[DesiredSeries, ...]
    problems: tuple[Problem, ...]
    settings: Settings
    digest: str
    environment: str = ""
    # Keys of files whose ``only:`` leaves them out of ``environment``: never planned there.
    left_out: frozenset[str] = frozenset()
    # The rules of ``policy.yaml`` beside the series (``reconciler.files.policy``).
    policy: Policy = field(default_factory=Policy)
    # Keys of files read for the digest but neither parsed nor checked (``load_series``'s
    # ``parse``): not in ``series``. Empty for a whole load.
    unread: frozenset[str] = frozenset()
    _context: Context | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if not p.is_error)

    def for_environment(self, name: str) -> LoadResult:
        """The series of environment ``name``: its values, without the series its
        ``only:`` leaves out, with the problems of that environment added."""
        if self.environment == name or self._context is None:
            return self
        resolved = self._context.resolve(name)
        problems = tuple(sorted(set(self.problems) | set(resolved.problems)))
        return replace(
            self,
            series=resolved.series,
            problems=problems,
            environment=name,
            left_out=resolved.left_out,
        )


def validate_directory(directory: Path, *, display_root: Path | None = None) -> LoadResult:
    """The service behind ``reconciler validate`` (and the first step of ``plan``)."""
    if not directory.is_dir():
        raise ConfigError(
            f"the series directory {str(directory)!r} does not exist (choose another with --dir)"
        )
    return load_series(directory, display_root=display_root)


def load_series(
    directory: Path,
    *,
    display_root: Path | None = None,
    today: date | None = None,
    parse: Callable[[str, bytes], bool] | None = None,
) -> LoadResult:
    """Load and validate every series file under ``directory`` and its settings file.

    ``parse(key, raw)``: only the files it accepts are parsed and checked (a plan scoped to
    a change: ``service.load_scoped``); the others are still read, for the digest (which is
    the whole folder's either way), and their keys are known (a reference to one is not an
    unknown key, two files of one key are still refused) but they are in ``unread``, not in
    ``series``.
    """
    with _cycle_collector_paused():
        return _load_series(directory, display_root=display_root, today=today, parse=parse)


@contextlib.contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """A load makes about a hundred objects a file and keeps most of them, in no reference
    cycle; the cycle collector, started every 700 new objects, would walk the growing heap
    again and again (a tenth to a quarter of the load's CPU at 10,000 files). Objects are
    still freed the moment they are dropped (reference counting)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_series(
    directory: Path,
    *,
    display_root: Path | None,
    today: date | None,
    parse: Callable[[str, bytes], bool] | None,
) -> LoadResult:
    hasher = hashlib.sha256()
    settings_read = read_settings(directory, display_root=display_root)
    problems: list[Problem] = list(settings_read.problems)
    if settings_read.raw is not None:
        _digest_file(hasher, SETTINGS_FILE, settings_read.raw)

    known_envs = known_environments(settings_read.settings)
    policy_read = read_policy(
        directory / POLICY_FILE,
        shown=display_path(directory / POLICY_FILE, display_root),
        environments=known_envs,
    )
    problems.extend(policy_read.problems)
    if policy_read.raw is not None:
        _digest_file(hasher, POLICY_FILE, policy_read.raw)
    files = sorted(_series_files(directory, display_root=display_root, problems=problems))
    by_key: dict[str, list[str]] = {}
    templates: list[Template] = []
    display = PathDisplay(display_root)
    memo: CheckMemo = {}
    unread: set[str] = set()
    for relative, path in files:
        key = relative.rsplit(".", 1)[0]
        shown = display(path)
        by_key.setdefault(key, []).append(shown)
        try:
            raw = read_regular(path, limit=MAX_BYTES, what="series")
        except UnsafeFile as refused:
            problems.append(Problem(shown, 0, 0, refused.message))
            continue
        _digest_file(hasher, relative, raw)
        if parse is not None and not parse(key, raw):
            unread.add(key)
            continue
        template, found = _load_one(raw, key=key, file=shown, environments=known_envs, memo=memo)
        problems.extend(found)
        if template is not None:
            templates.append(template)

    for key, shown_files in by_key.items():
        if len(shown_files) > 1:
            for one in shown_files:
                others = ", ".join(f for f in shown_files if f != one)
                problems.append(
                    Problem(
                        one,
                        0,
                        0,
                        f"{one} and {others} both declare the series {key!r}: keep one "
                        "file per series",
                    )
                )
    context = Context(
        templates=tuple(templates),
        settings=settings_read,
        folder_keys=frozenset(by_key),
        base_problems=frozenset(problems),
        today=today,
    )
    names = sorted(settings_read.settings.environments)
    per_env = {name: context.resolve(name) for name in names}
    problems.extend(tagged(per_env))
    chosen = per_env[names[0]] if len(names) == 1 else context.resolve(None)
    # Every environment of the settings is checked: what is left of each file is its text,
    # to place a problem of an environment resolved later (one not in the settings).
    for template in templates:
        template.base.source.document.forget_top()
    return LoadResult(
        series=chosen.series,
        problems=tuple(sorted(set(problems))),
        settings=settings_read.settings,
        digest=hasher.hexdigest(),
        environment=names[0] if len(names) == 1 else "",
        left_out=chosen.left_out,
        policy=policy_read.policy,
        unread=frozenset(unread),
        _context=context,
    )


# --- series files ------------------------------------------------------------------------------


def _series_files(
    directory: Path, *, display_root: Path | None, problems: list[Problem]
) -> Iterator[tuple[str, Path]]:
    """The series files under ``directory``, each with its path from there in ``/`` form
    (its key's spelling; made from the walk's strings, not by ``Path.relative_to``: 10,000
    files); links to folders and names that are not UTF-8 are reported in ``problems``
    instead (links to files are refused when read)."""
    start = os.fspath(directory)
    for root, dirs, names in os.walk(directory):
        here = Path(root)
        inside = os.path.relpath(root, start) if root != start else ""
        folder = inside.replace(os.sep, "/") + "/" if inside else ""
        # Hidden folders (the state in .state/, .git) are never series.
        walk_into = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            path = here / name
            if not is_utf8(name):
                problems.append(Problem(display_path(path, display_root), 0, 0, _NOT_UTF8_FOLDER))
            elif path.is_symlink():
                problems.append(
                    Problem(
                        display_path(path, display_root), 0, 0, _LINKED_FOLDER, Severity.WARNING
                    )
                )
            else:
                walk_into.append(name)
        dirs[:] = walk_into
        top = here == directory
        for name in sorted(names):
            if name.startswith(".") or not name.endswith(SUFFIXES):
                continue
            if top and name in (SETTINGS_FILE, POLICY_FILE):
                continue
            if not is_utf8(name):
                problems.append(
                    Problem(display_path(here / name, display_root), 0, 0, _NOT_UTF8_FILE)
                )
                continue
            yield folder + name, here / name


_NOT_UTF8_FILE: Final = (
    "the file name is not UTF-8 (shown with \\x escapes): rename the file, since its name "
    "is the key of its series"
)
_NOT_UTF8_FOLDER: Final = (
    "the folder name is not UTF-8 (shown with \\x escapes): rename it; the files in it "
    "were not read"
)
_LINKED_FOLDER: Final = (
    "not read: a symbolic link to a folder (links are not followed, so nothing outside the "
    "series folder is read); move the files here if they are series"
)


def _load_one(
    raw: bytes, *, key: str, file: str, environments: Sequence[str], memo: CheckMemo
) -> tuple[Template | None, list[Problem]]:
    loaded = load_yaml(raw, file=file, what="series")
    problems = list(loaded.problems)
    document = loaded.document
    if document is None:
        return None, problems
    source = Source(file, document)
    options = SeriesOptions()
    fields: dict[str, Any] = {}
    overrides: dict[str, Values] = {}
    for name, value in document.data.items():
        if name == RESERVED_KEY:
            options, found = check_options(value, source=source)
            problems.extend(found)
            if isinstance(value, dict):
                problems.extend(_check_names(value, source, environments))
                overrides = _overrides(value.get("environments"), source, problems, memo)
            continue
        fields[name] = value
    base = check_values(fields, source, problems, memo=memo)
    # The template outlives the load (another environment is resolved from it later): it
    # keeps where its values were written, not the file's value tree (16 MB at 10,000 files).
    located = document.located_only()
    template = Template(
        key=key,
        file=file,
        digest=hashlib.sha256(raw).hexdigest(),
        base=_relocated(base, located),
        options=options,
        overrides={env: _relocated(v, located) for env, v in overrides.items()},
        ok=not any(p.is_error for p in problems),
    )
    return template, problems


def _relocated(values: Values, document: Document) -> Values:
    where = values.source
    return replace(values, source=Source(where.file, document, where.prefix))


def _overrides(
    value: Any, source: Source, problems: list[Problem], memo: CheckMemo
) -> dict[str, Values]:
    """The fields of each environment's block under ``reconciler: environments:``."""
    if not isinstance(value, dict):
        return {}  # reported by check_options
    out: dict[str, Values] = {}
    for env, body in value.items():
        if not isinstance(body, dict):
            continue
        where = Source(source.file, source.document, (RESERVED_KEY, "environments", env))
        if RESERVED_KEY in body:
            problems.append(
                where.problem(
                    (RESERVED_KEY,),
                    f"{RESERVED_KEY}: cannot be set per environment: write its settings once, "
                    "at the top of the file",
                    key=True,
                )
            )
        fields = {k: v for k, v in body.items() if k != RESERVED_KEY}
        found: list[Problem] = []
        out[str(env)] = check_values(fields, where, found, memo=memo)
        problems.extend(in_environment(p, str(env)) for p in found)
    return out


def _check_names(
    options: Mapping[str, Any], source: Source, environments: Sequence[str]
) -> list[Problem]:
    """Environment names under ``only:`` and ``environments:`` that the settings lack."""
    found: list[Problem] = []
    only = options.get("only")
    named: list[tuple[DocPath, Any, bool]] = []
    if isinstance(only, list):
        named.extend(((RESERVED_KEY, "only", i), n, False) for i, n in enumerate(only))
    elif isinstance(only, str):
        named.append(((RESERVED_KEY, "only"), only, False))
    blocks = options.get("environments")
    if isinstance(blocks, dict):
        named.extend(((RESERVED_KEY, "environments", n), n, True) for n in blocks)
    for path, name, key in named:
        if isinstance(name, str) and name.strip() in environments:
            continue
        close = suggest(name, environments)
        hint = f"did you mean {close}? " if close else ""
        found.append(
            source.problem(
                path,
                f"no environment {name!r} in the settings: {hint}The environments are "
                f"{', '.join(environments)}",
                key=key,
                field=RESERVED_KEY,
            )
        )
    return found


# --- helpers -----------------------------------------------------------------------------------


def _digest_file(hasher: Any, relative: str, raw: bytes) -> None:
    # Length-prefixed so that no two sets of files hash alike by shifting bytes between them.
    name = relative.encode()
    hasher.update(len(name).to_bytes(8, "big") + name)
    hasher.update(len(raw).to_bytes(8, "big") + raw)


__all__ = [
    "SUFFIXES",
    "LoadResult",
    "load_series",
    "load_settings",
    "validate_directory",
]
