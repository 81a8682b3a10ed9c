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
