"""Renderers: a Plan, an apply result or problems → text, markdown, json or github (and a
plan → html, one self-contained page). Pure.

Each format lives in its own module and writes to the stream it is given; nothing here reads
the environment (the caller decides on colour: a terminal, ``NO_COLOR``). This module is the
small registry the CLI uses::

    render_plan(plan, fmt="markdown", stream=sys.stdout)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from reconciler.problems import Problem

if TYPE_CHECKING:
    from reconciler.engine.plan import Plan
    from reconciler.engine.result import ApplyResult

# Each renderer is imported when it is used: ``validate`` prints problems as text and loads
# none of the plan's renderers (30 ms of a cold start).

FORMATS: tuple[str, ...] = ("text", "markdown", "json", "github")
# A plan has one format more: the HTML report (an apply result and problems have none).
PLAN_FORMATS: tuple[str, ...] = (*FORMATS, "html")

__all__ = ["FORMATS", "PLAN_FORMATS", "render_apply", "render_plan", "render_problems"]


def _check(fmt: str, formats: tuple[str, ...] = FORMATS) -> None:
    if fmt not in formats:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(formats)}")


def render_plan(
    plan: Plan,
    *,
    fmt: str,
    stream: TextIO,
    color: bool = False,
    max_chars: int | None = None,
) -> None:
    """Write ``plan`` in format ``fmt``; ``color`` is for text only, ``max_chars`` for markdown
    (None: its default)."""
    from reconciler.render import github, html, jsonfmt, markdown, text

    _check(fmt, PLAN_FORMATS)
    if max_chars is None:
        max_chars = markdown.DEFAULT_MAX_CHARS
    if fmt == "text":
        text.render_plan_text(plan, stream=stream, color=color)
    elif fmt == "markdown":
        markdown.render_plan_markdown(plan, stream=stream, max_chars=max_chars)
    elif fmt == "json":
        jsonfmt.render_plan_json(plan, stream=stream)
    elif fmt == "html":
        html.render_plan_html(plan, stream=stream)
    else:
        github.render_plan_github(plan, stream=stream)


def render_apply(result: ApplyResult, *, fmt: str, stream: TextIO, color: bool = False) -> None:
    """Write the final summary of an apply in format ``fmt``."""
    from reconciler.render import github, jsonfmt, markdown, text_apply

    _check(fmt)
    if fmt == "text":
        text_apply.render_apply_text(result, stream=stream, color=color)
    elif fmt == "markdown":
        markdown.render_apply_markdown(result, stream=stream)
    elif fmt == "json":
        jsonfmt.render_apply_json(result, stream=stream)
    else:
        github.render_apply_github(result, stream=stream)


def render_problems(
    problems: Sequence[Problem], *, fmt: str, stream: TextIO, color: bool = False
) -> None:
    """Write validation problems in format ``fmt``."""
    _check(fmt)
    if fmt == "text":
        from reconciler.render.terminal import render_problems_text

        render_problems_text(problems, stream=stream, color=color)
    elif fmt == "markdown":
        from reconciler.render.markdown import render_problems_markdown

        render_problems_markdown(problems, stream=stream)
    elif fmt == "json":
        from reconciler.render.jsonfmt import render_problems_json

        render_problems_json(problems, stream=stream)
    else:
        from reconciler.render.github import render_problems_github

        render_problems_github(problems, stream=stream)
