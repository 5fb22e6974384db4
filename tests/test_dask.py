"""costmodel.dask on a real local cluster: two worker processes, a Parquet dataset written by
pyarrow, and the single-machine figures (the usage summary over a real store, price_usage) to
match to the cent."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_data import ON, line_sums, reference_lines, store_of, write_lake

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.synthetic_lake import UNPRICED_MODEL, request_table
from costmodel.core.measured import usage_summary
from costmodel.core.partitions import NOT_REPORTED, PRICED_COLUMNS, price_partition
from costmodel.errors import PricingError

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

from costmodel import dask as cmdask  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = bundled_catalogue()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, Path, Any]:
    """Stored-request rows (all batch results): as a Parquet dataset and in a real store."""
    table = request_table(3_000, seed=11)
    base = tmp_path_factory.mktemp("dask-batches")
    return table, write_lake(table, base / "lake"), store_of(table, base / "usage.duckdb")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, Path]:
    """Rows with a tier column: standard and batch requests, some in fast mode."""
    table = request_table(3_000, seed=12, tiers=True)
    return table, write_lake(table, tmp_path_factory.mktemp("dask-mixed") / "lake")


def test_summarise_on_two_workers_matches_the_usage_summary_to_the_cent(
    client: Any, batches: tuple[pa.Table, Path, Any]
) -> None:
    table, lake, store = batches
    ddf = dd.read_parquet(lake)
    assert ddf.npartitions > 2  # the work is really split
    for by, key in (("model_id", "model"), ("usage_date", "day")):
        ours = cmdask.summarise(ddf, by=by, catalogue=CATALOGUE, on=ON)
        theirs = usage_summary(store, by=key, catalogue=CATALOGUE)
        for column in ("cost_billed", "cost_if_sync"):
            assert ours.totals[column] == theirs.shown(column)[1]
            assert ours.totals[column] > 0
        assert (
            ours.totals["savings"]
            == theirs.shown("cost_if_sync")[1] - theirs.shown("cost_billed")[1]
        )
        expected = theirs.totals()
        for column in ("succeeded", "errored", "canceled", "expired", "input_tokens"):
            assert ours.totals[column] == expected[column], column
        # Per group, the exact (unrounded) sums agree, not only the rounded figures.
        lines = ours.lines[ours.lines["basis"] == "billed"]
        exact = lines.groupby(by)["cost_contracted"].agg(lambda v: sum(v, Decimal(0)))
        assert {str(k): v for k, v in exact.items()} == {
            str(k): v for k, v in theirs.exact["cost_billed"].items() if v
        }
        if by == "model_id":  # results without a model, named as the usage summary names them
            row = ours.rows.set_index("model_id").loc[NOT_REPORTED]
            theirs_row = theirs.rows.set_index("key").loc[NOT_REPORTED]
            assert row["errored"] == theirs_row["errored"] > 0
            assert row["cost_billed"] == Decimal("0.00")
    counts = table.to_pandas()["result_type"].value_counts()
    assert ours.totals["errored"] == counts["errored"] > 0
    assert ours.totals["expired"] == counts["expired"] > 0


def test_summarise_prices_mixed_tiers_exactly_as_one_machine(
    client: Any, mixed: tuple[pa.Table, Path]
) -> None:
    table, lake = mixed
    ours = cmdask.summarise(dd.read_parquet(lake), by=None, catalogue=CATALOGUE, on=ON)
    for basis, sync in (("billed", False), ("if_sync", True)):
        reference = line_sums(reference_lines(table, CATALOGUE, sync=sync))
        assert line_sums(ours.lines[ours.lines["basis"] == basis]) == reference
    reference = reference_lines(table, CATALOGUE)
    total = sum(reference["cost_contracted"], Decimal(0))
    assert ours.totals["cost_billed"] == total.quantize(Decimal("0.01"))
    # What the data covers: both tiers, the long-context band, fast mode, US-only inference.
    assert set(reference["tier"]) == {"standard", "batch"}
    assert reference["long_context"].any()
    assert set(reference["speed"]) == {"standard", "fast"} and "us" in set(
        reference["inference_geo"]
    )
    frame = table.to_pandas()
    unpriced = int(
        ((frame["model"] == UNPRICED_MODEL) & (frame["result_type"] == "succeeded")).sum()
    )
    assert ours.totals["unpriced_requests"] == unpriced > 0
    assert any(UNPRICED_MODEL in note and f"{unpriced:,} requests" in note for note in ours.notes)
    assert any("long-context tier" in note for note in ours.notes)


def test_the_partitioning_changes_no_cent(client: Any, mixed: tuple[pa.Table, Path]) -> None:
    ddf = dd.read_parquet(mixed[1])
    by = ["model_id", "tier"]
    one = cmdask.summarise(ddf.repartition(npartitions=1), by=by, catalogue=CATALOGUE, on=ON)
    many = cmdask.summarise(ddf.repartition(npartitions=11), by=by, catalogue=CATALOGUE, on=ON)
    assert one.totals == many.totals
    pd.testing.assert_frame_equal(one.rows, many.rows)
    # An unpriced model's group shows no cost (None), never $0; the rows add up to the totals.
    row = one.rows[one.rows["model_id"] == UNPRICED_MODEL]
    assert len(row) == 2 and row["cost_billed"].isna().all()
    assert sum(v for v in one.rows["cost_billed"] if v is not None) == one.totals["cost_billed"]


def test_price_declares_its_columns_and_matches_the_row_pricer(
    client: Any, mixed: tuple[pa.Table, Path]
) -> None:
    ddf = dd.read_parquet(mixed[1])
    priced = cmdask.price(ddf, catalogue=CATALOGUE, on=ON)
    assert list(priced.columns) == [*ddf.columns, *PRICED_COLUMNS]
    computed = priced.compute()
    for name, kind in PRICED_COLUMNS.items():
        if kind != "object":
            assert computed[name].dtype == kind, name
    local = price_partition(ddf.compute(), CATALOGUE, ON)
    np.testing.assert_allclose(computed["cost"].to_numpy(), local["cost"].to_numpy(), rtol=1e-12)
    not_billed = computed["result_type"] != "succeeded"
    assert not_billed.any() and (computed.loc[not_billed, "cost"] == 0).all()
    assert not computed.loc[not_billed, "billed"].any()
    unknown = computed["model"] == UNPRICED_MODEL
    assert unknown.any() and computed.loc[unknown, "cost"].isna().all()
    assert not computed.loc[unknown, "priced"].any()
    assert computed.loc[~unknown & ~not_billed, "cost"].gt(0).all()
    assert computed["long_context"].any()
    total = Decimal(repr(float(computed["cost_contracted"].sum())))
    exact = sum(reference_lines(mixed[0], CATALOGUE)["cost_contracted"], Decimal(0))
    assert abs(total - exact) < Decimal("0.000001")


def test_a_bad_count_on_a_worker_is_the_one_line_error(client: Any) -> None:
    frame = request_table(200, seed=3).to_pandas()
    row = int(np.flatnonzero(frame["result_type"] == "succeeded")[5])
    frame.loc[row, "output_tokens"] = -4
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(PricingError, match=r"output_tokens: expected a count of 0 or more") as e:
        cmdask.summarise(ddf, by="usage_date", catalogue=CATALOGUE, on=ON)
    assert "\n" not in str(e.value)
    with pytest.raises(PricingError, match="output_tokens"):
        cmdask.price(ddf, catalogue=CATALOGUE, on=ON).compute()


def test_undated_rows_are_priced_on_the_day_given() -> None:
    """Without a usage day, ``on`` picks the rates: opus 4.6 had a long-context tier in March."""
    frame = pd.DataFrame(
        {"model": ["claude-opus-4-6"], "input_tokens": [250_000], "output_tokens": [1_000]}
    )
    ddf = dd.from_pandas(frame, npartitions=1)
    march = cmdask.summarise(ddf, catalogue=CATALOGUE, on=pd.Timestamp("2026-03-01").date())
    december = cmdask.summarise(ddf, catalogue=CATALOGUE, on=ON)
    # 250K in + 1K out: $10/$37.50 per MTok at the long-context tier, $5/$25 after it ended.
    assert march.totals["cost_billed"] == Decimal("2.54")
    assert december.totals["cost_billed"] == Decimal("1.28")


def test_a_grouping_that_is_no_column_is_refused_before_anything_runs() -> None:
    ddf = dd.from_pandas(request_table(10).to_pandas(), npartitions=1)
    with pytest.raises(PricingError, match=r"by: no column 'job'"):
        cmdask.summarise(ddf, by="job", catalogue=CATALOGUE, on=ON)
    with pytest.raises(PricingError, match=r"'_basis'.* reserved"):
        cmdask.summarise(ddf, by="_basis", catalogue=CATALOGUE, on=ON)


def test_importing_costmodel_loads_no_engine() -> None:
    code = (
        "import costmodel, costmodel.shells.cli, sys\n"
        "assert 'dask' not in sys.modules and 'pyspark' not in sys.modules, "
        "[m for m in sys.modules if m.startswith(('dask', 'pyspark'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(
    ("module", "package", "extra"), [("dask", "dask", "dask"), ("spark", "pyspark", "spark")]
)
def test_a_missing_engine_is_the_one_line_install_message(
    module: str, package: str, extra: str
) -> None:
    # None in sys.modules makes the import fail as if the package were not installed.
    code = (
        f"import sys; sys.modules[{package!r}] = None\n"
        "from costmodel.errors import CostModelError\n"
        f"from costmodel import {module} as engine\n"
        "try:\n    engine.price(None)\n"
        "except CostModelError as error:\n    print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True
    )
    assert out.stdout.count("\n") == 1
    assert f"pip install 'costmodel[{extra}]'" in out.stdout
