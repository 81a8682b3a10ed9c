"""The sandbox's switches for tests and demos: latency, failures, rate limit, batch size, and
the server variants the vendor's pages leave open (``docs/sandbox.md``, "Server variants").

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
- ``"busy"``: answer ``busy_status`` with the API's "try again later" code ``busy_code``
  (748, 787-798: the coupon API's error list; their HTTP status is not documented); nothing
  done. Not drawn unless named in ``failure_modes``.
- ``"busy_after"``: ACT, then answer as ``"busy"``: a "try again later" is no proof that
  nothing was made. Not drawn unless named in ``failure_modes``.

``post_act_delay_seconds`` is not a failure: every create (``POST /v2/coupon/series``) is acted
on that many seconds after the request arrived, whatever happens to the connection meanwhile
(a client that gives up or is killed still gets its series made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

FailureMode = Literal[
    "503", "reset", "timeout_before", "timeout_after", "503_after", "busy", "busy_after"
]

# The modes ``failure_rate`` draws from unless told otherwise.
FAILURE_MODES: Final[tuple[str, ...]] = (
    "503",
    "reset",
    "timeout_before",
    "timeout_after",
    "503_after",
)
# Every mode, the "try again later" answers included.
ALL_FAILURE_MODES: Final[tuple[str, ...]] = (*FAILURE_MODES, "busy", "busy_after")
# The coupon API's "try again later" codes: 748 "Coupon service timed out", 787-798 "Coupon
# processing failed, Please try again later" (788 and 795: invalid configuration).
RETRY_LATER_CODES: Final = frozenset({748, *range(787, 799)} - {788, 795})
ListDefault = Literal["all", "active"]
CommaIds = Literal["refuse", "accept"]


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
    busy_status: int = 400
    """The HTTP status of a ``busy`` answer (not documented: 4xx is the hard case)."""
    busy_code: int = 787
    """The API code of a ``busy`` answer: one of ``RETRY_LATER_CODES``."""

    # --- server variants: what the pages leave open ------------------------------------------
    list_default: ListDefault = "all"
    """What ``GET /v1.1/coupon/series`` without ``expired`` lists: ``"all"`` (the page: "all
    coupon series details are retrieved") or ``"active"`` (as ``expired=false``)."""
    list_fails: bool = False
    """The v1.1 list answers 200 with ``response.status.success: "false"`` and no series."""
    list_hidden_ids: tuple[int, ...] = ()
    """Series the v1.1 list leaves out, though they exist (a list that is not complete)."""
    list_failed_ids: tuple[int, ...] = ()
    """Series the v1.1 list answers with ``item_status.success: "false"``."""
    list_time_offset_minutes: int = 330
    """The server's own zone, in which the v1.1 list writes ``created`` and ``last_used``
    without an offset (not documented; +05:30 is the zone of the pages' request examples)."""
    comma_ids: CommaIds = "refuse"
    """``GET /v2/coupon/series?ids=1,2``: ``"refuse"`` (400, code 755; no page shows the comma
    form) or ``"accept"``. The documented form, ``ids=1&ids=2``, is always accepted."""
    put_requires_org_id: bool = True
    """Refuse a PUT whose body has no integer ``orgId`` (400; the Update page's error table)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` when a switch holds a value the sandbox cannot use."""
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be within 0..1, not {self.failure_rate}")
        scripted = [*self.fail_next, *(m for ms in self.fail_next_for.values() for m in ms)]
        for mode in (*self.failure_modes, *scripted):
            if mode not in ALL_FAILURE_MODES:
                raise ValueError(f"unknown failure mode {mode!r}; known: {ALL_FAILURE_MODES}")
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
        if not 400 <= self.busy_status <= 599:
            raise ValueError(f"busy_status must be a 4xx or 5xx status, not {self.busy_status}")
        if self.busy_code not in RETRY_LATER_CODES:
            raise ValueError(f"busy_code must be a retry-later code, not {self.busy_code}")
        if self.list_default not in ("all", "active"):
            raise ValueError(f"list_default must be 'all' or 'active', not {self.list_default!r}")
        if self.comma_ids not in ("refuse", "accept"):
            raise ValueError(f"comma_ids must be 'refuse' or 'accept', not {self.comma_ids!r}")
        if not -14 * 60 <= self.list_time_offset_minutes <= 14 * 60:
            raise ValueError("list_time_offset_minutes must be within -840..840")


__all__ = ["ALL_FAILURE_MODES", "FAILURE_MODES", "RETRY_LATER_CODES", "FailureMode", "Faults"]
