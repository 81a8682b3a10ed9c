"""Which series files changed since a git revision, as keys (``plan --changed-since REV``).

The change is measured between ``REV`` and the files as they are now (committed or not, and
new files git does not ignore yet), within the series folder, with git itself
(``git diff --name-only --no-renames``: a renamed file is its old key removed and its new
key added). Each path is sorted the way the loader reads the folder:

- a series file (``*.yaml`` / ``*.yml``, no hidden part) is its key;
- the settings file and the policy file at the top concern every series: ``folder_wide``;
- anything else (hidden files and folders such as ``.state/``, other suffixes) is not read
  by the loader and changes no plan;
- a name the loader cannot take as a key (not UTF-8) is ``folder_wide`` too: when in doubt,
  the whole folder.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.errors import ConfigError
from reconciler.files.loader import SUFFIXES
from reconciler.files.paths import is_utf8
from reconciler.files.policy import POLICY_FILE
from reconciler.model.settings import SETTINGS_FILE

_GIT_SECONDS: Final = 60.0


@dataclass(frozen=True)
class Changes:
    since: str  # the full id of the commit the change is measured from
    keys: frozenset[str]  # series keys whose files were added, changed or removed
    folder_wide: tuple[str, ...]  # changed files every series depends on


def changed_since(directory: Path, revision: str) -> Changes:
    """The series files of ``directory`` changed since ``revision`` (see the module)."""
    if not revision.strip() or revision.startswith("-"):
        raise ConfigError(f"--changed-since needs a git revision, not {revision!r}")
    since = _git(directory, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    since = since.strip()
    if not since:
        raise ConfigError(
            f"--changed-since {revision}: no such commit in the repository of {directory} "
            "(in CI, fetch it: actions/checkout's fetch-depth)"
        )
    changed = _git(directory, "diff", "--name-only", "--no-renames", "--relative", "-z", since)
    new = _git(directory, "ls-files", "--others", "--exclude-standard", "-z")
    return sort_paths(since, [p for p in (changed + new).split("\0") if p])


def sort_paths(since: str, paths: list[str]) -> Changes:
    """``paths`` (relative to the series folder, ``/``-separated) as keys and folder-wide
    files. Pure."""
    keys: set[str] = set()
    wide: set[str] = set()
    for path in paths:
        parts = path.split("/")
        if any(part.startswith(".") or not part for part in parts):
            continue  # hidden (the state), or not a path the loader walks
        if len(parts) == 1 and parts[0] in (SETTINGS_FILE, POLICY_FILE):
            wide.add(path)
            continue
        if not path.endswith(SUFFIXES):
            continue
        if not is_utf8(path):
            wide.add(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            continue
        keys.add(path.rsplit(".", 1)[0])
    return Changes(since=since, keys=frozenset(keys), folder_wide=tuple(sorted(wide)))


def _git(directory: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "-c", "core.quotepath=off", *args],
            capture_output=True,
            timeout=_GIT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ConfigError(f"--changed-since needs git, which failed: {error}") from None
    if done.returncode not in (0, 1) or (done.returncode == 1 and args[0] != "rev-parse"):
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(
            f"--changed-since: git {args[0]} failed in {directory}: "
            f"{said[-1] if said else f'exit {done.returncode}'}"
        )
    return done.stdout.decode("utf-8", "surrogateescape")


def may_declare_marker(raw: bytes) -> bool:
    """Whether a series file's text may declare a ``seriesCode`` (the key's marker, which a
    plan of other keys must know). YAML can spell the key only with those letters, or with
    escapes (``"\\x73eriesCode"``, a line folded with a backslash): a file with neither
    declares none, and its marker is derived from its key."""
    return b"seriesCode" in raw or b"\\" in raw


__all__ = ["Changes", "changed_since", "may_declare_marker", "sort_paths"]
