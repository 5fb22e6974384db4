"""Import and price Message Batches results files: costmodel against the SDK's pydantic types.

    python benchmarks/ingest.py [--lines N] [--quick] [--repeat R]

Generates results files in the real wire format (costmodel/adapters/synthetic.py: four models, about 1%
errored plus some expired and canceled lines, cache reads and 5-minute and 1-hour writes,
about 1.6 KB a line) under benchmarks/out/ (gitignored; reused while their parameters match):
one of ``--lines`` lines (default 1,000,000) and one of 100,000.

Each measurement runs in a fresh process, started by a small launcher that reports
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of its one child: the peak memory of that
run alone, imports included.

- costmodel: ``read_results`` + ``Store.write_batch`` into a fresh store, then
  ``price_usage`` over ``Store.iter_usage_frames`` (chunked, so memory stays flat).
- baseline: every line through ``MessageBatchIndividualResponse.model_validate_json`` in a
  Python loop and priced in Python with the same catalogue rates (the usual hand-written
  approach), on 100,000 lines.

Prints lines/s for both, the ratio (must be >= 10x), peak memory at both sizes (the large
must be <= 1.5x the small), and whether both totals agree to the cent. Exits 1 if a check
fails. Timings start after imports; medians over ``--repeat`` runs.

Then, side by side as whole processes (wall time of the process, imports included, and its
peak RSS), on the large file:

- ``costmodel usage import FILE`` into a fresh store (the CLI: digests, strict counts, every
  check), and
- DuckDB's own ``read_ndjson`` of the same fields (typed, no checks) inserted into a table
  of the store's request columns in a fresh DuckDB file under the same memory limit,

and prints both ratios, import / DuckDB, in time and in memory (target within 1.5x each),
and the import's lines/s against the SDK-types loop. ``--engine-only`` runs just this part
(with the SDK loop on the small file for the last ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
SEED = 20261120
TEXT_WORDS = 180  # about 1.6 KB a line, as real results files average
BATCH_CREATED = "2026-11-20T09:30:00Z"
MIN_RATIO = 10.0
MAX_MEMORY_GROWTH = 1.5
MAX_ENGINE_RATIO = 1.5

# Runs one child and reports its peak RSS: RUSAGE_CHILDREN of a process with a single child.
_LAUNCHER = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(done.stderr)
print(json.dumps({"rc": done.returncode, "stdout": done.stdout,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


# -- files ----------------------------------------------------------------------------------------
def results_file(lines: int) -> Path:
    """benchmarks/out/results_<lines>.jsonl, generated unless an identical one is there."""
    from costmodel.adapters.synthetic import generate

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results_{lines}.jsonl"
    sidecar = path.with_suffix(".json")
    wanted = {"lines": lines, "seed": SEED, "text_words": TEXT_WORDS, "generator": 2}
    if path.exists() and sidecar.exists():
        recorded = json.loads(sidecar.read_text())
        if {k: recorded.get(k) for k in wanted} == wanted and recorded.get(
            "bytes"
        ) == path.stat().st_size:
            return path
    print(f"generating {path.relative_to(ROOT)} ({lines:,} lines)...", file=sys.stderr, flush=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        buffer: list[str] = []
        for line in generate(lines, seed=SEED, text_words=TEXT_WORDS):
            buffer.append(line)
            if len(buffer) == 20_000:
                out.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            out.write("\n".join(buffer) + "\n")
    sidecar.write_text(json.dumps({**wanted, "bytes": path.stat().st_size}))
    # Flush the new file to disk now: its write-back would otherwise compete with the first
    # measured runs for the disk and slow them down.
    os.sync()
    return path


# -- the measured work (run in child processes) ---------------------------------------------------
def work_costmodel(path: Path) -> dict[str, Any]:
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.adapters.ingest.files import read_results
    from costmodel.adapters.store import open_store
    from costmodel.core.pricing import price_usage

    catalogue = bundled_catalogue()
    with tempfile.TemporaryDirectory(prefix="costmodel-bench-") as folder:
        started = time.perf_counter()
        with open_store(Path(folder) / "usage.duckdb") as store:
            results = read_results(path, batch_id="msgbatch_benchmark", created_at=BATCH_CREATED)
            written = store.write_batch(results.batch_meta(), results)
            imported = time.perf_counter()
            total = sum(price_usage(chunk, catalogue).total for chunk in store.iter_usage_frames())
        finished = time.perf_counter()
    return {
        "lines": written.rows,
        "seconds": finished - started,
        "import_seconds": imported - started,
        "price_seconds": finished - imported,
        "total_usd": total,
    }


def work_baseline(path: Path, lines: int) -> dict[str, Any]:
    """The SDK's own types, one line at a time, priced in plain Python."""
    from datetime import date

    from anthropic.types.messages import MessageBatchIndividualResponse

    from costmodel.adapters.catalogue_files import bundled_catalogue

    catalogue = bundled_catalogue()
    day = date.fromisoformat(BATCH_CREATED[:10])
    batch = float(catalogue.batch_multiplier)
    per_model: dict[str, Any] = {}

    def rates_of(model: str) -> Any:
        entry = catalogue.rates_for(model, on=day)

        def floats(rates: Any) -> tuple[float, ...]:
            return tuple(0.0 if r is None else float(r) for r in rates.as_tuple())

        long = entry.long_context
        return (
            floats(entry.rates),
            floats(long.rates) if long else None,
            long.above_prompt_tokens if long else float("inf"),
            float(entry.web_search_per_1k or 0) / 1000,
        )

    started = time.perf_counter()
    total = 0.0
    read = 0
    with path.open("rb") as handle:
        for line in handle:
            if read == lines:
                break
            read += 1
            item = MessageBatchIndividualResponse.model_validate_json(line)
            if item.result.type != "succeeded":
                continue  # errored, canceled and expired requests are not billed
            message = item.result.message
            usage = message.usage
            rates = per_model.get(message.model)
            if rates is None:
                rates = per_model[message.model] = rates_of(message.model)
            base, long, threshold, search_fee = rates
            breakdown = usage.cache_creation
            write_5m = (
                breakdown.ephemeral_5m_input_tokens
                if breakdown
                else (usage.cache_creation_input_tokens or 0)
            )
            write_1h = breakdown.ephemeral_1h_input_tokens if breakdown else 0
            cache_read = usage.cache_read_input_tokens or 0
            prompt = usage.input_tokens + write_5m + write_1h + cache_read
            r_in, r_out, r_5m, r_1h, r_read = long if long and prompt > threshold else base
            cost = (
                (
                    usage.input_tokens * r_in
                    + usage.output_tokens * r_out
                    + write_5m * r_5m
                    + write_1h * r_1h
                    + cache_read * r_read
                )
                / 1e6
                * batch
            )
            tools = usage.server_tool_use
            if tools is not None:
                cost += tools.web_search_requests * search_fee
            total += cost
    finished = time.perf_counter()
    return {"lines": read, "seconds": finished - started, "total_usd": total}


