"""``engine/verify.py``: after an apply, what it wrote is read back by id and planned again.

Fake APIs, no HTTP (over loopback: ``tests/scenarios/test_verify_after_apply.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reconciler.engine.plan import Action, Plan, SeriesPlan
from reconciler.engine.result import Outcome, SeriesOutcome
from reconciler.engine.state import load_state
from reconciler.engine.verify import verify_written, written_keys
from reconciler.files.loader import load_series
from tests.test_applier import FakeApi, apply, world
from tests.test_creates import T0, LyingApi, run_apply

MARKED = {"seriesCode": "set by the create's PUT"}


class Forgetful(FakeApi):
    """Takes every PUT but ``description``, and answers what it stored (an honest server
    that did not take a value)."""

    async def update_series(
        self, series_id: int, fields: Mapping[str, Any], *, org_id: int | None
    ) -> dict[str, Any]:
        kept = {k: v for k, v in fields.items() if k != "description"}
        return await super().update_series(series_id, kept, org_id=org_id)


class Vanishing(FakeApi):
    """Series 101 is gone once it was written (a read by id no longer returns it)."""

    async def update_series(
        self, series_id: int, fields: Mapping[str, Any], *, org_id: int | None
    ) -> dict[str, Any]:
        answer = await super().update_series(series_id, fields, org_id=org_id)
        if series_id == 101:
            del self.series[101]
        return answer


def test_only_series_written_or_tried_are_read_back() -> None:
    plan = Plan(
        environment="prod",
        tool_version="x",
        created_at="t",
        desired_digest="d",
        series=tuple(
            SeriesPlan(key=k, file=f"{k}.yaml", action=a)
            for k, a in (
                ("made", Action.CREATE),
                ("put", Action.UPDATE),
                ("failed", Action.UPDATE),
                ("skipped", Action.UPDATE),
                ("stopped", Action.CREATE),
                ("same", Action.UNCHANGED),
            )
        ),
    )
    outcomes = [
        SeriesOutcome("made", Action.CREATE, Outcome.DONE),
        SeriesOutcome("put", Action.UPDATE, Outcome.DONE),
        SeriesOutcome("failed", Action.UPDATE, Outcome.FAILED),  # its PUT may have landed
        SeriesOutcome("skipped", Action.UPDATE, Outcome.SKIPPED),
        SeriesOutcome("stopped", Action.CREATE, Outcome.NOT_STARTED),
        SeriesOutcome("moved", Action.CREATE, Outcome.SKIPPED),
    ]
    assert written_keys(plan, outcomes) == ("failed", "made", "put")


def test_a_value_the_server_did_not_take_is_not_converged(tmp_path: Path) -> None:
    series, api, state_file = world(tmp_path, 3)
    result = apply(series, Forgetful(api.series), state_file)
    assert {o.outcome for o in result.outcomes} == {Outcome.DONE}
    assert all(o.mismatches for o in result.outcomes)  # the answers say so...
    assert result.after is not None and not result.converged and not result.ok
    # ...and the series read back say so too: each still differs in its description only.
    assert [(s.key, [c.field for c in s.changes]) for s in result.after.of(Action.UPDATE)] == [
        (f"s{i:03d}", ["description"]) for i in range(3)
    ]


def test_a_written_series_the_api_no_longer_returns_is_blocked(tmp_path: Path) -> None:
    series, api, state_file = world(tmp_path, 3)
    result = apply(series, Vanishing(api.series), state_file)
    assert result.after is not None and not result.converged
    [blocked] = result.after.blocked
    assert blocked.key == "s001" and "series 101" in blocked.reason
    assert {s.key for s in result.after.series} == {"s000", "s002"}


def test_a_create_whose_outcome_is_unknown_is_still_to_create(tmp_path: Path) -> None:
    api = LyingApi(answer_id=0)  # a lie: the create is ambiguous, no id is recorded
    result, _, _ = run_apply(tmp_path, api)
    assert result.after is not None and not result.converged
    [again] = result.after.series
    assert again.action is Action.CREATE and "outcome of its create is unknown" in again.notes[0]
    assert api.lists == 2  # the plan and the look before the creates; the check lists nothing


def test_a_create_is_read_back_with_its_marker(tmp_path: Path) -> None:
    api = LyingApi()
    result, _, _ = run_apply(tmp_path, api)
    assert result.ok and result.after is not None
    assert result.after.targets == ("new",) and result.after.counts.unchanged == 1
    # Had the marker not been stored, the check would say so, as a plan would.
    api.series[1001]["seriesCode"] = "SRV1001"
    created = SeriesPlan(key="new", file="new.yaml", action=Action.CREATE, desired=MARKED)
    after = asyncio.run(
        verify_written(
            plan=replace(result.after, series=(created,)),
            outcomes=[SeriesOutcome("new", Action.CREATE, Outcome.DONE, 1001)],
            loaded=load_series(tmp_path / "series"),
            state=load_state(tmp_path / "state.json", environment="prod"),
            client=api,
            now=T0,
            command=lambda words: f"reconciler {words}",
        )
    )
    [changed] = after.of(Action.UPDATE)
    assert [(c.field, c.before) for c in changed.changes] == [("seriesCode", "SRV1001")]
