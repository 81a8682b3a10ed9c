"""A series repository made from docs/ci.md alone lints clean and runs the pre-commit hook.

The tool is cloned at its current commit; the series repository gets the example series,
the workflows with `uses: ./` replaced as docs/ci.md says, and the pre-commit configuration
of docs/ci.md pinned to that commit's SHA. actionlint and shellcheck (`.ci/lint-workflows`
pointed at the series repository) find nothing, and `pre-commit run --all-files` installs the
tool from the pinned commit and validates the files; a broken file then fails it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _block_after(heading: str, language: str) -> str:
    """The first ``language`` code block after ``heading`` in docs/ci.md."""
    start = DOCS.index(heading)
    match = re.search(rf"```{language}\n(.*?)```", DOCS[start:], re.S)
    assert match, f"docs/ci.md has no {language} block after {heading!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("series-repo")
    # The tool as a repository at one commit: this working tree (a checkout or an unpacked
    # sdist, which has no .git), committed anew.
    tool = base / "tool"
    shutil.copytree(
        ROOT,
        tool,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".reconciler", "__pycache__", "*.egg-info", ".*_cache", "build", "dist"
        ),
    )
    _git("init", "-q", "-b", "main", cwd=tool)
    _git("add", "-A", cwd=tool)
    _git("commit", "-q", "-m", "the tool", cwd=tool)
    sha = _git("rev-parse", "HEAD", cwd=tool)

    repo = base / "coupons"
    repo.mkdir()
    _git("init", "-q", "-b", "main", cwd=repo)
    shutil.copytree(ROOT / "series", repo / "series", ignore=shutil.ignore_patterns(".state"))
    (repo / ".gitignore").write_text("series/.state/\n", encoding="utf-8")
    # docs/ci.md step 5: the three workflows, `uses: ./` replaced by the pinned action.
    section = DOCS[DOCS.index("### 5. The workflows") :]
    replace, by = re.findall(r"```yaml\n(.*?)```", section, re.S)[:2]
    assert replace.strip() == "uses: ./"
    pinned = re.search(r"uses: (\S+)", by)
    assert pinned is not None
    action = pinned.group(1).replace("OWNER", "acme").replace("<sha>", sha)
    (repo / ".github" / "workflows").mkdir(parents=True)
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert "uses: ./" in text
        text = re.sub(r"uses: \./(?=\s)", f"uses: {action} # v0.2.0", text)
        (repo / ".github" / "workflows" / name).write_text(text, encoding="utf-8")
    # docs/ci.md "pre-commit": the hook, pinned by the same commit.
    config = _block_after("## pre-commit", "yaml")
    config = config.replace("https://github.com/OWNER/reconciler", str(tool))
    config = config.replace("<sha>", sha)
    (repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "series repository from docs/ci.md", cwd=repo)
    return repo, sha


def test_the_workflows_lint_clean(repository: tuple[Path, str]) -> None:
    repo, sha = repository
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        assert f"@{sha}" in (repo / ".github" / "workflows" / name).read_text()
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "lint-workflows"), str(repo)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "actionlint: no finding" in done.stdout


def test_pre_commit_installs_the_pinned_tool_and_validates(
    repository: tuple[Path, str], tmp_path: Path
) -> None:
    repo, _sha = repository
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("CAPILLARY_USERNAME", None)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "run", "--all-files"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reconciler validate" in done.stdout and "Passed" in done.stdout

    broken = repo / "series" / "summer" / "weekend-15.yaml"
    original = broken.read_text(encoding="utf-8")
    broken.write_text(original + "discountTyp: PERC\n", encoding="utf-8")
    try:
        done = run()
    finally:
        broken.write_text(original, encoding="utf-8")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "discountTyp" in done.stdout + done.stderr
