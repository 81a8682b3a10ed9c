"""A small local runner for the GitHub workflows of a series repository and this repository's
composite action, fed the payloads GitHub sends (``payloads.py``).

It runs the real ``run:`` scripts with bash, the composite action (``uses: ./``, or the tool
pinned as docs/ci.md says) step by step, and ``actions/github-script`` scripts with node
against a fake GitHub API (a JSON file, see ``github_script.cjs``) that enforces the job's
``permissions``. The other actions are stood in for: ``checkout`` clones a local bare
"origin", ``upload``/``download-artifact`` copy files to and from a store that the fake API
lists, ``setup-python`` does nothing (the tool under test is already installed; a shim named
``reconciler`` on PATH runs it). Expressions are evaluated by ``expressions.py``.

As on GitHub: a workflow runs as its file is at the event's commit (a pull request's merge
commit, the pushed commit, the default branch for ``schedule``); the ``on:`` filters
(``branches``, ``paths``) decide whether it runs at all; ``vars`` and ``secrets`` come from
the repository (and the job's environment); an event carries only what GitHub sends.

Not simulated: approvals (environments are approved at once), concurrency, runners.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.workflows import payloads
from tests.workflows.expressions import Context
from tests.workflows.runner import (
    APP_TOKEN,
    OWNER,
    REPO,
    ROOT,
    JobResult,
    JobRunner,
    StepResult,
    WorkflowRun,
    tool,
)

__all__ = ["APP_TOKEN", "ROOT", "JobResult", "StepResult", "WorkflowRun", "World", "tool"]

ZEROS = "0" * 40


# --- on: filters -------------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern[str]:
    """A workflow filter pattern: ``**`` crosses folders, ``*`` and ``?`` do not."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def _matches(patterns: list[str], value: str) -> bool:
    """GitHub's rule: patterns apply in order, a ``!`` pattern excludes, the last match wins."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _glob(pattern[1:] if negated else pattern).match(value):
            matched = not negated
    return matched


def triggered(on: Mapping[str, Any], event: str, *, branch: str, files: list[str]) -> bool:
    if event not in on:
        return False
    spec = on[event] or {}
    if "branches" in spec and not _matches(list(spec["branches"]), branch):
        return False
    if "branches-ignore" in spec and _matches(list(spec["branches-ignore"]), branch):
        return False
    if "paths" in spec and not any(_matches(list(spec["paths"]), f) for f in files):
        return False
    return not (
        "paths-ignore" in spec and all(_matches(list(spec["paths-ignore"]), f) for f in files)
    )


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
        self.vars: dict[str, str] = {}
        self.next_run = 1000
        self.clock = 0
        for d in (self.store, self.bin, self.home):
            d.mkdir(parents=True)
        (self.home / ".gitconfig").write_text(
            "[init]\n\tdefaultBranch = main\n[user]\n\tname = Dev\n\temail = dev@example.com\n"
            "[advice]\n\tdetachedHead = false\n"
        )
        self.save_api(
            {
                "next_id": 100,
                "default_branch": "main",
                "comments": [],
                "issues": [],
                "pulls": [],
                "artifacts": [],
                "runs": {},
                "labels": [],
                "calls": [],
                "dispatches": [],
            }
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
        (self.bin / "python3").symlink_to(sys.executable)

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

    def origin_git(self, *args: str) -> str:
        return self.git("--git-dir", str(self.origin), *args, cwd=self.root)

    # the fake API ---------------------------------------------------------------------------

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.api_file.read_text())
        return data

    def save_api(self, data: Mapping[str, Any]) -> None:
        self.api_file.write_text(json.dumps(data, indent=2))

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.api()["comments"] if c["issue_number"] == number]

    def calls(self, since: int = 0) -> list[str]:
        return [c["call"] for c in self.api()["calls"][since:]]

    def actions_may_open_pull_requests(self, allowed: bool) -> None:
        """The repository setting "Allow GitHub Actions to create and approve pull requests"
        (off unless a test turns it on, as on GitHub)."""
        api = self.api()
        api["actions_may_open_pull_requests"] = allowed
        self.save_api(api)

    def take_dispatches(self) -> list[dict[str, Any]]:
        """The ``workflow_dispatch`` events the workflows asked for since the last call."""
        api = self.api()
        found = list(api["dispatches"])
        api["dispatches"] = []
        self.save_api(api)
        return found

    # the series repository ------------------------------------------------------------------

    def write(self, relative: str, text_: str) -> None:
        path = self.dev / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text_, encoding="utf-8")

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def open_pull_request(
        self, branch: str, number: int, *, base: str = "main", title: str = ""
    ) -> dict[str, Any]:
        """Push ``branch`` (checked out in dev) and make GitHub's refs/pull/N/merge for it."""
        head = self.git("rev-parse", "HEAD")
        self.git("push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")
        return self._pull_request(branch, number, base=base, title=title or branch, head=head)

    def _pull_request(
        self, branch: str, number: int, *, base: str, title: str, head: str
    ) -> dict[str, Any]:
        merge = self._merge_commit(branch, base, message=f"Merge {head[:7]} into {base}")
        self.git("push", "-q", "-f", "origin", f"{merge}:refs/pull/{number}/merge")
        files = self.git("diff", "--name-only", f"origin/{base}...origin/{branch}").split()
        api = self.api()
        old = next((p for p in api["pulls"] if p["number"] == number), None)
        pr = {
            "number": number,
            "state": "open",
            "title": title,
            "user": {"login": "dev", "type": "User"},
            "head": {
                "sha": head,
                "ref": branch,
                "repo": {"id": 1, "full_name": f"{OWNER}/{REPO}"},
            },
            "base": {
                "ref": base,
                "sha": self.git("rev-parse", f"origin/{base}"),
                "repo": {"id": 1, "full_name": f"{OWNER}/{REPO}"},
            },
            "merge_commit_sha": None,
            "merged_at": None,
            "labels": old["labels"] if old else [],
            "_files": files,
            "_action": "synchronize" if old else "opened",
        }
        api["pulls"] = [p for p in api["pulls"] if p["number"] != number] + [pr]
        self.save_api(api)
        self.git("checkout", "-q", branch)
        return {**pr, "merge_ref_sha": merge}

    def refresh_pull_request(self, number: int) -> dict[str, Any]:
        """GitHub's view of an open pull request now (its merge ref made anew), as a
        ``pull_request`` event sees it."""
        pr = next(p for p in self.api()["pulls"] if p["number"] == number)
        self.git("fetch", "-q", "origin")
        head = self.git("rev-parse", f"origin/{pr['head']['ref']}")
        return self._pull_request(
            pr["head"]["ref"], number, base=pr["base"]["ref"], title=pr["title"], head=head
        )

    def _merge_commit(self, branch: str, base: str, *, message: str) -> str:
        self.git("fetch", "-q", "origin")
        self.git("checkout", "-q", "--detach", f"origin/{base}")
        self.git("merge", "-q", "--no-ff", "-m", message, f"origin/{branch}")
        return self.git("rev-parse", "HEAD")

    def merge_pull_request(self, number: int) -> str:
        api = self.api()
        pr = next(p for p in api["pulls"] if p["number"] == number)
        base = pr["base"]["ref"]
        merge = self._merge_commit(pr["head"]["ref"], base, message=f"Merge pull request #{number}")
        self.git("push", "-q", "origin", f"{merge}:refs/heads/{base}")
        pr["head"]["sha"] = self.git("rev-parse", f"origin/{pr['head']['ref']}")
        pr.update(state="closed", merge_commit_sha=merge, merged_at="2026-11-24T00:00:00Z")
        self.save_api(api)
        self.git("checkout", "-q", "-B", "main", "origin/main")
        return merge

    # people on a pull request (labels, comments, reviews) and on a deployment -----------------

    def label(self, number: int, name: str, *, by: str, remove: bool = False) -> None:
        """``by`` adds (or removes) label ``name`` on pull request ``number``: the label list and
        the issue's timeline event, as GitHub keeps them."""
        api = self.api()
        pr = next(p for p in api["pulls"] if p["number"] == number)
        pr["labels"] = [label for label in pr["labels"] if label["name"] != name]
        if not remove:
            pr["labels"].append({"name": name})
        self.clock += 1
        api.setdefault("label_events", []).append(
            {
                "issue_number": number,
                "event": "unlabeled" if remove else "labeled",
                "label": {"name": name},
                "actor": {"login": by, "type": "User"},
                "created_at": f"2026-11-24T00:00:{self.clock:02d}Z",
            }
        )
        self.save_api(api)

    def comment(self, number: int, body: str, *, by: str) -> None:
        """A person's comment on pull request ``number``."""
        api = self.api()
        api["next_id"] += 1
        api["comments"].append(
            {
                "id": api["next_id"],
                "issue_number": number,
                "body": body,
                "user": {"login": by, "type": "User"},
            }
        )
        self.save_api(api)

    def review(self, number: int, state: str, *, by: str, body: str = "") -> None:
        """A review of pull request ``number`` (state APPROVED, CHANGES_REQUESTED, COMMENTED)."""
        api = self.api()
        api["next_id"] += 1
        api.setdefault("reviews", []).append(
            {
                "id": api["next_id"],
                "pull_number": number,
                "state": state,
                "body": body,
                "user": {"login": by, "type": "User"},
            }
        )
        self.save_api(api)

    def approve_next_deployment(self, environment: str, *, by: str, comment: str = "") -> None:
        """The environment's required reviewer ``by`` approves the next run's deployment to
        ``environment`` (what the run approvals API then lists for that run)."""
        api = self.api()
        api.setdefault("deployment_reviews", []).append(
            {
                "run_id": self.next_run + 1,
                "state": "approved",
                "comment": comment,
                "environments": [{"name": environment}],
                "user": {"login": by, "type": "User"},
            }
        )
        self.save_api(api)

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
        ref: str = "main",
        actor: str = "maintainer",
    ) -> WorkflowRun:
        """Run workflow ``name`` for ``event`` as GitHub would, or not at all (``triggered``
        is False) when its ``on:`` filters exclude the event."""
        tree, head_branch, before = "", ref, ZEROS
        if event == "pull_request":
            assert pull_request is not None
            sha = str(pull_request["merge_ref_sha"])
            git_ref = f"refs/pull/{pull_request['number']}/merge"
            head_sha, head_branch = pull_request["head"]["sha"], pull_request["head"]["ref"]
            branch = pull_request["base"]["ref"]
            files = list(pull_request["_files"])
        else:
            sha = self.origin_git("rev-parse", f"refs/heads/{ref}")
            git_ref, head_sha, branch = f"refs/heads/{ref}", sha, ref
            parents = self.origin_git("rev-list", "--parents", "-n1", sha).split()[1:]
            before = parents[0] if parents else ZEROS
            files = self.origin_git(
                "diff",
                "--name-only",
                before if parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                sha,
            ).split()
        tree = self.origin_git("rev-parse", f"{sha}^{{tree}}")
        source = self.origin_git("show", f"{sha}:.github/workflows/{name}")
        doc = yaml.safe_load(source)
        if True in doc:
            doc["on"] = doc.pop(True)
        on = doc["on"] if isinstance(doc["on"], dict) else dict.fromkeys(doc["on"])
        self.next_run += 1
        run_id = self.next_run
        if not triggered(on, event, branch=branch, files=files):
            return WorkflowRun(run_id=run_id, jobs={}, triggered=False)

        payload = self._payload(
            event,
            name,
            pull_request,
            inputs,
            ref=ref,
            sha=sha,
            before=before,
            tree=tree,
            actor=actor,
        )
        api = self.api()
        listed = [
            payloads.run_pull_request(p)
            for p in api["pulls"]
            if p["state"] == "open"
            and p["head"]["ref"] == head_branch
            and p["head"]["sha"] == head_sha
        ]
        api["runs"][str(run_id)] = payloads.workflow_run(
            OWNER,
            REPO,
            run_id=run_id,
            name=str(doc.get("name", name)),
            path=f".github/workflows/{name}",
            event=event,
            head_branch=head_branch,
            head_sha=head_sha,
            tree=tree,
            title=str(pull_request["title"]) if pull_request else name,
            pull_requests=listed,
        )
        self.save_api(api)
        github = {
            "event_name": event,
            "event": payload,
            "sha": sha,
            "ref": git_ref,
            "ref_name": f"{pull_request['number']}/merge" if pull_request else ref,
            "head_ref": head_branch if pull_request else "",
            "base_ref": branch if pull_request else "",
            "repository": f"{OWNER}/{REPO}",
            "repository_owner": OWNER,
            "run_id": str(run_id),
            "run_attempt": "1",
            "actor": actor,
            "triggering_actor": actor,
            "workflow": str(doc.get("name", name)),
            "token": "ghs_fake_token_for_tests",
            "server_url": "https://github.example",
            "api_url": "https://api.github.example",
            "workspace": "",
            "action_path": "",
        }
        typed_inputs = dict(inputs or {})
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
                {
                    "github": github,
                    "inputs": typed_inputs,
                    "needs": needs,
                    "vars": dict(self.vars),
                    "env": {},
                },
                failed=any(n["result"] != "success" for n in needs.values()),
            )
            if not ctx.condition(job.get("if")):
                continue
            combos: list[dict[str, Any]] = [{}]
            strategy = (job.get("strategy") or {}).get("matrix")
            if strategy:
                (key, values), *_ = strategy.items()
                values = ctx.render(values)
                assert isinstance(values, list), f"matrix {key} is not a list: {values!r}"
                combos = [{key: v} for v in values if not matrix or matrix.get(key) == v]
            for combo in combos:
                result = JobRunner(self, doc, job_id, job, github=github, needs=needs).run(
                    inputs=typed_inputs, matrix=combo, head_sha=head_sha, head_branch=head_branch
                )
                run.jobs.setdefault(job_id, []).append(result)
        return run

    def _payload(
        self,
        event: str,
        name: str,
        pull_request: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None,
        *,
        ref: str,
        sha: str,
        before: str,
        tree: str,
        actor: str,
    ) -> Any:
        if event == "pull_request":
            assert pull_request is not None
            return payloads.pull_request(
                OWNER, REPO, dict(pull_request), action=str(pull_request.get("_action", "opened"))
            )
        if event == "push":
            message = self.origin_git("log", "-1", "--format=%s", sha)
            return payloads.push(
                OWNER, REPO, branch=ref, sha=sha, before=before, tree=tree, message=message
            )
        if event == "schedule":
            return payloads.schedule("17 6 * * *")
        if event == "workflow_dispatch":
            return payloads.workflow_dispatch(
                OWNER, REPO, branch=ref, workflow=name, inputs=dict(inputs or {}), actor=actor
            )
        raise AssertionError(f"the harness has no payload for {event}")