_TYPED_COLUMNS = {
    "custom_id": "VARCHAR",
    "result": (
        "STRUCT(type VARCHAR, message STRUCT(model VARCHAR, usage STRUCT("
        "input_tokens BIGINT, output_tokens BIGINT, cache_creation_input_tokens BIGINT, "
        "cache_read_input_tokens BIGINT, cache_creation STRUCT(ephemeral_5m_input_tokens "
        "BIGINT, ephemeral_1h_input_tokens BIGINT), server_tool_use STRUCT("
        "web_search_requests BIGINT, web_fetch_requests BIGINT), service_tier VARCHAR, "
        "inference_geo VARCHAR, speed VARCHAR)), error STRUCT(error STRUCT(type VARCHAR)))"
    ),
}


def work_duckdb(path: Path) -> dict[str, Any]:
    """DuckDB alone: read_ndjson of the same fields, inserted into a table (no checks)."""
    import duckdb

    from costmodel.adapters.store import DEFAULT_MEMORY_LIMIT
    from costmodel.core.usage_rows import REQUEST_COLUMNS

    u = "result.message.usage"
    with tempfile.TemporaryDirectory(prefix="costmodel-bench-") as folder:
        con = duckdb.connect(
            str(Path(folder) / "plain.duckdb"), config={"memory_limit": DEFAULT_MEMORY_LIMIT}
        )
        columns = ", ".join(f"{name} {kind}" for name, kind in REQUEST_COLUMNS.items())
        con.execute(f"CREATE TABLE requests ({columns})")
        con.execute(
            "INSERT INTO requests SELECT 'msgbatch_benchmark', custom_id, result.type, "
            "result.error.error.type, result.message.model, "
            f"coalesce({u}.input_tokens, 0), coalesce({u}.output_tokens, 0), "
            f"coalesce({u}.cache_creation_input_tokens, 0), "
            f"coalesce({u}.cache_creation.ephemeral_5m_input_tokens, 0), "
            f"coalesce({u}.cache_creation.ephemeral_1h_input_tokens, 0), "
            f"coalesce({u}.cache_read_input_tokens, 0), "
            f"coalesce({u}.server_tool_use.web_search_requests, 0), "
            f"coalesce({u}.server_tool_use.web_fetch_requests, 0), "
            f"{u}.service_tier, {u}.inference_geo, {u}.speed, "
            f"TIMESTAMP '{BATCH_CREATED[:10]} {BATCH_CREATED[11:19]}', NULL "
            "FROM read_ndjson(?, columns = ?)",
            [str(path), _TYPED_COLUMNS],
        )
        rows = con.execute("SELECT count(*) FROM requests").fetchone()
        con.close()
    return {"lines": int(rows[0]) if rows else 0}


