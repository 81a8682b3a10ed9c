from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.engine.lock import environment_lock, lock_directory
from reconciler.errors import StateLocked


@pytest.fixture(autouse=True)
def _own_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_LOCK_DIR", str(tmp_path / "locks"))


def test_lock_is_exclusive_per_identity_and_released() -> None:
    with (
        environment_lock(identity="https://eu|till", describe="x"),
        pytest.raises(StateLocked),
        environment_lock(identity="https://eu|till", describe="x"),
    ):
        pass
    # released; and another org is another lock
    with (
        environment_lock(identity="https://eu|till", describe="x"),
        environment_lock(identity="https://us|till", describe="y"),
    ):
        pass


def test_a_lock_held_by_another_process_is_refused(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from reconciler.engine.lock import environment_lock\n"
        "with environment_lock(identity='org', describe='x'):\n"
        "    print('held', flush=True); time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(StateLocked), environment_lock(identity="org", describe="x"):
            pass
    finally:
        proc.kill()
        proc.wait()
    with environment_lock(identity="org", describe="x"):  # a killed holder frees it
        pass


def test_the_lock_folder_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RECONCILER_LOCK_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert lock_directory() == tmp_path / "reconciler-locks"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert lock_directory() == tmp_path / "home" / ".cache" / "reconciler" / "locks"
