"""Benchmark: the dashboard's recompute after a widget change, per bundled scenario.

A widget change gives the explorer a scenario it has not seen, so its cache misses and it runs
our own code once: fold the widget values into the scenario, run it (run_scenario), price the
volume curve, the batch-share curve and the tornado, and build the five Plotly figures. This
script does exactly that, alternating between two edits (the batch share moved, then a volume)
so nothing is reused, and prints the median over N recomputes against the 100 ms budget.
Streamlit's own work (serialising the figures, the websocket, the browser) is not counted.

    python benchmarks/dashboard.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from costmodel.report import catalogue_for
from costmodel.ui import services

BUDGET_MS = 100.0


def recompute_ms(stem: str, repeat: int) -> tuple[float, float]:
    """(median, worst) milliseconds of the explorer's recompute for one bundled scenario."""
    scenario = services.load_bundled()[stem]
    catalogue = catalogue_for(scenario)  # cached by the page: it does not change with a widget
    first = scenario.workloads[0]
    edits = [
        [services.WorkloadEdit(batch_share=round(1 - first.batch_share * 0.5, 3))],
        [services.WorkloadEdit(count=first.requests.count * 1.1)],
    ]
    services.explore(scenario, catalogue)  # warm imports and the catalogue's lookups
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        edited = services.edited_scenario(scenario, edits[i % 2], None)
        services.explore(edited, catalogue)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="recomputes per scenario")
    args = parser.parse_args(argv)
    print(f"Recompute after a widget change (median of {args.repeat}; budget {BUDGET_MS:.0f} ms)")
    print(f"{'scenario':<26}{'median ms':>10}{'worst ms':>10}  within budget")
    all_within = True
    for path in services.bundled_scenario_paths():
        median, worst = recompute_ms(path.stem, args.repeat)
        within = median < BUDGET_MS
        all_within &= within
        print(f"{path.stem:<26}{median:>10.1f}{worst:>10.1f}  {'yes' if within else 'NO'}")
    return 0 if all_within else 1


if __name__ == "__main__":
    sys.exit(main())
