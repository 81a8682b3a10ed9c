"""Hand-built plans, apply results and problems for the renderer tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reconciler.engine.diff import FieldChange, NestedChange
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


def scenarios() -> dict[str, Plan]:
    """Every plan with a golden file, by name."""
    return {
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
