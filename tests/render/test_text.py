"""Text: Terraform-like plan and apply summaries."""

from __future__ import annotations

import io

import pytest

from reconciler.engine.diff import FieldChange, NestedChange
from reconciler.problems import Problem
from reconciler.render import FORMATS, render_apply, render_plan, render_problems
from reconciler.render._values import value_text
from reconciler.render.text import plan_lines

from .factory import apply_result, background, create, plan, problems, scenarios, update


def text_of(p: object, **kwargs: object) -> str:
    out = io.StringIO()
    render_plan(p, fmt="text", stream=out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_summary_line_is_last_for_every_scenario() -> None:
    for name, p in scenarios().items():
        assert text_of(p).rstrip("\n").splitlines()[-1] == p.summary(), name


def test_no_colour_unless_asked() -> None:
    for p in scenarios().values():
        assert "\x1b[" not in text_of(p)
    coloured = text_of(scenarios()["mixed"], color=True)
    assert "\x1b[32m+ summer/sale-10\x1b[0m" in coloured
    assert "\x1b[33m~ docs/onam\x1b[0m" in coloured


def test_update_lists_only_changed_fields_and_not_set() -> None:
    p = plan(series=[update("a", 1, FieldChange("info", None, "x"), FieldChange("priority", 3, 4))])
    lines = plan_lines(p)
    assert "~ a (id 1)" in lines
    assert '    info: (not set) → "x"' in lines
    assert "    priority: 3 → 4" in lines


def test_unchanged_series_are_only_counted() -> None:
    text = text_of(plan(series=background(3)))
    assert "base/series" not in text
    assert "No changes. The live series match the files." in text


def test_values_are_shortened_and_control_characters_shown() -> None:
    assert value_text("a" * 500).endswith('" (500 chars)')
    assert len(value_text("a" * 500)) < 100
    assert value_text(list(range(1000))).endswith("(1,000 items)")
    assert value_text("\x1b[31mred\u202e") == '"\\u001b[31mred\\u202e"'
    assert value_text(None) == "(not set)"
    assert value_text(True) == "true"


def test_terminal_escapes_in_keys_and_values_are_neutralised() -> None:
    p = plan(series=[create("evil\x1b[2J", {"description": "line\n::set-output x"})])
    text = text_of(p)
    assert "\x1b" not in text
    assert "\n::" not in text


def test_apply_lists_every_outcome() -> None:
    out = io.StringIO()
    render_apply(apply_result(), fmt="text", stream=out)
    text = out.getvalue()
    for mark in ("✓ done", "↷ skipped", "✗ failed", "· not started"):
        assert mark in text
    assert "HTTP 400; codes 1234, 1301" in text
    assert "sent 10.1, server kept 10" in text
    assert "Not converged: 1 series still differs" in text
    assert "Interrupted: 1 series not started; run apply again to finish." in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_problems_and_refuses_unknown_formats(fmt: str) -> None:
    out = io.StringIO()
    render_problems(problems(), fmt=fmt, stream=out)
    assert "discountValue" in out.getvalue()
    with pytest.raises(ValueError, match="unknown output format"):
        render_plan(plan(), fmt=fmt + "x", stream=io.StringIO())


BIDI = "\u202e\u2066\u200f\u200b\ufeff"


def test_bidi_and_invisible_characters_in_nested_keys_are_shown_as_escapes() -> None:
    change = FieldChange(
        "customPropertyMap",
        {"a": 1},
        {"a": 1, f"k{BIDI}": 2},
        nested=(NestedChange(f"root['k{BIDI}']", None, 2),),
    )
    text = text_of(plan(series=[update(f"evil/{BIDI}", 7, change)]))
    assert not any(ch in text for ch in BIDI), ascii(text)
    assert "\\u202e" in text


def test_problem_lines_show_bidi_and_controls_as_escapes() -> None:
    problem = Problem(f"series/{BIDI}a.yaml", 1, 1, f"key {BIDI}\x1b[2J")
    shown = str(problem)
    assert not any(ch in shown for ch in BIDI + "\x1b"), ascii(shown)
    assert "\\u202e" in shown and "\\u001b" in shown
