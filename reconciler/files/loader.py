"""Series files and the settings file → desired series, with every problem and where it is.

``load_series`` reads a directory: one series per ``*.yaml`` / ``*.yml`` file at any depth
(hidden files and folders skipped: the state lives in ``series/.state/``), its key the path
under the directory without the suffix (``summer/sale-10``). The optional settings file
``reconciler.yaml`` at the top is read first; its ``defaults`` are merged under every series.
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

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField

from reconciler.errors import ConfigError
from reconciler.files.validate import (
    RESERVED_KEY,
    Source,
    check_across,
    check_field,
    check_ignore_rules,
    check_options,
    check_series,
    suggest,
)
from reconciler.files.yamlsafe import MAX_BYTES, DocPath, load_yaml
from reconciler.model.catalogue import series_id_fields, server_defaults
from reconciler.model.desired import DesiredSeries, IgnoreRule, Reference, SeriesOptions
from reconciler.model.hosts import base_url_problem
from reconciler.model.references import api_value, check_references
from reconciler.model.settings import (
    DEFAULT_ENVIRONMENT,
    DEFAULT_PREFIX,
    SANDBOX_ENVIRONMENT,
    SETTINGS_FILE,
    AuthMethod,
    Environment,
    Settings,
)
from reconciler.problems import Problem, Severity
from reconciler.safefile import UnsafeFile, read_regular

SUFFIXES: Final = (".yaml", ".yml")
SETTINGS_KEYS: Final = ("defaults", "ignore", "environments")
_SECRET = re.compile(
    r"pass(word|wd)?$|secret|token|(^|_)key$|apikey|api_key|credential", re.IGNORECASE
)
_PREFIX = re.compile(r"^[A-Z][A-Z0-9_]*$")


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
    _context: _Context | None = field(default=None, repr=False, compare=False)

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
    directory: Path, *, display_root: Path | None = None, today: date | None = None
) -> LoadResult:
    """Load and validate every series file under ``directory`` and its settings file."""
    hasher = hashlib.sha256()
    settings_read = _read_settings(directory, display_root=display_root)
    problems: list[Problem] = list(settings_read.problems)
    if settings_read.raw is not None:
        _digest_file(hasher, SETTINGS_FILE, settings_read.raw)

    files = sorted(
        _series_files(directory, display_root=display_root, problems=problems),
        key=lambda p: p.relative_to(directory).as_posix(),
    )
    by_key: dict[str, list[str]] = {}
    templates: list[_Template] = []
    known_envs = _known_environments(settings_read.settings)
    display = _Display(display_root)
    for path in files:
        relative = path.relative_to(directory).as_posix()
        key = relative.rsplit(".", 1)[0]
        shown = display(path)
        by_key.setdefault(key, []).append(shown)
        try:
            raw = read_regular(path, limit=MAX_BYTES, what="series")
        except UnsafeFile as refused:
            problems.append(Problem(shown, 0, 0, refused.message))
            continue
        _digest_file(hasher, relative, raw)
        template, found = _load_one(raw, key=key, file=shown, environments=known_envs)
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
    context = _Context(
        templates=tuple(templates),
        settings=settings_read,
        folder_keys=frozenset(by_key),
        base_problems=frozenset(problems),
        today=today,
    )
    names = sorted(settings_read.settings.environments)
    per_env = {name: context.resolve(name) for name in names}
    problems.extend(_tagged(per_env))
    chosen = per_env[names[0]] if len(names) == 1 else context.resolve(None)
    return LoadResult(
        series=chosen.series,
        problems=tuple(sorted(set(problems))),
        settings=settings_read.settings,
        digest=hasher.hexdigest(),
        environment=names[0] if len(names) == 1 else "",
        left_out=chosen.left_out,
        _context=context,
    )


def _tagged(per_env: Mapping[str, _Resolution]) -> list[Problem]:
    """The problems of every environment: one found in all of them once, as it is; one
    found in only some with the environment's name in front."""
    if not per_env:
        return []
    sets = {name: set(r.problems) for name, r in per_env.items()}
    everywhere = set.intersection(*sets.values())
    out = list(everywhere)
    for name, found in sorted(sets.items()):
        out.extend(_in_environment(p, name) for p in sorted(found - everywhere))
    return out


