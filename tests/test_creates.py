"""``creates``: a create's answer is compared, never trusted; an unfinished create is waited
for with growing pauses, saying what for. A fake API, no HTTP (the scenarios do it over
loopback: ``tests/scenarios/test_trust.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.applier import Applier
from reconciler.engine.plan import Rails
from reconciler.engine.planner import build_plan
from reconciler.engine.result import ApplyResult, Outcome
from reconciler.engine.state import Intent, IntentStatus, State, StateStore, load_state, save_state
from reconciler.files.loader import load_series
from reconciler.model.ports import Listing
from tests.listing import listing

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

SERIES = """\
description: New one
discountCode: NEW1
validTillDate: 2030-09-30T00:00:00Z
anyUser: true
discountValue: 5
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: ABS
smsTemplate: Hi
"""

FOREIGN = {
    "description": "Another team's",
    "discountCode": "THEIRS",
    "discountType": "ABS",
    "discountValue": 50.0,
    "seriesCode": "T-900001",
}


@dataclass
class Found:
    found: dict[int, dict[str, Any]]
    missing: tuple[int, ...] = ()
    warnings: tuple[Any, ...] = ()


@dataclass
class LyingApi:
    """Stores every create under a fresh id, then answers ``answer_id`` (when set) instead."""

    series: dict[int, dict[str, Any]] = field(default_factory=lambda: {900001: dict(FOREIGN)})
    answer_id: Any = None
    writes: list[tuple[str, int | None]] = field(default_factory=list)
    lists: int = 0
    next_id: int = 1000

    async def get_series(self, ids: Sequence[int]) -> Found:
        return Found({i: {**self.series[i], "id": i} for i in ids if i in self.series})

    async def list_series(self) -> Listing:
        self.lists += 1
        return listing({**v, "id": k} for k, v in self.series.items())

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        stored = {k: v for k, v in fields.items() if k != "seriesCode"}
        self.series[self.next_id] = {**stored, "seriesCode": f"SRV{self.next_id}"}
        self.writes.append(("POST", None))
        answer_id = self.next_id if self.answer_id is None else self.answer_id
        return {**self.series[self.next_id], "id": answer_id}

    async def update_series(
        self, series_id: int, fields: Mapping[str, Any], *, org_id: int | None
    ) -> dict[str, Any]:
        self.writes.append(("PUT", series_id))
        self.series[series_id] = {**self.series[series_id], **fields}
        return {**self.series[series_id], "id": series_id}


def run_apply(
    tmp_path: Path, api: LyingApi, *, clock: list[datetime] | None = None, settle: float = 0
) -> tuple[ApplyResult, list[float], list[str]]:
    folder = tmp_path / "series"
    folder.mkdir(exist_ok=True)
    (folder / "new.yaml").write_text(SERIES)
    loaded = load_series(folder)
    assert loaded.ok, loaded.problems
    moments = clock if clock is not None else [T0]
    pauses: list[float] = []
    messages: list[str] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        moments[0] += timedelta(seconds=seconds)

    async def run() -> ApplyResult:
        with StateStore(path=tmp_path / "state.json", environment="prod") as store:
            plan = await build_plan(loaded=loaded, state=store.state, client=api, now=moments[0])
            applier = Applier(
                plan=plan,
                loaded=loaded,
                store=store,
                client=api,
                now=lambda: moments[0],
                settle_seconds=settle,
                sleep=sleep,
                on_message=messages.append,
            )
            return await applier.run(rails=Rails(), force=False)

    return asyncio.run(run()), pauses, messages


def codes(api: LyingApi) -> list[str]:
    return sorted(str(s.get("discountCode")) for s in api.series.values())


@pytest.mark.parametrize("lie", [900001, 0, -5, 2**63, True])
def test_a_create_answered_with_a_lie_touches_nothing_and_records_no_id(
    tmp_path: Path, lie: Any
) -> None:
    api = LyingApi(answer_id=lie)
    result, _, _ = run_apply(tmp_path, api)
    [outcome] = result.outcomes
    assert outcome.outcome is Outcome.FAILED and "outcome is unknown" in outcome.message
    assert api.writes == [("POST", None)]  # no marker PUT on the series the answer named
    assert api.series[900001] == FOREIGN
    state = load_state(tmp_path / "state.json", environment="prod")  # it always loads
    assert state.ids == {}
    assert state.intents["new"].status is IntentStatus.AMBIGUOUS
    assert state.intents["new"].known_before == ()

    # The next apply looks again: the series the POST made appeared since, so it is adopted.
    api.answer_id = None
    again, _, _ = run_apply(tmp_path, api)
    assert again.ok, again
    assert codes(api) == ["NEW1", "THEIRS"]
    assert api.series[900001] == FOREIGN


def test_an_answer_naming_a_series_of_another_discount_code_is_not_recorded(
    tmp_path: Path,
) -> None:
    api = LyingApi(answer_id=777)
    api.series[777] = {**FOREIGN, "discountCode": "OTHER"}  # made after the list was read
    original = dict(api.series[777])

    async def list_without_777() -> Listing:
        return listing({**v, "id": k} for k, v in api.series.items() if k != 777)

    api.list_series = list_without_777  # type: ignore[method-assign]
    result, _, _ = run_apply(tmp_path, api)
    assert "discountCode is 'OTHER'" in result.outcomes[0].message
    assert api.series[777] == original
    assert load_state(tmp_path / "state.json", environment="prod").ids == {}


def test_an_honest_answer_is_read_back_before_its_marker_is_set(tmp_path: Path) -> None:
    api = LyingApi()
    result, _, _ = run_apply(tmp_path, api)
    assert result.ok, result
    assert api.writes == [("POST", None), ("PUT", 1001)]
    assert load_state(tmp_path / "state.json", environment="prod").ids == {"new": 1001}


def test_the_wait_for_an_earlier_create_backs_off_and_says_what_it_waits_for(
    tmp_path: Path,
) -> None:
    save_state(
        tmp_path / "state.json",
        State(
            "prod",
            intents={"new": Intent("new", IntentStatus.AMBIGUOUS, "2026-11-23T12:00:00Z", "NEW1")},
        ),
    )
    api = LyingApi()
    result, pauses, messages = run_apply(tmp_path, api, clock=[T0], settle=600)
    assert result.ok, result
    assert pauses[:6] == [5, 10, 20, 40, 60, 60]
    assert sum(pauses) == pytest.approx(600)
    # The plan, the look right before the creates, one after each pause, the plan after.
    assert api.lists == 1 + 1 + len(pauses) + 1
    assert "NEW1" in messages[0] and "ambiguous since 2026-11-23T12:00:00Z" in messages[0]
    assert "Looking again in 5s" in messages[0] and "2026-11-23T12:10:00Z" in messages[0]
    assert api.writes[0] == ("POST", None)  # created again once the wait was over
