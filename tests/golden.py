"""One golden-file check for the whole suite: ``UPDATE_GOLDEN=1 pytest`` rewrites the files.

A missing golden file fails (and, with ``UPDATE_GOLDEN=1``, is written): a test never passes
on a file it just wrote. Output that changes from run to run (times, digests, ports, today's
date: the scenarios') goes through ``scrub`` first.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

_VOLATILE = [
    (re.compile(r'"created_at": "[^"]+"'), '"created_at": "<now>"'),
    (re.compile(r'"desired_digest": "[0-9a-f]+"'), '"desired_digest": "<digest>"'),
    (re.compile(r'"live_digest": "[0-9a-f]+"'), '"live_digest": "<digest>"'),
    (re.compile(r'"tool_version": "[^"]+"'), '"tool_version": "<version>"'),
    (re.compile(r"http://127\.0\.0\.1:\d+"), "http://127.0.0.1:<port>"),
    (re.compile(r"\b20\d\d-\d\d-\d\dT00:00:00Z \(today\)"), "<today>"),
    # A plan's business facts: days left to a live series' end (the plan's day moves).
    (re.compile(r'"days_left": \d+'), '"days_left": <days>'),
]


def scrub(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    # The plan's day (a create's window starts on it; the timeline marks it).
    today = datetime.now(UTC).date().isoformat()
    return re.sub(rf"\b{today}\b", "<today>", text)


def check_golden(folder: Path, name: str, actual: str) -> None:
    """Compare ``actual`` with ``folder/name``, a unified diff when they differ."""
    path = folder / name
    text = actual
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to write it"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                "golden/" + name,
                "actual",
            )
        )
        raise AssertionError(
            f"{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites):\n{diff}"
        )
