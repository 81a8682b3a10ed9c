"""Recording a create in the state: the cost of one more create as the state grows.

Run: ``.venv/bin/python benchmarks/bench_state.py`` (a few seconds).

An apply records each create as a new ``State`` (an intent, the id, the marker, the fields,
the intent cleared). The figure is the time of those five steps for one more create when the
state already holds 1,000, 10,000 and 20,000 ids, against the **baseline** measured in the
same run: the same steps done by copying every id map once per step, as the state did before
its maps became persistent. O(1) a create: the figure does not grow with the ids; the baseline
does (linearly). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from reconciler.engine.state import Intent, IntentStatus, State  # noqa: E402


def persistent_steps(state: State, key: str, series_id: int) -> State:
    state = state.with_intent(Intent(key, IntentStatus.PENDING, "2026-01-01T00:00:00Z"))
    state = state.with_id(key, series_id).with_unmarked(key, unmarked=True)
    state = state.with_unmarked(key, unmarked=False).with_fields(key, ("description",))
    return state.without_intent(key)


Maps = tuple[dict[str, int], dict[str, object], dict[str, tuple[str, ...]]]


def copying_steps(maps: Maps, key: str, series_id: int) -> Maps:
    """The same five steps as the state made them before: a copy of a map at every step."""
    ids, intents, fields = maps
    intents = {**intents, key: "pending"}
    ids = {k: v for k, v in ids.items() if v != series_id}
    ids[key] = series_id
    intents = {k: v for k, v in intents.items() if k != key}
    fields = {**fields, key: ("description",)}
    return ids, intents, fields


def per_create(work: Callable[[int], None], creates: int, repeat: int) -> float:
    """Microseconds a create, the best of ``repeat`` rounds of ``creates`` creates."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(creates):
            work(i)
        best = min(best, (time.perf_counter() - started) / creates)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=1000, help="creates timed per size (1000)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best is kept (5)")
    args = parser.parse_args()
    print(f"one more create, best of {args.repeat} x {args.creates}")
    first: tuple[float, float] | None = None
    for size in (1_000, 10_000, 20_000):
        ids = {f"group/series-{i:06d}": 100_000 + i for i in range(size)}
        fields = dict.fromkeys(ids, ("description",))
        holder = [State(environment="bench", ids=ids, fields=fields)]
        holder[0].key_of(0)  # the id → key map, built once per state

        def persistent(i: int, holder: list[State] = holder) -> None:
            holder[0] = persistent_steps(holder[0], f"new/{i}", 900_000 + i)

        maps: list[Maps] = [(dict(ids), {}, dict(fields))]

        def copying(i: int, maps: list[Maps] = maps) -> None:
            maps[0] = copying_steps(maps[0], f"new/{i}", 900_000 + i)

        now = per_create(persistent, args.creates, args.repeat)
        before = per_create(copying, args.creates, args.repeat)
        first = first or (now, before)
        print(
            f"   {size:>6,} ids: {now:7.1f} µs (x{now / first[0]:.2f} the 1,000-id figure); "
            f"copying the maps: {before:8.1f} µs (x{before / first[1]:.2f}); "
            f"{before / now:.0f}x faster"
        )


if __name__ == "__main__":
    main()
