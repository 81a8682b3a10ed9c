"""``service``: what a command's process does around the engine."""

from __future__ import annotations

import gc

import pytest

from reconciler.service import heap_settled


def test_the_loaded_series_are_frozen_only_while_a_plan_or_an_apply_runs() -> None:
    kept = [{"series": i} for i in range(1000)]
    assert gc.get_freeze_count() == 0
    with heap_settled():
        assert gc.get_freeze_count() >= len(kept)  # out of the collector's full passes
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), heap_settled():
        raise RuntimeError("a failed plan")
    assert gc.get_freeze_count() == 0  # released however the command ends


# --- a whole plan: the org's list and the state's reads while the files load ------------------

import shutil  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from reconciler import service  # noqa: E402
from reconciler.client.events import CallDone  # noqa: E402
from reconciler.errors import ConfigError, ValidationFailed  # noqa: E402
from reconciler.files.loader import LoadResult  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "series"


def _folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECONCILER_SANDBOX_DIR", str(tmp_path / "sandbox"))
    folder = tmp_path / "series"
    shutil.copytree(EXAMPLE, folder)
    service.make_plan(directory=folder, sandbox=True)  # the sandbox's first use: its state
    return folder


def test_the_calls_are_answered_while_the_files_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load waits until a call was answered: a plan that loaded first and called after
    would wait forever (here: 30 s, then the test fails)."""
    folder = _folder(tmp_path, monkeypatch)
    answered = threading.Event()
    real = service.load_valid

    def slow_load(directory: Path) -> LoadResult:
        assert answered.wait(30), "no call was answered while the files loaded"
        return real(directory)

    monkeypatch.setattr(service, "load_valid", slow_load)
    plan = service.make_plan(
        directory=folder,
        sandbox=True,
        on_event=lambda e: answered.set() if isinstance(e, CallDone) else None,
    )
    assert plan.series  # a plan like any other (the suite's plans all take this path)


def test_a_folder_with_problems_still_fails_with_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, monkeypatch)
    first = sorted(folder.rglob("*.yaml"))[-1]
    first.write_text("discountCode: [unclosed\n", encoding="utf-8")
    (folder / "broken.yaml").write_text("description: 5\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as failed:
        service.make_plan(directory=folder, sandbox=True)
    files = {Path(p.file).name for p in failed.value.problems}
    assert {first.name, "broken.yaml"} <= files


def test_settings_changed_during_the_load_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace was opened from the settings read before the load: if the file the
    load read says something else, nothing is planned from either."""
    folder = _folder(tmp_path, monkeypatch)
    real = service.load_valid

    def edited_meanwhile(directory: Path) -> LoadResult:
        settings = directory / "reconciler.yaml"
        text = settings.read_text(encoding="utf-8").replace("field: priority", "field: tag")
        settings.write_text(text, encoding="utf-8")
        return real(directory)

    monkeypatch.setattr(service, "load_valid", edited_meanwhile)
    with pytest.raises(ConfigError, match="changed while the plan was being made"):
        service.make_plan(directory=folder, sandbox=True)
