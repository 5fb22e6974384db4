"""``usage summary`` over large stores: pricing aggregates against pricing every row.

    python benchmarks/summary.py [--sizes 1000000 10000000] [--skip-rows-at 10000000]

Generates stores of each size under benchmarks/out/ (gitignored; reused while their
parameters match) with DuckDB SQL straight into the store's own tables (not through import):
five models (one with a long-context tier crossed by about 3% of its requests), 1% each of
errored, expired and canceled requests, US inference on a tenth of one model's requests,
twenty jobs, one batch per 10,000 requests over 60 days.

Each measurement is a whole process (a fresh interpreter per run, its peak RSS reported by a
launcher through ``RUSAGE_CHILDREN``); the time is taken inside it, from opening the store
read-only to the summary rendered as JSON, i.e. what ``costmodel usage summary --by X
--format json`` does, through the same library call: ``usage_summary`` (aggregates) or
``usage_summary_rows`` (the row-by-row reference). Prints each time and peak, the speed-up at
the largest size (target >= 10x), the largest/smallest time ratio of the aggregate path
(target < 3x) and whether both paths' totals are equal to the cent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
GENERATOR = 1
BY = ("model", "day", "job")
MIN_SPEEDUP = 10.0
MAX_GROWTH = 3.0

_LAUNCHER = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(done.stderr)
print(json.dumps({"rc": done.returncode, "stdout": done.stdout,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

# Models and their shares; dates from 2026-10-07 (claude-haiku-5-5's first price) on.
_ROWS_SQL = """
INSERT INTO requests
SELECT
    'msgbatch_bench_' || lpad(CAST(i // 10000 AS VARCHAR), 6, '0') AS batch_id,
    'job' || CAST(hash(i, 1) % 20 AS VARCHAR) || '-' || CAST(i AS VARCHAR) AS custom_id,
    kind AS result_type,
    CASE WHEN kind = 'errored' THEN 'overloaded_error' END AS error_type,
    CASE WHEN kind = 'succeeded' THEN model END AS model,
    CASE WHEN kind = 'succeeded' THEN input END AS input_tokens,
    CASE WHEN kind = 'succeeded' THEN CAST(hash(i, 3) % 1500 AS BIGINT) ELSE 0 END
        AS output_tokens,
    CASE WHEN kind = 'succeeded' THEN w5 + w1 ELSE 0 END AS cache_creation_input_tokens,
    CASE WHEN kind = 'succeeded' THEN w5 ELSE 0 END AS cache_write_5m_tokens,
    CASE WHEN kind = 'succeeded' THEN w1 ELSE 0 END AS cache_write_1h_tokens,
    CASE WHEN kind = 'succeeded' THEN CAST(hash(i, 4) % 3000 AS BIGINT) ELSE 0 END
        AS cache_read_tokens,
    CASE WHEN kind = 'succeeded' AND hash(i, 5) % 50 = 0 THEN 1 ELSE 0 END
        AS web_search_requests,
    0 AS web_fetch_requests,
    CASE WHEN kind = 'succeeded' THEN 'batch' END AS service_tier,
    CASE WHEN kind = 'succeeded' AND model = 'claude-haiku-5-5' AND hash(i, 6) % 10 = 0
         THEN 'us' WHEN kind = 'succeeded' THEN 'global' END AS inference_geo,
    CASE WHEN kind = 'succeeded' THEN 'standard' END AS speed,
    TIMESTAMP '2026-10-07 08:00:00' + to_days(CAST((i // 10000) % 60 AS INTEGER))
        AS batch_created_at,
    NULL AS batch_ended_at
FROM (
    SELECT i,
        CASE hash(i, 0) % 100 WHEN 0 THEN 'errored' WHEN 1 THEN 'expired'
             WHEN 2 THEN 'canceled' ELSE 'succeeded' END AS kind,
        ['claude-haiku-4-5', 'claude-sonnet-4-6', 'claude-haiku-5-5', 'claude-opus-4-5',
         'claude-sonnet-4-5-20250929'][CAST(hash(i, 7) % 5 AS INTEGER) + 1] AS model,
        -- about 3% of prompts over 100K (the long-context tier of claude-haiku-5-5)
        CASE WHEN hash(i, 2) % 33 = 0 THEN 100000 + CAST(hash(i, 8) % 60000 AS BIGINT)
             ELSE CAST(hash(i, 8) % 20000 AS BIGINT) END AS input,
        CAST(hash(i, 9) % 400 AS BIGINT) AS w5,
        CAST(hash(i, 10) % 100 AS BIGINT) AS w1
    FROM range(?) t(i)
)
"""
_BATCHES_SQL = """
INSERT INTO batches (batch_id, source, processing_status, created_at, requests, succeeded,
                     errored, canceled, expired, expected_requests, rejected_lines, complete,
                     imported_at)
SELECT batch_id, 'api', 'ended', min(batch_created_at), count(*),
       count(*) FILTER (WHERE result_type = 'succeeded'),
       count(*) FILTER (WHERE result_type = 'errored'),
       count(*) FILTER (WHERE result_type = 'canceled'),
       count(*) FILTER (WHERE result_type = 'expired'),
       count(*), 0, true, TIMESTAMP '2026-12-01 00:00:00'
FROM requests GROUP BY batch_id
"""


def store_of(size: int) -> Path:
    """benchmarks/out/summary_<size>.duckdb, generated unless one of these parameters is there."""
    from costmodel.adapters.store import open_store

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"summary_{size}.duckdb"
    sidecar = path.with_suffix(".json")
    wanted = {"size": size, "generator": GENERATOR}
    if path.exists() and sidecar.exists() and json.loads(sidecar.read_text()) == wanted:
        return path
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    with open_store(path, memory_limit="2GB") as store:
        con = store.writable_connection()
        con.execute(_ROWS_SQL, [size])
        con.execute(_BATCHES_SQL)
        con.execute("CHECKPOINT")
    sidecar.write_text(json.dumps(wanted))
    print(
        f"generated {path.relative_to(ROOT)} ({size:,} requests) in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return path


def work(path: Path, by: str, method: str) -> dict[str, Any]:
    """One summary, timed from opening the store to its JSON (in a child process)."""
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.adapters.store import open_store
    from costmodel.core.measured import usage_summary, usage_summary_rows

    catalogue = bundled_catalogue()
    run = usage_summary if method == "aggregate" else usage_summary_rows
    started = time.perf_counter()
    with open_store(path, read_only=True) as store:
        data = run(store, by=by, catalogue=catalogue).to_dict()
    text = json.dumps(data)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(data["rows"]),
        "totals": data["totals"],
        "bytes": len(text),
    }


def measure(path: Path, by: str, method: str) -> dict[str, Any]:
    worker = [sys.executable, __file__, "--child", str(path), by, method]
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *worker], capture_output=True, text=True, check=True
    )
    report = json.loads(launched.stdout)
    if report["rc"] != 0:
        sys.stderr.write(launched.stderr)
        raise SystemExit(f"{method} --by {by} on {path.name} failed (exit {report['rc']})")
    result: dict[str, Any] = json.loads(report["stdout"])
    result["peak_mb"] = report["maxrss_kb"] / 1024
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--skip-rows-at",
        type=int,
        default=None,
        help="do not run the (slow) row path at this size or above",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        file, by, method = args.child
        print(json.dumps(work(Path(file), by, method)))
        return 0

    sizes = sorted(args.sizes)
    stores = {size: store_of(size) for size in sizes}
    results: dict[tuple[int, str, str], dict[str, Any]] = {}
    print(f"{'':30}{'seconds':>9}{'peak RSS':>11}{'rows':>7}")
    for size in sizes:
        for by in BY:
            for method in ("aggregate", "rows"):
                if method == "rows" and args.skip_rows_at and size >= args.skip_rows_at:
                    continue
                run = results[(size, by, method)] = measure(stores[size], by, method)
                label = f"{size:>10,} --by {by:<5} {method}"
                print(f"{label:30}{run['seconds']:>9.2f}{run['peak_mb']:>8.0f} MB{run['rows']:>7}")
    checks: list[tuple[bool, str]] = []
    small, large = sizes[0], sizes[-1]
    for by in BY:
        agg = results[(large, by, "aggregate")]
        rows = results.get((large, by, "rows"))
        if rows is not None:
            speedup = rows["seconds"] / agg["seconds"]
            checks.append(
                (
                    speedup >= MIN_SPEEDUP,
                    f"--by {by}: aggregates {speedup:.1f}x faster than rows at {large:,} "
                    f"(needs >= {MIN_SPEEDUP:.0f}x)",
                )
            )
        if small != large:
            growth = agg["seconds"] / results[(small, by, "aggregate")]["seconds"]
            checks.append(
                (
                    growth < MAX_GROWTH,
                    f"--by {by}: {large:,} takes {growth:.2f}x the time of {small:,} "
                    f"(needs < {MAX_GROWTH:.0f}x)",
                )
            )
        for size in sizes:
            reference = results.get((size, by, "rows"))
            if reference is not None:
                same = reference["totals"] == results[(size, by, "aggregate")]["totals"]
                checks.append(
                    (
                        same,
                        f"--by {by} at {size:,}: totals equal to the cent "
                        f"(billed ${results[(size, by, 'aggregate')]['totals']['cost_billed']:,.2f})",
                    )
                )
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
