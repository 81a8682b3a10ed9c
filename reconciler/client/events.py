"""What the client reports while it works (``on_event``), and what a batched read returns."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.ports import FetchResult


@dataclass(frozen=True)
class Retrying:
    """A call failed and will be tried again after ``delay_seconds``."""

    method: str
    path: str
    attempt: int  # the attempt that failed, from 1
    delay_seconds: float
    reason: str


@dataclass(frozen=True)
class RateLimitWait:
    """The client-side rate limit holds a call back for ``delay_seconds``."""

    delay_seconds: float


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
    """``count`` more calls are about to be made (the batches of a ``get_series``)."""

    count: int


@dataclass(frozen=True)
class CallDone:
    """A call got an answer (``status``) or failed in transport (``status`` "-")."""

    method: str
    status: str
    elapsed_seconds: float


ClientEvent = Retrying | RateLimitWait | TokenGenerated | BatchSizeLearned | CallsPlanned | CallDone


__all__ = [
    "BatchSizeLearned",
    "ClientEvent",
    "FetchResult",
    "RateLimitWait",
    "Retrying",
    "TokenGenerated",
]
