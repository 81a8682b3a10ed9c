"""The stderr status of long runs: waits and retries with an ETA, throttled in CI logs."""

from __future__ import annotations

import io

from reconciler.cli.activity import Activity, duration
from reconciler.client import CallDone, CallsPlanned, RateLimitWait, Retrying, TokenGenerated


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(*, verbose: bool = False, tty: bool = False) -> tuple[Activity, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock()
    view = Activity(stream=out, verbose=verbose, tty=tty, clock=clock, log_every=15.0)
    return view, out, clock


def test_a_plan_wait_shows_calls_and_an_eta() -> None:
    view, out, clock = make()
    view.on_event(CallsPlanned(count=10))
    for _ in range(4):
        view.on_event(CallDone(method="GET", status="200", elapsed_seconds=0.1))
    clock.now = 8.0
    view.on_event(RateLimitWait(delay_seconds=30.0))
    assert out.getvalue() == "waiting 30.0s for the API's rate limit; 4/10 calls, ETA 12s\n"


def test_an_apply_eta_counts_series() -> None:
    view, out, clock = make()
    view.progress(done=3, total=12)
    clock.now = 60.0
    view.on_event(RateLimitWait(delay_seconds=2.0))
    assert out.getvalue().endswith("; 3/12 series, ETA 3m00s\n")


def test_short_waits_are_quiet_and_long_ones_throttled_in_a_log() -> None:
    view, out, clock = make()
    view.on_event(RateLimitWait(delay_seconds=0.2))
    assert out.getvalue() == ""
    view.on_event(RateLimitWait(delay_seconds=5.0))
    clock.now = 5.0
    view.on_event(RateLimitWait(delay_seconds=5.0))  # within 15 s of the last line
    clock.now = 20.0
    view.on_event(RateLimitWait(delay_seconds=5.0))
    assert out.getvalue().count("waiting") == 2


def test_every_retry_is_shown() -> None:
    view, out, _clock = make()
    for attempt in (1, 2):
        view.on_event(
            Retrying(
                method="GET",
                path="/v2/coupon/series",
                attempt=attempt,
                delay_seconds=1.0,
                reason="503 Service Unavailable",
            )
        )
    lines = out.getvalue().splitlines()
    assert lines == [
        f"retrying GET /v2/coupon/series in 1.0s (attempt {n} failed: 503 Service Unavailable)"
        for n in (1, 2)
    ]


def test_a_terminal_rewrites_one_line_and_finish_ends_it() -> None:
    view, out, _clock = make(tty=True)
    view.on_event(RateLimitWait(delay_seconds=5.0))
    view.on_event(RateLimitWait(delay_seconds=6.0))
    view.finish()
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 2 and text.endswith("\n") and text.count("\n") == 1


def test_verbose_shows_token_renewals_quiet_does_not() -> None:
    quiet, quiet_out, _ = make()
    quiet.on_event(TokenGenerated(ttl_seconds=3600))
    assert quiet_out.getvalue() == ""
    loud, loud_out, _ = make(verbose=True)
    loud.on_event(TokenGenerated(ttl_seconds=3600))
    assert loud_out.getvalue() == "a new OAuth token was generated (valid 1h00m)\n"


def test_durations() -> None:
    assert [duration(s) for s in (0, 59.4, 61, 3599, 3725)] == [
        "0s",
        "59s",
        "1m01s",
        "59m59s",
        "1h02m",
    ]
