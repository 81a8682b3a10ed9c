"""The applier's update wave with a fake API: calls per update and the check-and-set window."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.engine.applier import RECHECK_BATCH, Applier
from reconciler.engine.plan import Action, Rails
from reconciler.engine.planner import build_plan
from reconciler.engine.result import Outcome
from reconciler.engine.state import State, StateStore, save_state
from reconciler.files.loader import load_series
from reconciler.model.ports import Listing
from tests.listing import listing

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

SERIES = """\
description: {description}
discountCode: {code}
validTillDate: 2030-09-30T00:00:00Z
anyUser: true
discountValue: 500
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: ABS
smsTemplate: Hi {{{{first_name}}}}
"""


@dataclass
class Found:
    found: dict[int, dict[str, Any]]
    missing: tuple[int, ...] = ()
    warnings: tuple[Any, ...] = ()


@dataclass
class FakeApi:
    """A server of ``series`` that logs every call; ``edit_on_get`` edits a series behind
    the tool's back the first time a GET re-reads it (between the plan and its PUT)."""

    series: dict[int, dict[str, Any]]
    log: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    edit_on_get: dict[int, dict[str, Any]] = field(default_factory=dict)
    reading: bool = False

    async def get_series(self, ids: Sequence[int]) -> Found:
        self.log.append(("GET", tuple(ids)))
        await asyncio.sleep(0)
        if self.reading:
            for sid in ids:
                self.series[sid].update(self.edit_on_get.pop(sid, {}))
        return Found({i: dict(self.series[i]) for i in ids if i in self.series})

    async def list_series(self) -> Listing:
        self.log.append(("LIST", ()))
        return listing({**v, "id": k} for k, v in self.series.items())

    async def create_series(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        raise AssertionError("no create expected")

    async def update_series(
        self, series_id: int, fields: Mapping[str, Any], *, org_id: int | None
    ) -> dict[str, Any]:
        self.log.append(("PUT", (series_id,)))
        await asyncio.sleep(0)
        self.series[series_id] = {**self.series[series_id], **fields}
        return {**self.series[series_id], "id": series_id}


def live(i: int) -> dict[str, Any]:
    return {
        "description": f"Series {i}",
        "discountCode": f"C{i}",
        "validTillDate": "2030-09-30T00:00:00Z",
        "anyUser": True,
        "discountValue": 500.0,
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "discountType": "ABS",
        "smsTemplate": "Hi {{first_name}}",
    }


def world(tmp_path: Path, n: int) -> tuple[Path, FakeApi, Path]:
    series = tmp_path / "series"
    series.mkdir(parents=True)
    for i in range(n):
        text = SERIES.format(description=f"Series {i} now", code=f"C{i}")
        (series / f"s{i:03d}.yaml").write_text(text)
    state_file = tmp_path / "state.json"
    save_state(state_file, State("prod", ids={f"s{i:03d}": 100 + i for i in range(n)}))
    return series, FakeApi({100 + i: live(i) for i in range(n)}), state_file


def apply(series: Path, api: FakeApi, state_file: Path, parallelism: int = 4) -> Any:
    loaded = load_series(series)
    assert loaded.ok, loaded.problems

    async def run() -> Any:
        state = StateStore(path=state_file, environment="prod").state
        plan = await build_plan(loaded=loaded, state=state, client=api, now=NOW, digests=False)
        assert len(plan.of(Action.UPDATE)) == len(loaded.series)
        api.log.clear()
        api.reading = True
        with StateStore(path=state_file, environment="prod") as store:
            applier = Applier(
                plan=plan, loaded=loaded, store=store, client=api, parallelism=parallelism
            )
            return await applier.run(rails=Rails(max_update_share=1.0), force=False)

    return asyncio.run(run())


def test_updates_are_re_read_in_batches_right_before_their_puts(tmp_path: Path) -> None:
    n = 4 * RECHECK_BATCH
    series, api, state_file = world(tmp_path, n)
    result = apply(series, api, state_file)
    assert all(o.outcome is Outcome.DONE for o in result.outcomes)
    wave = api.log[: api.log.index(("LIST", ()))]  # the plan made after the apply follows
    gets = [ids for method, ids in wave if method == "GET"]
    puts = [ids[0] for method, ids in wave if method == "PUT"]
    # One GET for every batch of updates (RECHECK_BATCH, or fewer to fill the 4 slots).
    assert len(puts) == n and sorted(puts) == sorted(api.series)
    assert len(gets) == 4 and all(len(ids) <= RECHECK_BATCH for ids in gets)
    assert (len(gets) + len(puts)) / n <= 1.25
    # Every PUT follows the re-read of its series, and however many updates there are, the
    # calls between the two stay bounded: at most the earlier PUTs of its own batch and of
    # the batches running beside it (parallelism 4).
    read_at: dict[int, int] = {}
    for position, (method, ids) in enumerate(wave):
        if method == "GET":
            read_at.update(dict.fromkeys(ids, position))
        else:
            between = sum(1 for m, _ in wave[read_at[ids[0]] : position] if m == "PUT")
            assert between < 4 * RECHECK_BATCH


def test_a_few_updates_use_every_slot_many_fill_batches(tmp_path: Path) -> None:
    series, api, state_file = world(tmp_path, 3)
    apply(series, api, state_file)
    assert [m for m, _ in api.log[:6]].count("GET") == 3  # 3 updates, 4 slots: one each
    series, api, state_file = world(tmp_path / "many", 12 * RECHECK_BATCH)
    apply(series, api, state_file)
    wave = api.log[: api.log.index(("LIST", ()))]
    assert sum(1 for m, _ in wave if m == "GET") == 12


def test_a_series_edited_before_its_batch_re_read_is_skipped_the_others_updated(
    tmp_path: Path,
) -> None:
    series, api, state_file = world(tmp_path, RECHECK_BATCH)
    api.edit_on_get = {103: {"discountValue": 5.0}}
    result = apply(series, api, state_file, parallelism=1)
    outcomes = {o.series_id: o.outcome for o in result.outcomes}
    assert outcomes.pop(103) is Outcome.SKIPPED
    assert set(outcomes.values()) == {Outcome.DONE}
    assert api.series[103]["description"] == "Series 3" and api.series[103]["discountValue"] == 5
    assert ("PUT", (103,)) not in api.log


def test_an_answer_without_a_field_no_answer_ever_shows_is_no_mismatch() -> None:
    from reconciler.engine.applier import mismatches

    products = [{"productType": "SKU", "productIds": [1]}]
    sent = {"description": "D", "productInfo": products, "maxRedeem": 5}
    answer = {"description": "D", "maxRedeem": 5}  # no page shows productInfo answered
    assert mismatches(sent=sent, answer=answer, fields=list(sent)) == ()
    # A field the answers do carry, left out, is still a field the server did not take.
    (missing,) = mismatches(sent=sent, answer={"description": "D"}, fields=list(sent))
    assert missing.field == "maxRedeem"
    # An answer that does show productInfo is compared.
    (other,) = mismatches(sent=sent, answer={**answer, "productInfo": []}, fields=list(sent))
    assert other.field == "productInfo"
