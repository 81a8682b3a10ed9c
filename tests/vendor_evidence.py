"""The vendor's examples (``tests/data/evidence/``), loaded for the tests that replay them."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

EVIDENCE = Path(__file__).resolve().parent / "data" / "evidence"


@functools.cache
def _load(name: str) -> Any:
    return json.loads((EVIDENCE / name).read_text(encoding="utf-8"))


def evidence(name: str) -> Any:
    """A fresh copy of ``tests/data/evidence/NAME`` (``.json`` may be left out)."""
    return copy.deepcopy(_load(name if name.endswith(".json") else f"{name}.json"))


def v1_1_item() -> dict[str, Any]:
    """The one series of the v1.1 list example."""
    item: dict[str, Any] = evidence("v1_1_list_example")["response"]["series"]["items"]["item"]
    return item
