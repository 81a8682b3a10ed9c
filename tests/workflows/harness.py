"""A small local runner for this repository's GitHub workflows and its composite action.

It runs the real ``run:`` scripts with bash, the composite action (``uses: ./``) step by step,
and ``actions/github-script`` scripts with node against a fake GitHub API (a JSON file, see
``github_script.cjs``). The other actions are stood in for: ``checkout`` clones a local bare
"origin", ``upload``/``download-artifact`` copy files to and from a store that the fake API
lists, ``setup-python`` does nothing (the tool under test is already installed; a shim named
``reconciler`` on PATH runs it). Expressions (``${{ }}``) are evaluated by a deliberately small
evaluator that covers what the workflows use: contexts, ``==``/``!=``, ``&&``/``||``/``!``,
literals and the status functions.

Not simulated: approvals (environments are approved at once), job concurrency, runners.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
GITHUB_SCRIPT = Path(__file__).with_name("github_script.cjs")
OWNER, REPO = "acme", "coupons"

# --- expressions ---------------------------------------------------------------------------

_STRING = re.compile(r"('(?:[^']|'')*')")
_PATH = re.compile(r"\b[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+")
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_STATUS = re.compile(r"\b(always|success|failure|cancelled)\(\)")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _python(piece: str) -> str:
    """An expression outside its string literals, as Python."""
    out = piece.replace("&&", " and ").replace("||", " or ")
    out = re.sub(r"!(?!=)", " not ", out)
    out = re.sub(r"\btrue\b", "True", out)
    out = re.sub(r"\bfalse\b", "False", out)
    out = re.sub(r"\bnull\b", "None", out)
    return _PATH.sub(lambda m: f"_get({m.group(0)!r})", out)


@dataclass
class Context:
    values: dict[str, Any]
    failed: bool = False

    def get(self, path: str) -> Any:
        node: Any = self.values
        for part in path.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                return ""
        return "" if node is None else node

    def evaluate(self, expr: str) -> Any:
        pieces = _STRING.split(expr.strip())
        code = []
        for i, piece in enumerate(pieces):
            if i % 2:
                code.append(repr(piece[1:-1].replace("''", "'")))
            else:
                code.append(_python(piece))
        names = {
            "_get": self.get,
            "always": lambda: True,
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "cancelled": lambda: False,
            "True": True,
            "False": False,
            "None": None,
        }
        return eval(" ".join(code).replace("\n", " "), {"__builtins__": {}}, names)

    def render(self, value: Any) -> Any:
        """``value`` with every ``${{ }}`` replaced (recursively in mappings and lists)."""
        if isinstance(value, str):
            whole = _TEMPLATE.fullmatch(value.strip())
            if whole and value.strip() == value:
                return _text(self.evaluate(whole.group(1)))
            return _TEMPLATE.sub(lambda m: _text(self.evaluate(m.group(1))), value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        return _text(value)

    def condition(self, expr: Any) -> bool:
        if expr is None or expr == "":
            return not self.failed
        text = str(expr).strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        if not _STATUS.search(text):
            text = f"success() && ({text})"
        return bool(self.evaluate(text))


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

    def job(self, job_id: str, index: int = 0) -> JobResult:
        return self.jobs[job_id][index]

    def result(self, job_id: str) -> str:
        results = {j.result for j in self.jobs.get(job_id, [])}
        if not results:
            return "skipped"
        return "failure" if "failure" in results else results.pop()


# --- the world: origin, fake API, artifacts, secrets ---------------------------------------


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.origin = root / "origin.git"
        self.dev = root / "dev"
        self.api_file = root / "api.json"
        self.store = root / "artifacts"
        self.bin = root / "bin"
        self.home = root / "home"
        self.repo_secrets: dict[str, str] = {}
        self.env_secrets: dict[str, dict[str, str]] = {}
        self.next_run = 1000
        self.clock = 0
        for d in (self.store, self.bin, self.home):
            d.mkdir(parents=True)
        (self.home / ".gitconfig").write_text(
            "[init]\n\tdefaultBranch = main\n[user]\n\tname = Dev\n\temail = dev@example.com\n"
            "[advice]\n\tdetachedHead = false\n"
        )
        self.api_file.write_text(
            json.dumps(
                {
                    "next_id": 100,
                    "comments": [],
                    "issues": [],
                    "pulls": [],
                    "artifacts": [],
                    "runs": {},
                    "labels": [],
                    "calls": [],
                }
            )
        )
        self._install_shims()
        self.git("init", "-q", "--bare", str(self.origin), cwd=root)
        self.git("init", "-q", str(self.dev), cwd=root)
        self.git("remote", "add", "origin", str(self.origin))

    # tools ----------------------------------------------------------------------------------

    def _install_shims(self) -> None:
        shim = self.bin / "reconciler"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
        shim.chmod(0o755)
        (self.bin / "python").symlink_to(sys.executable)

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TZ", "TMPDIR")}
        return {
            **keep,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }

    def git(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd or self.dev,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
        return done.stdout.strip()

    # the fake API ---------------------------------------------------------------------------

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.api_file.read_text())
        return data

    def save_api(self, data: Mapping[str, Any]) -> None:
        self.api_file.write_text(json.dumps(data, indent=2))

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.api()["comments"] if c["issue_number"] == number]

    # the series repository ------------------------------------------------------------------

    def write(self, relative: str, text: str) -> None:
        path = self.dev / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def open_pull_request(self, branch: str, number: int) -> dict[str, Any]:
        """Push ``branch`` (checked out in dev) and make GitHub's refs/pull/N/merge for it."""
        head = self.git("rev-parse", "HEAD")
        self.git("push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")
        merge = self._merge_commit(branch, message=f"Merge {head[:7]} into main")
        self.git("push", "-q", "-f", "origin", f"{merge}:refs/pull/{number}/merge")
        pr = {
            "number": number,
            "state": "open",
            "title": branch,
            "head": {"sha": head, "ref": branch, "repo": {"full_name": f"{OWNER}/{REPO}"}},
            "base": {"ref": "main", "sha": self.git("rev-parse", "origin/main")},
            "merge_commit_sha": None,
            "merged_at": None,
        }
        api = self.api()
        api["pulls"] = [p for p in api["pulls"] if p["number"] != number] + [pr]
        self.save_api(api)
        self.git("checkout", "-q", branch)
        return {**pr, "merge_ref_sha": merge}

    def _merge_commit(self, branch: str, *, message: str) -> str:
        self.git("fetch", "-q", "origin")
        self.git("checkout", "-q", "--detach", "origin/main")
        self.git("merge", "-q", "--no-ff", "-m", message, branch)
        return self.git("rev-parse", "HEAD")

    def merge_pull_request(self, number: int) -> str:
        api = self.api()
        pr = next(p for p in api["pulls"] if p["number"] == number)
        merge = self._merge_commit(pr["head"]["ref"], message=f"Merge pull request #{number}")
        self.git("push", "-q", "origin", f"{merge}:refs/heads/main")
        pr.update(state="closed", merge_commit_sha=merge, merged_at="2026-11-24T00:00:00Z")
        self.save_api(api)
        self.git("checkout", "-q", "-B", "main", "origin/main")
        return merge

    # running workflows ----------------------------------------------------------------------

    def run_workflow(
        self,
        name: str,
        event: str,
        *,
        pull_request: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        only: tuple[str, ...] = (),
        matrix: Mapping[str, Any] | None = None,
    ) -> WorkflowRun:
        doc = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
        if True in doc:
            doc["on"] = doc.pop(True)
        self.next_run += 1
        run_id = self.next_run
        api = self.api()
        api["runs"][str(run_id)] = {
            "id": run_id,
            "path": f".github/workflows/{name}",
            "event": event,
        }
        self.save_api(api)
        main = self.git("rev-parse", "origin/main") if self._has_main() else ""
        if event == "pull_request":
            assert pull_request is not None
            sha = pull_request["merge_ref_sha"]
            ref = f"refs/pull/{pull_request['number']}/merge"
            head_sha = pull_request["head"]["sha"]
        else:
            sha, ref, head_sha = main, "refs/heads/main", main
        payload: dict[str, Any] = {
            "repository": {"default_branch": "main", "full_name": f"{OWNER}/{REPO}"}
        }
        if pull_request is not None:
            payload["pull_request"] = {
                k: v for k, v in pull_request.items() if k != "merge_ref_sha"
            }
        if inputs is not None:
            payload["inputs"] = dict(inputs)
        github = {
            "event_name": event,
            "event": payload,
            "sha": sha,
            "ref": ref,
            "ref_name": ref.rsplit("/", 1)[-1] if event != "pull_request" else ref,
            "repository": f"{OWNER}/{REPO}",
            "run_id": str(run_id),
            "run_attempt": "1",
            "actor": "maintainer",
            "token": "ghs_fake_token_for_tests",
            "server_url": "https://github.example",
            "workspace": "",
            "action_path": "",
        }
        run = WorkflowRun(run_id=run_id, jobs={})
        for job_id, job in doc["jobs"].items():
            if only and job_id not in only:
                continue
            needs_ids = job.get("needs", [])
            needs_ids = [needs_ids] if isinstance(needs_ids, str) else needs_ids
            needs = {
                n: {
                    "result": run.result(n),
                    "outputs": run.jobs[n][-1].outputs if run.jobs.get(n) else {},
                }
                for n in needs_ids
            }
            ctx = Context(
                {"github": github, "inputs": dict(inputs or {}), "needs": needs, "env": {}},
                failed=any(n["result"] != "success" for n in needs.values()),
            )
            if not ctx.condition(job.get("if")):
                continue
            combos = [{}]
            strategy = (job.get("strategy") or {}).get("matrix")
            if strategy:
                (key, values), *_ = strategy.items()
                combos = [{key: v} for v in values if not matrix or matrix.get(key) == v]
            for combo in combos:
                result = self._run_job(
                    doc,
                    job_id,
                    job,
                    github=github,
                    needs=needs,
                    inputs=inputs,
                    matrix=combo,
                    head_sha=head_sha,
                )
                run.jobs.setdefault(job_id, []).append(result)
        return run

    def _has_main(self) -> bool:
        refs = self.git("ls-remote", "--heads", str(self.origin), "main")
        return bool(refs)

    def _run_job(
        self,
        doc: Mapping[str, Any],
        job_id: str,
        job: Mapping[str, Any],
        *,
        github: dict[str, Any],
        needs: Mapping[str, Any],
        inputs: Mapping[str, Any] | None,
        matrix: Mapping[str, Any],
        head_sha: str,
    ) -> JobResult:
        self.clock += 1
        label = f"{job_id}-{'-'.join(map(str, matrix.values())) or 'job'}-{self.clock}"
        workspace = self.root / "runners" / label / "work"
        temp = self.root / "runners" / label / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir(parents=True)
        secrets = dict(self.repo_secrets)
        if job.get("environment"):
            secrets.update(self.env_secrets.get(str(job["environment"]), {}))
        base = {
            "github": {**github, "workspace": str(workspace)},
            "inputs": dict(inputs or {}),
            "needs": needs,
            "matrix": dict(matrix),
            "secrets": secrets,
            "runner": {"temp": str(temp)},
            "env": {},
        }
        ctx = Context(base)
        env = {str(k): ctx.render(v) for k, v in (doc.get("env") or {}).items()}
        env.update({str(k): ctx.render(v) for k, v in (job.get("env") or {}).items()})
        ctx.values["env"] = env
        job_result = JobResult(name=label, result="success", workspace=workspace)
        steps: dict[str, Any] = {}
        ctx.values["steps"] = steps
        runner = _StepRunner(
            self, workspace=workspace, temp=temp, head_sha=head_sha, job=job_result
        )
        for i, step in enumerate(job.get("steps") or []):
            runner.run(step, ctx=ctx, env=env, steps=steps, index=i)
        job_result.result = "failure" if ctx.failed else "success"
        job_result.outputs = {k: str(ctx.render(v)) for k, v in (job.get("outputs") or {}).items()}
        return job_result