def _in_environment(problem: Problem, name: str) -> Problem:
    return replace(problem, message=f"in environment {name!r}: {problem.message}")


def load_settings(directory: Path) -> tuple[Settings, list[Problem]]:
    """Read ``reconciler.yaml`` in ``directory`` (optional) into ``Settings``."""
    read = _read_settings(directory, display_root=None)
    return read.settings, list(read.problems)


# --- series files ------------------------------------------------------------------------------


def _series_files(
    directory: Path, *, display_root: Path | None, problems: list[Problem]
) -> Iterator[Path]:
    """The series files under ``directory``; links to folders and names that are not UTF-8
    are reported in ``problems`` instead (links to files are refused when read)."""
    for root, dirs, names in os.walk(directory):
        here = Path(root)
        # Hidden folders (the state in .state/, .git) are never series.
        walk_into = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            path = here / name
            if not _utf8(name):
                problems.append(Problem(_display(path, display_root), 0, 0, _NOT_UTF8_FOLDER))
            elif path.is_symlink():
                problems.append(
                    Problem(_display(path, display_root), 0, 0, _LINKED_FOLDER, Severity.WARNING)
                )
            else:
                walk_into.append(name)
        dirs[:] = walk_into
        top = here == directory
        for name in sorted(names):
            if name.startswith(".") or not name.endswith(SUFFIXES):
                continue
            if top and name == SETTINGS_FILE:
                continue
            if not _utf8(name):
                problems.append(Problem(_display(here / name, display_root), 0, 0, _NOT_UTF8_FILE))
                continue
            yield here / name


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


def _utf8(name: str) -> bool:
    # os.walk hands out undecodable bytes as lone surrogates (surrogateescape).
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class _Values:
    """Checked field values of one place in a file (its top level, or one environment's
    block), in API form; a series-id field naming keys holds its items (ids, references)."""

    values: Mapping[str, Any]
    lines: Mapping[str, int]
    invalid: frozenset[str]
    source: Source


@dataclass(frozen=True)
class _Template:
    """A series file read once; ``resolve`` makes it one environment's series."""

    key: str
    file: str
    digest: str
    base: _Values
    options: SeriesOptions
    overrides: Mapping[str, _Values]
    ok: bool


def _load_one(
    raw: bytes, *, key: str, file: str, environments: Sequence[str]
) -> tuple[_Template | None, list[Problem]]:
    loaded = load_yaml(raw, file=file, what="series")
    problems = list(loaded.problems)
    document = loaded.document
    if document is None:
        return None, problems
    source = Source(file, document)
    options = SeriesOptions()
    fields: dict[str, Any] = {}
    overrides: dict[str, _Values] = {}
    for name, value in document.data.items():
        if name == RESERVED_KEY:
            options, found = check_options(value, source=source)
            problems.extend(found)
            if isinstance(value, dict):
                problems.extend(_check_names(value, source, environments))
                overrides = _overrides(value.get("environments"), source, problems)
            continue
        fields[name] = value
    base = _check_values(fields, source, problems)
    template = _Template(
        key=key,
        file=file,
        digest=hashlib.sha256(raw).hexdigest(),
        base=base,
        options=options,
        overrides=overrides,
        ok=not any(p.is_error for p in problems),
    )
    return template, problems


def _check_values(data: Mapping[Any, Any], source: Source, problems: list[Problem]) -> _Values:
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    invalid: set[str] = set()
    for name, value in data.items():
        checked = check_field(name, value, source=source)
        problems.extend(checked.problems)
        if checked.ok:
            values[name] = checked.value
            lines[name] = source.document.where((*source.prefix, name), key=True).line
        else:
            invalid.add(name)
    return _Values(values, lines, frozenset(invalid), source)


