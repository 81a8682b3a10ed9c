"""Helpers of the CLI tests: run ``reconciler`` in a child process, as a user or CI does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECONCILER = [sys.executable, "-m", "reconciler"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any credential or colour setting, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAPILLARY_", "RECONCILER_")) and k != "NO_COLOR"
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def reconciler(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RECONCILER, *args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a copy of this repository's ``series/`` (its sandbox state starts empty)."""
    shutil.copytree(ROOT / "series", tmp_path / "series", ignore=shutil.ignore_patterns(".state"))
    return tmp_path
