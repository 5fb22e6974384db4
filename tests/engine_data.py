"""Data sets for the Dask and Spark tests, and the single-machine figures they must match.

- :func:`write_lake`: generated request rows (costmodel/adapters/synthetic_lake.py) written by pyarrow
  as a Parquet dataset partitioned by ``usage_date`` (hive style, as a data lake keeps them).
- :func:`store_of`: the same rows stored in a real DuckDB usage store, batch by batch, so
  ``usage_summary`` can price them on one machine.
- :func:`reference_lines`: the rows priced by ``price_usage`` on one machine, as exact cost
  lines per price key.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from costmodel.adapters.ingest import REQUEST_COLUMNS
from costmodel.adapters.store import Store, open_store
from costmodel.adapters.synthetic_lake import UNPRICED_MODEL
from costmodel.core.catalogue import Catalogue
from costmodel.core.pricing import price_usage
from costmodel.core.usage import COUNT_COLUMNS, usage_frame

ON = date(2026, 12, 1)  # the pricing day of undated rows: pinned, never today's date
LINE_KEY = ["model_id", "price_from", "long_context", "tier", "inference_geo", "speed", "component"]


def write_lake(table: pa.Table, root: Path, *, rows_per_file: int = 150) -> Path:
    """``table`` as a hive-partitioned dataset (``usage_date=YYYY-MM-DD/``), several files a day."""
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=["usage_date"],
        partitioning_flavor="hive",
        max_rows_per_file=rows_per_file,
        max_rows_per_group=rows_per_file,
    )
    return root


def store_of(table: pa.Table, path: Path) -> Store:
    """The rows in a real usage store, one write per batch (the store's own columns only)."""
    frame = table.to_pandas()
    store = open_store(path)
    for batch_id, rows in frame.groupby("batch_id", sort=True):
        store.write_batch(
            {"batch_id": str(batch_id), "source": "api", "processing_status": "ended"},
            [rows[list(REQUEST_COLUMNS)].reset_index(drop=True)],
        )
    return store


def reference_lines(table: pa.Table, catalogue: Catalogue, *, sync: bool = False) -> pd.DataFrame:
    """Succeeded requests of priced models, priced on one machine: exact lines per price key."""
    frame = table.to_pandas()
    billed = frame[(frame["result_type"] == "succeeded") & (frame["model"] != UNPRICED_MODEL)]
    usage = usage_frame(
        pd.DataFrame(
            {
                "model": billed["model"].astype(object),
                **{name: billed[name].astype("float64") for name in COUNT_COLUMNS},
                "tier": "standard"
                if sync
                else (billed["tier"].astype(object) if "tier" in billed else "batch"),
                "inference_geo": billed["inference_geo"].astype(object).fillna("global"),
                "speed": billed["speed"].astype(object).fillna("standard"),
                "date": pd.to_datetime(billed["usage_date"]),
            }
        ).reset_index(drop=True)
    )
    return price_usage(usage, catalogue, on=ON).cost_lines()


def line_sums(lines: pd.DataFrame, cost: str = "cost_contracted") -> dict[tuple[Any, ...], Any]:
    """Quantity and exact cost per price key, for comparing two sets of lines exactly."""
    sums: dict[tuple[Any, ...], Any] = {}
    for row in lines.to_dict(orient="records"):
        key = tuple(row[name] for name in LINE_KEY)
        quantity, amount = sums.get(key, (Decimal(0), Decimal(0)))
        sums[key] = (quantity + Decimal(int(row["quantity"])), amount + row[cost])
    return sums