def measure_process(command: list[str]) -> dict[str, Any]:
    """Wall time and peak RSS of one whole process."""
    started = time.perf_counter()
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - started
    report = json.loads(launched.stdout)
    if report["rc"] != 0:
        sys.stderr.write(launched.stderr)
        raise SystemExit(f"{command[:4]} failed (exit {report['rc']})")
    return {"seconds": seconds, "peak_mb": report["maxrss_kb"] / 1024, "stdout": report["stdout"]}


def engine_comparison(path: Path, lines: int, baseline: dict[str, Any], repeat: int) -> bool:
    """``usage import`` against DuckDB's read_ndjson + insert, as whole processes."""
    imports, plain = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="costmodel-bench-") as folder:
            store = str(Path(folder) / "usage.duckdb")
            imports.append(
                measure_process(
                    [
                        sys.executable,
                        "-m",
                        "costmodel",
                        "usage",
                        "import",
                        str(path),
                        "--batch-id",
                        "msgbatch_benchmark",
                        "--created-at",
                        BATCH_CREATED,
                        "--store",
                        store,
                    ]
                )
            )
        plain.append(
            measure_process([sys.executable, __file__, "--child", "duckdb", str(path), str(lines)])
        )
    ours = median_of([{**r, "lines": lines} for r in imports])
    theirs = median_of([{**r, "lines": lines} for r in plain])
    time_ratio = ours["seconds"] / theirs["seconds"]
    memory_ratio = ours["peak_mb"] / theirs["peak_mb"]
    print(f"Whole processes on {path.name} ({lines:,} lines); median of {repeat} run(s)")
    print(f"{'':40}{'seconds':>10}{'lines/s':>11}{'peak RSS':>11}")
    for label, run in (
        ("costmodel usage import", ours),
        ("DuckDB read_ndjson + INSERT", theirs),
    ):
        print(
            f"{label:40}{run['seconds']:>10.2f}{run['lines_per_s']:>11,.0f}{run['peak_mb']:>8.0f} MB"
        )
    sdk = ours["lines_per_s"] / baseline["lines_per_s"]
    checks = [
        (time_ratio <= MAX_ENGINE_RATIO, f"import time: {time_ratio:.2f}x DuckDB's (needs <= {MAX_ENGINE_RATIO}x)"),
        (memory_ratio <= MAX_ENGINE_RATIO, f"import memory: {memory_ratio:.2f}x DuckDB's (needs <= {MAX_ENGINE_RATIO}x)"),
        (True, f"import: {sdk:.1f}x the lines/s of the SDK-types loop ({baseline['lines_per_s']:,.0f} lines/s on {baseline['lines']:,} lines)"),
    ]  # fmt: skip
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for ok, _ in checks)


