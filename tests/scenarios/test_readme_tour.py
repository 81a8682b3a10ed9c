"""The README as a new user meets it: the tour's two blocks run line by line as written (in a
git checkout of the repository's series), and the example series file validates alone.

`reconciler apply --sandbox` asks on a terminal: it runs on a pseudo-terminal here, and is
answered "y" as the user would.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def tour_blocks() -> list[str]:
    start = README.index("## A tour")
    end = README.index("\n## ", start + 5)
    return re.findall(r"```sh\n(.*?)```", README[start:end], re.S)


def commands(block: str) -> list[str]:
    """One command per line; continuation lines of a comment (only a comment) are dropped."""
    return [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def environment(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "reconciler"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
    shim.chmod(0o755)
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return {
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }


def on_a_terminal(command: str, cwd: Path, env: dict[str, str], answer: str) -> tuple[int, str]:
    """``command`` with a pseudo-terminal as stdin and stdout, ``answer`` typed ahead."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    os.write(master, answer.encode())
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    code = process.wait(timeout=30)
    os.close(master)
    return code, output.decode(errors="replace")


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    env = environment(tmp_path)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copytree(ROOT / "series", checkout / "series", ignore=shutil.ignore_patterns(".state"))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "series"]):
        subprocess.run(["git", *args], cwd=checkout, env=env, check=True)
    first, second = tour_blocks()

    outputs: dict[str, str] = {}
    cwd = checkout
    for line in commands(first):
        command = line.split("  #", 1)[0].strip()
        if command.startswith("reconciler apply"):
            code, out = on_a_terminal(command, cwd, env, "y\n")
        else:
            done = subprocess.run(
                ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True
            )
            code, out = done.returncode, done.stdout + done.stderr
        assert code == 0, f"{command}: exit {code}\n{out}"
        outputs[command] = out
    assert "Apply these changes?" in outputs["reconciler apply --sandbox"]
    assert "Converged" in outputs["reconciler apply --sandbox"]
    diff = outputs["git diff series/"]
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    removed = [ln for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    assert removed == [], diff
    assert added == [
        "+reconciler:",
        "+  environments:",
        "+    sandbox:",
        "+      description: Edited in the CRM",
    ], "the README says: a 4-line block"

    # The second block: a new folder, its own freshly seeded sandbox, the two series adopted.
    script = "\n".join(ln.split("  #", 1)[0].rstrip() for ln in commands(second))
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=checkout, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 series; 2 unmanaged." in done.stdout + done.stderr
    imported = sorted(p.name for p in (checkout / "adopted" / "series").rglob("*.yaml"))
    assert len(imported) == 2, imported
    assert (checkout / "adopted" / ".reconciler" / "sandbox").is_dir(), "its own sandbox"


def test_the_example_series_file_validates_on_its_own(tmp_path: Path) -> None:
    (example,) = re.findall(r"```yaml\n(# series/summer/weekend-15\.yaml\n.*?)```", README, re.S)
    folder = tmp_path / "series" / "summer"
    folder.mkdir(parents=True)
    (folder / "weekend-15.yaml").write_text(example, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "series" / "reconciler.yaml").exists(), "no settings, no defaults"
