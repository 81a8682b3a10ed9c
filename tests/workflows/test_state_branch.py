"""The state push after an apply: a rebase past another environment's state, and a real
conflict that stops with the exact commands (and a clean state file in the artifact)."""

from __future__ import annotations

import json

from tests.workflows.conftest import GitHub, series_text
from tests.workflows.harness import World
from tests.workflows.test_flows import add_series, bootstrap, state_files

DISPATCH = {"environment": "testing", "force": False, "reason": "", "pull-request": ""}


def race_the_next_state_push(world: World, path: str, text: str) -> None:
    """The next push to reconciler-state is refused once, after the branch moved on by a
    commit that writes ``path`` (as if another apply had pushed just before)."""
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "--detach", "origin/reconciler-state")
    world.write(path, text)
    side = world.commit(f"someone else writes {path}")
    world.git("push", "-q", "origin", f"{side}:refs/heads/side")
    world.git("checkout", "-q", "-B", "main", "origin/main")
    once = world.root / "raced"
    hook = world.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        "while read old new ref; do\n"
        f'  if [ "$ref" = refs/heads/reconciler-state ] && [ ! -f "{once}" ]; then\n'
        f'    touch "{once}"\n'
        "    env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY "
        "-u GIT_ALTERNATE_OBJECT_DIRECTORIES "
        f"git update-ref refs/heads/reconciler-state {side}\n"
        '    echo "stale info" >&2; exit 1\n'
        "  fi\n"
        "done\n"
    )
    hook.chmod(0o755)


def test_a_push_that_meets_another_environments_state_rebases_and_keeps_both(
    github: GitHub,
) -> None:
    world = github.world
    bootstrap(github, 1)
    add_series(world, 7, {"promo/new": series_text("New", "NEWCODE")})
    world.merge_pull_request(7)
    other = '{"environment": "production", "ids": {}}\n'
    race_the_next_state_push(world, "series/.state/production.json", other)

    run = world.run_workflow("apply.yml", "workflow_dispatch", inputs=DISPATCH)
    job = run.job("apply-testing")
    assert run.result("apply-testing") == "success", job.log
    assert "Push refused (attempt 1): rebasing" in job.log
    assert state_files(world) == [
        "series/.state/production.json",
        "series/.state/testing.json",
        "series/.state/testing.ledger.jsonl",
    ]
    assert (
        world.git("show", "origin/reconciler-state:series/.state/production.json") + "\n" == other
    )
    testing = world.git("show", "origin/reconciler-state:series/.state/testing.json")
    assert "promo/new" in testing


def test_a_conflict_in_this_environments_state_stops_with_the_commands_to_run(
    github: GitHub,
) -> None:
    world = github.world
    bootstrap(github, 1)
    add_series(world, 8, {"promo/new": series_text("New", "NEWCODE")})
    world.merge_pull_request(8)
    race_the_next_state_push(world, "series/.state/testing.json", '{"edited": "by hand"}\n')

    run = world.run_workflow("apply.yml", "workflow_dispatch", inputs=DISPATCH)
    job = run.job("apply-testing")
    assert run.result("apply-testing") == "failure", "a state that is not pushed is not silent"
    assert set(github.by_code("testing")) == {"BULK00", "NEWCODE"}, "the apply itself ran"
    (error,) = [a for a in job.annotations() if "could not be pushed" in a]
    assert "reconciler-state" in error
    for command in (
        "git fetch origin reconciler-state && git switch reconciler-state",
        "cp /path/to/state-testing.json series/.state/testing.json",
        "git push origin reconciler-state",
    ):
        assert command in job.log
    kept = world.store / str(run.run_id) / f"reconciler-apply-testing-{run.run_id}-1"
    state = (kept / "state-testing.json").read_text()
    assert "<<<<<<<" not in state and ">>>>>>>" not in state
    assert "promo/new" in json.dumps(json.loads(state))
