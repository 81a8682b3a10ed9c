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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField

from reconciler.desired import DesiredSeries, IgnoreRule, SeriesOptions
from reconciler.errors import ConfigError
from reconciler.hosts import is_loopback
from reconciler.problems import Problem, Severity
from reconciler.safefile import UnsafeFile, read_regular
from reconciler.settings import DEFAULT_ENVIRONMENT, SETTINGS_FILE, Environment, Settings
from reconciler.validate import (
    RESERVED_KEY,
    Source,
    check_across,
    check_field,
    check_ignore_rules,
    check_options,
    check_series,
    suggest,
)
from reconciler.yamlsafe import MAX_BYTES, DocPath, load_yaml

SUFFIXES: Final = (".yaml", ".yml")
SETTINGS_KEYS: Final = ("defaults", "ignore", "environments")
DEFAULT_PREFIX: Final = "CAPILLARY"
_SECRET = re.compile(
    r"pass(word|wd)?$|secret|token|(^|_)key$|apikey|api_key|credential", re.IGNORECASE
)
_PREFIX = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class LoadResult:
    """Every series file of a directory, loaded and validated."""

    series: tuple[DesiredSeries, ...]
    problems: tuple[Problem, ...]
    settings: Settings
    digest: str

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if not p.is_error)


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
    loaded: list[tuple[DesiredSeries, bool]] = []
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
        series, found = _load_one(raw, key=key, file=shown, settings=settings_read, today=today)
        problems.extend(found)
        if series is not None:
            loaded.append((series, not any(p.is_error for p in found)))

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
    across = check_across([s for s, _ in loaded])
    problems.extend(across)
    bad_files = {p.file for p in problems if p.is_error}
    good = tuple(
        sorted((s for s, ok in loaded if ok and s.file not in bad_files), key=lambda s: s.key)
    )
    return LoadResult(
        series=good,
        problems=tuple(sorted(set(problems))),
        settings=settings_read.settings,
        digest=hasher.hexdigest(),
    )


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


def _load_one(
    raw: bytes, *, key: str, file: str, settings: _SettingsRead, today: date | None
) -> tuple[DesiredSeries | None, list[Problem]]:
    loaded = load_yaml(raw, file=file, what="series")
    problems = list(loaded.problems)
    document = loaded.document
    if document is None:
        return None, problems
    source = Source(file, document)
    values: dict[str, Any] = {}
    origins: dict[str, Source] = {}
    lines: dict[str, int] = {}
    invalid: set[str] = set()
    options = SeriesOptions()
    for name, value in document.data.items():
        if name == RESERVED_KEY:
            options, found = check_options(value, source=source)
            problems.extend(found)
            continue
        checked = check_field(name, value, source=source)
        problems.extend(checked.problems)
        if checked.ok:
            values[name] = checked.value
            origins[name] = source
            lines[name] = document.where((name,), key=True).line
        else:
            invalid.add(name)

    merged: dict[str, Any] = {}
    for name, value in settings.defaults.items():
        if name not in values and name not in invalid:
            merged[name] = value
            origins[name] = settings.defaults_source or source
            lines[name] = 0
    merged.update(values)
    problems.extend(
        check_series(
            merged,
            origins=origins,
            file=file,
            invalid=frozenset(invalid) | settings.invalid_defaults,
            today=today,
        )
    )
    declared = frozenset(merged)
    series = DesiredSeries(
        key=key,
        file=file,
        fields=merged,
        declared=declared,
        options=options,
        lines=lines,
        digest=hashlib.sha256(raw).hexdigest(),
    )
    return series, problems


# --- the settings file -------------------------------------------------------------------------


class _EnvironmentModel(BaseModel):
    """One environment of the settings file (secrets excluded: they are variables)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    base_url: str | None = None
    auth: Literal["basic", "oauth"] | None = None
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

    environments = _environments(data.get("environments"), top, problems)
    settings = Settings(
        defaults=defaults,
        default_lines=default_lines,
        ignore=ignore,
        environments=environments or _fallback_environments(),
        file=shown,
    )
    return _SettingsRead(
        settings, tuple(problems), raw, defaults, defaults_source, frozenset(invalid_defaults)
    )


def _environments(value: Any, top: Source, problems: list[Problem]) -> dict[str, Environment]:
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
        secretless = {k: v for k, v in body.items() if not _SECRET.search(str(k))}
        try:
            model = _EnvironmentModel.model_validate(secretless)
        except ValidationError as error:
            for item in error.errors():
                loc = tuple(str(p) for p in item["loc"])
                extra = item["type"] == "extra_forbidden"
                message = _pydantic_message(name, loc, item, extra)
                problems.append(top.problem((*where, *loc), message, key=extra))
            continue
        url_problem = _base_url_problem(model.base_url)
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


def _base_url_problem(url: str | None) -> str:
    """Why ``url`` cannot be a base URL ("" when it can). A URL that carries a secret (a
    user or password before the host, a query or fragment) is never quoted back: the
    message would put the secret in a CI log."""
    if url is None:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return (
            "base_url is not a valid address (it is not shown, in case it holds a "
            "secret): write it as https://eu.api.capillarytech.com"
        )
    if "@" in parts.netloc:
        return (
            "base_url must not carry a user name or password before the host "
            "(user:password@): the address is not shown here, since it holds a secret. "
            "Remove them from the file, change that password, and set the credentials "
            "in the environment instead"
        )
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return (
            "base_url must not have a query (?...) or fragment (#...): the address is "
            "not shown here, in case it holds a secret. Give only the scheme, host and "
            "path, such as https://eu.api.capillarytech.com"
        )
    shown = _safe_url(parts.scheme, parts.netloc, parts.path)
    if parts.scheme not in ("https", "http") or not host:
        return f"base_url {shown!r} must be a full address such as https://eu.api.capillarytech.com"
    if parts.scheme == "http" and not is_loopback(host):
        return (
            f"base_url {shown!r} must use https: credentials would cross the network in "
            "clear text (http is only allowed for this machine: localhost, 127.0.0.1)"
        )
    return ""


def _safe_url(scheme: str, netloc: str, path: str) -> str:
    # Only the parts that can hold no secret once userinfo, query and fragment are refused.
    return f"{scheme}://{netloc}{path}" if scheme else f"{netloc}{path}"


def _secret_problems(data: Mapping[str, Any], top: Source) -> list[Problem]:
    """Keys that look like secrets, anywhere but inside ``defaults`` (API fields)."""
    found: list[Problem] = []

    def walk(value: Any, path: DocPath, prefix: str) -> None:
        if isinstance(value, dict):
            here = value.get("env_prefix") if isinstance(value.get("env_prefix"), str) else None
            prefix = here or prefix
            for key, item in value.items():
                if path == () and key == "defaults":
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
