"""What the client reports while it works (``on_event``), and what a batched read returns."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.ports import FetchResult


@dataclass(frozen=True)
class Retrying:
    """A call failed and will be tried again after ``delay_seconds``.

    Sent when the wait begins (``left_seconds`` None), then about once a second while it
    lasts with the seconds left (``left_seconds``), so that a terminal can count down."""

    method: str
    path: str
    attempt: int  # the attempt that failed, from 1
    delay_seconds: float
    reason: str
    left_seconds: float | None = None

    @property
    def left(self) -> float:
        return self.delay_seconds if self.left_seconds is None else self.left_seconds


@dataclass(frozen=True)
class RateLimitWait:
    """The client-side rate limit (``limit`` calls in any ``window_seconds``; 0: not said)
    holds the call ``method`` ``path`` back for ``delay_seconds``; sent when the wait
    begins (``left_seconds`` None) and then about once a second with the seconds left."""

    delay_seconds: float
    left_seconds: float | None = None
    limit: int = 0
    window_seconds: float = 0.0
    method: str = ""
    path: str = ""

    @property
    def left(self) -> float:
        return self.delay_seconds if self.left_seconds is None else self.left_seconds


@dataclass(frozen=True)
class AwaitingAnswer:
    """A call sent ``waited_seconds`` ago has no answer yet: sent a few seconds after the
    send, then about once a second until it ends. ``timeout_seconds`` is how long the call
    waits without a byte before it gives up; ``host`` is scheme, host and port (no secret)."""

    method: str
    path: str
    host: str
    waited_seconds: float
    timeout_seconds: float
    attempt: int  # from 1


@dataclass(frozen=True)
class TokenGenerated:
    """A new OAuth token was generated; it lives ``ttl_seconds``."""

    ttl_seconds: float


@dataclass(frozen=True)
class BatchSizeLearned:
    """The server refused a read of ``refused_size`` ids at once: from now on, for the rest of
    the client's life, reads ask for at most ``batch_size`` ids (``reason``: the server's
    words). Worth showing: the configured ``batch_size`` is above what the server accepts."""

    batch_size: int
    refused_size: int
    reason: str


@dataclass(frozen=True)
class CallsPlanned:
    """``count`` more calls are about to be made (the batches of a ``get_series``, the two
    calls of a ``list_series``)."""

    count: int


@dataclass(frozen=True)
class CallDone:
    """A call got an answer (``status``) or failed in transport (``status`` "-")."""

    method: str
    status: str
    elapsed_seconds: float


ClientEvent = (
    Retrying
    | RateLimitWait
    | AwaitingAnswer
    | TokenGenerated
    | BatchSizeLearned
    | CallsPlanned
    | CallDone
)


__all__ = [
    "AwaitingAnswer",
    "BatchSizeLearned",
    "ClientEvent",
    "FetchResult",
    "RateLimitWait",
    "Retrying",
    "TokenGenerated",
]
