"""The workflow lint needs nothing on the machine but what the test extra installs: with a
PATH that holds no node, npm or shellcheck (only the basic commands a shell script uses),
`.ci/lint-workflows` still lints, with the virtual environment's node, npm and shellcheck."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.workflows.harness import ROOT

BASICS = [
    "bash",
    "sh",
    "env",
    "git",
    "tar",
    "gzip",
    "mktemp",
    "cat",
    "find",
    "head",
    "tail",
    "rm",
    "mkdir",
    "dirname",
    "basename",
    "id",
    "sed",
    "cut",
    "sha256sum",
    "tr",
    "ls",
    "cp",
    "mv",
    "grep",
    "sort",
    "wc",
    "uname",
    "chmod",
    "ln",
    "readlink",
    "touch",
    "date",
]


def test_the_lint_runs_with_only_the_test_extras_node_and_shellcheck(tmp_path: Path) -> None:
    venv_bin = Path(sys.executable).parent
    for name in ("node", "npm", "shellcheck"):
        assert (venv_bin / name).exists(), f"the test extra brings {name} into {venv_bin}"
    bare = tmp_path / "bin"
    bare.mkdir()
    for name in BASICS:
        found = shutil.which(name)
        if found:
            (bare / name).symlink_to(found)
    (bare / "python3").symlink_to(sys.executable)
    for name in ("node", "npm", "shellcheck"):
        assert shutil.which(name, path=str(bare)) is None
    env = {
        "PATH": str(bare),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "lint-workflows")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "actionlint: no finding" in done.stdout
    assert "== shellcheck:" in done.stdout and "not available" not in done.stderr
