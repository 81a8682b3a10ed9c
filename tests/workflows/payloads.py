"""The ``github.event`` of each event, built from the fixtures in ``payloads/`` (see its
README for their sources): what GitHub sends, no more. A scheduled run has no
``repository``; a push has no ``pull_request``; a manual run's inputs are strings."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).with_name("payloads")
_WHOLE = re.compile(r"\{\{(\w+)\}\}")


@cache
def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def fill(fixture: str, /, **values: Any) -> Any:
    """The fixture ``fixture`` with its ``{{placeholders}}`` filled: a string that is one whole
    placeholder takes the value as it is (a number, an object, a list)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            whole = _WHOLE.fullmatch(node)
            if whole:
                return values[whole.group(1)]
            return _WHOLE.sub(lambda m: str(values[m.group(1)]), node)
        return node

    return walk(_fixture(fixture))


def repository(owner: str, repo: str, *, default_branch: str = "main", rid: int = 1) -> Any:
    return fill(
        "repository", owner=owner, repo=repo, default_branch=default_branch, repository_id=rid
    )


def sender(login: str = "maintainer", *, bot: bool = False) -> Any:
    return fill("sender", login=login, type="Bot" if bot else "User")


def schedule(cron: str) -> Any:
    return fill("schedule", cron=cron)


def push(
    owner: str, repo: str, *, branch: str, sha: str, before: str, tree: str, message: str
) -> Any:
    return fill(
        "push",
        owner=owner,
        repo=repo,
        branch=branch,
        sha=sha,
        sha_short=sha[:12],
        before=before,
        before_short=before[:12],
        tree=tree,
        message=message,
        repository=repository(owner, repo),
        sender=sender(),
    )


def pull_request(owner: str, repo: str, pr: dict[str, Any], *, action: str) -> Any:
    return fill(
        "pull_request",
        owner=owner,
        repo=repo,
        action=action,
        number=pr["number"],
        title=pr["title"],
        head_ref=pr["head"]["ref"],
        head_sha=pr["head"]["sha"],
        base_ref=pr["base"]["ref"],
        base_sha=pr["base"]["sha"],
        head_repository=repository(owner, repo),
        repository=repository(owner, repo),
        sender=sender(),
    )


def workflow_dispatch(
    owner: str, repo: str, *, branch: str, workflow: str, inputs: dict[str, Any], actor: str
) -> Any:
    # The event's inputs are strings; only the `inputs` context keeps booleans.
    as_strings = {k: _string(v) for k, v in inputs.items()}
    return fill(
        "workflow_dispatch",
        inputs=as_strings,
        branch=branch,
        workflow=workflow,
        repository=repository(owner, repo),
        sender=sender(actor, bot=actor.endswith("[bot]")),
    )


def workflow_run(
    owner: str,
    repo: str,
    *,
    run_id: int,
    name: str,
    path: str,
    event: str,
    head_branch: str,
    head_sha: str,
    tree: str,
    title: str,
    pull_requests: list[dict[str, Any]],
    conclusion: str = "success",
) -> Any:
    return fill(
        "workflow_run",
        owner=owner,
        repo=repo,
        run_id=run_id,
        name=name,
        path=path,
        event=event,
        head_branch=head_branch,
        head_sha=head_sha,
        tree=tree,
        title=title,
        conclusion=conclusion,
        pull_requests=pull_requests,
        sender=sender(),
        repository=repository(owner, repo),
        head_repository=repository(owner, repo),
    )


def run_pull_request(pr: dict[str, Any], rid: int = 1) -> dict[str, Any]:
    """A pull request as a run's ``pull_requests`` lists it: number, head and base only."""
    repo = {"id": rid, "url": "https://api.github.example/repos/acme/coupons", "name": "coupons"}
    return {
        "url": f"https://api.github.example/repos/acme/coupons/pulls/{pr['number']}",
        "id": pr["number"],
        "number": pr["number"],
        "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"], "repo": repo},
        "base": {"ref": pr["base"]["ref"], "sha": pr["base"]["sha"], "repo": repo},
    }


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
