"""Benchmark: price a generated Parquet dataset of stored requests with Dask, on one and two workers.

Generates ``--rows`` request rows (default 100 million; costmodel/adapters/synthetic_lake.py: mixed
models with an unpriced one, standard and batch tiers, errored requests, long prompts) in
chunks of ``--chunk`` rows, each written by pyarrow into a hive-partitioned dataset by
``usage_date``, so memory stays bounded by one chunk. Then :func:`costmodel.dask.summarise`
(by day) runs on a ``LocalCluster`` of one worker process and of two, and, unless
``--no-baseline``, the same per-partition engine runs over the files in this one process with no
Dask (the single-machine baseline). Prints rows/s for each, the two-worker scaling ratio, and
checks that every run's totals agree to the cent. The dataset goes under ``--dir`` (default a
new folder in /tmp) and is deleted afterwards unless ``--keep``.

    python benchmarks/engines.py [--rows 100000000] [--chunk 2000000] [--keep] [--dir PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.synthetic_lake import request_table
from costmodel.core.partitions import TALLY_KEYS, EngineSummary, finish, tally_partition
from costmodel.core.usage import COUNT_COLUMNS

ON = pd.Timestamp("2026-12-01").date()
# What pricing reads: a user reading a lake asks only for these columns.
COLUMNS = ["model", "result_type", *COUNT_COLUMNS, "tier", "inference_geo", "speed", "usage_date"]
BY = ["usage_date"]


def generate(root: Path, rows: int, chunk: int) -> float:
    started = time.perf_counter()
    for number, offset in enumerate(range(0, rows, chunk)):
        table = request_table(min(chunk, rows - offset), seed=7, offset=offset, tiers=True)
        ds.write_dataset(
            table,
            root,
            format="parquet",
            partitioning=["usage_date"],
            partitioning_flavor="hive",
            basename_template=f"part-{number:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        print(f"\r  generated {offset + len(table):,} rows", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return time.perf_counter() - started


def on_dask(root: Path, workers: int) -> tuple[float, EngineSummary]:
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    from costmodel import dask as cmdask

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit="4GiB",
        ) as cluster,
        Client(cluster),  # type: ignore[no-untyped-call]
    ):
        started = time.perf_counter()
        frame = dd.read_parquet(root, columns=COLUMNS)
        summary = cmdask.summarise(frame, by=BY, catalogue=bundled_catalogue(), on=ON)
        return time.perf_counter() - started, summary


def baseline(root: Path) -> tuple[float, EngineSummary]:
    """The same engine over every file in this process, one after another, without Dask."""
    catalogue = bundled_catalogue()
    started = time.perf_counter()
    combined: pd.DataFrame | None = None
    keys = [*BY, *TALLY_KEYS]
    for path in sorted(root.rglob("*.parquet")):
        frame = pq.read_table(path, columns=COLUMNS[:-1]).to_pandas()
        frame["usage_date"] = path.parent.name.split("=", 1)[1]
        tally = tally_partition(frame, catalogue, ON, BY)
        both = tally if combined is None else pd.concat([combined, tally], ignore_index=True)
        combined = both.groupby(keys, dropna=False)["_quantity"].sum().reset_index()
    assert combined is not None
    return time.perf_counter() - started, finish(combined, BY, catalogue)


def _size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--chunk", type=int, default=2_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated dataset")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-process run")
    parser.add_argument("--reuse", action="store_true", help="use the dataset already in --dir")
    args = parser.parse_args(argv)
    if args.rows <= 0 or args.chunk <= 0:
        parser.error("--rows and --chunk must be positive")
    root = args.dir or Path(tempfile.mkdtemp(prefix="costmodel-engines-", dir="/tmp"))
    root = root / "requests"
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at the start")
    try:
        if not (args.reuse and root.exists()):
            seconds = generate(root, args.rows, args.chunk)
            print(f"generated {args.rows:,} rows in {seconds:.1f} s: {_size(root) / 1e9:.2f} GB")
        files = len(list(root.rglob("*.parquet")))
        print(f"dataset: {files:,} Parquet files, hive-partitioned by usage_date")
        results: dict[str, tuple[float, EngineSummary]] = {}
        runs: list[tuple[str, Callable[[], tuple[float, EngineSummary]]]] = []
        if not args.no_baseline:
            runs.append(("one process, no Dask", partial(baseline, root)))
        for workers in (1, 2):
            name = f"Dask, {workers} worker{'s' if workers > 1 else ''}"
            runs.append((name, partial(on_dask, root, workers)))
        for name, run in runs:  # each printed as it ends: a long run still reports the others
            seconds, summary = results[name] = run()
            print(
                f"{name:22} {seconds:8.1f} s  {args.rows / seconds:12,.0f} rows/s  "
                f"billed ${summary.totals['cost_billed']:,}  "
                f"if sync ${summary.totals['cost_if_sync']:,}",
                flush=True,
            )
        one = results["Dask, 1 worker"][0]
        two = results["Dask, 2 workers"][0]
        print(f"scaling, 2 workers against 1: {one / two:.2f}x")
        totals = {name: summary.totals for name, (_, summary) in results.items()}
        first = next(iter(totals.values()))
        agree = all(t == first for t in totals.values())
        print("totals agree to the cent: " + ("yes" if agree else f"NO: {totals}"))
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        return 0 if agree else 1
    finally:
        if not args.keep:
            shutil.rmtree(root.parent if args.dir is None else root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
