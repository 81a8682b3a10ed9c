"""Hand-built plans, apply results and problems for the renderer tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from reconciler.engine.diff import FieldChange, NestedChange
from reconciler.engine.facts import Business, Level, Overlap, PolicyFinding, Status, Window
from reconciler.engine.plan import (
    Action,
    Blocked,
    IgnoredField,
    Move,
    Orphan,
    Plan,
    PlanWarning,
    Rails,
    SeriesPlan,
    with_rails,
)
from reconciler.engine.result import ApplyResult, Outcome, SeriesOutcome
from reconciler.problems import Problem, Severity

HOSTILE = "@org/team <img src=x onerror=alert(1)> | ![x](http://evil) `code` #12\nnext line"


def plan(**kwargs: Any) -> Plan:
    base: dict[str, Any] = {
        "environment": "production",
        "tool_version": "0.1.0",
        "created_at": "2026-11-23T10:00:00Z",
        "desired_digest": "d" * 64,
    }
    base.update({k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})
    return Plan(**base)


def unchanged(key: str, series_id: int, **kwargs: Any) -> SeriesPlan:
    return SeriesPlan(
        key=key,
        file=f"series/{key}.yaml",
        action=Action.UNCHANGED,
        series_id=series_id,
        live_digest="l" * 64,
        live_issued=0,
        **kwargs,
    )


def create(key: str, desired: dict[str, Any], **kwargs: Any) -> SeriesPlan:
    return SeriesPlan(
        key=key,
        file=f"series/{key}.yaml",
        action=Action.CREATE,
        changes=tuple(FieldChange(name, None, value) for name, value in sorted(desired.items())),
        desired=desired,
        **kwargs,
    )


def update(key: str, series_id: int, *changes: FieldChange, **kwargs: Any) -> SeriesPlan:
    return SeriesPlan(
        key=key,
        file=f"series/{key}.yaml",
        action=Action.UPDATE,
        series_id=series_id,
        changes=tuple(sorted(changes, key=lambda c: c.field)),
        desired={c.field: c.after for c in changes},
        live_digest="l" * 64,
        live_issued=120,
        **kwargs,
    )


def background(n: int = 3) -> list[SeriesPlan]:
    return [unchanged(f"base/series-{i:02d}", 700000 + i) for i in range(n)]


SUMMER = {
    "description": "Summer sale: 10% off",
    "discountType": "PERC",
    "discountValue": 10,
    "validTillDate": "2026-08-31T23:59:59Z",
    "productInfo": [{"productType": "SKU", "productIds": [10, 20]}],
    "isSMSDisabled": True,
}


def review_plan() -> Plan:
    """A plan as a marketing reviewer meets it: a refused and an overridden policy finding,
    business facts from the live CRM, an overlap on the timeline, warnings of two kinds."""
    onam = update(
        "docs/onam",
        520591,
        FieldChange("discountValue", 10, 60),
        FieldChange("description", "Onam 10% off", "Onam 60% off"),
        business=Business(
            status=Status.ENDING,
            issued=1234,
            redeemed=56,
            days_left=12,
            discount_code="ONAM10",
            before=Window("2026-08-01", "2026-12-05"),
            after=Window("2026-08-01", "2026-12-05"),
            impacts=("1,234 coupons already issued from this series",),
            discount_type="PERC",
            discount_value=60,
        ),
    )
    vishu = update(
        "docs/vishu",
        520592,
        FieldChange("validTillDate", "2026-12-31T00:00:00Z", "2027-03-31T00:00:00Z"),
        business=Business(
            status=Status.ACTIVE,
            issued=300,
            redeemed=12,
            days_left=38,
            discount_code="VISHU",
            before=Window("2026-04-14", "2026-12-31"),
            after=Window("2026-04-14", "2027-03-31"),
            impacts=(
                "300 coupons already issued expire with the series (expiryStrategyType "
                "SERIES_EXPIRY: 'the coupon expires based on the rules defined for its "
                "series'), which now ends on 2027-03-31 instead of 2026-12-31",
            ),
            discount_type="ABS",
            discount_value=100,
        ),
    )
    sms = update(
        "docs/pongal",
        520593,
        FieldChange("smsTemplate", "Hi {{name}}", "Hello {{name}}"),
        business=Business(
            status=Status.ACTIVE,
            issued=0,
            redeemed=0,
            days_left=200,
            discount_code="PONGAL",
            before=Window("2026-01-14", "2027-06-11"),
            after=Window("2026-01-14", "2027-06-11"),
        ),
    )
    new = replace(
        create(
            "festive/diwali-20",
            {
                "description": "Diwali 20% off",
                "discountType": "PERC",
                "discountValue": 20,
                "discountCode": "DIWALI20",
                "validTillDate": "2026-11-30T00:00:00Z",
            },
        ),
        business=Business(
            status=Status.NEW,
            issued=0,
            redeemed=0,
            discount_code="DIWALI20",
            after=Window("2026-11-23", "2026-11-30"),
            discount_type="PERC",
            discount_value=20,
        ),
    )
    return plan(
        series=[onam, vishu, sms, new, *background()],
        policy=[
            PolicyFinding(
                "big-percentage",
                Level.APPROVE,
                "docs/onam",
                "discountValue 60% (PERC) is above 50% (more than 50% off needs the "
                "marketing lead)",
            ),
            PolicyFinding(
                "frozen-once-issued",
                Level.DENY,
                "docs/onam",
                "discountValue change(s) with 1,234 coupons already issued",
            ),
            PolicyFinding(
                "long-validity",
                Level.APPROVE,
                "docs/vishu",
                "valid 352 days (2026-04-14 to 2027-03-31), more than 300",
                override="extended for the new year campaign",
                by="asha",
            ),
            PolicyFinding(
                "description-style",
                Level.WARN,
                "festive/diwali-20",
                "the description does not match '^[A-Z][a-z]+ [0-9]+% off$'",
            ),
        ],
        overlaps=[
            Overlap("festive/diwali-20", "id 480001", "DIWALI20", "2026-11-23", "2026-11-30")
        ],
        warnings=[
            *(
                PlanWarning(
                    f"validTillDate 2024-0{i}-01T00:00:00Z is already past: the series has "
                    "ended (to end a series on purpose, use retire: true under reconciler:)",
                    file=f"series/old/expired-{i}.yaml",
                    line=6,
                )
                for i in range(1, 6)
            ),
            PlanWarning(
                "isValidationRequired is deprecated by the vendor: it may stop working; remove "
                "it unless you rely on it",
                file="series/docs/onam.yaml",
                line=12,
            ),
        ],
    )


def scenarios() -> dict[str, Plan]:
    """Every plan with a golden file, by name."""
    return {
        "review": review_plan(),
        "create": plan(series=[create("summer/sale-10", SUMMER), *background()]),
        "update_one_field": plan(
            series=[
                update("docs/onam", 520591, FieldChange("discountValue", 10, 15)),
                *background(),
            ]
        ),
        "update_nested": plan(
            series=[
                update(
                    "docs/onam",
                    520591,
                    FieldChange(
                        "productInfo",
                        [{"productType": "SKU", "productIds": [10]}],
                        [{"productType": "SKU", "productIds": [10, 40]}],
                        nested=(NestedChange("productInfo[0].productIds[1]", None, 40),),
                    ),
                    FieldChange(
                        "targetUserDetails",
                        {"validMaxUserTransactionLimit": 2},
                        {"validMaxUserTransactionLimit": 3},
                        nested=(
                            NestedChange("targetUserDetails.validMaxUserTransactionLimit", 2, 3),
                        ),
                    ),
                    FieldChange("description", "Onam offer", None),
                    FieldChange("smsTemplate", "Hi {{name}}, " + "x" * 200, "Hello {{name}}"),
                ),
                *background(),
            ]
        ),
        "resets": plan(
            series=[
                update(
                    "docs/onam",
                    520591,
                    FieldChange("discountValue", 10, 15),
                    FieldChange("maxRedeem", 500, -1, note="no longer in the file: server default"),
                    FieldChange("expiryStrategyType", "DAYS", "SERIES_EXPIRY"),
                    FieldChange(
                        "expiryStrategyValue",
                        14,
                        1,
                        note="reset with expiryStrategyType SERIES_EXPIRY: coupons end with "
                        "the series: 1 is the only value allowed",
                    ),
                    FieldChange(
                        "storeIdsJson",
                        [101, 102],
                        [-1],
                        nested=(
                            NestedChange("storeIdsJson[0]", 101, -1),
                            NestedChange("storeIdsJson[1]", 102, None),
                        ),
                        note="no longer in the file: server default",
                    ),
                ),
                *background(),
            ]
        ),
        "no_changes": plan(series=background(5)),
        "orphan": plan(
            series=background(),
            orphans=[Orphan("old/diwali-2024", 480001, "Diwali 2024 — 20% off")],
        ),
        "rename": plan(
            series=[
                create("festive/diwali", {"description": "Diwali", "discountValue": 20}),
                *background(),
            ],
            moves=[
                Move(
                    "diwali",
                    "festive/diwali",
                    480001,
                    "the live series 480001 matches the new file on every declared field",
                )
            ],
        ),
        "blocked": plan(
            series=background(),
            blocked=[
                Blocked(
                    "winter/sale",
                    "series/winter/sale.yaml",
                    "a create was started on 2026-11-20 and its id was never recorded; import "
                    "the id (reconciler state import) or clear the intent",
                )
            ],
        ),
        "ignore_rules": plan(
            series=[
                update(
                    "docs/onam",
                    520591,
                    FieldChange("discountValue", 10, 15),
                    ignored=(
                        IgnoredField(
                            "maxRedeem", "ops raise it by hand", "series/reconciler.yaml", True
                        ),
                        IgnoredField(
                            "info", "free text kept in the CRM", "series/reconciler.yaml", False
                        ),
                    ),
                ),
                unchanged(
                    "base/series-00",
                    700000,
                    ignored=(
                        IgnoredField(
                            "maxRedeem", "ops raise it by hand", "series/reconciler.yaml", False
                        ),
                    ),
                ),
            ]
        ),
        "targets": plan(
            series=[update("docs/onam", 520591, FieldChange("discountValue", 10, 15))],
            targets=("docs/onam",),
        ),
        "warnings": plan(
            series=[
                update(
                    "docs/onam",
                    520591,
                    FieldChange("discountValue", 10.5, 10.25),
                    notes=("discountValue is kept in single precision by the server",),
                ),
                *background(),
            ],
            warnings=[
                PlanWarning(
                    "validTillDate 2026-08-31T23:59:59+05:30 is kept as a UTC day",
                    key="docs/onam",
                    file="series/docs/onam.yaml",
                    line=7,
                ),
                PlanWarning("the settings give no max_update_share; using 30%"),
            ],
        ),
        "rails": with_rails(
            plan(
                series=[
                    *(
                        update(
                            f"bulk/offer-{i:02d}", 610000 + i, FieldChange("discountValue", 10, 12)
                        )
                        for i in range(4)
                    ),
                    update("docs/vishu", 520592, FieldChange("maxCreate", -1, 100)),
                    *background(8),
                ]
            ),
            rails=Rails(max_update_share=0.3, share_min_series=10),
            now=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        ),
        "mixed": plan(
            series=[
                create("summer/sale-10", {"description": "Summer", "discountValue": 10}),
                update("docs/onam", 520591, FieldChange("discountValue", 10, 15)),
                update("docs/vishu", 520592, FieldChange("maxCreate", -1, 5000)),
                *background(40),
            ],
            orphans=[Orphan("old/thing", 1, "")],
        ),
    }


def apply_result() -> ApplyResult:
    """An apply with each outcome, a mismatch, notes, a forced rail, not converged."""
    after = plan(
        series=[
            update("docs/vishu", 520592, FieldChange("maxCreate", -1, 5000)),
            unchanged("summer/sale-10", 751412),
            unchanged("docs/onam", 520591),
        ]
    )
    return ApplyResult(
        environment="production",
        outcomes=(
            SeriesOutcome(
                "summer/sale-10",
                Action.CREATE,
                Outcome.DONE,
                series_id=751412,
                mismatches=(FieldChange("discountValue", 10.100000381469727, 10),),
            ),
            SeriesOutcome("docs/onam", Action.UPDATE, Outcome.DONE, series_id=520591),
            SeriesOutcome(
                "docs/vishu",
                Action.UPDATE,
                Outcome.SKIPPED,
                series_id=520592,
                message="changed in the CRM since the plan (check-and-set); plan again",
            ),
            SeriesOutcome(
                "docs/pongal",
                Action.UPDATE,
                Outcome.FAILED,
                series_id=520593,
                message="maxCreate is below the coupons already issued",
                status=400,
                codes=(1234, 1301),
            ),
            SeriesOutcome("docs/holi", Action.CREATE, Outcome.NOT_STARTED),
        ),
        after=after,
        interrupted=True,
        forced=("4 of 10 existing series would be updated (40%, more than the 30% allowed)",),
        notes=(
            "summer/sale-10: an interrupted create was found in the CRM and adopted (id 751412)",
        ),
    )


def converged_result() -> ApplyResult:
    return ApplyResult(
        environment="staging",
        outcomes=(SeriesOutcome("docs/onam", Action.UPDATE, Outcome.DONE, series_id=520591),),
        after=plan(environment="staging", series=[unchanged("docs/onam", 520591)]),
    )


def problems() -> list[Problem]:
    return [
        Problem("series/docs/onam.yaml", 4, 16, "discountValue: 150 is more than 100 for PERC"),
        Problem(
            "series/a,b:c.yaml",
            2,
            1,
            "unknown field 'discountVal'; did you mean 'discountValue'? 100% sure\nsecond line",
        ),
        Problem(
            "series/reconciler.yaml", 0, 0, "no environments declared", severity=Severity.WARNING
        ),
    ]
