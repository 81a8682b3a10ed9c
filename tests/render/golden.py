"""The renderers' golden files (``tests/golden.py`` holds the one check)."""

from __future__ import annotations

from pathlib import Path

from tests import golden

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, actual: str) -> None:
    golden.check_golden(GOLDEN, name, actual)
