"""``files/changes.py`` (which series files changed since a commit, with git itself) and
``engine/scope.py`` (what a plan of that change covers)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.engine.scope import ChangeScope, uncovered
from reconciler.errors import ConfigError
from reconciler.files.changes import changed_since, may_declare_marker, sort_paths


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True)
    return done.stdout.decode().strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    series = tmp_path / "series"
    for name in ("a.yaml", "b.yml", "sub/c.yaml", "reconciler.yaml", "policy.yaml", "notes.md"):
        (series / name).parent.mkdir(parents=True, exist_ok=True)
        (series / name).write_text(f"description: {name}\n")
    (tmp_path / "elsewhere.yaml").write_text("x: 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_paths_sorted_as_the_loader_reads_the_folder() -> None:
    changes = sort_paths(
        "abc",
        [
            "a.yaml",
            "sub/dir/b.yml",
            "reconciler.yaml",
            "policy.yaml",
            "sub/reconciler.yaml",  # not at the top: a series like any other
            ".state/local.json",
            "sub/.hidden.yaml",
            ".git/x.yaml",
            "README.md",
            "x.json",
        ],
    )
    assert changes.keys == {"a", "sub/dir/b", "sub/reconciler"}
    assert changes.folder_wide == ("policy.yaml", "reconciler.yaml")


def test_a_name_that_is_not_utf8_makes_it_the_whole_folder() -> None:
    changes = sort_paths("abc", ["ok.yaml", b"caf\xe9.yaml".decode("utf-8", "surrogateescape")])
    assert changes.keys == {"ok"} and len(changes.folder_wide) == 1


def test_changed_committed_uncommitted_new_removed_and_renamed(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    series = repo / "series"
    (series / "a.yaml").write_text("description: changed, not committed\n")
    (series / "sub/c.yaml").rename(series / "sub/d.yaml")  # a rename: c removed, d added
    (series / "b.yml").unlink()
    (series / "new.yaml").write_text("description: new, untracked\n")
    (series / "notes.md").write_text("not a series\n")
    (repo / "elsewhere.yaml").write_text("x: 2\n")  # outside the series folder
    changes = changed_since(series, base)
    assert changes.since == base
    assert changes.keys == {"a", "b", "sub/c", "sub/d", "new"}
    assert changes.folder_wide == ()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the change")
    assert changed_since(series, base).keys == changes.keys  # committed: the same
    assert changed_since(series, "HEAD").keys == frozenset()


def test_the_settings_or_the_policy_file_is_folder_wide(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    (repo / "series" / "policy.yaml").write_text("rules: []\n")
    assert changed_since(repo / "series", base).folder_wide == ("policy.yaml",)
    (repo / "series" / "reconciler.yaml").unlink()
    assert changed_since(repo / "series", base).folder_wide == ("policy.yaml", "reconciler.yaml")


@pytest.mark.parametrize("revision", ["", "  ", "--output=/tmp/x", "-p", "nope", "HEAD~5"])
def test_a_revision_that_names_no_commit_is_a_clear_error(repo: Path, revision: str) -> None:
    with pytest.raises(ConfigError, match="--changed-since"):  # an option is never passed on
        changed_since(repo / "series", revision)


def test_outside_a_git_repository_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "series").mkdir()
    with pytest.raises(ConfigError, match="git"):
        changed_since(tmp_path / "series", "HEAD")


@pytest.mark.parametrize(
    ("text", "may"),
    [
        (b"description: x\n", False),
        (b"seriesCode: X1\n", True),
        (b'"seriesCode": X1\n', True),
        (b'"\\x73eriesCode": X1\n', True),  # an escape can spell it: parsed to be sure
        (b"reconciler:\n  environments:\n    prod:\n      seriesCode: P1\n", True),
        (b"description: 'series Code'\n", False),
    ],
)
def test_what_may_declare_a_marker(text: bytes, may: bool) -> None:
    assert may_declare_marker(text) is may


def test_what_a_scope_covers() -> None:
    scope = ChangeScope(since="a" * 40, changed=("x", "y"), named=("z",))
    assert scope.keys == ("x", "y", "z") and not scope.whole
    assert ChangeScope.from_dict(scope.to_dict()) == scope
    assert uncovered(reviewed=scope, now=ChangeScope(since="b", changed=("x",))) == []
    assert uncovered(reviewed=scope, now=ChangeScope(since="b", changed=("x", "w"))) == ["w"]
    wide = ChangeScope(since="b", changed=("x",), folder_wide=("reconciler.yaml",))
    assert uncovered(reviewed=scope, now=wide) == ["reconciler.yaml (every series depends on it)"]
    assert uncovered(reviewed=wide, now=ChangeScope(since="b", changed=("q",))) == []
    assert uncovered(reviewed=None, now=wide) == []  # a plan of the whole folder
    assert "covers the whole folder" in wide.describe()
    assert "covers no series" in ChangeScope(since="c").describe()
    assert "2 series whose files changed since aaaaaaaaaaaa and 1 they name" in scope.describe()
