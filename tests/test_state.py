from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.engine import state as state_module
from reconciler.engine.state import (
    Intent,
    IntentStatus,
    State,
    StateStore,
    journal_path,
    load_state,
    open_store,
    replace_state,
    save_state,
    state_path,
)
from reconciler.errors import StateError


def test_state_is_sorted_one_entry_a_line_and_round_trips(tmp_path: Path) -> None:
    path = state_path(tmp_path, "prod")
    with open_store(path=path, environment="prod") as store:
        store.record_id("b/two", 2)
        store.record_id("a/one", 1)
    text = path.read_text()
    assert text.index('"a/one": 1') < text.index('"b/two": 2')
    assert '  "ids": {\n    "a/one": 1,\n    "b/two": 2\n  }' in text
    assert load_state(path, environment="prod").ids == {"a/one": 1, "b/two": 2}
    assert not journal_path(path).exists()  # folded in when the block ended


def test_each_change_is_in_the_journal_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = StateStore(path=path, environment="e")
    store.record_intent(Intent("k", IntentStatus.PENDING, "2026-01-01T00:00:00Z", "C", "D"))
    assert not path.exists()  # O(1) per change: the file is written at the end only
    assert "k" in load_state(path, environment="e").intents
    store.record_id("k", 7)
    reread = load_state(path, environment="e")
    assert reread.ids == {"k": 7} and not reread.intents


