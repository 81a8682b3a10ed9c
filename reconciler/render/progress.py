"""The progress of an apply on stderr: a bar on a terminal, one line per series elsewhere.

Kept apart from the command (``cli/apply.py``) like every other renderer: it is handed a
stream and events, and writes; it never decides anything.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol, TextIO

from reconciler.textsafe import printable

if TYPE_CHECKING:
    from reconciler.engine.applier import Progress


class Pace(Protocol):
    """Learns how far the apply is (the status line uses it for its ETA)."""

    def progress(self, *, done: int, total: int) -> None: ...

    def finish(self) -> None:
        """End the status line it may have open on a terminal."""


# By Outcome value (the enum is imported only when an apply runs: fast --help).
_MARKS = {
    "done": "✓",
    "skipped": "↷",
    "failed": "✗",
    "not_started": "·",
}


class ProgressView:
    """A progress bar on a terminal; one line per series elsewhere (CI logs).

    ``activity`` (the rate-limit waits and retries) learns how far the apply is, for its ETA.
    """

    def __init__(self, *, stream: TextIO, bar: bool, activity: Pace | None = None) -> None:
        self.stream = stream
        self.bar = bar
        self.started = time.monotonic()
        self.open_line = False
        self.activity = activity

    def finish(self) -> None:
        """End the bar's line, also when an interrupt left it unfinished."""
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
        self.open_line = False

    def message(self, text: str) -> None:
        """A line about the run itself (a wait, a recovery), on its own line (the status
        line's countdown, if one is open, is ended first: never two texts on one line)."""
        self.finish()
        if self.activity is not None:
            self.activity.finish()
        self.stream.write(f"{printable(text)}\n")
        self.stream.flush()

    def __call__(self, event: Progress) -> None:
        if event.outcome is None:
            return
        if self.activity is not None:
            self.activity.progress(done=event.done, total=event.total)
        if self.bar:
            width = 30
            filled = int(width * event.done / max(event.total, 1))
            rate = event.done / max(time.monotonic() - self.started, 1e-6)
            self.stream.write(  # \x1b[K: clear what a longer status line left
                f"\r\x1b[K[{'#' * filled}{'.' * (width - filled)}] {event.done}/{event.total} "
                f"{rate:.1f}/s "
            )
            self.open_line = True
        else:
            o = event.outcome
            ident = f" (id {o.series_id})" if o.series_id else ""
            said = f": {printable(o.message)}" if o.outcome.value != "done" else ""
            self.stream.write(
                f"{_MARKS[o.outcome.value]} {printable(o.key)}{ident}: {o.action.value} "
                f"{o.outcome.value}{said}\n"
            )
        self.stream.flush()
