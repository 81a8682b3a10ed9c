"""The jobs and steps of one workflow run, for ``harness.World``: ``run:`` scripts with bash,
the composite action step by step, ``github-script`` with node against the fake API (with
the job's permissions), and stand-ins for checkout, setup-python, the artifact actions and
the App token action."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.workflows.expressions import Context, text

if TYPE_CHECKING:
    from tests.workflows.harness import World

ROOT = Path(__file__).resolve().parents[2]
GITHUB_SCRIPT = Path(__file__).with_name("github_script.cjs")
OWNER, REPO = "acme", "coupons"
APP_TOKEN = "ghs_fake_app_installation_token"


def tool(name: str) -> str:
    """A command from the test environment's own bin folder first (the test extra brings node
    and shellcheck), else from PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    found = shutil.which(name, path=path)
    if found is None:
        raise AssertionError(f"{name} is not installed: pip install -e '.[test]' brings it")
    return found


def is_tool_action(uses: str) -> bool:
    """``./`` or the tool pinned by commit, as docs/ci.md step 5 writes it."""
    name, _, ref = uses.partition("@")
    return uses == "./" or (name.endswith("/reconciler") and len(ref) == 40)


# --- results -------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""


@dataclass
class JobResult:
    name: str
    result: str
    outputs: dict[str, str] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""
    workspace: Path | None = None

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name} ({s.outcome})\n{s.log}" for s in self.steps)

    def annotations(self, level: str = "error") -> list[str]:
        found = []
        stop = None
        for line in self.log.splitlines():
            if stop is not None:
                if line == f"::{stop}::":
                    stop = None
                continue
            if line.startswith("::stop-commands::"):
                stop = line.split("::", 2)[2]
                continue
            if line.startswith(f"::{level}"):
                found.append(line)
        return found

    def step(self, name_part: str) -> StepResult:
        return next(s for s in self.steps if name_part in s.name)


@dataclass
class WorkflowRun:
    run_id: int
    jobs: dict[str, list[JobResult]]
    triggered: bool = True

    def job(self, job_id: str, index: int = 0) -> JobResult:
        return self.jobs[job_id][index]

    def result(self, job_id: str) -> str:
        results = {j.result for j in self.jobs.get(job_id, [])}
        if not results:
            return "skipped"
        return "failure" if "failure" in results else results.pop()


class JobRunner:
    def __init__(
        self,
        world: World,
        doc: Mapping[str, Any],
        job_id: str,
        job: Mapping[str, Any],
        *,
        github: dict[str, Any],
        needs: Mapping[str, Any],
    ) -> None:
        self.world, self.doc, self.job_id, self.job = world, doc, job_id, job
        self.github, self.needs = github, needs

    def run(
        self,
        *,
        inputs: Mapping[str, Any],
        matrix: Mapping[str, Any],
        head_sha: str,
        head_branch: str,
    ) -> JobResult:
        world, job = self.world, self.job
        world.clock += 1
        label = f"{self.job_id}-{'-'.join(map(str, matrix.values())) or 'job'}-{world.clock}"
        workspace = world.root / "runners" / label / "work"
        temp = world.root / "runners" / label / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir(parents=True)
        base = {
            "github": {**self.github, "workspace": str(workspace), "job": self.job_id},
            "inputs": dict(inputs),
            "needs": self.needs,
            "matrix": dict(matrix),
            "vars": dict(world.vars),
            "runner": {"temp": str(temp), "os": "Linux"},
            "env": {},
        }
        ctx = Context(base)
        environment = job.get("environment")
        if isinstance(environment, Mapping):
            environment = environment.get("name")
        secrets = dict(world.repo_secrets)
        if environment:
            secrets.update(world.env_secrets.get(ctx.render_text(environment), {}))
        ctx.values["secrets"] = secrets
        env = {str(k): ctx.render_text(v) for k, v in (self.doc.get("env") or {}).items()}
        env.update({str(k): ctx.render_text(v) for k, v in (job.get("env") or {}).items()})
        ctx.values["env"] = env
        permissions = job.get("permissions", self.doc.get("permissions"))
        job_result = JobResult(name=label, result="success", workspace=workspace)
        steps: dict[str, Any] = {}
        ctx.values["steps"] = steps
        runner = _StepRunner(
            world,
            workspace=workspace,
            temp=temp,
            head_sha=head_sha,
            head_branch=head_branch,
            job=job_result,
            permissions=permissions,
        )
        for i, step in enumerate(job.get("steps") or []):
            runner.run(step, ctx=ctx, env=env, steps=steps, index=i)
        job_result.result = "failure" if ctx.failed else "success"
        job_result.outputs = {k: ctx.render_text(v) for k, v in (job.get("outputs") or {}).items()}
        return job_result


