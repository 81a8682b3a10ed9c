"""Read a file of the series folder only when it is a small regular file there; write the
tool's own files atomically, and say in words why a write failed.

A series folder is checked out from a pull request, so its entries are untrusted: a link
named ``a.yaml`` can point at ``/etc/shadow`` (whose lines would come back in error
messages), at ``/dev/zero`` (gigabytes before any size check), at itself (a loop), and a
FIFO named ``a.yaml`` blocks a reader forever. So a file is read only when it is a regular
file that is not a link, and its size is taken from the open descriptor before a byte is
read:

- links are never followed, not even to a file inside the folder (a copy is as easy, and a
  second path to one file would declare its series twice);
- ``O_NOFOLLOW`` and ``O_NONBLOCK`` make the open itself safe when an entry is swapped
  between the ``lstat`` and the ``open`` (a FIFO opens at once, a link fails);
- at most ``limit + 1`` bytes are read, whatever the size said.

``read_regular`` raises ``UnsafeFile`` with a message that names the kind of entry, never
its target or content.

Writing (``write_atomic``): a temporary file beside the target, written in full, fsynced,
then renamed over it (and the folder fsynced), so a reader sees the old file or the new one
whatever happens; a failure removes the temporary file and raises the ``OSError``.
``write_failure`` turns it into a sentence that names the file and what to do: a full disk
(ENOSPC, EDQUOT) or the file-size limit of the process (EFBIG: ``ulimit -f``) is the
world's doing, not a bug to report.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Final

_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class UnsafeFile(Exception):
    """The entry is not a regular file of acceptable size (internal to the loaders)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def kind_of(mode: int) -> str:
    """What a non-regular entry is, in words."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _refuse_kind(mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise UnsafeFile(
            "the file is a symbolic link: links are not followed (the series folder is read "
            "as regular files only, so nothing outside it is ever read); put the file itself "
            "here"
        )
    if not stat.S_ISREG(mode):
        raise UnsafeFile(f"not read: it is {kind_of(mode)}, not a regular file")


def _refuse_size(size: int, *, limit: int, what: str) -> None:
    if size > limit:
        raise UnsafeFile(
            f"the file is {size // 1024:,} KiB, too large to be a {what} file "
            f"(the limit is {limit // 1024} KiB)"
        )


def read_regular(path: Path, *, limit: int, what: str = "series") -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link) of at most ``limit`` bytes.

    Raises ``UnsafeFile`` otherwise, and for any ``OSError`` (with its plain reason).
    """
    try:
        _refuse_kind(os.lstat(path).st_mode)
        fd = os.open(path, _FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:  # swapped for a link after the lstat
            _refuse_kind(stat.S_IFLNK)
        raise UnsafeFile(f"cannot read the file: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        _refuse_kind(info.st_mode)
        _refuse_size(info.st_size, limit=limit, what=what)
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise UnsafeFile(f"cannot read the file: {error.strerror or error}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    # A file that grew after the fstat is still cut at the limit.
    _refuse_size(len(data), limit=limit, what=what)
    return data


# What to do about a failed write, by errno.
_WRITE_HINTS: Final = {
    errno.ENOSPC: "the disk is full: free some space, then run the command again",
    errno.EDQUOT: "the disk quota is used up: free some space, then run the command again",
    errno.EFBIG: (
        "the file would pass the file-size limit of this process (`ulimit -f`): raise the "
        "limit, then run the command again"
    ),
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EIO: "the disk reported an input/output error",
}
# The errors that come from the world (the disk, the limits), not from a bug.
WRITE_ERRNOS: Final = frozenset(_WRITE_HINTS)


def write_failure(path: Path | str | None, error: OSError, *, what: str = "") -> str:
    """``cannot write WHAT PATH: REASON; WHAT TO DO`` (``path`` None: the output stream)."""
    reason = error.strerror or type(error).__name__
    hint = _WRITE_HINTS.get(error.errno or 0)
    where = f"{what} {path}".strip() if path is not None else (what or "the output")
    return f"cannot write {where}: {reason}" + (f"; {hint}" if hint else "")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably; ``OSError`` when it cannot.

    The folder is created when missing. On failure the temporary file is removed and the
    old file, if any, is left as it was.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # a write only: a read-only command (validate) starts without it

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            write_all(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(path.parent)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` (``os.write`` may write part of it: a size limit)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def cut_torn_line(fd: int) -> None:
    """Cut off what follows the last newline of an append-only file of lines (an append cut
    short by a crash or a full disk: it never happened), so that the next line starts a line
    of its own. A file that cannot be cut (no ``ftruncate`` there) gets a newline instead."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return
    os.lseek(fd, size - 1, os.SEEK_SET)
    if os.read(fd, 1) == b"\n":
        return
    keep = size - 1
    while keep > 0:  # back to the last newline, however long the torn line
        start = max(0, keep - _STEP)
        os.lseek(fd, start, os.SEEK_SET)
        at = os.read(fd, keep - start).rfind(b"\n")
        if at >= 0:
            keep = start + at + 1
            break
        keep = start
    try:
        os.ftruncate(fd, keep)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EPERM, errno.EACCES):
            raise
        os.lseek(fd, 0, os.SEEK_END)
        write_all(fd, b"\n")


_STEP: Final = 1 << 16


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


__all__ = [
    "WRITE_ERRNOS",
    "UnsafeFile",
    "cut_torn_line",
    "fsync_folder",
    "kind_of",
    "read_regular",
    "write_all",
    "write_atomic",
    "write_failure",
]
