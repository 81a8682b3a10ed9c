"""Print the figures of the reliability suites at the end of the session."""

from __future__ import annotations

import json

import pytest

from tests.reliability.harness import FIGURES, FULL


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    mode = "full (RELIABILITY_FULL=1)" if FULL else "bounded (CI)"
    terminalreporter.section(f"reliability figures, {mode}")
    for suite, figures in FIGURES.items():
        terminalreporter.write_line(f"{suite}: {json.dumps(figures, sort_keys=True)}")
