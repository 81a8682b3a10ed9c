"""Reading only small regular files of the series folder; writing the tool's files whole, and
saying in words why a write failed (a full disk, a size limit)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from reconciler import safefile
from reconciler.safefile import (
    WRITE_ERRNOS,
    UnsafeFile,
    cut_torn_line,
    kind_of,
    read_regular,
    write_all,
    write_atomic,
    write_failure,
)


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"a: 1\n")
    assert read_regular(tmp_path / "a.yaml", limit=10) == b"a: 1\n"


def test_the_limit_is_checked_from_the_size(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"x" * 2048)
    with pytest.raises(UnsafeFile, match="too large to be a settings file"):
        read_regular(tmp_path / "a.yaml", limit=1024, what="settings")


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        (stat.S_IFLNK, "a symbolic link"),
        (stat.S_IFCHR, "a device"),
        (stat.S_IFBLK, "a device"),
        (stat.S_IFIFO, "a named pipe"),
        (stat.S_IFSOCK, "a socket"),
        (stat.S_IFDIR, "a folder"),
    ],
)
def test_every_kind_of_entry_is_named(mode: int, words: str) -> None:
    assert kind_of(mode).startswith(words)


def test_a_link_swapped_in_after_the_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "target").write_bytes(b"secret: content\n")
    (tmp_path / "a.yaml").symlink_to(tmp_path / "target")
    regular = os.stat(tmp_path / "target")
    # The lstat sees a regular file (the race); O_NOFOLLOW still refuses the link.
    monkeypatch.setattr(safefile.os, "lstat", lambda _path: regular)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        read_regular(tmp_path / "a.yaml", limit=1024)


def test_a_missing_file_says_why(tmp_path: Path) -> None:
    with pytest.raises(UnsafeFile, match="cannot read the file: No such file"):
        read_regular(tmp_path / "gone.yaml", limit=1024)


# ---------------------------------------------------------------------------- writing


def test_write_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "plan.json"
    write_atomic(target, "first")
    write_atomic(target, b"second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.json"
    write_atomic(target, "old")

    def full(fd: int, data: bytes) -> None:
        os.write(fd, data[:3])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(safefile, "write_all", full)
    with pytest.raises(OSError) as caught:
        write_atomic(target, "new and longer")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
    assert write_failure(target, caught.value, what="the plan file") == (
        f"cannot write the plan file {target}: No space left on device; the disk is full: "
        "free some space, then run the command again"
    )


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``os.write`` may write part of the data (a size limit reached part-way)."""
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:1])))
    target = tmp_path / "x"
    write_atomic(target, "abcdef")
    assert target.read_text() == "abcdef"


def test_write_failure_words() -> None:
    big = OSError(errno.EFBIG, "File too large")
    assert write_failure(None, big) == (
        "cannot write the output: File too large; the file would pass the file-size limit of "
        "this process (`ulimit -f`): raise the limit, then run the command again"
    )
    assert write_failure("a", OSError(errno.EROFS, "Read-only file system")).endswith(
        "; the file system is read-only"
    )
    assert write_failure("a", OSError(errno.EBADF, "Bad file descriptor")) == (
        "cannot write a: Bad file descriptor"
    )
    assert {errno.ENOSPC, errno.EFBIG, errno.EDQUOT} <= WRITE_ERRNOS


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (b"", b""),
        (b"a\nb\n", b"a\nb\n"),
        (b"a\nb\ntor", b"a\nb\n"),
        (b"torn from the start", b""),
        # A torn line longer than a step of the backward scan (a ledger's begin line of a
        # large plan): cut at its own start, the lines before it kept.
        (b"a\n" + b"x" * 200_000, b"a\n"),
    ],
)
def test_a_torn_last_line_is_cut_off(tmp_path: Path, data: bytes, kept: bytes) -> None:
    path = tmp_path / "lines"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        cut_torn_line(fd)
        write_all(fd, b"next\n")
    finally:
        os.close(fd)
    assert path.read_bytes() == kept + b"next\n"


def test_a_file_that_cannot_be_cut_gets_a_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(fd: int, length: int) -> None:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "ftruncate", refused)
    path = tmp_path / "lines"
    path.write_bytes(b"a\ntor")
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        cut_torn_line(fd)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"a\ntor\n"  # the torn line alone on its line: skipped
