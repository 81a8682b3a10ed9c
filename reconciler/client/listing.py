"""Reading the v1.1 list (``GET /v1.1/coupon/series``) as its page documents it, completely.

The list is what tells the tool which series exist, so a create follows from what it does
*not* hold: anything less than a complete, successful answer must never read as "this
series does not exist". Pure functions over parsed bodies; the client makes the calls.

What the page's example (``v1_1_list_example``) shows, and what is checked here:

- ``response.status.success`` is ``"true"``: a ``"false"`` inside a 200 is a failure, never
  an empty org (``ListFailed``);
- every series carries ``item_status.success`` ``"true"`` and an id (a numeric string);
- one series comes as an object, several as a list; every value is a string; the creation
  time is ``created`` (``"2016-12-09 08:35:15"``: the server's own zone, no offset), the
  counts are under ``coupons``; there is no generic code;
- ``expired=true`` lists expired series, ``expired=false`` active ones. What no parameter
  gives is not documented, so the client asks both and merges them by id; an answer that
  plainly ignores its parameter (an expired=true answer holding a series valid next month)
  is not trusted to be complete either.

The answer is decoded lean (``decode_list``): each series keeps only the fields read here
as soon as it is decoded, so the 58 fields a series of the example carries (19 MB of JSON at
10,000 series) are never all held at once. What is checked is the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Final

from reconciler.client.answers import Unexpected, trim
from reconciler.model.ports import ListedSeries, Listing

# A series' last day, in the list's own words, may sit a day either side of this machine's
# (the server's zone is not documented): only a series further off than this proves that an
# answer ignored its ``expired`` parameter.
_DAY_MARGIN: Final = timedelta(days=1)


# Every key this module reads, at any depth of the answer: the envelope, the status, and
# each series' fields, its ``coupons`` and its ``item_status``. ``decode_list`` keeps these.
_READ: Final = frozenset(
    {
        *("response", "status", "success", "code", "message", "series", "items", "item"),
        *("id", "item_status", "series_code", "discount_code", "description", "created"),
        *("valid_till_date", "coupons", "issued", "redeemed"),
    }
)


class ListFailed(Unexpected):
    """A list answer that says, or shows, that it is not the complete list asked for."""


def decode_list(content: bytes) -> Any:
    """A v1.1 list answer parsed as ``json.loads`` would, except that every object carrying
    ``item_status`` (a series) keeps only the keys this module reads (``_READ``): 8 of 58.

    Objects are decoded innermost first, so a series' other fields are dropped the moment it
    is complete: the answer's peak is its text and a few fields a series, not every field of
    every series (+78 MB at 10,000 series, decoded whole). Since no key that is read is ever
    dropped, wherever it sits, ``read_list`` reads and refuses exactly as before; only the
    objects an error message quotes are shorter. (An ``object_hook`` filters the dict the
    decoder built in C: a third less CPU than building each from its pairs in Python.)
    """
    return json.loads(content, object_hook=_lean)


def _lean(whole: dict[str, Any]) -> dict[str, Any]:
    # A repeated key keeps its last value, at its first place: the decoder's dict, as is.
    if "item_status" not in whole:  # not a series: kept whole (an emptied object would read
        return whole  # as an empty org where it should be refused)
    return {name: value for name, value in whole.items() if name in _READ}


def read_list(body: Any, *, expired: bool, today: date) -> tuple[ListedSeries, ...]:
    """Every series of one v1.1 list answer (``expired`` as asked), as identity reads them.

    Raises ``ListFailed`` when the answer is not a complete success, ``Unexpected`` when it
    is not the documented shape at all.
    """
    response = body.get("response") if isinstance(body, dict) else None
    if not isinstance(response, dict):
        raise Unexpected(
            f'expected {{"response": {{"status": ..., "series": ...}}}}, got {trim(body)}'
        )
    _check_status(response.get("status"))
    series = response.get("series")
    if not isinstance(series, dict) or "items" not in series:
        raise Unexpected(f"expected response.series.items, got {trim(series)}")
    listed = tuple(_listed(item) for item in _items(series["items"]))
    _check_filter(listed, expired=expired, today=today)
    return listed


def merge(*answers: Iterable[ListedSeries]) -> Listing:
    """The answers as one list, each id once (a later answer's copy wins: the series expired
    between the calls, or sits on the day the two answers share)."""
    by_id: dict[int, ListedSeries] = {}
    for answer in answers:
        for series in answer:
            by_id[series.series_id] = series
    return Listing(series=tuple(by_id.values()))


def _check_status(status: Any) -> None:
    if not isinstance(status, dict):
        raise ListFailed(f"the answer has no response.status: {trim(status)}")
    if not _true(status.get("success")):
        said = ", ".join(
            f"{k} {status[k]!r}" for k in ("success", "code", "message") if k in status
        )
        raise ListFailed(f"the server answered 200 but said the list failed ({said})")


def _items(items: Any) -> list[dict[str, Any]]:
    if items in (None, "", [], {}):  # no series (the page shows no empty org: any of these)
        return []
    if not isinstance(items, dict) or "item" not in items:
        raise Unexpected(f"expected response.series.items.item, got {trim(items)}")
    item = items["item"]
    if isinstance(item, dict):  # one series comes as an object, not a list of one
        return [item]
    if not isinstance(item, list) or not all(isinstance(i, dict) for i in item):
        raise Unexpected(f"expected series in response.series.items.item, got {trim(item)}")
    return item


def _listed(item: dict[str, Any]) -> ListedSeries:
    sid = _id(item.get("id"))
    if sid is None:
        raise ListFailed(f"a listed series has no integer id: {trim(item)}")
    status = item.get("item_status")
    if not isinstance(status, dict) or not _true(status.get("success")):
        said = status.get("message") if isinstance(status, dict) else None
        raise ListFailed(
            f"series {sid} was listed with item_status "
            f"{trim(status) if said is None else repr(said)}: the list is not complete"
        )
    raw = item.get("coupons")
    coupons: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return ListedSeries(
        series_id=sid,
        series_code=_text(item.get("series_code")),
        discount_code=_text(item.get("discount_code")),
        description=_text(item.get("description")),
        created=_text(item.get("created")),
        valid_till=_text(item.get("valid_till_date")),
        issued=_count(coupons.get("issued")),
        redeemed=_count(coupons.get("redeemed")),
    )


def _check_filter(listed: tuple[ListedSeries, ...], *, expired: bool, today: date) -> None:
    """Refuse an answer that plainly did not filter as asked: it may be any list at all."""
    for series in listed:
        till = _day(series.valid_till)
        if till is None:
            continue
        if expired and till > today + _DAY_MARGIN:
            wrong = (
                f"series {series.series_id}, valid till {series.valid_till}, in the expired list"
            )
        elif not expired and till < today - _DAY_MARGIN:
            wrong = f"series {series.series_id}, valid till {series.valid_till}, in the active list"
        else:
            continue
        raise ListFailed(
            f"the server did not filter by expired={'true' if expired else 'false'} as "
            f"documented ({wrong}): what it lists cannot be read as complete"
        )


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


__all__ = ["ListFailed", "decode_list", "merge", "read_list"]
