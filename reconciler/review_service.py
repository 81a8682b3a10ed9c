"""Around a plan and an apply: the policy that holds, the overrides given, where an apply
came from, and the ledger of applies (``history``, ``show-apply``).

What a command is told (``Review``): ``--override RULE=REASON`` (repeatable) and
``--trusted-policy FILE``. CI passes the same through variables, which the workflows set:

- ``RECONCILER_OVERRIDES``: overrides, one ``RULE=REASON`` (or ``RULE@KEY=REASON``) a line
  (the workflow writes one for each override label of the pull request, naming who added it);
- ``RECONCILER_APPROVED_BY``: who approved (the pull request's approvers, the environment's
  reviewer); recorded in the ledger and given as the author of those overrides;
- ``RECONCILER_TRUSTED_POLICY``: the policy file as it is on the default branch (a pull
  request's plan is held to its rules too, so it cannot weaken its own guard-rails);
- ``RECONCILER_COMMIT``: the commit of the series files, else ``GITHUB_SHA``, else ``git``.

``GITHUB_ACTOR`` (else the local user) is who ran the apply; ``GITHUB_SERVER_URL``,
``GITHUB_REPOSITORY`` and ``GITHUB_RUN_ID`` make the link to the run.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import subprocess
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.engine.ledger import (
    ApplyRecord,
    Ledger,
    Provenance,
    Recorder,
    SeriesRecord,
    ledger_path,
)
from reconciler.engine.plan import Action, Plan
from reconciler.engine.policy import Override, check_overrides, enforce, parse_overrides
from reconciler.engine.policy import with_policy as _with_policy
from reconciler.errors import PolicyRefused, ReconcilerError, SafetyRailTripped, StateError
from reconciler.files.loader import LoadResult
from reconciler.files.policy import Policy, merged, read_policy
from reconciler.model.canonical import now_utc, timestamp

if TYPE_CHECKING:
    from reconciler.engine.applier import Progress
    from reconciler.engine.result import ApplyResult
    from reconciler.workspace import Workspace

OVERRIDES_VARIABLE = "RECONCILER_OVERRIDES"
APPROVED_BY_VARIABLE = "RECONCILER_APPROVED_BY"
TRUSTED_POLICY_VARIABLE = "RECONCILER_TRUSTED_POLICY"
COMMIT_VARIABLE = "RECONCILER_COMMIT"

logger = logging.getLogger("reconciler.ledger")


@dataclass(frozen=True)
class Review:
    """What a command was told about the policy: overrides and the trusted policy file."""

    overrides: tuple[str, ...] = ()
    trusted_policy: Path | None = None


# ---------------------------------------------------------------------------- the policy


def policy_of(loaded: LoadResult, review: Review, *, environ: Mapping[str, str]) -> Policy:
    """The rules that hold: the files' ``policy.yaml``, and the trusted copy's when given."""
    path = review.trusted_policy or _path(environ.get(TRUSTED_POLICY_VARIABLE))
    if path is None:
        return loaded.policy
    environments = sorted({*loaded.settings.environments, "sandbox"})
    read = read_policy(path, shown=str(path), environments=environments)
    errors = [p for p in read.problems if p.is_error]
    if errors:
        raise ReconcilerError(
            f"the trusted policy {path} has problems ({errors[0]}): fix it on the default "
            "branch first"
        )
    return merged(loaded.policy, read.policy)


def overrides_of(review: Review, *, environ: Mapping[str, str]) -> tuple[Override, ...]:
    """The overrides of ``--override`` and of ``RECONCILER_OVERRIDES``."""
    ran_by = _ran_by(environ)
    approver = environ.get(APPROVED_BY_VARIABLE, "").strip()
    given = parse_overrides(review.overrides, by=ran_by, source="--override")
    lines = [ln for ln in environ.get(OVERRIDES_VARIABLE, "").splitlines() if ln.strip()]
    from_ci = parse_overrides(lines, by=approver or ran_by, source=OVERRIDES_VARIABLE)
    return (*given, *from_ci)


def reviewed_plan(
    plan: Plan, *, loaded: LoadResult, review: Review, environ: Mapping[str, str] | None = None
) -> Plan:
    """``plan`` with the policy's findings (and the overrides that lift them) for a reviewer."""
    env = os.environ if environ is None else environ
    policy = policy_of(loaded, review, environ=env)
    overrides = overrides_of(review, environ=env)
    check_overrides(policy, overrides)
    return _with_policy(plan, policy=policy, overrides=overrides)


def enforce_policy(
    plan: Plan, *, loaded: LoadResult, review: Review, environ: Mapping[str, str] | None = None
) -> tuple[Override, ...]:
    """The apply's one policy call, on the plan about to be applied (never on what a plan
    file says of its findings): ``PolicyRefused``, or the overrides used."""
    env = os.environ if environ is None else environ
    policy = policy_of(loaded, review, environ=env)
    return enforce(plan, policy=policy, overrides=overrides_of(review, environ=env))


