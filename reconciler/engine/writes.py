"""What a write sends and how its answer is read: PUT bodies, mismatches, outcomes. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.engine.diff import FieldChange, diff_fields
from reconciler.engine.plan import SeriesPlan
from reconciler.engine.result import Outcome, SeriesOutcome
from reconciler.errors import ApiError
from reconciler.model.catalogue import BY_NAME, FIELDS


def put_body(*, live: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The live series' writable fields with ``changes`` applied (PUT replaces everything).

    ``live`` is always a series as the API returned it to a read (never a create's answer,
    which is compared, not trusted).
    """
    body = {
        f.name: live[f.name]
        for f in FIELDS
        if f.writable and f.name in live and live[f.name] is not None
    }
    body.update(changes)
    return body


def mismatches(
    *, sent: Mapping[str, Any], answer: Mapping[str, Any], fields: Sequence[str]
) -> tuple[FieldChange, ...]:
    """Fields whose answered value is not what was sent (before: sent, after: answered).

    A field no documented answer carries (``Field.answered`` false) and this answer leaves
    out is not a mismatch: the server's answers never show it."""
    names = [
        n
        for n in fields
        if n in sent and not BY_NAME[n].set_on_update_only and (BY_NAME[n].answered or n in answer)
    ]
    return diff_fields(desired=answer, live=sent, fields=names)


def not_started(item: SeriesPlan) -> SeriesOutcome:
    return SeriesOutcome(item.key, item.action, Outcome.NOT_STARTED, item.series_id)


def failed(item: SeriesPlan, error: ApiError, *, extra: str = "") -> SeriesOutcome:
    return SeriesOutcome(
        key=item.key,
        action=item.action,
        outcome=Outcome.FAILED,
        series_id=item.series_id,
        message=str(error) + extra,
        status=error.status,
        codes=error.codes,
    )
