"""Reading the API's answers: pure functions over parsed bodies, no I/O.

A body that is not what the API documents raises ``Unexpected`` with a short description;
the client turns it into ``BadResponse`` (or ``AmbiguousCreate`` for a create), redacted.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

# API error codes that mean "no such series": a GET batch answering one is split to find it.
UNKNOWN_SERIES_CODES = frozenset({707, 755})
# Statuses a proxy or server gives for a request (URL) too large: the batch is too big.
TOO_LARGE_STATUSES = frozenset({413, 414})
_TRIM = 300
_TOO_MANY = re.compile(
    r"\b(at most|maximum|max|up to|limit|too many|exceed\w*)\b.*\b(ids?|series)\b"
    r"|\b(ids?|series)\b.*\b(at most|maximum|max|up to|limit\w*|too many|exceed\w*)\b",
    re.IGNORECASE,
)
_STATED_LIMIT = re.compile(
    r"\b(?:at most|maximum(?: of)?|max|up to|limit(?: of| is)?)\s*:?\s*(\d+)", re.IGNORECASE
)


class Unexpected(Exception):
    """A body that is not what the API documents; the message says what was expected."""


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def json_or_text(response: httpx.Response) -> Any:
    if not response.content:
        return ""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return response.text


def api_errors(body: Any) -> tuple[tuple[int, ...], str]:
    """The API's own error codes and messages from an answer, as documented."""
    if not isinstance(body, dict):
        return (), ""
    entries = body.get("errors")
    if entries is None and isinstance(body.get("response"), dict):  # v1.1 answers
        status = body["response"].get("status")
        entries = [status] if isinstance(status, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    codes: list[int] = []
    messages: list[str] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        code = entry.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            codes.append(code)
        elif isinstance(code, str) and code.strip().lstrip("-").isdigit():
            codes.append(int(code))
        message = entry.get("message")
        if isinstance(message, str) and message:
            messages.append(message)
    if not messages and isinstance(body.get("message"), str):
        messages.append(body["message"])
    return tuple(codes), "; ".join(messages)


def api_suffix(codes: tuple[int, ...], api_message: str) -> str:
    """``: [729] invalid redemption range``, or nothing when the answer said nothing."""
    if not codes and not api_message:
        return ""
    listed = f"[{', '.join(str(c) for c in codes)}] " if codes else ""
    return f": {listed}{api_message}".rstrip()


def trim(value: Any) -> str:
    """A short rendering of a body for a message."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= _TRIM else text[: _TRIM - 3] + "..."


# ---------------------------------------------------------------------------- reads


def read_entities(body: Any, batch: list[int]) -> tuple[dict[int, dict[str, Any]], list[Any]]:
    """The series of a ``GET /v2/coupon/series?ids=...`` answer that were asked for, and
    the warnings (the API's, plus one per series returned that was not asked for)."""
    if (
        not isinstance(body, dict)
        or "entity" not in body
        or not isinstance(body["entity"], list | None)
    ):
        raise Unexpected(f'expected {{"entity": [...], "warnings": [...]}}, got {trim(body)}')
    raw_warnings = body.get("warnings") or []
    warnings = list(raw_warnings) if isinstance(raw_warnings, list) else [raw_warnings]
    asked = set(batch)
    found: dict[int, dict[str, Any]] = {}
    for entity in body.get("entity") or []:
        if not isinstance(entity, dict) or not is_id(entity.get("id")):
            raise Unexpected(f"an entity is not a series with an integer id: {trim(entity)}")
        series_id = entity["id"]
        if series_id in asked:
            found[series_id] = entity
        else:
            warnings.append(f"the API returned series {series_id}, which was not asked for")
    return found, warnings


def batch_refused_for_size(*, status: int | None, codes: tuple[int, ...], message: str) -> bool:
    """True when a refused GET says it asked for too many ids at once.

    The largest batch is not documented: a 413/414 (the URL too long for a proxy), or a 400
    whose message speaks of a limit on ids ("At most 100 ids per call").
    """
    if status in TOO_LARGE_STATUSES:
        return True
    if UNKNOWN_SERIES_CODES.intersection(codes):
        return False
    return status == 400 and bool(_TOO_MANY.search(message))


def stated_limit(message: str) -> int | None:
    """The largest batch a refusal states ("at most 100 ids"), when it states one."""
    match = _STATED_LIMIT.search(message)
    return int(match.group(1)) if match else None
