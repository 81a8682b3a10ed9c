"""Policy checks on the GitHub workflows under .github/workflows (no network, no actionlint).

Each workflow: a ``permissions`` block (at the top or on every job) granting no ``write-all``;
every action pinned to a full commit SHA with a ``# vX.Y.Z`` comment; secrets only as
``${{ secrets.X }}`` values inside ``env:`` or ``with:``; no ``pull_request_target``; a
``timeout-minutes`` on every job; ``set -euo pipefail`` at the top of every bash script. The
apply workflow runs one apply at a time per environment, never cancels one, and ignores pushes
that change only ``series/.state/``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
ACTION = ROOT / "action.yml"

SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")
SECRET_REF = re.compile(r"\bsecrets\s*[.\[]")
SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}")
# A secret given to one environment's leg only: `${{ matrix.environment == 'testing' &&
# secrets.CAPILLARY_TESTING_X || '' }}` (or inputs.environment, for a manual run).
SECRET_FOR_ENV = re.compile(
    r"\$\{\{\s*(?:matrix|inputs)\.environment == '(?P<env>[a-z]+)' && "
    r"secrets\.CAPILLARY_(?P<name>[A-Z]+)_[A-Z_]+ \|\| ''\s*\}\}"
)
PERMISSION_LEVELS = {"read", "write", "none"}


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path.name}: not a mapping"
    # YAML 1.1 reads the key `on` as True.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def jobs(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = doc.get("jobs")
    assert isinstance(found, dict) and found, "no jobs"
    return found


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    on = doc["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def secret_uses(node: Any, where: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every string that refers to ``secrets.X``, with the path of keys leading to it."""
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += secret_uses(value, (*where, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += secret_uses(value, (*where, str(i)))
    elif isinstance(node, str) and SECRET_REF.search(node):
        found.append((where, node))
    return found


def test_there_are_workflows() -> None:
    names = {p.name for p in WORKFLOW_FILES}
    assert {"plan.yml", "drift.yml", "apply.yml", "tests.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
class TestEveryWorkflow:
    def test_permissions_are_explicit_and_narrow(self, path: Path) -> None:
        doc = load(path)
        blocks = []
        if "permissions" in doc:
            blocks.append(doc["permissions"])
        for job_id, job in jobs(doc).items():
            if "permissions" in job:
                blocks.append(job["permissions"])
            else:
                assert "permissions" in doc, f"{path.name}: job {job_id} has no permissions block"
        for block in blocks:
            assert block not in ("write-all", "read-all"), f"{path.name}: {block}"
            assert isinstance(block, dict), f"{path.name}: permissions must list each scope"
            for scope, level in block.items():
                assert level in PERMISSION_LEVELS, f"{path.name}: {scope}: {level}"

    def test_no_pull_request_target(self, path: Path) -> None:
        assert "pull_request_target" not in triggers(load(path))

    def test_actions_are_pinned_to_a_commit_sha(self, path: Path) -> None:
        for job in jobs(load(path)).values():
            uses = [job["uses"]] if "uses" in job else []
            uses += [step["uses"] for step in job.get("steps", []) if "uses" in step]
            for ref in uses:
                if ref.startswith("./"):
                    continue
                assert not ref.startswith("docker://") or "@sha256:" in ref, ref
                if not ref.startswith("docker://"):
                    assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned to a commit"
        for line in path.read_text(encoding="utf-8").splitlines():
            m = USES_LINE.match(line)
            if m and not m.group(1).startswith("./"):
                comment = m.group(2) or ""
                assert re.match(r"#\s*v\d+\.\d+\.\d+\b", comment), (
                    f"{path.name}: {line.strip()!r} lacks a '# vX.Y.Z' comment"
                )

    def test_secrets_only_as_values_in_env_or_with(self, path: Path) -> None:
        for where, value in secret_uses(load(path)):
            assert len(where) >= 2 and where[-2] in ("env", "with"), (
                f"{path.name}: secrets used at {'.'.join(where)}"
            )
            scoped = SECRET_FOR_ENV.fullmatch(value.strip())
            if scoped:
                # A leg of one environment never gets another environment's secret.
                assert scoped["name"] == scoped["env"].upper(), f"{path.name}: {value!r}"
                assert where[-1].startswith(f"CAPILLARY_{scoped['name']}_"), (path.name, where)
                continue
            assert SECRET_EXPR.fullmatch(value.strip()), (
                f"{path.name}: {'.'.join(where)} = {value!r}: a secret must be the whole value"
            )

    def test_every_job_has_a_timeout(self, path: Path) -> None:
        for job_id, job in jobs(load(path)).items():
            if "uses" in job:  # a reusable workflow call has no timeout of its own
                continue
            assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {job_id}"

    def test_bash_scripts_are_strict_and_quiet(self, path: Path) -> None:
        for job_id, job in jobs(load(path)).items():
            for step in job.get("steps", []):
                script = step.get("run")
                if script is None:
                    continue
                lines = [ln.strip() for ln in str(script).splitlines() if ln.strip()]
                name = f"{path.name}: {job_id}: {step.get('name', lines[0])}"
                if len(lines) > 1:
                    assert lines[0] == "set -euo pipefail", f"{name}: starts with {lines[0]!r}"
                assert not any(re.match(r"set\s+-\w*x", ln) for ln in lines), f"{name}: set -x"
                assert not SECRET_REF.search(str(script)), f"{name}: secret in a script"


ENVIRONMENTS_MATRIX = (
    """${{ fromJSON(vars.RECONCILER_ENVIRONMENTS || '["testing", "production"]') }}"""
)


def test_plan_workflow_runs_on_every_pull_request_and_splits_secrets_from_writes() -> None:
    doc = load(WORKFLOWS / "plan.yml")
    on = triggers(doc)
    # Every pull request (no paths filter): the required checks always report.
    # Every pull request (GitHub's default types), and a label change: an override label
    # changes what the policy lets through.
    assert on["pull_request"] == {
        "types": ["opened", "synchronize", "reopened", "labeled", "unlabeled"]
    }
    assert set(on["workflow_dispatch"]["inputs"]) == {"pull-request"}
    assert doc["permissions"] == {"contents": "read"}
    plan, comment = jobs(doc)["plan"], jobs(doc)["comment"]
    assert plan["strategy"]["matrix"]["environment"] == ENVIRONMENTS_MATRIX
    assert "matrix.environment" in plan["concurrency"]["group"]
    # The job that runs the pull request's files with secrets cannot write; the one that can
    # write has no secret, no checkout and runs no `run:` script.
    # Read only: the pull request's files, labels, reviews and comments; no write anywhere.
    assert plan["permissions"] == {"contents": "read", "issues": "read", "pull-requests": "read"}
    assert comment["permissions"] == {"pull-requests": "write"}
    assert not secret_uses(comment)
    assert not [s for s in comment["steps"] if "run" in s or "checkout" in s.get("uses", "")]
    text = (WORKFLOWS / "plan.yml").read_text(encoding="utf-8")
    assert "<!-- reconciler-plan:${env} -->" in text, "one marker per environment's comment"
    # The plan artifact is tied to the pull request's head commit and its digest is shown.
    assert (
        "reconciler-plan-${{ matrix.environment }}-"
        "${{ github.event.pull_request.head.sha || github.sha }}" in text
    )
    assert "Plan digest" in text
    uses = {
        step.get("with", {}).get("command"): step
        for step in plan["steps"]
        if step.get("uses") == "./"
    }
    assert set(uses) == {"validate", "plan"}
    # Trusted settings come from the default branch (the action's default), never the base ref.
    assert "default-branch" not in uses["plan"].get("with", {})


def test_the_action_passes_the_trust_boundary_and_keeps_exit_codes() -> None:
    text = ACTION.read_text(encoding="utf-8")
    assert '--trusted-settings "$TRUSTED"' in text
    assert 'git show "origin/$branch:$dir/reconciler.yaml"' in text
    assert "--detailed-exitcode" in text and "--format github" in text
    # Pinned install: the action's constraints, for the tool's dependencies and its build.
    assert 'PIP_CONSTRAINT="$ACTION_PATH/constraints.txt" python -m pip install' in text
    assert '-c "$ACTION_PATH/constraints.txt" "$ACTION_PATH"' in text


def test_drift_workflow_is_scheduled_and_can_be_started_by_hand() -> None:
    doc = load(WORKFLOWS / "drift.yml")
    on = triggers(doc)
    assert "schedule" in on and "workflow_dispatch" in on
    assert doc["permissions"] == {"contents": "read", "issues": "write"}
    (job,) = jobs(doc).values()
    assert job["strategy"]["matrix"]["environment"] == ENVIRONMENTS_MATRIX
    text = (WORKFLOWS / "drift.yml").read_text(encoding="utf-8")
    assert 'reconciler adopt --env "$ENVIRONMENT" --dir series' in text
    assert "reconciler adopt --help" not in text, "adopt is part of the tool: no guard"
    assert job["permissions"]["pull-requests"] == "write", "the adopt pull request"
    assert "<!-- reconciler-drift:${env} -->" in text


def test_apply_workflow_applies_reviewed_plans_one_environment_at_a_time() -> None:
    doc = load(WORKFLOWS / "apply.yml")
    on = triggers(doc)
    push = on["push"]
    assert "series/**" in push["paths"]
    assert "!series/.state/**" in push["paths"]
    assert doc["permissions"] == {"contents": "read"}
    dispatch = on["workflow_dispatch"]["inputs"]
    assert dispatch["environment"]["options"] == ["testing", "production"]
    assert dispatch["force"]["type"] == "boolean"
    appliers = {
        j["environment"]: (job_id, j) for job_id, j in jobs(doc).items() if j.get("environment")
    }
    assert set(appliers) == {"testing", "production"}
    for env, (_job_id, job) in appliers.items():
        assert job["concurrency"] == {
            "group": f"reconciler-apply-{env}",
            "cancel-in-progress": False,
        }
        assert job["permissions"]["contents"] == "write", "the state branch"
        (apply,) = [s for s in job["steps"] if s.get("uses") == "./"]
        assert apply["with"]["command"] == "apply"
        assert apply["with"]["plan-file"] == f"reviewed/plan-{env}.json"
        # Secrets of this environment only.
        names = set(job["env"])
        assert names == {
            f"CAPILLARY_{env.upper()}_{n}"
            for n in ("BASE_URL", "USERNAME", "PASSWORD", "OAUTH_KEY", "OAUTH_SECRET")
        }
        # Nothing is pushed to main any more.
        assert not any("git push" in str(s.get("run", "")) for s in job["steps"])
    assert "apply-testing" in appliers["production"][1]["needs"], "production after testing"
    assert "needs.apply-testing.result == 'success'" in appliers["production"][1]["if"]


def test_the_action_keeps_the_state_on_its_own_branch() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["inputs"]["state-branch"]["default"] == "reconciler-state"
    steps = {s.get("id"): s for s in action["runs"]["steps"]}
    push = steps["state-push"]
    assert str(push["if"]).startswith("always()")
    assert "rebase" in push["run"] and "git push origin $STATE_BRANCH" in push["run"]
    assert 'push -q origin "HEAD:refs/heads/$STATE_BRANCH"' in push["run"]


def test_tests_workflow_runs_the_readme_command() -> None:
    doc = load(WORKFLOWS / "tests.yml")
    on = triggers(doc)
    assert "push" in on and "pull_request" in on
    assert doc["permissions"] == {"contents": "read"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(
        ln.strip() for ln in readme.splitlines() if "python -m pytest" in ln and "venv" in ln
    )
    scripts = [step.get("run", "") for job in jobs(doc).values() for step in job.get("steps", [])]
    assert any(command in script for script in scripts), command


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "reconciler-validate"]
    assert hook["entry"] == "reconciler validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "series/promo/summer.yaml")
    assert not re.search(hook["files"], "series/.state/production.json")


def test_docs_describe_every_input_of_the_action_and_the_pins_in_use() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for name in action["inputs"]:
        assert f"| `{name}` |" in docs, f"docs/ci.md does not describe the input {name}"
    pins = set()
    for path in [ACTION, *(WORKFLOWS / n for n in ("plan.yml", "apply.yml", "drift.yml"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = USES_LINE.match(line)
            if m and not m.group(1).startswith("./"):
                pins.add((m.group(1).split("@")[0], (m.group(2) or "").lstrip("# ").strip()))
    for action_name, version in pins:
        assert f"`{action_name}` {version}" in docs, (action_name, version)


def test_the_action_installs_every_dependency_at_its_pinned_version(tmp_path: Path) -> None:
    """The install step, run with a stand-in ``python`` that records what pip was asked."""
    import os
    import subprocess

    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    (install,) = [s for s in action["runs"]["steps"] if s.get("id") == "install"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    (bin_dir / "python").write_text(
        f'#!/bin/sh\nprintf "%s|%s\\n" "$PIP_CONSTRAINT" "$*" >>"{log}"\n'
    )
    (bin_dir / "reconciler").write_text("#!/bin/sh\necho reconciler 0.0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(tmp_path),
    }
    for _ in range(2):  # a second use in the same job reuses the install
        subprocess.run(["bash", "-c", install["run"]], env=env, check=True, timeout=60)
    (call,) = log.read_text().splitlines()
    constraints = str(ROOT / "constraints.txt")
    assert call == (
        f"{constraints}|-m pip install -q --disable-pip-version-check -c {constraints} {ROOT}"
    )
    # Every runtime dependency, and the build backend, pinned to one version there.
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = {
        re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-")
        for d in [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    }
    assert needed <= pins, needed - pins
