"""The sandbox's switches for tests and demos: latency, failures, rate limit, batch size.

A ``Faults`` value is held by the ``Sandbox`` control object (``app.state.sandbox.faults``)
and read on every request, so a test may change any field while the app runs.

Failure modes, drawn at random (``failure_rate``) or scripted (``fail_next``,
``fail_next_for``):

- ``"503"``: answer 503 with the documented error body (code 786, "retry"); nothing done.
- ``"reset"``: drop the connection without an answer; nothing done.
- ``"timeout_before"``: hang ``hang_seconds`` without acting, then answer 503.
- ``"timeout_after"``: ACT (store the series), then hang ``hang_seconds`` before the answer,
  so a client with a shorter timeout gives up after the server created the series.
- ``"503_after"``: ACT (store the series), then answer 503 with the documented error body,
  as a proxy that timed out in front of a backend that finished would.

``post_act_delay_seconds`` is not a failure: every create (``POST /v2/coupon/series``) is acted
on that many seconds after the request arrived, whatever happens to the connection meanwhile
(a client that gives up or is killed still gets its series made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

FailureMode = Literal["503", "reset", "timeout_before", "timeout_after", "503_after"]

FAILURE_MODES: Final[tuple[str, ...]] = (
    "503",
    "reset",
    "timeout_before",
    "timeout_after",
    "503_after",
)


@dataclass
class Faults:
    """Every switch of the sandbox; all of them may be changed at run time."""

    latency_seconds: float = 0.0
    """Added before every answer."""
    failure_rate: float = 0.0
    """Share of calls (0..1) that fail with a mode drawn from ``failure_modes``."""
    failure_modes: tuple[str, ...] = FAILURE_MODES
    fail_next: list[str] = field(default_factory=list)
    """Failures for the next calls, whatever their method, first one first."""
    fail_next_for: dict[str, list[str]] = field(default_factory=dict)
    """Failures for the next calls of one method (``{"POST": ["timeout_after"]}``); these
    win over ``fail_next``."""
    hang_seconds: float = 60.0
    """How long a ``timeout_*`` failure hangs."""
    rate_limit_per_minute: int | None = None
    """Calls served in any 60 seconds; past it, 429 with ``Retry-After``."""
    max_batch_size: int | None = None
    """Most ids one ``GET /v2/coupon/series`` may ask for; more is a 400."""
    random_seed: int | None = None
    """Seed of the failure draws, for reproducible runs."""
    token_ttl_seconds: float = 300.0
    """Lifetime of the OAuth tokens the sandbox hands out."""
    strict_dates: bool = False
    """Refuse (400, code 744) a POST or PUT whose date-times are not in the one form the
    docs show, ``YYYY-MM-DDTHH:MM:SS+hh:mm``; by default any spelling the server's lenient
    parser reads is taken. Proves a client sends the documented form."""
    post_act_delay_seconds: float = 0.0
    """A create is stored this long after its request arrived, even if the client is gone."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` when a switch holds a value the sandbox cannot use."""
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be within 0..1, not {self.failure_rate}")
        scripted = [*self.fail_next, *(m for ms in self.fail_next_for.values() for m in ms)]
        for mode in (*self.failure_modes, *scripted):
            if mode not in FAILURE_MODES:
                raise ValueError(f"unknown failure mode {mode!r}; known: {FAILURE_MODES}")
        if self.failure_rate > 0 and not self.failure_modes:
            raise ValueError("failure_rate > 0 needs at least one failure mode")
        for name in (
            "latency_seconds",
            "hang_seconds",
            "token_ttl_seconds",
            "post_act_delay_seconds",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.rate_limit_per_minute is not None and self.rate_limit_per_minute < 1:
            raise ValueError("rate_limit_per_minute must be at least 1 (or None)")
        if self.max_batch_size is not None and self.max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1 (or None)")


__all__ = ["FAILURE_MODES", "FailureMode", "Faults"]
