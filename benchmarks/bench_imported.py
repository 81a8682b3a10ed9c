"""What owning every defaulted field costs a plan: imported files (``owns: all``) against the
same files without it.

Run: ``.venv/bin/python benchmarks/bench_imported.py [--n 1000] [--repeat 5]``

Writes N imported files (the documented answers of ``tests/data/evidence/``, each with its own
codes) twice: as ``import`` writes them (``reconciler: owns: all``: about 60 fields declared a
series, most held at the server's default) and the same without ``owns:`` (about 15). Then,
alternating the two so the machine's drift touches both alike, it times loading and
validating the folder, and planning each series against its live answer (no change expected),
and prints each figure as a ratio of the two, with the median of ``--repeat`` runs.

The plan compares a field by its canonical form only when the two raw values differ
(``diff_fields``): a held default is almost always the very value the server answers, so
holding 45 more fields costs the compare little. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.engine.planner import plan_series  # noqa: E402
from reconciler.files.importer import file_fields, render_file  # noqa: E402
from reconciler.files.loader import load_series  # noqa: E402

EVIDENCE = ROOT / "tests" / "data" / "evidence"


def documented_answers() -> list[dict[str, Any]]:
    gets = json.loads((EVIDENCE / "gets.json").read_text(encoding="utf-8"))
    return [
        json.loads((EVIDENCE / "gold_877510.json").read_text(encoding="utf-8")),
        gets[0]["entity"][0],
        gets[1]["entity"][0],
        json.loads((EVIDENCE / "update_pair.json").read_text(encoding="utf-8"))["ans"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    answers = documented_answers()
    lives: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        roots = {mode: Path(tmp) / mode for mode in ("all", "written")}
        for root in roots.values():
            root.mkdir()
        for i in range(args.n):
            live = {
                **answers[i % len(answers)],
                "id": i + 1,
                "discountCode": f"C{i}",
                "seriesCode": f"S{i}",
            }
            lives[f"s{i}"] = live
            fields = file_fields(live=live, defaults={})
            for mode, root in roots.items():
                text = render_file(fields=fields, header="bench", owns_all=mode == "all")
                (root / f"s{i}.yaml").write_text(text, encoding="utf-8")

        def run(mode: str) -> tuple[float, float, int]:
            start = time.perf_counter()
            loaded = load_series(roots[mode])
            loaded_at = time.perf_counter()
            declared = 0
            for series in loaded.series:
                planned = plan_series(
                    series, live=lives[series.key], series_id=1, rules={}, digest=False
                )
                assert not planned.changes, planned.changes
                declared += len(series.declared)
            return loaded_at - start, time.perf_counter() - loaded_at, declared

        times: dict[str, list[tuple[float, float, int]]] = {"all": [], "written": []}
        for _ in range(args.repeat):
            for mode in ("written", "all"):
                times[mode].append(run(mode))

    def median(mode: str, part: int) -> float:
        return statistics.median(t[part] for t in times[mode])

    per = {mode: times[mode][0][2] / args.n for mode in times}
    print(f"{args.n} imported series, median of {args.repeat} runs each")
    print(f"fields declared a series: owns all {per['all']:.0f}, written {per['written']:.0f}")
    for name, part in (("load + validate", 0), ("compare with live", 1)):
        held, written = median("all", part), median("written", part)
        print(
            f"{name}: owns all {held:.3f} s, written {written:.3f} s, "
            f"ratio owns all / written: {held / written:.2f}"
        )
    total = statistics.median(t[0] + t[1] for t in times["all"]) / statistics.median(
        t[0] + t[1] for t in times["written"]
    )
    print(f"load + compare: ratio owns all / written: {total:.2f}")


if __name__ == "__main__":
    main()