def test_a_crash_before_compaction_loses_nothing(tmp_path: Path) -> None:
    """A process killed between changes: the journal replays over the last file."""
    path = tmp_path / "s.json"
    with open_store(path=path, environment="e") as store:
        store.record_id("a", 1)
    script = (
        "from pathlib import Path; import os\n"
        "from reconciler.engine.state import StateStore\n"
        f"s = StateStore(path=Path({str(path)!r}), environment='e')\n"
        "s.record_id('b', 2); s.record_id('c', 3); s.clear_intent('c')\n"
        "os._exit(9)\n"  # no compaction, no cleanup
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == 9
    assert load_state(path, environment="e").ids == {"a": 1, "b": 2, "c": 3}


def test_a_torn_last_journal_line_is_ignored_but_a_torn_middle_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    journal = journal_path(path)
    journal.write_text('{"op":"id","key":"a","id":1}\n{"op":"id","ke')
    assert load_state(path, environment="e").ids == {"a": 1}
    journal.write_text('{"op":"id","ke\n{"op":"id","key":"a","id":1}\n')
    with pytest.raises(StateError, match=r"journal .* damaged at line 1"):
        load_state(path, environment="e")


def test_replaying_a_journal_already_folded_in_is_harmless(tmp_path: Path) -> None:
    """A crash between writing the file and removing the journal replays the same changes."""
    path = tmp_path / "s.json"
    store = StateStore(path=path, environment="e")
    store.record_intent(Intent("k", IntentStatus.PENDING, "2026-01-01T00:00:00Z"))
    store.record_id("k", 7)
    store.move("k", "n")
    kept = journal_path(path).read_text()
    store.compact()
    journal_path(path).write_text(kept)
    assert load_state(path, environment="e") == store.state


def test_another_environments_state_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_state(path, State(environment="sandbox", ids={"k": 1}))
    with pytest.raises(StateError, match="belongs to environment 'sandbox'"):
        load_state(path, environment="prod")


@pytest.mark.parametrize(
    ("ids", "why"),
    [
        ({"k": "x"}, "not a positive integer"),
        ({"k": 900002.7}, "not a positive integer"),
        ({"k": True}, "not a positive integer"),
        ({"k": -5}, "not a positive integer"),
        ({"a": 5, "b": 5}, "both claim series 5"),
        ({"/abs": 5}, "not the key"),
    ],
)
def test_hand_edited_state_is_checked(tmp_path: Path, ids: dict[str, object], why: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format_version": 2, "environment": "e", "ids": ids}))
    with pytest.raises(StateError, match=why) as caught:
        load_state(path, environment="e", rebuild_hint="reconciler state rebuild --env e")
    assert "reconciler state rebuild --env e" in str(caught.value)


def test_non_finite_and_nested_state_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"format_version": 2, "environment": "e", "ids": {"k": Infinity}}')
    with pytest.raises(StateError, match="not a positive integer"):
        load_state(path, environment="e")
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(StateError):
        load_state(path, environment="e")
    path.write_text("{not json")
    with pytest.raises(StateError, match="not valid JSON"):
        load_state(path, environment="e")


def test_git_conflict_markers_are_refused_with_the_rebuild_command(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{\n  "format_version": 2,\n  "environment": "e",\n  "ids": {\n'
        '<<<<<<< HEAD\n    "a": 1\n=======\n    "b": 2\n>>>>>>> theirs\n  }\n}\n'
    )
    with pytest.raises(StateError, match="conflict markers") as caught:
        load_state(path, environment="e", rebuild_hint="reconciler state rebuild --env e")
    assert "reconciler state rebuild --env e" in str(caught.value)


def test_version_1_files_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format_version": 1, "environment": "e", "ids": {"k": 3}}))
    assert load_state(path, environment="e").ids == {"k": 3}


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    with open_store(path=tmp_path / "s.json", environment="e") as store:
        for i in range(1, 6):
            store.record_id(f"k{i}", i)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_move_remove_and_fields(tmp_path: Path) -> None:
    store = StateStore(path=tmp_path / "s.json", environment="e")
    store.record_id("old", 5)
    store.record_fields("old", ("b", "a", "a"))
    store.move("old", "new")
    assert store.state.ids == {"new": 5}
    assert store.state.fields == {"new": ("a", "b")}
    with pytest.raises(StateError):
        store.move("old", "x")
    store.remove("new")
    assert store.state.ids == {} and store.state.fields == {}


def test_an_id_recorded_for_a_second_key_moves_it(tmp_path: Path) -> None:
    """Two keys never share one id (a PUT would rewrite the other key's series)."""
    store = StateStore(path=tmp_path / "s.json", environment="e")
    store.record_id("a", 5)
    store.record_id("b", 5)
    assert store.state.ids == {"b": 5}


def test_replace_state_drops_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    StateStore(path=path, environment="e").record_id("a", 1)
    replace_state(path, State(environment="e", ids={"b": 2}))
    assert load_state(path, environment="e").ids == {"b": 2}


def test_a_state_folder_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    """No traceback when the folder cannot take the state (read-only, or not a folder: the
    second fails for root too, so the test runs everywhere)."""
    (tmp_path / ".state").write_text("a file where the folder should be")
    with pytest.raises(StateError, match="cannot read"):
        StateStore(path=tmp_path / ".state" / "e.json", environment="e")
    with pytest.raises(StateError, match="cannot write"):
        save_state(tmp_path / ".state" / "e.json", State(environment="e", ids={"a": 1}))


def test_a_create_is_unmarked_until_its_marker_put_is_answered(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = StateStore(path=path, environment="e")
    store.record_id("k", 7, unmarked=True)
    assert load_state(path, environment="e").unmarked == {"k"}  # a kill here: still known
    store.record_marked("k")
    store.compact()
    reread = load_state(path, environment="e")
    assert reread.ids == {"k": 7} and reread.unmarked == frozenset()
    store = StateStore(path=path, environment="e")
    store.record_id("n", 8, unmarked=True)
    store.move("n", "m")
    assert store.state.unmarked == {"m"}


# ------------------------------------------------------------------ torn lines, full disks


def _journal(tmp_path: Path) -> Path:
    return journal_path(tmp_path / "s.json")


def test_a_torn_last_line_is_skipped_and_the_next_entry_starts_its_own_line(
    tmp_path: Path,
) -> None:
    """22.10: the next append used to continue the torn line, and the journal was damaged."""
    path = tmp_path / "s.json"
    StateStore(path=path, environment="e").record_id("a", 1)
    with _journal(tmp_path).open("ab") as handle:
        handle.write(b'{"op":"id","key":"b","i')  # a crash mid-append
    assert load_state(path, environment="e").ids == {"a": 1}
    store = StateStore(path=path, environment="e")
    store.record_id("c", 3)
    lines = _journal(tmp_path).read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
    assert load_state(path, environment="e").ids == {"a": 1, "c": 3}
    store.close()
    assert not _journal(tmp_path).exists()
    assert load_state(path, environment="e").ids == {"a": 1, "c": 3}


def test_a_torn_multibyte_character_is_a_torn_line_too(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    StateStore(path=path, environment="e").record_id("a", 1)
    whole = json.dumps({"op": "id", "key": "é/ü", "id": 2}, ensure_ascii=False).encode()
    with _journal(tmp_path).open("ab") as handle:
        handle.write(whole[: whole.index(b"\xc3") + 1])
    assert load_state(path, environment="e").ids == {"a": 1}


def test_a_journal_an_older_version_wrote_after_a_torn_line_heals(tmp_path: Path) -> None:
    """The older append wrote the next entry on the torn line: the entry is read."""
    path = tmp_path / "s.json"
    _journal(tmp_path).write_bytes(
        b'{"op":"id","key":"a","id":1}\n'
        b'{"op":"intent","key":"b","sta{"op":"id","key":"c","id":3}\n'
        b'{"op":"id","key":"d","id":4}\n'
    )
    assert load_state(path, environment="e").ids == {"a": 1, "c": 3, "d": 4}


def test_a_damaged_line_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _journal(tmp_path).write_bytes(b'{"op":"id","key":"a","id":1}\nnot json\n{"op":"clear"}\n')
    with pytest.raises(StateError, match="damaged at line 2"):
        load_state(path, environment="e")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "No space left on device; the disk is full"),
        (errno.EFBIG, "File too large; the file would pass the file-size limit"),
        (errno.EDQUOT, "quota"),
    ],
)
def test_a_full_disk_during_an_append_is_a_clear_error_and_heals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    path = tmp_path / "s.json"
    store = StateStore(path=path, environment="e")
    store.record_id("a", 1)
    real = state_module.write_all

    def half_then_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(state_module, "write_all", half_then_full)
    with pytest.raises(StateError) as caught:
        store.record_id("b", 2)
    assert str(caught.value).startswith(
        f"cannot write a change to the state journal {_journal(tmp_path)}: "
    )
    assert words in str(caught.value)
    assert store.state.ids == {"a": 1}  # not recorded: the caller knows
    assert load_state(path, environment="e").ids == {"a": 1}  # the torn half skipped
    monkeypatch.setattr(state_module, "write_all", real)
    store.record_id("c", 3)  # the disk has room again: the torn half is cut off first
    assert load_state(path, environment="e").ids == {"a": 1, "c": 3}
    assert all(json.loads(line) for line in _journal(tmp_path).read_text().splitlines())


def test_a_compaction_that_cannot_be_written_keeps_the_journal_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.json"

    def full(target: Path, data: str | bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with open_store(path=path, environment="e") as store:
        store.record_id("a", 1)
        monkeypatch.setattr(state_module, "write_atomic", full)
    # No exception: every change is in the journal, which the next command folds in.
    assert "cannot write the state file" in caplog.text and "disk is full" in caplog.text
    assert "every change is kept in" in caplog.text
    assert not path.exists() and _journal(tmp_path).exists()
    monkeypatch.undo()
    assert load_state(path, environment="e").ids == {"a": 1}


def test_a_file_size_limit_in_a_real_process(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (``ulimit -f``) set in a child: the write fails part-way for real."""
    path = tmp_path / "s.json"
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from reconciler.engine.state import StateStore\n"
        "from reconciler.errors import StateError\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))\n"
        f"store = StateStore(path=Path({str(path)!r}), environment='e')\n"
        "try:\n"
        "    for n in range(1, 20):\n"
        "        store.record_id(f'key-{n}', n)\n"
        "except StateError as error:\n"
        "    print(error)\n"
        "    print(n)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    message, failed_at = done.stdout.strip().splitlines()
    assert "File too large" in message and "ulimit -f" in message
    recorded = load_state(path, environment="e").ids
    assert recorded == {f"key-{n}": n for n in range(1, int(failed_at))}


def test_recording_a_create_copies_nothing_of_the_other_ids() -> None:
    # O(1) a create: the memory one change allocates does not grow with the ids recorded
    # (a copy of 20,000 ids is about 1 MB; the persistent maps allocate a few hundred bytes).
    import tracemalloc

    state = State(environment="e", ids={f"k/{i}": i + 1 for i in range(20_000)})
    state = state.with_id("warm", 99_999_999)  # builds the id → key map once
    tracemalloc.start()
    try:
        for i in range(100):
            key = f"new/{i}"
            state = state.with_intent(Intent(key, IntentStatus.PENDING, "t"))
            state = state.with_id(key, 100_000 + i).with_unmarked(key, unmarked=True)
            state = state.with_fields(key, ("description",)).with_unmarked(key, unmarked=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000, peak
    assert len(state.ids) == 20_101 and state.key_of(100_099) == "new/99"
    assert not state.intents and not state.unmarked


def test_an_older_state_still_reads_as_it_was_after_later_changes() -> None:
    first = State(environment="e", ids={"a": 1, "b": 2}, fields={"a": ("x",)})
    second = first.with_id("c", 3).with_id("a", 2)  # "b" loses id 2 to "a"
    third = second.without_key("c").with_fields("a", ("y",))
    assert first.ids == {"a": 1, "b": 2} and first.key_of(2) == "b"
    assert second.ids == {"a": 2, "c": 3} and second.key_of(1) is None
    assert third.ids == {"a": 2} and third.fields == {"a": ("y",)} and third.key_of(3) is None
    assert first.fields == {"a": ("x",)}
    assert first == State(environment="e", ids={"b": 2, "a": 1}, fields={"a": ("x",)})
