from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import StateError, StateLocked
from reconciler.state import (
    Intent,
    IntentStatus,
    StateStore,
    environment_lock,
    load_state,
    state_path,
)


def test_state_is_sorted_one_entry_a_line_and_round_trips(tmp_path: Path) -> None:
    path = state_path(tmp_path, "prod")
    store = StateStore(path=path, environment="prod")
    store.record_id("b/two", 2)
    store.record_id("a/one", 1)
    text = path.read_text()
    assert text.index('"a/one": 1') < text.index('"b/two": 2')
    assert '  "ids": {\n    "a/one": 1,\n    "b/two": 2\n  }' in text
    assert load_state(path, environment="prod").ids == {"a/one": 1, "b/two": 2}


def test_intent_then_id_clears_the_intent(tmp_path: Path) -> None:
    store = StateStore(path=tmp_path / "s.json", environment="e")
    store.record_intent(Intent("k", IntentStatus.PENDING, "2026-01-01T00:00:00Z", "C", "D"))
    assert "k" in load_state(tmp_path / "s.json", environment="e").intents
    store.record_id("k", 7)
    reread = load_state(tmp_path / "s.json", environment="e")
    assert reread.ids == {"k": 7} and not reread.intents


def test_another_environments_state_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    StateStore(path=path, environment="sandbox").record_id("k", 1)
    with pytest.raises(StateError, match="belongs to environment 'sandbox'"):
        load_state(path, environment="prod")


def test_damaged_state_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(StateError, match="damaged"):
        load_state(path, environment="e")
    path.write_text(json.dumps({"format_version": 1, "ids": {"k": "x"}}))
    with pytest.raises(StateError):
        load_state(path, environment="e")


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    store = StateStore(path=tmp_path / "s.json", environment="e")
    for i in range(5):
        store.record_id(f"k{i}", i)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_move_and_remove(tmp_path: Path) -> None:
    store = StateStore(path=tmp_path / "s.json", environment="e")
    store.record_id("old", 5)
    store.move("old", "new")
    assert store.state.ids == {"new": 5}
    with pytest.raises(StateError):
        store.move("old", "x")
    store.remove("new")
    assert store.state.ids == {}


def test_lock_is_exclusive(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with environment_lock(path), pytest.raises(StateLocked), environment_lock(path):
        pass
    with environment_lock(path):  # released
        pass
