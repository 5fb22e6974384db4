"""costmodel.spark on a real local Spark (``local[2]``, Debian's OpenJDK): a Parquet dataset
written by pyarrow, priced by Python workers through mapInArrow, matching the single-machine
figures to the cent. Spark takes tens of seconds to start, so one session serves few tests."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from engine_data import ON, line_sums, reference_lines, store_of, write_lake

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.synthetic_lake import UNPRICED_MODEL, request_table
from costmodel.core.measured import usage_summary
from costmodel.core.partitions import PRICED_COLUMNS, price_partition
from costmodel.errors import PricingError

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # scripts/test.sh installs Debian's OpenJDK
    pytest.skip("Spark needs Java (openjdk-17-jre-headless)", allow_module_level=True)

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from costmodel import spark as cmspark

CATALOGUE = bundled_catalogue()


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    # The Python workers must be this interpreter (it has costmodel and pyarrow).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("costmodel-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("spark")
    batches = request_table(3_000, seed=21)
    mixed = request_table(3_000, seed=22, tiers=True)
    return {
        "batches": (batches, write_lake(batches, base / "batches")),
        "store": store_of(batches, base / "usage.duckdb"),
        "mixed": (mixed, write_lake(mixed, base / "mixed")),
    }


def test_summarise_matches_the_usage_summary_and_one_machine_to_the_cent(
    session: Any, lakes: dict[str, Any]
) -> None:
    df = session.read.parquet(str(lakes["batches"][1]))
    ours = cmspark.summarise(df, by="model_id", catalogue=CATALOGUE, on=ON)
    theirs = usage_summary(lakes["store"], by="model", catalogue=CATALOGUE)
    for column in ("cost_billed", "cost_if_sync"):
        assert ours.totals[column] == theirs.shown(column)[1] > 0
    lines = ours.lines[ours.lines["basis"] == "billed"]
    exact = lines.groupby("model_id")["cost_contracted"].agg(lambda v: sum(v, Decimal(0)))
    assert dict(exact.items()) == {k: v for k, v in theirs.exact["cost_billed"].items() if v}
    expected = theirs.totals()
    for column in ("succeeded", "errored", "canceled", "expired", "output_tokens"):
        assert ours.totals[column] == expected[column], column
    row = ours.rows[ours.rows["model_id"] == UNPRICED_MODEL]
    assert row["cost_billed"].tolist() == [None] and int(row["unpriced_requests"].iloc[0]) > 0

    # Mixed tiers, by day: every price key's quantity and exact cost as one machine has them.
    table, lake = lakes["mixed"]
    mixed = cmspark.summarise(
        session.read.parquet(str(lake)), by="usage_date", catalogue=CATALOGUE, on=ON
    )
    for basis, sync in (("billed", False), ("if_sync", True)):
        reference = line_sums(reference_lines(table, CATALOGUE, sync=sync))
        assert line_sums(mixed.lines[mixed.lines["basis"] == basis]) == reference
    assert len(mixed.rows) == 14
    assert sum(mixed.rows["cost_billed"]) == mixed.totals["cost_billed"]


def test_price_adds_the_same_columns_as_one_machine_and_errors_are_one_line(
    session: Any, lakes: dict[str, Any]
) -> None:
    table, lake = lakes["mixed"]
    df = session.read.parquet(str(lake))
    priced = cmspark.price(df, catalogue=CATALOGUE, on=ON)
    assert priced.columns == [*df.columns, *PRICED_COLUMNS]
    rows = priced.select("custom_id", "cost", "model_id", "priced", "billed").collect()
    ours = {row["custom_id"]: row for row in rows}
    local = price_partition(table.to_pandas(), CATALOGUE, ON).set_index("custom_id")
    assert set(ours) == set(local.index)
    costs = np.array([np.nan if ours[i]["cost"] is None else ours[i]["cost"] for i in local.index])
    np.testing.assert_allclose(costs, local["cost"].to_numpy(), rtol=1e-12)
    assert [ours[i]["priced"] for i in local.index] == local["priced"].tolist()
    unknown = [ours[i] for i in local.index[local["model"] == UNPRICED_MODEL]]
    assert unknown and all(r["cost"] is None and r["model_id"] == UNPRICED_MODEL for r in unknown)
    total = priced.agg(F.sum("cost_contracted")).collect()[0][0]
    exact = sum(reference_lines(table, CATALOGUE)["cost_contracted"], Decimal(0))
    assert abs(Decimal(repr(total)) - exact) < Decimal("0.000001")

    # A bad count on a worker comes back as the one-line error, not a Java stack trace.
    bad = table.to_pandas().head(50)
    bad.loc[int(np.flatnonzero(bad["result_type"] == "succeeded")[0]), "input_tokens"] = -1
    frame = session.createDataFrame(pa.Table.from_pandas(bad, preserve_index=False))
    with pytest.raises(PricingError, match="input_tokens: expected a count of 0 or more") as e:
        cmspark.summarise(frame, by=None, catalogue=CATALOGUE, on=ON)
    assert "\n" not in str(e.value)


def test_the_lake_paths_exist(lakes: dict[str, Any]) -> None:
    """The datasets are hive-partitioned Parquet, several files a day, as a lake keeps them."""
    lake = Path(lakes["mixed"][1])
    days = sorted(p.name for p in lake.iterdir())
    assert len(days) == 14 and days[0] == "usage_date=2026-03-05"
    assert all(len(list((lake / day).glob("*.parquet"))) >= 2 for day in days)
