"""The tool on a platform without ``fcntl`` (Windows): validate, and the unit tests.

``fcntl`` is made unimportable in a child process (``sys.modules["fcntl"] = None`` makes
``import fcntl`` raise ImportError, as on Windows) before anything of the tool is imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, clean_env

# Blocks fcntl, runs the CLI, then says which of the tool's modules were imported.
_VALIDATE = """
import sys
sys.modules["fcntl"] = None
from reconciler.cli import main
try:
    main(sys.argv[1:], prog_name="reconciler")
except SystemExit as done:
    loaded = sorted(m for m in sys.modules if m.startswith("reconciler."))
    print("MODULES " + " ".join(loaded), file=sys.stderr)
    raise
"""


def _validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _VALIDATE, "validate", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_fcntl_is_really_blocked_in_the_child() -> None:
    done = subprocess.run(
        [sys.executable, "-c", 'import sys; sys.modules["fcntl"] = None; import fcntl'],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "import of fcntl halted" in done.stderr


def test_validate_runs_without_fcntl(project: Path) -> None:
    done = _validate(cwd=project)
    assert done.returncode == 0, done.stderr
    assert "series valid" in done.stdout
    modules = done.stderr.split("MODULES ", 1)[1].split()
    # validate reads files only: no state, no client, no sandbox on its way.
    assert "reconciler.engine.state" not in modules
    assert "reconciler.client" not in modules
    assert not [m for m in modules if m.startswith("reconciler.sandbox")]


def test_validate_reports_problems_without_fcntl(project: Path) -> None:
    (project / "series" / "bad.yaml").write_text("discountValeu: 10\n", encoding="utf-8")
    done = _validate(cwd=project)
    assert done.returncode == 1
    assert "series/bad.yaml:1:1" in done.stderr
    assert "Traceback" not in done.stderr


# The unit tests of the modules a laptop runs (files, state, plan, rendering), with fcntl
# blocked. reconciler/engine/state.py imports fcntl for the apply lock today; the lock is being
# moved to the filelock library (which works on Windows), after which this must pass.
_UNIT_TESTS = [
    "tests/test_state.py",
    "tests/test_validate.py",
    "tests/test_loader.py",
    "tests/test_diff.py",
    "tests/test_plan.py",
    "tests/test_state.py",
]
_PYTEST_WITHOUT_FCNTL = (
    'import sys; sys.modules["fcntl"] = None; import pytest; sys.exit(pytest.main(sys.argv[1:]))'
)


def test_unit_tests_pass_without_fcntl() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PYTEST_WITHOUT_FCNTL,
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            *_UNIT_TESTS,
        ],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