def _overrides(value: Any, source: Source, problems: list[Problem]) -> dict[str, _Values]:
    """The fields of each environment's block under ``reconciler: environments:``."""
    if not isinstance(value, dict):
        return {}  # reported by check_options
    out: dict[str, _Values] = {}
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
        out[str(env)] = _check_values(fields, where, found)
        problems.extend(_in_environment(p, str(env)) for p in found)
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


def _known_environments(settings: Settings) -> list[str]:
    # The sandbox is always there (plan --sandbox), whatever the settings say.
    return sorted({*settings.environments, SANDBOX_ENVIRONMENT})


@dataclass(frozen=True)
class _Resolution:
    series: tuple[DesiredSeries, ...]
    problems: tuple[Problem, ...]
    left_out: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Context:
    """What ``LoadResult.for_environment`` needs to resolve another environment."""

    templates: tuple[_Template, ...]
    settings: _SettingsRead
    folder_keys: frozenset[str]
    base_problems: frozenset[Problem]
    today: date | None
    _cache: dict[tuple[str, str | None], tuple[DesiredSeries, list[Problem]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def _resolved(
        self, template: _Template, environment: str | None
    ) -> tuple[DesiredSeries, list[Problem]]:
        # A file with no value of its own for this environment, under settings with none
        # either, resolves alike everywhere: checked once, however many environments.
        specific = environment is not None and (
            environment in template.overrides or environment in self.settings.environment_defaults
        )
        cache_key = (template.file, environment if specific else None)
        if cache_key not in self._cache:
            self._cache[cache_key] = _resolve(template, cache_key[1], self.settings, self.today)
        series, found = self._cache[cache_key]
        return series, list(found)

    def resolve(self, environment: str | None) -> _Resolution:
        """Each file's series in ``environment`` (None: the files as written) and the
        problems of that environment's series: their fields, across files, references."""
        problems: list[Problem] = []
        loaded: list[tuple[DesiredSeries, bool]] = []
        left_out: set[str] = set()
        for template in self.templates:
            only = template.options.only
            if environment is not None and only is not None and environment not in only:
                left_out.add(template.key)
                continue
            series, found = self._resolved(template, environment)
            problems.extend(found)
            loaded.append((series, template.ok and not any(p.is_error for p in found)))
        chosen = [s for s, _ in loaded]
        problems.extend(check_across(chosen))
        problems.extend(
            check_references(
                chosen,
                folder_keys=self.folder_keys,
                left_out=left_out,
                environment=environment or "",
            )
        )
        bad_files = {p.file for p in (*problems, *self.base_problems) if p.is_error}
        good = tuple(
            sorted((s for s, ok in loaded if ok and s.file not in bad_files), key=lambda s: s.key)
        )
        return _Resolution(good, tuple(problems), frozenset(left_out))


def _resolve(
    template: _Template, environment: str | None, settings: _SettingsRead, today: date | None
) -> tuple[DesiredSeries, list[Problem]]:
    """One file's series in ``environment``: the settings' defaults, then the environment's
    defaults, then the file, then the file's block for the environment (the last wins)."""
    layers: list[_Values] = []
    if settings.defaults_source is not None:
        layers.append(
            _Values(settings.defaults, {}, settings.invalid_defaults, settings.defaults_source)
        )
    if environment is not None and environment in settings.environment_defaults:
        layers.append(settings.environment_defaults[environment])
    layers.append(template.base)
    if environment is not None and environment in template.overrides:
        layers.append(template.overrides[environment])
    # ``owns: all``: every documented default under every layer (no origin: no line).
    merged: dict[str, Any] = server_defaults() if template.options.owns_all else {}
    held = set(merged)
    origins: dict[str, Source] = {}
    lines: dict[str, int] = {}
    invalid: set[str] = set()
    for layer in layers:
        held.difference_update(layer.values, layer.invalid)
        for name in layer.invalid:
            merged.pop(name, None)
            invalid.add(name)
        for name, value in layer.values.items():
            merged[name] = value
            origins[name] = layer.source
            lines[name] = layer.lines.get(name, 0) if layer.source.file == template.file else 0
            invalid.discard(name)
    references: dict[str, tuple[int | Reference, ...]] = {}
    for name in series_id_fields():
        value = merged.get(name)
        if isinstance(value, tuple):  # items naming series by key (check_field)
            references[name] = value
            merged[name] = api_value(value, {})
    problems = check_series(
        merged, origins=origins, file=template.file, invalid=frozenset(invalid), today=today
    )
    series = DesiredSeries(
        key=template.key,
        file=template.file,
        fields=merged,
        declared=frozenset(merged),
        options=template.options,
        lines=lines,
        digest=template.digest,
        references=references,
        held=frozenset(held),
    )
    return series, problems


# --- the settings file -------------------------------------------------------------------------


class _EnvironmentModel(BaseModel):
    """One environment of the settings file (secrets excluded: they are variables)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    base_url: str | None = None
    auth: AuthMethod | None = None
    env_prefix: str = DEFAULT_PREFIX
    rate_limit_per_minute: int = PydanticField(default=100, gt=0)
    batch_size: int = PydanticField(default=20, gt=0)
    parallelism: int = PydanticField(default=4, gt=0)
    timeout_seconds: float = PydanticField(default=30.0, gt=0)
    max_update_share: float = PydanticField(default=0.3, gt=0, le=1)
    share_min_series: int = PydanticField(default=10, ge=0)
    create_settle_seconds: float = PydanticField(default=600.0, ge=0)


@dataclass(frozen=True)
class _SettingsRead:
    settings: Settings
    problems: tuple[Problem, ...]
    raw: bytes | None
    defaults: Mapping[str, Any]
    defaults_source: Source | None
    # Defaults with an error: reported once in the settings file, not again as missing.
    invalid_defaults: frozenset[str] = frozenset()
    # Each environment's own defaults (environments.NAME.defaults), checked.
    environment_defaults: Mapping[str, _Values] = field(default_factory=dict)


def _fallback_environments() -> dict[str, Environment]:
    # No base_url here: the client reads CAPILLARY_BASE_URL itself, so the URL stays on the
    # trusted side (a variable) and trusted-settings checks compare like with like.
    return {DEFAULT_ENVIRONMENT: Environment(name=DEFAULT_ENVIRONMENT)}


def _read_settings(directory: Path, *, display_root: Path | None) -> _SettingsRead:
    path = directory / SETTINGS_FILE
    if not os.path.lexists(path):
        return _SettingsRead(Settings(environments=_fallback_environments()), (), None, {}, None)
    shown = _display(path, display_root)
    try:
        raw = read_regular(path, limit=MAX_BYTES, what="settings")
    except UnsafeFile as refused:
        problem = Problem(shown, 0, 0, f"the settings file: {refused.message}")
        return _SettingsRead(
            Settings(environments=_fallback_environments(), file=shown), (problem,), None, {}, None
        )
    loaded = load_yaml(raw, file=shown, what="settings")
    problems = list(loaded.problems)
    document = loaded.document
    if document is None:
        return _SettingsRead(
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

    env_defaults: dict[str, _Values] = {}
    environments = _environments(data.get("environments"), top, problems, env_defaults)
    settings = Settings(
        defaults=defaults,
        default_lines=default_lines,
        ignore=ignore,
        environments=environments or _fallback_environments(),
        file=shown,
        environment_defaults={k: dict(v.values) for k, v in env_defaults.items()},
    )
    return _SettingsRead(
        settings,
        tuple(problems),
        raw,
        defaults,
        defaults_source,
        frozenset(invalid_defaults),
        env_defaults,
    )


def _environments(
    value: Any, top: Source, problems: list[Problem], env_defaults: dict[str, _Values]
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
        try:
            model = _EnvironmentModel.model_validate(secretless)
        except ValidationError as error:
            for item in error.errors():
                loc = tuple(str(p) for p in item["loc"])
                extra = item["type"] == "extra_forbidden"
                message = _pydantic_message(name, loc, item, extra)
                problems.append(top.problem((*where, *loc), message, key=extra))
            continue
        url_problem = base_url_problem(model.base_url) if model.base_url is not None else ""
        if url_problem:
            problems.append(top.problem((*where, "base_url"), url_problem))
            continue
        if not _PREFIX.match(model.env_prefix):
            problems.append(
                top.problem(
                    (*where, "env_prefix"),
                    f"env_prefix {model.env_prefix!r} must be upper-case "
                    "letters, digits and _ (the start of variable names such as CAPILLARY_PROD)",
                )
            )
            continue
        out[name] = Environment(name=name, **model.model_dump())
    return out


def _environment_defaults(
    value: Any, top: Source, where: DocPath, problems: list[Problem]
) -> _Values:
    source = Source(top.file, top.document, (*where, "defaults"))
    if not isinstance(value, dict):
        problems.append(
            top.problem(
                (*where, "defaults"),
                "defaults of an environment must be a mapping of API fields to the values "
                "every series gets in that environment",
            )
        )
        return _Values({}, {}, frozenset(), source)
    if RESERVED_KEY in value:
        problems.append(
            source.problem((RESERVED_KEY,), f"{RESERVED_KEY}: belongs in a series file", key=True)
        )
    fields = {k: v for k, v in value.items() if k != RESERVED_KEY}
    found: list[Problem] = []
    checked = _check_values(fields, source, found)
    problems.extend(_in_environment(p, str(where[-1])) for p in found)
    return checked


def _pydantic_message(env: str, loc: tuple[str, ...], item: Any, extra: bool) -> str:
    where = ".".join(loc)
    if extra:
        known = list(_EnvironmentModel.model_fields)
        close = suggest(loc[-1], known)
        hint = f"did you mean {close}? " if close else ""
        return (
            f"environment {env!r} has no setting {where!r}: {hint}The settings are "
            f"{', '.join(known)}"
        )
    if loc and loc[0] == "base_url":  # an address may hold a secret: never quoted back
        return f"environment {env!r}, {where}: {item['msg']}"
    return f"environment {env!r}, {where}: {item['msg']} (found {item.get('input')!r})"


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


# --- helpers -----------------------------------------------------------------------------------


def _digest_file(hasher: Any, relative: str, raw: bytes) -> None:
    # Length-prefixed so that no two sets of files hash alike by shifting bytes between them.
    name = relative.encode()
    hasher.update(len(name).to_bytes(8, "big") + name)
    hasher.update(len(raw).to_bytes(8, "big") + raw)


def _display(path: Path, display_root: Path | None) -> str:
    """The path as a user would type it: under ``display_root`` or the working directory.

    Only the folders are resolved, never the entry itself: it may be a link (to anywhere,
    or to itself), and what it points to is neither read nor shown. Bytes of a name that are
    not UTF-8 are shown as ``\\xNN``.
    """
    absolute = _resolved_folder(path.parent) / path.name
    for root in (display_root, Path.cwd()):
        if root is None:
            continue
        try:
            return _shown(absolute.relative_to(_resolved_folder(root)).as_posix())
        except ValueError:
            continue
    return _shown(path.as_posix())


class _Display:
    """``_display`` for the many files of one load: each folder (and the working directory)
    resolved once, not once per file (a path resolution is a system call per component)."""

    def __init__(self, display_root: Path | None) -> None:
        self._roots = [_resolved_folder(r) for r in (display_root, Path.cwd()) if r is not None]
        self._folders: dict[Path, str | None] = {}

    def __call__(self, path: Path) -> str:
        folder = path.parent
        if folder not in self._folders:
            self._folders[folder] = self._relative(_resolved_folder(folder))
        relative = self._folders[folder]
        if relative is None:
            return _shown(path.as_posix())
        return _shown(f"{relative}/{path.name}" if relative != "." else path.name)

    def _relative(self, folder: Path) -> str | None:
        for root in self._roots:
            try:
                return folder.relative_to(root).as_posix()
            except ValueError:
                continue
        return None


def _resolved_folder(folder: Path) -> Path:
    try:
        return folder.resolve()
    except (OSError, RuntimeError):  # a loop among the folders: keep it as written
        return Path(os.path.abspath(folder))


def _shown(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


__all__ = [
    "SUFFIXES",
    "LoadResult",
    "load_series",
    "load_settings",
    "validate_directory",
]
