"""Options several commands share, and the choice of colour."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def directory_option(func: F) -> F:
    return click.option(
        "--dir",
        "directory",
        default="series",
        show_default=True,
        type=click.Path(path_type=Path, file_okay=False),
        help="Folder of the series files.",
    )(func)


def target_options(func: F) -> F:
    func = click.option(
        "--sandbox",
        is_flag=True,
        help="Use the embedded sandbox (no credentials, no network; its own state).",
    )(func)
    return click.option(
        "--env", "env", metavar="NAME", help="Environment of series/reconciler.yaml to use."
    )(func)


def check_target(env: str | None, sandbox: bool) -> None:
    if env and sandbox:
        raise click.UsageError("--env and --sandbox exclude each other: choose one")


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    target = stream or sys.stdout
    return bool(getattr(target, "isatty", lambda: False)())


# The plan renderers' formats, spelled out here so that ``--help`` need not import the
# renderers (tests/cli/test_help.py checks that this equals ``reconciler.render.PLAN_FORMATS``).
PLAN_FORMATS: tuple[str, ...] = ("text", "markdown", "json", "github", "html")

PLAN_FORMAT_HELP = (
    "text: for people (colour on a terminal); markdown: a pull request comment; json: the "
    "versioned plan document (see the README); github: workflow annotations and a summary; "
    "html: one self-contained page (no script) for reading outside GitHub."
)


def trusted_settings_option(func: F) -> F:
    return click.option(
        "--trusted-settings",
        "trusted_settings",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="RECONCILER_TRUSTED_SETTINGS",
        help=(
            "The settings file as it is on the default branch (CI on a pull request): "
            "base_url, auth and env_prefix must match it, or nothing is sent."
        ),
    )(func)


def base_url_option(func: F) -> F:
    return click.option(
        "--base-url",
        "base_url",
        metavar="URL",
        help=(
            "The API address for this command, over CAPILLARY_BASE_URL (or the "
            "environment's prefix) and the settings file's base_url. Without it, the "
            "variable and the file must not name different addresses."
        ),
    )(func)


def policy_options(func: F) -> F:
    """``--override`` and ``--trusted-policy``: what ``plan`` and ``apply`` are told about the
    policy rules of ``policy.yaml`` (CI passes the same through variables: README)."""
    func = click.option(
        "--trusted-policy",
        "trusted_policy",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="RECONCILER_TRUSTED_POLICY",
        help="The policy file as it is on the default branch (CI on a pull request): its "
        "rules hold too, so a change cannot weaken its own guard-rails.",
    )(func)
    return click.option(
        "--override",
        "overrides",
        multiple=True,
        metavar="RULE=REASON",
        help="Lift an approve rule of policy.yaml (RULE@KEY=REASON: for one series); the "
        "reason is recorded. Repeatable. Deny rules cannot be overridden.",
    )(func)


def plan_format_option(func: F) -> F:
    """``--format`` of the commands that render a plan (``plan``, ``show``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(PLAN_FORMATS),
        default="text",
        show_default=True,
        help=PLAN_FORMAT_HELP,
    )(func)
