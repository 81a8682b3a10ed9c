"""Single-precision values are shown as written, in every format; comparison stays exact."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.engine.diff import FieldChange, diff_fields
from reconciler.engine.plan import Action, Plan
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.model.canonical import canonical
from reconciler.render import FORMATS, render_apply, render_plan
from reconciler.render._values import display_numbers, float_text, shortest_single, value_text

from .factory import plan, update

STORED = canonical("discountValue", 15.1)  # what the server keeps for 15.1


def _single(value: float) -> float:
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def test_the_stored_value_is_not_the_written_one() -> None:
    assert STORED == 15.100000381469727
    assert repr(STORED) != "15.1"


@pytest.mark.parametrize(
    ("written", "shown"),
    [(15.1, "15.1"), (10.1, "10.1"), (0.3, "0.3"), (2.5, "2.5"), (99.99, "99.99"),
     (1234567.9, "1234567.9"), (1e-07, "1e-07"), (0.1, "0.1"), (-7.35, "-7.35")],
)  # fmt: skip
def test_shown_as_written(written: float, shown: str) -> None:
    stored = canonical("discountValue", written)
    assert value_text(stored) == shown
    assert float_text(stored) == shown


def test_a_double_that_single_precision_cannot_hold_keeps_its_digits() -> None:
    # 0.1 as a double is not a float32: it is not a value the server stored, show it fully.
    assert shortest_single(0.1) is None
    assert value_text(0.1) == "0.1"
    assert value_text(0.30000000000000004) == "0.30000000000000004"


def test_whole_numbers_and_special_values() -> None:
    assert value_text(15) == "15"
    assert value_text(15.0) == "15.0"
    assert value_text(True) == "true"
    assert value_text(float("inf")) == "inf"
    assert shortest_single(float("nan")) is None
    assert shortest_single(1e300) is None  # beyond single precision


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_shortest_decimal_round_trips_through_single_precision(value: float) -> None:
    short = shortest_single(value)
    assert short is not None
    assert _single(short) == value
    assert len(repr(short)) <= len(repr(value))


@given(
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.floats(width=32, allow_nan=False, allow_infinity=False),
)
def test_different_values_never_look_the_same(a: float, b: float) -> None:
    if a != b:
        assert float_text(a) != float_text(b)


def test_comparison_stays_exact() -> None:
    # 15.1 and 15.100000381469727 are one float32: no change. 15.1 and 15.2 differ.
    assert not diff_fields(
        desired={"discountValue": 15.1},
        live={"discountValue": 15.100000381469727},
        fields=["discountValue"],
    )
    (change,) = diff_fields(
        desired={"discountValue": 15.2}, live={"discountValue": 15.1}, fields=["discountValue"]
    )
    assert change.before == STORED  # the plan keeps the exact value; only the display rounds


def _float_plan() -> Plan:
    series = update("docs/onam", 520591, FieldChange("discountValue", 15, STORED))
    # ``desired`` holds the file's API-form value, as the planner makes it.
    return plan(series=[replace(series, desired={"discountValue": 15.1})])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_plan_format_shows_the_written_value(fmt: str) -> None:
    out = io.StringIO()
    render_plan(_float_plan(), fmt=fmt, stream=out)
    text = out.getvalue()
    assert "15.1" in text
    assert "15.100000381469727" not in text


def test_json_plan_reads_back_to_the_exact_value() -> None:
    out = io.StringIO()
    render_plan(_float_plan(), fmt="json", stream=out)
    (series,) = json.loads(out.getvalue())["series"]
    (change,) = series["changes"]
    assert change["after"] == 15.1
    # A reader that rounds to single precision, as the canonical form does, gets it back.
    assert canonical("discountValue", change["after"]) == STORED
    assert Plan.from_json(out.getvalue()).series[0].change("discountValue") is not None


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_apply_mismatches_and_the_plan_after_show_written_values(fmt: str) -> None:
    result = ApplyResult(
        environment="production",
        outcomes=(
            SeriesOutcome(
                "docs/onam",
                Action.UPDATE,
                Outcome.DONE,
                series_id=520591,
                mismatches=(FieldChange("discountValue", STORED, 15),),
            ),
        ),
        after=_float_plan(),
    )
    out = io.StringIO()
    render_apply(result, fmt=fmt, stream=out)
    assert "15.100000381469727" not in out.getvalue()
    assert "15.1" in out.getvalue()


def test_display_numbers_walks_plain_json() -> None:
    assert display_numbers({"a": [STORED, 0.1, 3], "b": "15.100000381469727"}) == {
        "a": [15.1, 0.1, 3],
        "b": "15.100000381469727",
    }
