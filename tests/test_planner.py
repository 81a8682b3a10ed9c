"""The planner with a fake reader: the decisions, without HTTP."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine.plan import Action
from reconciler.engine.planner import build_plan
from reconciler.engine.state import Intent, IntentStatus, State
from reconciler.errors import MissingSeries, PlanError
from reconciler.files.loader import load_series
from reconciler.model.ports import FetchResult, Listing
from tests.listing import listing

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

BASE = """\
description: {description}
discountCode: {code}
validTillDate: 2030-09-30T00:00:00+05:30
anyUser: true
smsTemplate: Hi {{{{first_name}}}}
discountValue: 500
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: ABS
"""


@dataclass
class FakeResult:
    found: dict[int, dict[str, Any]]
    missing: tuple[int, ...] = ()
    warnings: tuple[Any, ...] = ()


@dataclass
class FakeReader:
    series: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[list[int]] = field(default_factory=list)

    listed: int = 0

    async def get_series(self, ids: Sequence[int]) -> FakeResult:
        self.calls.append(list(ids))
        return FakeResult({i: self.series[i] for i in ids if i in self.series})

    async def list_series(self) -> Listing:
        self.listed += 1
        return listing({**v, "id": k} for k, v in self.series.items())


def live(description: str, code: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": 1,
        "description": description,
        "discountCode": code,
        "validTillDate": "2030-09-29T00:00:00Z",
        "anyUser": True,
        "smsTemplate": "Hi {{first_name}}",
        "discountValue": 500.0,
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "discountType": "ABS",
        "numIssued": 3,
        "info": "set in the CRM",
    }
    base.update(extra)
    return base


def write(directory: Path, key: str, text: str) -> None:
    path = directory / f"{key}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def plan_for(directory: Path, state: State, reader: FakeReader, targets: Sequence[str] = ()) -> Any:
    loaded = load_series(directory)
    assert loaded.ok, loaded.problems
    return asyncio.run(
        build_plan(loaded=loaded, state=state, client=reader, targets=targets, now=NOW)
    )


def test_create_update_unchanged_and_orphan(tmp_path: Path) -> None:
    write(tmp_path, "a/new", BASE.format(description="New", code="N1"))
    write(tmp_path, "b/same", BASE.format(description="Same", code="S1"))
    write(tmp_path, "c/changed", BASE.format(description="Changed now", code="C1"))
    reader = FakeReader({10: live("Same", "S1"), 11: live("Changed", "C1"), 12: live("Old", "O1")})
    state = State("prod", ids={"b/same": 10, "c/changed": 11, "gone": 12})
    plan = plan_for(tmp_path, state, reader)
    actions = {s.key: s.action for s in plan.series}
    assert actions == {
        "a/new": Action.CREATE,
        "b/same": Action.UNCHANGED,
        "c/changed": Action.UPDATE,
    }
    (update,) = plan.of(Action.UPDATE)
    assert [(c.field, c.before, c.after) for c in update.changes] == [
        ("description", "Changed", "Changed now")
    ]
    assert update.desired == {"description": "Changed now"}
    assert [o.key for o in plan.orphans] == ["gone"]
    assert plan.summary() == "Plan: 1 to create, 1 to update, 1 unchanged; 1 orphaned."


def test_fields_not_declared_are_never_drift(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    reader = FakeReader({10: live("Same", "S1", info="changed in the CRM", maxCreate=99)})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), reader)
    assert plan.series[0].action is Action.UNCHANGED


def test_a_state_id_that_names_no_series_is_blocked_never_a_create(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    reader = FakeReader()
    plan = plan_for(tmp_path, State("prod", ids={"s": 99}), reader)
    assert not plan.series and [b.key for b in plan.blocked] == ["s"]
    assert "no such series" in plan.blocked[0].reason
    assert "`reconciler state rm s`" in plan.blocked[0].reason
    assert reader.calls == [[99]]  # read by id, to tell a gone series from a short list


def test_a_state_id_the_list_leaves_out_but_a_read_returns_fails_the_plan(
    tmp_path: Path,
) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))

    class ShortList(FakeReader):
        async def list_series(self) -> Listing:
            return Listing()

    reader = ShortList(series={99: live("Same", "S1")})
    with pytest.raises(PlanError, match=r"not complete.*s \(id 99\)"):
        plan_for(tmp_path, State("prod", ids={"s": 99}), reader)


def test_a_rename_is_reported_as_a_move(tmp_path: Path) -> None:
    write(tmp_path, "renamed", BASE.format(description="Same", code="S1"))
    plan = plan_for(
        tmp_path, State("prod", ids={"original": 10}), FakeReader({10: live("Same", "S1")})
    )
    assert plan.of(Action.CREATE) == ()
    assert [(m.from_key, m.to_key, m.series_id) for m in plan.moves] == [
        ("original", "renamed", 10)
    ]
    assert plan.orphans == ()
    assert plan.has_changes


def test_ignore_rules_are_honoured_and_counted(tmp_path: Path) -> None:
    text = BASE.format(description="Mine", code="S1") + (
        "reconciler:\n  ignore:\n    - field: description\n      reason: marketing edits it\n"
    )
    write(tmp_path, "s", text)
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: live("Theirs", "S1")}))
    (series,) = plan.series
    assert series.action is Action.UNCHANGED
    assert [(i.field, i.differs) for i in series.ignored] == [("description", True)]
    assert plan.counts.ignored_fields == 1


def test_targets_limit_the_plan(tmp_path: Path) -> None:
    write(tmp_path, "a", BASE.format(description="A", code="A1"))
    write(tmp_path, "b", BASE.format(description="B", code="B1"))
    plan = plan_for(tmp_path, State("prod"), FakeReader(), targets=["b"])
    assert [s.key for s in plan.series] == ["b"]
    assert plan.targets == ("b",)
    with pytest.raises(PlanError, match="nope"):
        plan_for(tmp_path, State("prod"), FakeReader(), targets=["nope"])


def test_an_unfinished_create_is_planned_with_a_note(tmp_path: Path) -> None:
    write(tmp_path, "a", BASE.format(description="A", code="A1"))
    state = State(
        "prod", intents={"a": Intent("a", IntentStatus.AMBIGUOUS, "2026-11-23T11:00:00Z")}
    )
    (series,) = plan_for(tmp_path, state, FakeReader()).series
    assert series.action is Action.CREATE
    assert "did not finish" in series.notes[0]


def test_retire_plans_validtilldate_to_today(tmp_path: Path) -> None:
    write(
        tmp_path, "s", BASE.format(description="Same", code="S1") + "reconciler:\n  retire: true\n"
    )
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: live("Same", "S1")}))
    (series,) = plan.series
    assert series.retire
    assert series.desired == {"validTillDate": "2026-11-23T00:00:00Z"}


def test_plan_round_trips_through_json(tmp_path: Path) -> None:
    from reconciler.engine.plan import Plan

    write(tmp_path, "a", BASE.format(description="A", code="A1"))
    write(tmp_path, "s", BASE.format(description="Now", code="S1"))
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: live("Then", "S1")}))
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.to_json() == plan.to_json()


def test_a_retired_series_stays_ended_on_later_days(tmp_path: Path) -> None:
    write(
        tmp_path, "s", BASE.format(description="Same", code="S1") + "reconciler:\n  retire: true\n"
    )
    ended = live("Same", "S1", validTillDate="2026-11-20T00:00:00Z")
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: ended}))
    assert plan.series[0].action is Action.UNCHANGED


# --- identity from the CRM: the state is a cache ------------------------------------------


def test_an_empty_state_still_lists_the_org_and_finds_nothing_to_create(tmp_path: Path) -> None:
    """A lost state: the series the tool made is found by its seriesCode marker."""
    from reconciler.engine.identity import derived_marker

    write(tmp_path, "a", BASE.format(description="A", code="CA"))
    reader = FakeReader({42: live("A", "CA", id=42, seriesCode=derived_marker("a"))})
    plan = plan_for(tmp_path, State("prod"), reader)
    assert reader.listed == 1
    [only] = plan.series
    assert only.action is Action.UNCHANGED and only.series_id == 42
    assert "seriesCode" in only.notes[0]


def test_a_series_with_the_same_discount_code_is_blocked_never_created(tmp_path: Path) -> None:
    write(tmp_path, "a", BASE.format(description="A", code="CA"))
    reader = FakeReader({7: live("Made by hand", "CA", id=7, seriesCode="fEDH0qD8rr")})
    plan = plan_for(tmp_path, State("prod"), reader)
    assert not plan.series
    [blocked] = plan.blocked
    assert "exists in the CRM as id 7" in blocked.reason
    assert "reconciler import 7 --key a" in blocked.reason
    assert plan.has_changes and plan.counts.create == 0


def test_an_empty_org_plans_creates_with_a_marker(tmp_path: Path) -> None:
    from reconciler.engine.identity import derived_marker

    write(tmp_path, "a", BASE.format(description="A", code="CA"))
    reader = FakeReader({})
    plan = plan_for(tmp_path, State("prod"), reader)
    [only] = plan.series
    assert only.action is Action.CREATE
    assert only.desired["seriesCode"] == derived_marker("a")
    assert reader.listed == 1  # even with nothing known, the plan talks to the API


def test_an_unfinished_create_owns_the_one_series_made_after_it(tmp_path: Path) -> None:
    # The list read right before the POST showed only 3 of this discountCode: 5 is new.
    write(tmp_path, "a", BASE.format(description="A", code="CA"))
    intent = Intent("a", IntentStatus.PENDING, "2026-11-23T11:00:00Z", "CA", known_before=(3,))
    state = State("prod", intents={"a": intent})
    reader = FakeReader(
        {
            5: live("A", "CA", id=5, createdOn="2026-11-23T11:00:02Z", seriesCode="SRV1"),
            3: live("Old", "CA", id=3, createdOn="2020-01-01T00:00:00Z", seriesCode="SRV0"),
        }
    )
    plan = plan_for(tmp_path, state, reader)
    [only] = plan.series
    assert only.series_id == 5 and only.action is Action.UPDATE
    assert [c.field for c in only.changes] == ["seriesCode"]  # its marker, set on apply


def test_a_marker_on_a_series_of_another_discount_code_is_blocked_not_claimed(
    tmp_path: Path,
) -> None:
    """Another folder with the same key in the same org: its series is never rewritten."""
    from reconciler.engine.identity import derived_marker

    write(tmp_path, "a", BASE.format(description="A", code="CA"))
    reader = FakeReader({9: live("Theirs", "OTHER", id=9, seriesCode=derived_marker("a"))})
    plan = plan_for(tmp_path, State("prod"), reader)
    assert not plan.series
    [blocked] = plan.blocked
    assert "discountCode 'OTHER'" in blocked.reason


# --- field ownership: what the files declared at the last apply ----------------------------

DAYS = BASE.replace("expiryStrategyType: SERIES_EXPIRY", "expiryStrategyType: DAYS")


def _declared(directory: Path, key: str) -> tuple[str, ...]:
    (series,) = [s for s in load_series(directory).series if s.key == key]
    return tuple(sorted(series.declared))


def test_a_removed_line_is_planned_as_a_reset_with_its_note(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1") + "maxRedeem: 500\n")
    then = _declared(tmp_path, "s")
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    reader = FakeReader({10: live("Same", "S1", maxRedeem=500)})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), reader)
    (series,) = plan.series
    assert series.action is Action.UPDATE
    (change,) = series.changes
    assert (change.field, change.before, change.after) == ("maxRedeem", 500, -1)
    assert change.note == "no longer in the file: server default"
    assert series.desired == {"maxRedeem": -1}  # the PUT sends the server's default


def test_no_record_of_the_declared_fields_resets_nothing(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    reader = FakeReader({10: live("Same", "S1", maxRedeem=500)})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), reader)
    assert plan.series[0].action is Action.UNCHANGED


def test_a_field_never_declared_is_not_reset(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    then = _declared(tmp_path, "s")
    reader = FakeReader({10: live("Same", "S1", maxRedeem=500, info="a person's")})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), reader)
    assert plan.series[0].action is Action.UNCHANGED


def test_an_ignore_rule_wins_over_a_removed_line(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1") + "maxRedeem: 500\n")
    then = _declared(tmp_path, "s")
    ignore = "reconciler:\n  ignore:\n    - field: maxRedeem\n      reason: ops own it\n"
    write(tmp_path, "s", BASE.format(description="Same", code="S1") + ignore)
    reader = FakeReader({10: live("Same", "S1", maxRedeem=500)})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), reader)
    assert plan.series[0].action is Action.UNCHANGED


def test_a_create_has_nothing_to_reset(tmp_path: Path) -> None:
    # A record left for a key whose series is gone from the state: the create sends the file.
    write(tmp_path, "s", BASE.format(description="New", code="N1"))
    plan = plan_for(tmp_path, State("prod", fields={"s": ("maxRedeem",)}), FakeReader())
    (series,) = plan.series
    assert series.action is Action.CREATE
    assert "maxRedeem" not in series.desired
    assert not any(c.note for c in series.changes)


def test_switching_to_series_expiry_resets_the_stale_value(tmp_path: Path) -> None:
    write(tmp_path, "s", DAYS.format(description="Same", code="S1") + "expiryStrategyValue: 14\n")
    then = _declared(tmp_path, "s")
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    days = live("Same", "S1", expiryStrategyType="DAYS", expiryStrategyValue=14)
    plan = plan_for(
        tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), FakeReader({10: days})
    )
    (series,) = plan.series
    # The removed line goes back to the server's default, -1 (the answers to minimal
    # creates), which SERIES_EXPIRY allows: never a stale 14.
    assert [(c.field, c.before, c.after) for c in series.changes] == [
        ("expiryStrategyType", "DAYS", "SERIES_EXPIRY"),
        ("expiryStrategyValue", 14, -1),
    ]
    assert series.desired == {"expiryStrategyType": "SERIES_EXPIRY", "expiryStrategyValue": -1}


def test_a_dependent_value_set_by_a_person_is_reset_with_a_strategy_change(
    tmp_path: Path,
) -> None:
    # A person set DAYS/30 in the CRM; the file declares SERIES_EXPIRY and no value.
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    then = _declared(tmp_path, "s")
    days = live("Same", "S1", expiryStrategyType="DAYS", expiryStrategyValue=30)
    plan = plan_for(
        tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), FakeReader({10: days})
    )
    change = plan.series[0].change("expiryStrategyValue")
    assert change is not None and change.after == 1
    assert change.note == (
        "reset with expiryStrategyType SERIES_EXPIRY: coupons end with the series: the pages say 1"
    )


def test_a_reset_round_trips_through_the_plan_file(tmp_path: Path) -> None:
    from reconciler.engine.plan import Plan

    write(tmp_path, "s", BASE.format(description="Same", code="S1") + "maxRedeem: 500\n")
    then = _declared(tmp_path, "s")
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    reader = FakeReader({10: live("Same", "S1", maxRedeem=500)})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), reader)
    data = plan.to_dict()
    assert data["series"][0]["changes"][0]["note"] == "no longer in the file: server default"
    assert Plan.from_json(plan.to_json()) == plan
    # A plan file written before notes existed reads with an empty note.
    del data["series"][0]["changes"][0]["note"]
    assert Plan.from_dict(data).series[0].changes[0].note == ""


def test_an_unmarked_series_gets_its_marker_planned(tmp_path: Path) -> None:
    """A create killed between its answer and the marker PUT: the next plan sets it."""
    from reconciler.engine.identity import derived_marker

    write(tmp_path, "a", BASE.format(description="A", code="CA"))
    state = State("prod", ids={"a": 5}, unmarked=frozenset({"a"}))
    reader = FakeReader({5: live("A", "CA", id=5, seriesCode="SRVMADE")})
    [only] = plan_for(tmp_path, state, reader).series
    assert only.action is Action.UPDATE
    assert [(c.field, c.after) for c in only.changes] == [("seriesCode", derived_marker("a"))]


def test_digests_of_unchanged_series_only_when_the_plan_is_kept(tmp_path: Path) -> None:
    write(tmp_path, "b/same", BASE.format(description="Same", code="S1"))
    write(tmp_path, "c/changed", BASE.format(description="Changed now", code="C1"))
    reader = FakeReader({10: live("Same", "S1"), 11: live("Changed", "C1")})
    state = State("prod", ids={"b/same": 10, "c/changed": 11})
    loaded = load_series(tmp_path)

    def digests(keep: bool) -> dict[str, str | None]:
        plan = asyncio.run(
            build_plan(loaded=loaded, state=state, client=reader, now=NOW, digests=keep)
        )
        return {s.key: s.live_digest for s in plan.series}

    now_only = digests(False)
    kept = digests(True)
    # Applied now: the update's check-and-set needs its digest; nothing else is computed.
    assert now_only["b/same"] is None
    assert now_only["c/changed"] is not None and now_only["c/changed"] == kept["c/changed"]
    # Kept (saved, JSON): every series read carries one, for the apply's staleness check.
    assert kept["b/same"] is not None


# --- owns: all, and fields the answer never shows ------------------------------------------

OWNS_ALL = "reconciler:\n  owns: all\n"


def test_owns_all_holds_every_documented_default_and_notes_its_drift(tmp_path: Path) -> None:
    from reconciler.engine.ownership import HELD_NOTE
    from reconciler.model.catalogue import server_defaults

    write(tmp_path, "s", BASE.format(description="Same", code="S1") + OWNS_ALL)
    (series,) = load_series(tmp_path).series
    assert series.held == frozenset(server_defaults())  # the file writes none of them
    assert series.declared >= series.held
    drifted = live("Same", "S1", **{**server_defaults(), "maxVouchersPerUser": 3})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: drifted}))
    (only,) = plan.series
    assert [(c.field, c.before, c.after, c.note) for c in only.changes] == [
        ("maxVouchersPerUser", 3, -1, HELD_NOTE)
    ]
    assert only.desired == {"maxVouchersPerUser": -1}


def test_owns_all_with_the_defaults_live_plans_nothing(tmp_path: Path) -> None:
    from reconciler.model.catalogue import server_defaults

    write(tmp_path, "s", BASE.format(description="Same", code="S1") + OWNS_ALL)
    same = live("Same", "S1", **server_defaults())
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: same}))
    assert plan.series[0].action is Action.UNCHANGED and not plan.has_changes


def test_a_written_line_wins_over_the_held_default(tmp_path: Path) -> None:
    from reconciler.model.catalogue import server_defaults

    text = BASE.format(description="Same", code="S1") + "maxVouchersPerUser: 3\n" + OWNS_ALL
    write(tmp_path, "s", text)
    (series,) = load_series(tmp_path).series
    assert "maxVouchersPerUser" not in series.held
    assert series.fields["maxVouchersPerUser"] == 3
    same = live("Same", "S1", **{**server_defaults(), "maxVouchersPerUser": 3})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: same}))
    assert not plan.has_changes


def test_a_create_from_an_owns_all_file_sends_the_defaults_and_lists_the_file(
    tmp_path: Path,
) -> None:
    from reconciler.model.catalogue import server_defaults

    write(tmp_path, "s", BASE.format(description="New", code="N1") + OWNS_ALL)
    plan = plan_for(tmp_path, State("prod"), FakeReader())
    (create,) = plan.series
    assert create.action is Action.CREATE
    assert set(server_defaults()) <= set(create.desired)  # sent: the series holds them
    listed = {c.field for c in create.changes}
    assert not listed & set(server_defaults())  # not listed one by one
    assert any("sent at the server's documented default" in n for n in create.notes)


def test_a_field_the_answer_does_not_show_is_not_compared_and_is_resent(tmp_path: Path) -> None:
    products = "productInfo:\n  - productType: SKU\n    productIds: [1, 2]\n"
    write(tmp_path, "s", BASE.format(description="Changed", code="S1") + products)
    reader = FakeReader({10: live("Same", "S1")})  # the answer carries no productInfo
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), reader)
    (update,) = plan.series
    assert [c.field for c in update.changes] == ["description"]
    # The PUT replaces the series: the file's products ride along, never cleared.
    assert update.desired["productInfo"] == [{"productType": "SKU", "productIds": [1, 2]}]
    assert any(n.startswith("productInfo is not in the CRM's answer") for n in update.notes)


def test_an_unseen_field_alone_changes_nothing_and_is_said(tmp_path: Path) -> None:
    products = "productInfo:\n  - productType: SKU\n    productIds: [1, 2]\n"
    write(tmp_path, "s", BASE.format(description="Same", code="S1") + products)
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: live("Same", "S1")}))
    assert plan.series[0].action is Action.UNCHANGED
    said = [w for w in plan.warnings if w.key == "s"]
    assert [w.message.split(" ")[0] for w in said] == ["productInfo"]


def test_an_answer_that_shows_the_field_is_compared(tmp_path: Path) -> None:
    products = "productInfo:\n  - productType: SKU\n    productIds: [1, 2]\n"
    write(tmp_path, "s", BASE.format(description="Same", code="S1") + products)
    shown = live("Same", "S1", productInfo=[{"productType": "SKU", "productIds": [1]}])
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}), FakeReader({10: shown}))
    assert [c.field for c in plan.series[0].changes] == ["productInfo"]


def test_a_released_line_of_an_unchanged_series_is_a_plan_warning(tmp_path: Path) -> None:
    write(tmp_path, "s", BASE.format(description="Same", code="S1") + "info: Kept\n")
    then = _declared(tmp_path, "s")
    write(tmp_path, "s", BASE.format(description="Same", code="S1"))
    reader = FakeReader({10: live("Same", "S1", info="Kept")})
    plan = plan_for(tmp_path, State("prod", ids={"s": 10}, fields={"s": then}), reader)
    assert plan.series[0].action is Action.UNCHANGED  # never reset to a guess ("")
    (warning,) = [w for w in plan.warnings if w.key == "s"]
    assert warning.message.startswith("info is no longer in the file: the server made it from")
    assert warning.file.endswith("s.yaml")


# --- the live series, batch by batch (planner.read_live) --------------------------------------


class Answer(dict[str, Any]):
    """A live series that can be watched for being dropped."""

    __slots__ = ("__weakref__",)


@dataclass
class StreamingReader(FakeReader):
    """Answers one id a batch, in reverse order (the last asked first); before each batch it
    checks that the unchanged series of the batch two before were dropped."""

    changed: frozenset[int] = frozenset()  # kept for their business facts (impact)
    hidden: frozenset[int] = frozenset()  # listed, but no read returns them
    answered: list[tuple[int, weakref.ref[Answer]]] = field(default_factory=list)
    kept_too_long: list[int] = field(default_factory=list)

    async def stream_series(self, ids: Sequence[int]) -> AsyncGenerator[FetchResult, None]:
        self.calls.append(list(ids))
        for i in reversed(ids):
            gc.collect()
            if len(self.answered) >= 2:
                sid, ref = self.answered[-2]
                if sid not in self.changed and ref() is not None:
                    self.kept_too_long.append(sid)
            if i in self.series and i not in self.hidden:
                answer = Answer(self.series[i])
                self.answered.append((i, weakref.ref(answer)))
                yield FetchResult(found={i: answer})
                del answer
            else:
                yield FetchResult(found={}, missing=(i,))


def _many(tmp_path: Path, n: int) -> tuple[dict[int, dict[str, Any]], State]:
    series, ids = {}, {}
    for i in range(n):
        write(tmp_path, f"k{i:02d}", BASE.format(description=f"S{i}", code=f"C{i}"))
        series[100 + i] = live(f"S{i}" if i != 3 else "drifted", f"C{i}")
        ids[f"k{i:02d}"] = 100 + i
    return series, State("prod", ids=ids)


def test_batches_are_planned_as_they_come_and_dropped(tmp_path: Path) -> None:
    series, state = _many(tmp_path, 8)
    streaming = StreamingReader(dict(series), changed=frozenset({103}))
    plan = plan_for(tmp_path, state, streaming)
    assert streaming.kept_too_long == []  # an unchanged series' answer outlived its batch
    whole = plan_for(tmp_path, state, FakeReader(dict(series)))
    assert plan.to_json() == whole.to_json()  # the files' order, whatever the batches' order
    assert [s.key for s in plan.of(Action.UPDATE)] == ["k03"]


def test_a_series_missing_from_any_batch_fails_the_plan(tmp_path: Path) -> None:
    series, state = _many(tmp_path, 4)
    with pytest.raises(MissingSeries) as missing:
        plan_for(tmp_path, state, StreamingReader(series, hidden=frozenset({102})))
    assert "k02" in str(missing.value) and "102" in str(missing.value)