# -- running and reporting ------------------------------------------------------------------------
def measure(mode: str, path: Path, lines: int) -> dict[str, Any]:
    worker = [sys.executable, __file__, "--child", mode, str(path), str(lines)]
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *worker], capture_output=True, text=True, check=True
    )
    report = json.loads(launched.stdout)
    if report["rc"] != 0:
        sys.stderr.write(launched.stderr)
        raise SystemExit(f"the {mode} run on {path.name} failed (exit {report['rc']})")
    result = json.loads(report["stdout"])
    result["peak_mb"] = report["maxrss_kb"] / 1024  # Linux reports kilobytes
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (its own breakdown), and the highest peak of them all."""
    ordered = sorted(runs, key=lambda run: run["seconds"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["peak_mb"] = max(run["peak_mb"] for run in runs)
    middle["lines_per_s"] = middle["lines"] / middle["seconds"]
    return middle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the large file")
    parser.add_argument("--quick", action="store_true", help="200K and 20K lines, one run each")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="only usage import against DuckDB's read_ndjson (and the SDK loop, small file)",
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "FILE", "LINES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.child:
        mode, file, lines = args.child
        work = (
            work_costmodel(Path(file))
            if mode == "costmodel"
            else work_duckdb(Path(file))
            if mode == "duckdb"
            else work_baseline(Path(file), int(lines))
        )
        print(json.dumps(work))
        return 0

    large = 200_000 if args.quick and args.lines == 1_000_000 else args.lines
    small = min(100_000, max(large // 10, 1)) if not args.quick else min(20_000, large)
    repeat = 1 if args.quick else max(args.repeat, 1)
    small_file, large_file = results_file(small), results_file(large)
    if args.engine_only:
        baseline = median_of([measure("baseline", small_file, small) for _ in range(repeat)])
        return 0 if engine_comparison(large_file, large, baseline, repeat) else 1

    ours_small = median_of([measure("costmodel", small_file, small) for _ in range(repeat)])
    ours_large = median_of([measure("costmodel", large_file, large) for _ in range(repeat)])
    baseline = median_of([measure("baseline", small_file, small) for _ in range(repeat)])

    ratio = ours_large["lines_per_s"] / baseline["lines_per_s"]
    ratio_small = ours_small["lines_per_s"] / baseline["lines_per_s"]
    growth = ours_large["peak_mb"] / ours_small["peak_mb"]
    agree = abs(round(ours_small["total_usd"], 2) - round(baseline["total_usd"], 2)) < 0.005

    print(
        f"Import and price Message Batches results ({large_file.stat().st_size / 1e9:.2f} GB "
        f"for {large:,} lines); median of {repeat} run(s)"
    )
    print(f"{'':34}{'lines':>11}{'seconds':>10}{'lines/s':>11}{'peak RSS':>11}")
    for label, run in (
        (f"costmodel, {small:,} lines", ours_small),
        (f"costmodel, {large:,} lines", ours_large),
        (f"SDK pydantic loop, {small:,} lines", baseline),
    ):
        print(
            f"{label:34}{run['lines']:>11,}{run['seconds']:>10.2f}{run['lines_per_s']:>11,.0f}"
            f"{run['peak_mb']:>8.0f} MB"
        )
    print(
        f"  costmodel {large:,}: import {ours_large['import_seconds']:.2f} s, "
        f"price {ours_large['price_seconds']:.2f} s, total ${ours_large['total_usd']:,.2f}"
    )
    checks = [
        (
            ratio >= MIN_RATIO,
            f"speed: {ratio:.1f}x the baseline at {large:,} lines "
            f"({ratio_small:.1f}x at {small:,}); needs >= {MIN_RATIO:.0f}x",
        ),
        (
            growth <= MAX_MEMORY_GROWTH,
            f"memory: {ours_large['peak_mb']:.0f} MB at {large:,} lines is "
            f"{growth:.2f}x the {ours_small['peak_mb']:.0f} MB at {small:,}; "
            f"needs <= {MAX_MEMORY_GROWTH}x",
        ),
        (
            agree,
            f"totals at {small:,} lines: costmodel ${ours_small['total_usd']:,.2f}, "
            f"baseline ${baseline['total_usd']:,.2f} (must agree to the cent)",
        ),
    ]
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print()
    engine = engine_comparison(large_file, large, baseline, repeat)
    return 0 if all(ok for ok, _ in checks) and engine else 1


if __name__ == "__main__":
    raise SystemExit(main())
