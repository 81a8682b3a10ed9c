"""Reading only small regular files of the series folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler import safefile
from reconciler.safefile import UnsafeFile, kind_of, read_regular


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
