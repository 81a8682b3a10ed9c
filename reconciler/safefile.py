"""Read a file of the series folder only when it is a small regular file there.

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
"""

from __future__ import annotations

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


__all__ = ["UnsafeFile", "kind_of", "read_regular"]
