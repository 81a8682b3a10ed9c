"""How a file's path is shown in problems: as a user would type it, from the working directory
(or the folder a command was pointed at), with any byte of a name that is not UTF-8 escaped."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path, display_root: Path | None) -> str:
    """The path as a user would type it: under ``display_root`` or the working directory.

    Only the folders are resolved, never the entry itself: it may be a link (to anywhere,
    or to itself), and what it points to is neither read nor shown. Bytes of a name that are
    not UTF-8 are shown as ``\\xNN``.
    """
    absolute = resolved_folder(path.parent) / path.name
    for root in (display_root, Path.cwd()):
        if root is None:
            continue
        try:
            return shown(absolute.relative_to(resolved_folder(root)).as_posix())
        except ValueError:
            continue
    return shown(path.as_posix())


class PathDisplay:
    """``display_path`` for the many files of one load: each folder (and the working directory)
    resolved once, not once per file (a path resolution is a system call per component)."""

    def __init__(self, display_root: Path | None) -> None:
        self._roots = [resolved_folder(r) for r in (display_root, Path.cwd()) if r is not None]
        self._folders: dict[Path, str | None] = {}

    def __call__(self, path: Path) -> str:
        folder = path.parent
        if folder not in self._folders:
            self._folders[folder] = self._relative(resolved_folder(folder))
        relative = self._folders[folder]
        if relative is None:
            return shown(path.as_posix())
        return shown(f"{relative}/{path.name}" if relative != "." else path.name)

    def _relative(self, folder: Path) -> str | None:
        for root in self._roots:
            try:
                return folder.relative_to(root).as_posix()
            except ValueError:
                continue
        return None


def resolved_folder(folder: Path) -> Path:
    try:
        return folder.resolve()
    except (OSError, RuntimeError):  # a loop among the folders: keep it as written
        return Path(os.path.abspath(folder))


def shown(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_utf8(name: str) -> bool:
    """Whether a name the system gave is UTF-8 (``os.walk`` and git's output decoded with
    surrogateescape hand out undecodable bytes as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__all__ = ["PathDisplay", "display_path", "is_utf8", "resolved_folder", "shown"]