class _StepRunner:
    def __init__(
        self, world: World, *, workspace: Path, temp: Path, head_sha: str, job: JobResult
    ) -> None:
        self.world = world
        self.workspace = workspace
        self.temp = temp
        self.head_sha = head_sha
        self.job = job
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
        name = str(ctx.render(step.get("name") or step.get("uses") or f"step {index + 1}"))
        sid = step.get("id")
        if not ctx.condition(step.get("if")):
            if sid:
                steps[sid] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
            self.job.steps.append(StepResult(name, "skipped"))
            return "skipped"
        step_env = {**env, **{str(k): ctx.render(v) for k, v in (step.get("env") or {}).items()}}
        with_ = {str(k): ctx.render(v) for k, v in (step.get("with") or {}).items()}
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
            "GITHUB_SHA": str(ctx.get("github.sha")),
            "GITHUB_RUN_ID": str(ctx.get("github.run_id")),
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
        if uses == "./":
            return self._composite(name, with_, env, ctx)
        if action == "actions/checkout":
            sha = with_.get("ref") or ctx.get("github.sha")
            self.world.git(
                "clone", "-q", str(self.world.origin), str(self.workspace), cwd=self.world.root
            )
            self.world.git("fetch", "-q", "origin", sha, cwd=self.workspace)
            self.world.git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=self.workspace)
            return StepResult(name, "success")
        if action == "actions/setup-python":
            return StepResult(name, "success")
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
        run_id = int(ctx.get("github.run_id"))
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
                "created_at": f"2026-11-24T00:{self.world.clock:02d}:00Z",
                "workflow_run": {
                    "id": run_id,
                    "head_sha": self.head_sha,
                    "repository_id": 1,
                    "head_repository_id": 1,
                },
            }
        )
        self.world.save_api(api)
        return StepResult(name, "success", log=f"uploaded {artifact}")

    def _download(self, name: str, with_: Mapping[str, str], ctx: Context) -> StepResult:
        run_id = with_.get("run-id") or ctx.get("github.run_id")
        source = self.world.store / str(run_id) / with_["name"]
        if not source.exists():
            return StepResult(name, "failure", log=f"Artifact not found: {with_['name']}")
        shutil.copytree(source, self.workspace / with_.get("path", "."), dirs_exist_ok=True)
        return StepResult(name, "success")

    def _github_script(
        self, name: str, with_: Mapping[str, str], env: Mapping[str, str], ctx: Context
    ) -> StepResult:
        out, summary = self._files()
        script = self.temp / f"script-{self.counter}.js"
        script.write_text(with_["script"], encoding="utf-8")
        payload = ctx.get("github.event")
        context = {
            "eventName": ctx.get("github.event_name"),
            "sha": ctx.get("github.sha"),
            "ref": ctx.get("github.ref"),
            "runId": int(ctx.get("github.run_id")),
            "actor": ctx.get("github.actor"),
            "serverUrl": ctx.get("github.server_url"),
            "payload": payload,
            "repo": {"owner": OWNER, "repo": REPO},
        }
        context_file = self.temp / f"context-{self.counter}.json"
        context_file.write_text(json.dumps(context))
        done = subprocess.run(
            ["node", str(GITHUB_SCRIPT), str(script), str(self.world.api_file), str(context_file)],
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
        github = {**ctx.get("github"), "action_path": str(ROOT)}
        outer = Context({**ctx.values, "github": github})
        inputs = {
            k: (with_[k] if k in with_ else outer.render(str(spec.get("default", ""))))
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
                "runner": ctx.get("runner"),
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
            k: str(inner.render(v["value"])) for k, v in (action.get("outputs") or {}).items()
        }
        log = "\n".join(f"  -- {s.name} ({s.outcome})\n{s.log}" for s in inner_steps)
        return StepResult(name, "failure" if inner.failed else "success", outputs, log)


def _outputs(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    lines = text.splitlines()
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
