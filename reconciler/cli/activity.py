"""What a long plan or apply shows on stderr while it runs: waits, retries, calls, an ETA.

Without ``-v``: a rate-limit wait of a second or more, every retry, and a call that has had
no answer for a few seconds show one status line that says what the run waits for, with the
calls (plan) or series (apply) done so far and an ETA. The client sends a tick about once a
second while a wait lasts, so on a terminal the line is rewritten in place as a live
countdown; in a CI log (or with ``-v``) the first line of each wait is printed, then at most
one line per ``log_every`` seconds, so a run held back is never silent and never floods the
log. With ``-v``: also one line per API call (method, path, status, seconds), from the
client's ``reconciler.client`` logger, and each OAuth token renewal. Nothing here ever sees
a secret: the client redacts its messages and events before they leave it.

The ETA is true to the wait in progress: its seconds left, plus the time the units left take
at the pace of the run before this wait (past waits included); for calls under a known rate
limit, never less than the windows the calls left need (``limit`` calls a window).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

# A wait shorter than this is routine pacing, not worth a line without -v.
NOTABLE_WAIT_SECONDS = 1.0

_LOGGER_NAME = "reconciler"


def configure_logging(*, debug: bool, stream: TextIO | None = None) -> None:
    """Send the tool's loggers to stderr: the API calls (``-v``), or everything (``--debug``)."""
    import logging  # only with -v or --debug: 6 ms of every other command's start

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
        # The waits in progress: what they wait for -> (when they began, when they end).
        self._waits: dict[str, tuple[float, float]] = {}
        self._rate: tuple[int, float] = (0, 0.0)  # the client's limit: calls per window (s)
        self._silent: set[str] = set()  # calls already said to have no answer yet

    # ------------------------------------------------------------------ inputs

    def progress(self, *, done: int, total: int) -> None:
        """An apply finished ``done`` of ``total`` series."""
        self.series_done, self.series_total = done, total

    def on_event(self, event: Any) -> None:
        """A client event: Retrying, RateLimitWait, AwaitingAnswer, TokenGenerated,
        CallsPlanned, CallDone."""
        kind = type(event).__name__
        if kind == "CallsPlanned":
            self.calls_planned += int(event.count)
        elif kind == "CallDone":
            # An attempt that will be retried is not a call done.
            if not (event.status in ("-", "429") or str(event.status).startswith("5")):
                self.calls_done += 1
        elif kind == "RateLimitWait":
            self._rate_wait(event)
        elif kind == "Retrying":
            self._retrying(event)
        elif kind == "AwaitingAnswer":
            self._awaiting(event)
        elif kind == "TokenGenerated" and self.verbose:
            self._line(f"a new OAuth token was generated (valid {duration(event.ttl_seconds)})")

    def _rate_wait(self, event: Any) -> None:
        if event.limit:
            self._rate = (int(event.limit), float(event.window_seconds))
        left = self._wait("rate", event)
        if float(event.delay_seconds) < NOTABLE_WAIT_SECONDS and not self.verbose:
            return
        per = f" ({event.limit} calls a minute)" if event.limit else ""
        self._status(
            f"waiting {countdown(left)} for the API's rate limit{per}",
            # With -v each wait is shown; its countdown (and without -v, every line) throttled.
            throttle=event.left_seconds is not None or not self.verbose,
        )

    def _retrying(self, event: Any) -> None:
        left = self._wait(f"retry {event.method} {event.path}", event)
        self._status(
            f"retrying {event.method} {event.path} in {countdown(left)} "
            f"(attempt {event.attempt} failed: {event.reason})",
            # Each retry is shown once; its countdown is throttled in a log.
            throttle=event.left_seconds is not None,
        )

    def _awaiting(self, event: Any) -> None:
        again = f", attempt {event.attempt}" if event.attempt > 1 else ""
        call = f"{event.method} {event.path} {event.host} {event.attempt}"
        first = call not in self._silent
        self._silent.add(call)
        self._status(
            f"waiting for the answer to {event.method} {event.path} from {event.host}: "
            f"{duration(event.waited_seconds)} so far{again} (it gives up after "
            f"{event.timeout_seconds:g}s without an answer)",
            # The first notice of a call is shown at once, later ones throttled in a log.
            throttle=not first,
        )

    def _wait(self, key: str, event: Any) -> float:
        """Record the wait ``key`` (its seconds left); the seconds left."""
        now = self._clock()
        left = max(0.0, float(event.left))
        began = now if event.left_seconds is None else self._waits.get(key, (now, now))[0]
        self._waits[key] = (began, now + left)
        return left

    # ------------------------------------------------------------------ output

    def eta(self) -> str:
        """``3/10 series, ETA 1m20s`` or ``40/250 calls, ETA 2m``; empty when unknown."""
        now = self._clock()
        self._waits = {k: w for k, w in self._waits.items() if w[1] > now}
        wait_left = max((end - now for _, end in self._waits.values()), default=0.0)
        if self.series_total:
            done, total, unit = self.series_done, self.series_total, "series"
        elif self.calls_planned:
            done = min(self.calls_done, self.calls_planned)
            total, unit = self.calls_planned, "calls"
        else:  # no total known: no ETA either
            return f"{self.calls_done} calls so far" if self.calls_done else ""
        text = f"{done}/{total} {unit}"
        if 0 < done < total:
            # The wait in progress counts exactly; the units left go at the pace before it.
            began = min((b for b, _ in self._waits.values()), default=now)
            pace = max(began - self._started, 0.0) / done
            left = total - done
            estimate = wait_left + pace * left
            limit, window = self._rate
            if unit == "calls" and limit:
                estimate = max(estimate, wait_left + ((left - 1) // limit) * window)
            text += f", ETA {countdown(estimate)}"
        elif wait_left:
            text += f", ETA {countdown(wait_left)}"
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
        if throttle and recent:
            return
        self._last_line = now
        self._line(text)

    def _line(self, text: str) -> None:
        self.finish()
        self.stream.write(f"{text}\n")
        self.stream.flush()


def countdown(seconds: float) -> str:
    """Seconds left, rounded up: a wait in progress never shows ``0s``."""
    return duration(math.ceil(max(seconds, 0.0)))
