"""What a long plan or apply shows on stderr while it runs: waits, retries, calls, an ETA.

Without ``-v``: a rate-limit wait or a ``Retry-After`` of a second or more, and every retry,
show one status line with the calls done so far and an ETA (on a terminal the line is
rewritten in place; in a CI log a line is printed, at most one per ``log_every`` seconds
for waits, so a run held back by the rate limit is never silent and never floods the log).
With ``-v``: also one line per API call (method, path, status, seconds), from the client's
``reconciler.client`` logger, and each OAuth token renewal. Nothing here ever sees a
secret: the client redacts its messages and events before they leave it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

# A wait shorter than this is routine pacing, not worth a line without -v.
NOTABLE_WAIT_SECONDS = 1.0

_LOGGER_NAME = "reconciler"


def configure_logging(*, debug: bool, stream: TextIO | None = None) -> None:
    """Send the tool's loggers to stderr: the API calls (``-v``), or everything (``--debug``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if debug:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("  %(message)s"))
    root = logging.getLogger(_LOGGER_NAME)
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # -v: the API calls (the client's debug lines), other modules from INFO up; --debug: all.
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger(f"{_LOGGER_NAME}.client").setLevel(logging.DEBUG)
    root.propagate = False


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short enough for a status line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Activity:
    """Receives the client's events (``on_event``) and the apply's progress (``progress``).

    ``done`` / ``total`` count series in an apply; without them (a plan) the calls the client
    announced (``CallsPlanned``) and made (``CallDone``) give the ETA.
    """

    def __init__(
        self,
        *,
        stream: TextIO,
        verbose: bool,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        log_every: float = 15.0,
    ) -> None:
        self.stream = stream
        self.verbose = verbose
        self.tty = bool(getattr(stream, "isatty", lambda: False)()) if tty is None else tty
        self._clock = clock
        self._started = clock()
        self._log_every = log_every
        self._last_line: float | None = None
        self.calls_planned = 0
        self.calls_done = 0
        self.series_done = 0
        self.series_total = 0
        self.open_line = False

    # ------------------------------------------------------------------ inputs

    def progress(self, *, done: int, total: int) -> None:
        """An apply finished ``done`` of ``total`` series."""
        self.series_done, self.series_total = done, total

    def on_event(self, event: Any) -> None:
        """A client event: Retrying, RateLimitWait, TokenGenerated, CallsPlanned, CallDone."""
        kind = type(event).__name__
        if kind == "CallsPlanned":
            self.calls_planned += int(event.count)
        elif kind == "CallDone":
            self.calls_done += 1
        elif kind == "RateLimitWait":
            delay = float(event.delay_seconds)
            if delay >= NOTABLE_WAIT_SECONDS or self.verbose:
                self._status(f"waiting {delay:.1f}s for the API's rate limit", throttle=True)
        elif kind == "Retrying":
            self._status(
                f"retrying {event.method} {event.path} in {event.delay_seconds:.1f}s "
                f"(attempt {event.attempt} failed: {event.reason})",
                throttle=False,
            )
        elif kind == "TokenGenerated" and self.verbose:
            self._line(f"a new OAuth token was generated (valid {duration(event.ttl_seconds)})")

    # ------------------------------------------------------------------ output

    def eta(self) -> str:
        """``3/10 series, ETA 1m20s`` or ``40/250 calls, ETA 2m``; empty when unknown."""
        elapsed = self._clock() - self._started
        if self.series_total:
            done, total, unit = self.series_done, self.series_total, "series"
        elif self.calls_planned:
            done = min(self.calls_done, self.calls_planned)
            total, unit = self.calls_planned, "calls"
        else:
            return f"{self.calls_done} calls so far" if self.calls_done else ""
        text = f"{done}/{total} {unit}"
        if 0 < done < total:
            text += f", ETA {duration(elapsed / done * (total - done))}"
        return text

    def finish(self) -> None:
        """End an open status line (a terminal), so what follows starts on its own line."""
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False

    def _status(self, message: str, *, throttle: bool) -> None:
        eta = self.eta()
        text = f"{message}; {eta}" if eta else message
        if self.tty and not self.verbose:
            self.stream.write(f"\r\x1b[K{text}")
            self.stream.flush()
            self.open_line = True
            return
        now = self._clock()
        recent = self._last_line is not None and now - self._last_line < self._log_every
        if throttle and not self.verbose and recent:
            return
        self._last_line = now
        self._line(text)

    def _line(self, text: str) -> None:
        self.finish()
        self.stream.write(f"{text}\n")
        self.stream.flush()