# ---------------------------------------------------------------------------- provenance


def provenance(directory: Path, *, environ: Mapping[str, str] | None = None) -> Provenance:
    env = os.environ if environ is None else environ
    commit = env.get(COMMIT_VARIABLE, "").strip() or env.get("GITHUB_SHA", "").strip()
    dirty = False
    if not commit:
        commit, dirty = _git_commit(directory)
    server, repo, run = (
        env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return Provenance(
        commit=commit,
        dirty=dirty,
        ran_by=_ran_by(env),
        approved_by=env.get(APPROVED_BY_VARIABLE, "").strip(),
        run_url=f"{server}/{repo}/actions/runs/{run}" if server and repo and run else "",
    )


def _ran_by(environ: Mapping[str, str]) -> str:
    actor = environ.get("GITHUB_ACTOR", "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


def _git_commit(directory: Path) -> tuple[str, bool]:
    """The commit checked out where the series files are, and whether they differ from it
    ("", False outside a git checkout, or without git)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return "", False
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "", False
    return head.stdout.strip(), bool(status.stdout.strip())


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


# ---------------------------------------------------------------------------- the ledger


async def recorded(
    run: Callable[[Callable[[Progress], None] | None], Awaitable[ApplyResult]],
    *,
    check: Callable[[], tuple[Override, ...]],
    ws: Workspace,
    plan: Plan,
    on_progress: Callable[[Progress], None] | None,
    plan_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ApplyResult:
    """Run an apply as one ledger record: ``check`` (the policy's enforcement, which returns
    the overrides used), then ``run`` (given the progress callback to use). The record begins
    before the first write, logs each series as it ends, and closes with the result; a plan
    the policy or the safety rails refuse is recorded as refused (nothing was written)."""
    if not any(s.action is not Action.UNCHANGED for s in plan.series):
        check()
        return await run(on_progress)  # nothing to write: nothing to record
    ledger = Ledger(ledger_path(ws.state_file))

    def begin(used: tuple[Override, ...]) -> Recorder:
        return ledger.begin(
            environment=plan.environment,
            started_at=timestamp(now_utc()),
            provenance=provenance(ws.directory, environ=environ),
            plan_digest=hashlib.sha256(plan.to_json().encode()).hexdigest(),
            plan_file_digest=_file_digest(plan_file),
            overrides=[o.to_dict() for o in used],
            planned=[
                SeriesRecord(s.key, s.action.value, s.series_id, "planned")
                for s in plan.series
                if s.action is not Action.UNCHANGED
            ],
        )

    try:
        used = check()
    except PolicyRefused as refused:
        begin(()).end(finished_at=timestamp(now_utc()), refused=str(refused))
        raise
    recorder = begin(used)

    def progress(event: Progress) -> None:
        if event.outcome is not None:
            recorder.outcome(event.outcome)
        if on_progress is not None:
            on_progress(event)

    try:
        result = await run(progress)
    except (SafetyRailTripped, PolicyRefused) as refused:
        _end_or_say(recorder, refused=str(refused))
        raise
    except BaseException as error:
        _end_or_say(recorder, error=f"{type(error).__name__}: {error}")
        raise
    result = replace(result, overrides=tuple(o.text() for o in used))
    try:
        recorder.end(finished_at=timestamp(now_utc()), result=result)
    except StateError as error:
        # What was written stands and is shown (the summary is always printed); the record
        # stays unfinished, as after a killed apply.
        note = f"this apply's record in the ledger is unfinished: {error}"
        return replace(result, notes=(*result.notes, note))
    return result


def _end_or_say(recorder: Recorder, *, refused: str = "", error: str = "") -> None:
    """Close a refused or failed apply's record; a ledger that cannot be written is said,
    and the apply's own error is the one raised."""
    try:
        recorder.end(finished_at=timestamp(now_utc()), refused=refused, error=error)
    except StateError as failure:
        logger.warning("%s; this apply's record stays unfinished", failure)


def _file_digest(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


@dataclass(frozen=True)
class History:
    environment: str
    path: Path
    records: tuple[ApplyRecord, ...]
    damaged: int  # lines of the ledger that could not be read (not the torn last one)


def history(*, directory: Path, env: str | None = None, sandbox: bool = False) -> History:
    """Every apply recorded for an environment, oldest first. Reads only the ledger file."""
    from reconciler.service import Where

    ws = Where(directory, env, sandbox).open()
    path = ledger_path(ws.state_file)
    records, damaged = Ledger(path).read()
    return History(ws.name, path, tuple(records), damaged)


def show_apply(
    *, directory: Path, number: int, env: str | None = None, sandbox: bool = False
) -> tuple[History, ApplyRecord]:
    found = history(directory=directory, env=env, sandbox=sandbox)
    for record in found.records:
        if record.number == number:
            return found, record
    last = found.records[-1].number if found.records else 0
    raise ReconcilerError(
        f"no apply number {number} in the ledger of {found.environment!r} "
        + (f"(1 to {last})" if last else "(no apply recorded yet)")
    )
