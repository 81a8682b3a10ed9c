"""The rules between the fields of one series, and between series files.

``check_series`` runs on one series in API form, the settings' defaults merged under it:
the fields a create requires, the catalogue's ``RULES`` (reported at the line of their
field), the affix pattern, the size of a CATEGORY product list, and the rules between dates.
``check_across`` runs on every series of one environment: a code two files use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

from reconciler.files.options import RESERVED_KEY
from reconciler.files.source import Source
from reconciler.files.yamlsafe import DocPath
from reconciler.model import catalogue
from reconciler.model.canonical import parse_datetime, stored_value
from reconciler.model.catalogue import BY_NAME, MAX_CATEGORY_IDS
from reconciler.model.desired import DesiredSeries
from reconciler.problems import Problem, Severity


def check_series(
    fields: Mapping[str, Any],
    *,
    origins: Mapping[str, Source],
    file: str,
    invalid: frozenset[str] = frozenset(),
    today: date | None = None,
) -> list[Problem]:
    """The rules between the fields of one series, in API form, defaults merged.

    ``origins`` says where each field was written (the series file or the settings'
    defaults); ``invalid`` names fields that already have an error, so that a wrong value
    is not reported a second time as missing.
    """
    problems: list[Problem] = []

    def at(
        name: str, message: str, *, severity: Severity = Severity.ERROR, path: DocPath = ()
    ) -> None:
        source = origins.get(name)
        if source is None:
            problems.append(Problem(file, 0, 0, message, severity, name))
        else:
            problems.append(source.problem((name, *path), message, severity=severity))

    def present(name: str) -> bool:
        return fields.get(name) is not None

    for name in catalogue.required_on_create():
        if name in invalid:
            continue
        doc = BY_NAME[name].doc.rstrip(".")
        if not present(name):
            at(name, f"{name} is missing: every series needs it to be created ({doc})")
        elif isinstance(fields[name], str) and not fields[name].strip():
            # The API refuses a blank mandatory text as if it were missing (error 744).
            at(name, f"{name} is empty: every series needs one ({doc})")

    for rule in catalogue.broken_rules(fields):
        if rule.field in invalid or any(name in invalid for name in rule.reads):
            continue  # a wrong value is reported once, where it was written
        at(rule.field, rule.message.format_map(fields), severity=rule.severity)

    for name in ("couponPrefix", "couponSuffix"):
        # Checked here rather than with the field, so that a bad affix is reported with the
        # rules above (DISC_CODE only) instead of hiding them.
        affix, pattern = fields.get(name), BY_NAME[name].pattern
        if isinstance(affix, str) and affix and pattern and not re.match(pattern, affix):
            at(name, f"{name} {affix!r} must be at most 10 characters of letters, digits, - and _")

    products = fields.get("productInfo")
    if isinstance(products, list):
        for i, item in enumerate(products):
            if (
                isinstance(item, Mapping)
                and item.get("productType") == "CATEGORY"
                and isinstance(item.get("productIds"), list)
                and len(item["productIds"]) > MAX_CATEGORY_IDS
            ):
                at(
                    "productInfo",
                    f"productInfo CATEGORY lists {len(item['productIds']):,} "
                    f"product ids: at most {MAX_CATEGORY_IDS:,}",
                    path=(i, "productIds"),
                )

    # The date rules stay here: they need the date parser (canonical), which sits above the
    # catalogue. A warning, not an error, for validTillDate before redemptionValidFrom: see
    # below.
    till = _moment(fields.get("validTillDate"))
    start = _moment(fields.get("redemptionValidFrom"))
    if till is not None and start is not None and till < start:
        # A warning: moving validTillDate is the documented way to end a series early, and a
        # series ended before its redemption started is one the CRM holds and import writes.
        at(
            "validTillDate",
            f"validTillDate {fields['validTillDate']} is before "
            f"redemptionValidFrom {fields['redemptionValidFrom']}: no coupon can ever be "
            "redeemed (fine for a series ended early; otherwise correct one of the dates)",
            severity=Severity.WARNING,
        )
    if till is not None:
        day = (today or datetime.now(UTC).date()).isoformat()
        kept = stored_value(BY_NAME["validTillDate"], fields["validTillDate"])
        if isinstance(kept, str) and kept[:10] < day:
            at(
                "validTillDate",
                f"validTillDate {fields['validTillDate']} is already past: "
                "the series has ended (to end a series on purpose, use retire: true under "
                f"{RESERVED_KEY}:)",
                severity=Severity.WARNING,
            )
    return problems


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


# The identity fields that are unique in the org (genericCode is shared by design).
UNIQUE_FIELDS: Final = tuple(n for n in catalogue.identity_fields() if n != "genericCode")


def check_across(series: Sequence[DesiredSeries]) -> list[Problem]:
    """Rules between series files: a discountCode or seriesCode in two files.

    A seriesCode is unique in the org: two files with one are an error. A discountCode is
    not (series 877510 and 927443 of one org share gold1234): two files with one are a
    warning when each declares a seriesCode of its own, which tells them apart (an imported
    file always does), and an error otherwise.
    """
    problems: list[Problem] = []
    for name in UNIQUE_FIELDS:
        users: dict[Any, list[DesiredSeries]] = {}
        for one in series:
            value = one.fields.get(name)
            if isinstance(value, str) and value:
                users.setdefault(value, []).append(one)
        for value, holders in users.items():
            if len(holders) < 2:
                continue
            told_apart = name == "discountCode" and _own_series_codes(holders)
            for one in holders:
                others = _some_files([o.file for o in holders if o is not one])
                line = one.lines.get(name, 0)
                message = f"{name} {value!r} is also used by {others}: " + (
                    "the CRM allows it, and each file's seriesCode tells the series apart, "
                    "but a till cannot: give each its own unless they are meant to share it"
                    if told_apart
                    else "each series needs its own"
                    + (" (or a seriesCode of its own)" if name == "discountCode" else "")
                )
                severity = Severity.WARNING if told_apart else Severity.ERROR
                problems.append(Problem(one.file, line, 1 if line else 0, message, severity, name))
    return problems


def _own_series_codes(holders: Sequence[DesiredSeries]) -> bool:
    codes = [h.fields.get("seriesCode") for h in holders]
    named = [c.strip() for c in codes if isinstance(c, str) and c.strip()]
    return len(named) == len(holders) == len(set(named))


def _some_files(files: list[str], *, shown: int = 3) -> str:
    # A few names and a count: naming every other file on each line grows as n squared.
    head = ", ".join(files[:shown])
    return head + (f" and {len(files) - shown:,} other files" if len(files) > shown else "")


__all__ = ["UNIQUE_FIELDS", "check_across", "check_series"]