class _StepRunner:
    def __init__(
        self,
        world: World,
        *,
        workspace: Path,
        temp: Path,
        head_sha: str,
        head_branch: str,
        job: JobResult,
        permissions: Any,
    ) -> None:
        self.world = world
        self.workspace = workspace
        self.temp = temp
        self.head_sha = head_sha
        self.head_branch = head_branch
        self.job = job
        self.permissions = permissions
        self.counter = 0

    def run(
        self,
        step: Mapping[str, Any],
        *,
        ctx: Context,
        env: Mapping[str, str],
        steps: dict[str, Any],
        index: int,
    ) -> str:
        name = ctx.render_text(step.get("name") or step.get("uses") or f"step {index + 1}")
        sid = step.get("id")
        if not ctx.condition(step.get("if")):
            if sid:
                steps[sid] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
            self.job.steps.append(StepResult(name, "skipped"))
            return "skipped"
        step_env = {
            **env,
            **{str(k): ctx.render_text(v) for k, v in (step.get("env") or {}).items()},
        }
        with_ = {str(k): ctx.render_text(v) for k, v in (step.get("with") or {}).items()}
        if "run" in step:
            result = self._bash(name, str(step["run"]), step_env, ctx)
        else:
            result = self._uses(name, str(step["uses"]), with_, step_env, ctx)
        self.job.steps.append(result)
        if sid:
            steps[sid] = {
                "outcome": result.outcome,
                "conclusion": result.outcome,
                "outputs": result.outputs,
            }
        if result.outcome == "failure":
            ctx.failed = True
        return result.outcome

    # --- run: --------------------------------------------------------------------------

    def _files(self) -> tuple[Path, Path]:
        self.counter += 1
        out = self.temp / f"output-{self.counter}"
        summary = self.temp / f"summary-{self.counter}"
        out.touch()
        summary.touch()
        return out, summary

    def _process_env(
        self, env: Mapping[str, str], out: Path, summary: Path, ctx: Context
    ) -> dict[str, str]:
        return {
            **self.world.env(),
            **env,
            "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ENV": str(self.temp / "env"),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_SHA": text(ctx.get("github.sha")),
            "GITHUB_REF": text(ctx.get("github.ref")),
            "GITHUB_REF_NAME": text(ctx.get("github.ref_name")),
            "GITHUB_EVENT_NAME": text(ctx.get("github.event_name")),
            "GITHUB_REPOSITORY": text(ctx.get("github.repository")),
            "GITHUB_RUN_ID": text(ctx.get("github.run_id")),
            "GITHUB_SERVER_URL": text(ctx.get("github.server_url")),
            "RUNNER_TEMP": str(self.temp),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
        }

    def _finish(
        self, name: str, done: subprocess.CompletedProcess[str], out: Path, summary: Path
    ) -> StepResult:
        self.job.summary += summary.read_text(encoding="utf-8")
        return StepResult(
            name,
            "success" if done.returncode == 0 else "failure",
            _outputs(out.read_text(encoding="utf-8")),
            done.stdout + done.stderr,
        )

    def _bash(self, name: str, script: str, env: Mapping[str, str], ctx: Context) -> StepResult:
        out, summary = self._files()
        path = self.temp / f"script-{self.counter}.sh"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(path)],
            cwd=self.workspace,
            env=self._process_env(env, out, summary, ctx),
            capture_output=True,
            text=True,
            timeout=300,
        )
        return self._finish(name, done, out, summary)

    # --- uses: -------------------------------------------------------------------------

    def _uses(
        self, name: str, uses: str, with_: Mapping[str, str], env: Mapping[str, str], ctx: Context
    ) -> StepResult:
        action = uses.split("@", 1)[0]
        if is_tool_action(uses):
            return self._composite(name, with_, env, ctx)
        if action == "actions/checkout":
            sha = with_.get("ref") or text(ctx.get("github.sha"))
            self.world.git(
                "clone", "-q", str(self.world.origin), str(self.workspace), cwd=self.world.root
            )
            self.world.git("fetch", "-q", "origin", sha, cwd=self.workspace)
            self.world.git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=self.workspace)
            return StepResult(name, "success")
        if action == "actions/setup-python":
            return StepResult(name, "success")
        if action == "actions/create-github-app-token":
            assert with_.get("private-key"), "an App token needs its private key"
            return StepResult(name, "success", {"token": APP_TOKEN})
        if action == "actions/upload-artifact":
            return self._upload(name, with_, ctx)
        if action == "actions/download-artifact":
            return self._download(name, with_, ctx)
        if action == "actions/github-script":
            return self._github_script(name, with_, env, ctx)
        raise AssertionError(f"the harness does not know {uses}")

    def _upload(self, name: str, with_: Mapping[str, str], ctx: Context) -> StepResult:
        artifact = with_["name"]
        paths = [self.workspace / p.strip() for p in with_["path"].splitlines() if p.strip()]
        existing = [p for p in paths if p.exists()]
        if not existing:
            if with_.get("if-no-files-found", "warn") == "error":
                return StepResult(name, "failure", log=f"no files for {artifact}")
            return StepResult(name, "success", log="no files")
        run_id = int(text(ctx.get("github.run_id")))
        target = self.world.store / str(run_id) / artifact
        shutil.rmtree(target, ignore_errors=True)
        common = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in existing]))
        for p in existing:
            dest = target / p.relative_to(common)
            if p.is_dir():
                shutil.copytree(p, dest, dirs_exist_ok=True)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dest)
        api = self.world.api()
        clock = self.world.clock
        api["artifacts"] = [
            a
            for a in api["artifacts"]
            if not (a["name"] == artifact and a["workflow_run"]["id"] == run_id)
        ]
        api["next_id"] += 1
        api["artifacts"].append(
            {
                "id": api["next_id"],
                "name": artifact,
                "expired": False,
                "created_at": f"2026-11-24T{clock // 60:02d}:{clock % 60:02d}:00Z",
                "workflow_run": {
                    "id": run_id,
                    "repository_id": 1,
                    "head_repository_id": 1,
                    "head_branch": self.head_branch,
                    "head_sha": self.head_sha,
                },
            }
        )
        self.world.save_api(api)
        return StepResult(name, "success", log=f"uploaded {artifact}")

    def _download(self, name: str, with_: Mapping[str, str], ctx: Context) -> StepResult:
        run_id = with_.get("run-id") or text(ctx.get("github.run_id"))
        folder = self.world.store / str(run_id)
        into = self.workspace / with_.get("path", ".")
        if "pattern" in with_:
            found = sorted(p for p in folder.glob("*") if fnmatch.fnmatch(p.name, with_["pattern"]))
            for source in found:
                merge = with_.get("merge-multiple", "false") == "true"
                shutil.copytree(source, into if merge else into / source.name, dirs_exist_ok=True)
            return StepResult(name, "success", log=f"{len(found)} artifact(s)")
        source = folder / with_["name"]
        if not source.exists():
            return StepResult(name, "failure", log=f"Artifact not found: {with_['name']}")
        shutil.copytree(source, into, dirs_exist_ok=True)
        return StepResult(name, "success")

    def _github_script(
        self, name: str, with_: Mapping[str, str], env: Mapping[str, str], ctx: Context
    ) -> StepResult:
        out, summary = self._files()
        script = self.temp / f"script-{self.counter}.js"
        script.write_text(with_["script"], encoding="utf-8")
        token = with_.get("github-token", "")
        own_token = token in ("", text(ctx.get("github.token")))
        context = {
            "eventName": text(ctx.get("github.event_name")),
            "sha": text(ctx.get("github.sha")),
            "ref": text(ctx.get("github.ref")),
            "runId": int(text(ctx.get("github.run_id"))),
            "actor": text(ctx.get("github.actor")),
            "serverUrl": text(ctx.get("github.server_url")),
            "payload": ctx.values["github"]["event"],
            "repo": {"owner": OWNER, "repo": REPO},
            # The job's permissions bind GITHUB_TOKEN only; another token has its own.
            "permissions": self.permissions if own_token else None,
            "token": "github" if own_token else "other",
            "origin": str(self.world.origin),
        }
        context_file = self.temp / f"context-{self.counter}.json"
        context_file.write_text(json.dumps(context))
        done = subprocess.run(
            [
                tool("node"),
                str(GITHUB_SCRIPT),
                str(script),
                str(self.world.api_file),
                str(context_file),
            ],
            cwd=self.workspace,
            env=self._process_env(env, out, summary, ctx),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return self._finish(name, done, out, summary)

    def _composite(
        self, name: str, with_: Mapping[str, str], env: Mapping[str, str], ctx: Context
    ) -> StepResult:
        action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
        github = {**ctx.values["github"], "action_path": str(ROOT)}
        outer = Context({**ctx.values, "github": github})
        inputs = {
            k: (with_[k] if k in with_ else outer.render_text(str(spec.get("default", ""))))
            for k, spec in (action.get("inputs") or {}).items()
        }
        unknown = set(with_) - set(inputs)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        steps: dict[str, Any] = {}
        inner = Context(
            {
                "github": github,
                "inputs": inputs,
                "steps": steps,
                "env": dict(env),
                "runner": ctx.values["runner"],
            }
        )
        start = len(self.job.steps)
        for i, step in enumerate(action["runs"]["steps"]):
            if step.get("id") == "install":  # the tool under test is on PATH already
                steps["install"] = {"outcome": "success", "conclusion": "success", "outputs": {}}
                continue
            self.run(step, ctx=inner, env=env, steps=steps, index=i)
        inner_steps = self.job.steps[start:]
        del self.job.steps[start:]
        outputs = {
            k: inner.render_text(v["value"]) for k, v in (action.get("outputs") or {}).items()
        }
        log = "\n".join(f"  -- {s.name} ({s.outcome})\n{s.log}" for s in inner_steps)
        return StepResult(name, "failure" if inner.failed else "success", outputs, log)


def _outputs(source: str) -> dict[str, str]:
    found: dict[str, str] = {}
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            j = lines.index(delimiter, i + 1)
            found[key] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            found[key] = value
        i += 1
    return found
