"""The stderr status of long runs: waits, retries and silent calls with a live countdown and a
true ETA (a fake clock drives them), throttled in CI logs."""

from __future__ import annotations

import io
from dataclasses import replace

from reconciler.cli.activity import Activity, duration
from reconciler.client import (
    AwaitingAnswer,
    CallDone,
    CallsPlanned,
    RateLimitWait,
    Retrying,
    TokenGenerated,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(*, verbose: bool = False, tty: bool = False) -> tuple[Activity, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock()
    view = Activity(stream=out, verbose=verbose, tty=tty, clock=clock, log_every=15.0)
    return view, out, clock


def done(view: Activity, calls: int) -> None:
    for _ in range(calls):
        view.on_event(CallDone(method="GET", status="200", elapsed_seconds=0.1))


def rate_wait(delay: float, left: float | None = None) -> RateLimitWait:
    return RateLimitWait(
        delay_seconds=delay, left_seconds=left, limit=100, window_seconds=61.0, method="GET"
    )


def test_a_plan_wait_shows_calls_and_an_eta() -> None:
    view, out, clock = make()
    view.on_event(CallsPlanned(count=10))
    done(view, 4)
    clock.now = 8.0
    view.on_event(rate_wait(30.0))
    # 30 s of wait, then 6 calls at the pace before it (2 s a call).
    assert out.getvalue() == (
        "waiting 30s for the API's rate limit (100 calls a minute); 4/10 calls, ETA 42s\n"
    )


def test_an_apply_eta_counts_series() -> None:
    view, out, clock = make()
    view.progress(done=3, total=12)
    clock.now = 60.0
    view.on_event(RateLimitWait(delay_seconds=2.0))
    assert out.getvalue().endswith("; 3/12 series, ETA 3m02s\n")


def test_a_terminal_counts_a_rate_limit_wait_down_with_a_true_eta() -> None:
    """22.9: the line was frozen at "waiting 57.3s ... ETA 0s" for the whole wait."""
    view, out, clock = make(tty=True)
    view.on_event(CallsPlanned(count=101))
    done(view, 100)
    clock.now = 3.0
    view.on_event(rate_wait(57.3))
    for second in range(1, 58):  # the client's ticks, about once a second
        clock.now = 3.0 + second
        view.on_event(rate_wait(57.3, left=57.3 - second))
    shown = [line for line in out.getvalue().split("\r\x1b[K") if line]
    assert len(shown) == 58
    assert shown[0] == (
        "waiting 58s for the API's rate limit (100 calls a minute); 100/101 calls, ETA 58s"
    )
    assert shown[30] == (
        "waiting 28s for the API's rate limit (100 calls a minute); 100/101 calls, ETA 28s"
    )
    assert shown[-1].startswith("waiting 1s for the API's rate limit")
    lefts = [int(line.split()[1].rstrip("s")) for line in shown]
    etas = [int(line.rsplit("ETA ", 1)[1].rstrip("s")) for line in shown]
    assert lefts == sorted(lefts, reverse=True) and len(set(lefts)) == len(lefts)
    assert all(eta >= left for eta, left in zip(etas, lefts, strict=True))


def test_the_eta_of_many_calls_counts_the_windows_they_need() -> None:
    view, out, clock = make()
    view.on_event(CallsPlanned(count=501))
    done(view, 100)
    clock.now = 5.0
    view.on_event(rate_wait(56.0))
    # 401 calls left at 100 a window of 61 s: four more windows after this wait.
    assert out.getvalue().endswith("100/501 calls, ETA 5m00s\n")


def test_a_retry_never_shows_an_eta_shorter_than_its_wait() -> None:
    """22.9: "retrying in 60.0s ... ETA 2s" contradicted itself."""
    view, out, clock = make(tty=True)
    view.on_event(CallsPlanned(count=3))
    done(view, 2)
    clock.now = 4.0
    retry = Retrying(
        method="GET", path="/v2/coupon/series", attempt=1, delay_seconds=60.0, reason="429"
    )
    view.on_event(retry)
    clock.now = 14.0
    view.on_event(replace(retry, left_seconds=50.0))
    first, second = [line for line in out.getvalue().split("\r\x1b[K") if line]
    assert first == (
        "retrying GET /v2/coupon/series in 1m00s (attempt 1 failed: 429); 2/3 calls, ETA 1m02s"
    )
    assert second.startswith("retrying GET /v2/coupon/series in 50s") and "ETA 52s" in second


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


def test_a_countdown_in_a_log_is_one_line_per_15_seconds() -> None:
    view, out, clock = make()
    view.on_event(rate_wait(60.0))
    for second in range(1, 60):
        clock.now = float(second)
        view.on_event(rate_wait(60.0, left=60.0 - second))
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1m00s", "45s", "30s", "15s"]


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
        f"retrying GET /v2/coupon/series in 1s (attempt {n} failed: 503 Service Unavailable)"
        for n in (1, 2)
    ]


def test_a_call_without_an_answer_is_said_at_once_then_throttled_in_a_log() -> None:
    view, out, clock = make()

    def silent(waited: float, attempt: int = 1) -> AwaitingAnswer:
        return AwaitingAnswer(
            method="GET",
            path="/v1.1/coupon/series",
            host="https://eu.api.capillarytech.com",
            waited_seconds=waited,
            timeout_seconds=20.0,
            attempt=attempt,
        )

    for second in range(3, 20):
        clock.now = float(second)
        view.on_event(silent(float(second)))
    clock.now = 24.0
    view.on_event(silent(3.0, attempt=2))  # the retry's first notice: at once
    lines = out.getvalue().splitlines()
    assert lines == [
        "waiting for the answer to GET /v1.1/coupon/series from "
        "https://eu.api.capillarytech.com: 3s so far (it gives up after 20s without an answer)",
        "waiting for the answer to GET /v1.1/coupon/series from "
        "https://eu.api.capillarytech.com: 18s so far (it gives up after 20s without an answer)",
        "waiting for the answer to GET /v1.1/coupon/series from "
        "https://eu.api.capillarytech.com: 3s so far, attempt 2 (it gives up after 20s "
        "without an answer)",
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


def test_a_message_of_the_apply_never_lands_on_the_open_countdown() -> None:
    """The settle wait's messages and the rate-limit countdown share stderr on a terminal."""
    from reconciler.render.progress import ProgressView

    view, out, _clock = make(tty=True)
    progress = ProgressView(stream=out, bar=True, activity=view)
    view.on_event(rate_wait(30.0))
    progress.message("waiting up to 595s for 1 earlier create(s) that may still land")
    assert out.getvalue() == (
        "\r\x1b[Kwaiting 30s for the API's rate limit (100 calls a minute)\n"
        "waiting up to 595s for 1 earlier create(s) that may still land\n"
    )
    assert not view.open_line
