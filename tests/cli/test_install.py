"""The distribution as a team gets it: sdist → wheel → a fresh venv outside the source tree.

One pipeline, as an index installs it: build the sdist, check it carries what its tests
need and run a test from it, build the wheel from the sdist, install the wheel (pinned by
constraints.txt) in a new virtual environment, then ``reconciler plan --sandbox`` in a folder
holding only a copy of ``series/``. The builds fetch setuptools from the package index, as
pip does for any sdist.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from reconciler import __version__

from .conftest import ROOT, clean_env

DIST_NAME = "capillary_coupon_reconciler"


def _bin(venv: Path, name: str) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / f"{name}.exe"
    return venv / "bin" / name


def _run(args: list[str | Path], *, cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_sdist_wheel_fresh_venv_and_plan_sandbox(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", dist, ROOT], cwd=tmp_path)
    (sdist,) = dist.glob(f"{DIST_NAME}-{__version__}.tar.gz")

    # What the sdist carries: its tests and what they read.
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        archive.extractall(tmp_path / "unpacked", filter="data")
    for needed in (
        "LICENSE",
        "constraints.txt",
        "tests/cli/test_install.py",
        "tests/render/golden/plan_update_nested.json",
        "tests/scenarios/golden/create.json",
        "tests/corpus/invalid/expected.yaml",
        "series/reconciler.yaml",
        "docs/ci.md",
        "action.yml",
        ".github/workflows/plan.yml",
        "tests/workflows/payloads/schedule.json",
        "reconciler/sandbox/seeds/docs_examples.json",
    ):
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or n.startswith((".venv", ".reconciler"))]

    # A test runs from the unpacked sdist, against the sdist's own package.
    source = tmp_path / "unpacked" / sdist.name.removesuffix(".tar.gz")
    here = os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_diff.py"],
        cwd=source,
        env=clean_env(PYTHONPATH=here),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    where = _run(
        [sys.executable, "-c", "import reconciler; print(reconciler.__file__)"], cwd=source
    )
    assert Path(where.strip()).resolve().is_relative_to(source.resolve())

    # The wheel, built from the sdist as an installer would.
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, source], cwd=tmp_path)
    (wheel,) = dist.glob(f"{DIST_NAME}-{__version__}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        info = f"{DIST_NAME}-{__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        assert f"{info}/licenses/LICENSE" in archive.namelist()
        assert "reconciler/sandbox/seeds/docs_examples.json" in archive.namelist()
        assert not [n for n in archive.namelist() if n.startswith("tests/")]
    assert "License-Expression: Apache-2.0" in metadata
    assert "Name: capillary-coupon-reconciler" in metadata

    # A fresh venv outside the source tree; only the wheel and its pinned dependencies.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    python = _bin(venv, "python")
    _run(
        [python, "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", wheel],
        cwd=tmp_path,
        timeout=600,
    )
    work = tmp_path / "work"
    shutil.copytree(ROOT / "series", work / "series", ignore=shutil.ignore_patterns(".state"))
    version = _run([_bin(venv, "reconciler"), "--version"], cwd=work)
    assert __version__ in version
    plan = _run([_bin(venv, "reconciler"), "plan", "--sandbox"], cwd=work)
    assert "Plan:" in plan and "to create" in plan
    # The installed package, not the source tree, answered.
    where = _run([python, "-c", "import reconciler; print(reconciler.__file__)"], cwd=work)
    assert Path(where.strip()).resolve().is_relative_to(venv.resolve())
