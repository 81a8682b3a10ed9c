"""What the reviewer's plan and the ledger cost: the figures behind issue 23's choices.

Run: ``.venv/bin/python benchmarks/bench_review.py [--n 2000] [--applied 200] [--repeat 3]``

a. the ledger's line per series (appended as each series ends; the record's first and last
   lines are fsynced) against the state journal's line per create (``StateStore.record_id``,
   fsynced each): the kind of append the tool already pays for, so the ratio says what the
   ledger adds;
b. an apply of ``--applied`` updates against the in-process sandbox, with its ledger record,
   against the same apply with the record left out (the ledger's share of an apply);
c. the reviewer's markdown of a plan of N changes and N warnings (summary rows riskiest first,
   warnings grouped, the budget) against ``Plan.to_json`` of the same plan (a baseline that
   walks every value once).

Every figure is a ratio against a baseline measured in the same run. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from reconciler import review_service, service  # noqa: E402
from reconciler.engine.diff import FieldChange  # noqa: E402
from reconciler.engine.facts import Business, Status, Window  # noqa: E402
from reconciler.engine.ledger import Ledger, Provenance  # noqa: E402
from reconciler.engine.plan import Action, Plan, PlanWarning, SeriesPlan  # noqa: E402
from reconciler.engine.result import Outcome, SeriesOutcome  # noqa: E402
from reconciler.engine.state import StateStore  # noqa: E402
from reconciler.render.markdown import plan_markdown  # noqa: E402

SERIES = """\
description: {description}
discountCode: {code}
validTillDate: 2030-09-30T00:00:00+05:30
anyUser: true
discountValue: {value}
smsTemplate: "Hi {{{{first_name}}}}, {{{{voucher}}}}"
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: ABS
"""


def best(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def ledger_lines(n: int, repeat: int) -> None:
    def ledger() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            recorder = Ledger(Path(tmp) / "x.ledger.jsonl").begin(
                environment="bench", started_at="t", provenance=Provenance(), plan_digest="d"
            )
            for i in range(n):
                recorder.outcome(SeriesOutcome(f"k/{i}", Action.UPDATE, Outcome.DONE, i + 1))

    def journal() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = StateStore(path=Path(tmp) / "x.json", environment="bench")
            for i in range(n):
                store.record_id(f"k/{i}", i + 1)
            store.compact()

    took = best(repeat, ledger)
    base = best(repeat, journal)
    print(f"a. a ledger record of {n:,} series: {took:.3f}s, {took / n * 1e3:.2f} ms a series")
    print(f"   baseline: {n:,} state journal lines (fsynced each): {base:.3f}s")
    print(f"   ratio ledger / journal: {took / base:.2f}")


def apply_with_and_without_ledger(n: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        series = root / "series"
        series.mkdir()
        for i in range(n):
            (series / f"b{i:04d}.yaml").write_text(
                SERIES.format(description=f"s{i}", code=f"BENCH{i}", value=10)
            )
        os.environ["RECONCILER_SANDBOX_DIR"] = str(root / "sandbox")
        # --force: every series is updated each time (the update-share rail would refuse).
        request = service.ApplyRequest(directory=series, sandbox=True, force=True)
        service.apply(request, confirm=lambda _plan: True)  # the creates
        version = [10]

        def one_apply() -> None:
            version[0] += 1
            for i in range(n):
                (series / f"b{i:04d}.yaml").write_text(
                    SERIES.format(description=f"s{i}", code=f"BENCH{i}", value=version[0])
                )
            result = service.apply(request, confirm=lambda _plan: True)
            assert result is not None and result.ok

        with_ledger = [best(1, one_apply) for _ in range(repeat)]
        original = review_service.recorded
        names = vars(service)

        async def unrecorded(run: Any, *, check: Any, on_progress: Any, **_: Any) -> Any:
            check()
            return await run(on_progress)

        names["recorded"] = unrecorded
        try:
            without = [best(1, one_apply) for _ in range(repeat)]
        finally:
            names["recorded"] = original
        records = len(Ledger(root / "sandbox" / "state.ledger.jsonl").records())
    took, base = statistics.median(with_ledger), statistics.median(without)
    print(f"b. apply of {n:,} updates (in-process sandbox), median of {repeat}:")
    print(f"   with its ledger record: {took:.2f}s; baseline without: {base:.2f}s")
    print(f"   ratio with / without: {took / base:.2f} ({records} records written)")


def review_plan(n: int) -> Plan:
    series = [
        SeriesPlan(
            key=f"bulk/{i:05d}",
            file=f"series/bulk/{i:05d}.yaml",
            action=Action.UPDATE,
            series_id=100000 + i,
            changes=(
                FieldChange("description", f"old {i}", f"new {i}"),
                FieldChange("discountValue", i, i + 1),
            ),
            desired={"description": f"new {i}", "discountValue": i + 1},
            live_digest="l" * 64,
            live_issued=i,
            business=Business(
                status=Status.ACTIVE,
                issued=i,
                redeemed=i // 2,
                discount_code=f"C{i}",
                before=Window("2026-01-01", "2026-12-31"),
                after=Window("2026-01-01", "2027-12-31"),
                impacts=(f"{i} coupons already issued from this series",),
            ),
        )
        for i in range(n)
    ]
    warnings = [
        PlanWarning(
            f"validTillDate 2024-01-{1 + i % 28:02d}T00:00:00Z is already past: ended",
            file=f"series/old/{i}.yaml",
            line=6,
        )
        for i in range(n)
    ]
    return Plan(
        environment="bench",
        tool_version="0",
        created_at="2026-11-23T10:00:00Z",
        desired_digest="d",
        series=tuple(series),
        warnings=tuple(warnings),
    )


def rendering(n: int, repeat: int) -> None:
    plan = review_plan(n)
    took = best(repeat, lambda: plan_markdown(plan))
    base = best(repeat, plan.to_json)
    print(f"c. markdown of {n:,} changes and {n:,} warnings: {took:.3f}s")
    print(f"   baseline Plan.to_json of the same plan: {base:.3f}s")
    print(f"   ratio markdown / to_json: {took / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--applied", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ledger_lines(args.n, args.repeat)
    apply_with_and_without_ledger(args.applied, args.repeat)
    rendering(args.n, args.repeat)


if __name__ == "__main__":
    main()
