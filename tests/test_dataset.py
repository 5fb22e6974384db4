"""Parquet datasets: ``usage export --format parquet``, ``usage import DIR``, ``summary --dataset``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from test_store_aggregates import fill, row

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.store import BatchConflictError, open_store
from costmodel.adapters.usage_dataset import ParquetDataset, import_dataset
from costmodel.core.measured import usage_summary
from costmodel.errors import IngestError
from costmodel.shells.cli import main

CATALOGUE = bundled_catalogue()
ROWS = [
    row("msgbatch_a", "claims-1", date(2026, 3, 20), input_tokens=1_000_000, output_tokens=10),
    row("msgbatch_a", "claims-2", date(2026, 3, 20), result_type="errored"),
    row("msgbatch_b", "report-1", date(2026, 3, 21), model="claude-sonnet-4-6", input_tokens=2_000_000),
    row("msgbatch_b", "report-2", date(2026, 3, 21), result_type="expired"),
    row("msgbatch_b", "report-3", date(2026, 3, 21), model="acme-private-model", input_tokens=9),
]  # fmt: skip


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    store = tmp_path / "usage.duckdb"
    fill(store, ROWS).close()
    code, out = cli(
        "usage", "export", "--format", "parquet", str(tmp_path / "ds"), "--store", str(store)
    )
    assert (code, out) == (
        0,
        f"{tmp_path / 'ds'}: 5 requests written as Parquet, partitioned by usage_date\n",
    )
    return store, tmp_path / "ds"  # fmt: skip


def test_export_writes_a_hive_partitioned_dataset_by_day(exported: tuple[Path, Path]) -> None:
    _, folder = exported
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.parquet")) == [
        "usage_date=2026-03-20/data_0.parquet",
        "usage_date=2026-03-21/data_0.parquet",
    ]
    day = duckdb.sql(
        f"SELECT custom_id FROM read_parquet('{folder}/usage_date=2026-03-21/*.parquet') ORDER BY 1"
    ).fetchall()
    assert day == [("report-1",), ("report-2",), ("report-3",)]


def test_export_refuses_a_non_empty_folder_without_force(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    store, folder = exported
    code, out = cli("usage", "export", str(folder), "--store", str(store))
    assert (code, out.strip()) == (
        1,
        f"costmodel: error: {folder}: not empty; nothing written (--force replaces it)",
    )
    code, _ = cli("usage", "export", str(folder), "--store", str(store), "--force")
    assert code == 0
    assert len(list(folder.rglob("*.parquet"))) == 2


def test_summary_over_the_dataset_equals_the_store_summary(exported: tuple[Path, Path]) -> None:
    store, folder = exported
    for by in ("model", "batch", "job", "day"):
        _, from_store = cli(
            "usage", "summary", "--by", by, "--store", str(store), "--format", "json"
        )
        _, in_place = cli(
            "usage", "summary", "--by", by, "--dataset", str(folder), "--format", "json"
        )
        assert json.loads(in_place) == json.loads(from_store), by
    data = json.loads(in_place)
    # 1M Haiku 4.5 input at batch $0.50/MTok + 10 output; 2M Sonnet 4.6 at $1.50/MTok
    assert data["totals"]["cost_billed"] == 3.5
    assert data["period"] == {"since": None, "until": None, "first_day": "2026-03-20",
                              "last_day": "2026-03-21"}  # fmt: skip
    glob = str(folder / "*" / "*.parquet")
    _, by_glob = cli("usage", "summary", "--by", "day", "--dataset", glob, "--format", "json")
    assert json.loads(by_glob) == data


def test_import_of_a_dataset_is_idempotent_and_replaces_nothing_unasked(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    store, folder = exported
    fresh = tmp_path / "fresh.duckdb"
    code, out = cli("usage", "import", str(folder), "--store", str(fresh))
    assert (code, out) == (
        0,
        f"{folder}: batch msgbatch_a: 2 requests (1 succeeded, 1 errored)\n"
        f"{folder}: batch msgbatch_b: 3 requests (2 succeeded, 1 expired)\n",
    )
    code, again = cli("usage", "import", str(folder), "--store", str(fresh))
    assert code == 0 and again.count("already stored, unchanged") == 2
    # into the store it came from: the same requests, nothing stored twice
    code, back = cli("usage", "import", str(folder), "--store", str(store))
    assert code == 0 and back.count("already stored, unchanged") == 2
    with open_store(fresh, read_only=True) as a, open_store(store, read_only=True) as b:
        for by in ("model", "day", "job"):
            assert (
                usage_summary(a, by=by, catalogue=CATALOGUE).to_dict()
                == usage_summary(b, by=by, catalogue=CATALOGUE).to_dict()
            )
    # different requests under a stored id: refused, nothing replaced, unless --replace
    other = tmp_path / "other.duckdb"
    changed = [
        dict(r, input_tokens=r["input_tokens"] + 1) if r["custom_id"] == "claims-1" else r
        for r in ROWS
    ]
    fill(other, changed).close()
    with open_store(other, read_only=True) as opened:
        opened.export_parquet(tmp_path / "ds2")
    with open_store(fresh) as opened:
        with pytest.raises(BatchConflictError, match="msgbatch_a is already stored"):
            import_dataset(opened, tmp_path / "ds2")
        replaced = import_dataset(opened, tmp_path / "ds2", replace=True)
    assert [(r.batch_id, r.unchanged, r.replaced_rows) for r in replaced] == [
        ("msgbatch_a", False, 2),
        ("msgbatch_b", False, 3),  # --replace rewrites what it names, the same rows too
    ]  # fmt: skip


def test_a_dataset_with_a_wrong_column_type_is_refused_naming_file_and_column(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "bad" / "usage_date=2026-03-20"
    folder.mkdir(parents=True)
    columns = ", ".join(
        f"'x' AS {name}" if name == "input_tokens" else f"NULL::{kind} AS {name}"
        for name, kind in __import__(
            "costmodel.core.usage_rows", fromlist=["REQUEST_COLUMNS"]
        ).REQUEST_COLUMNS.items()
    )
    duckdb.sql(f"COPY (SELECT {columns}) TO '{folder}/part.parquet' (FORMAT parquet)")
    with pytest.raises(IngestError) as caught:
        ParquetDataset(tmp_path / "bad")
    assert (
        str(caught.value)
        == f"{folder}/part.parquet: column input_tokens: expected BIGINT, got VARCHAR"
    )
    code, out = cli("usage", "import", str(tmp_path / "bad"), "--store", str(tmp_path / "s.duckdb"))
    assert code == 1 and "column input_tokens: expected BIGINT, got VARCHAR" in out
    assert not (tmp_path / "s.duckdb").exists()


def test_a_dataset_with_a_negative_count_or_no_partition_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "usage.duckdb"
    fill(store, ROWS[:1]).close()
    with duckdb.connect(str(store)) as con:
        con.execute("UPDATE requests SET output_tokens = -4")
    with open_store(store, read_only=True) as opened:
        opened.export_parquet(tmp_path / "neg")
    with pytest.raises(
        IngestError,
        match=r"data_0.parquet: column output_tokens: expected a count of 0 or more, got -4",
    ):
        ParquetDataset(tmp_path / "neg")
    flat = tmp_path / "flat"
    flat.mkdir()
    for part in (tmp_path / "neg").rglob("*.parquet"):
        (flat / "one.parquet").write_bytes(part.read_bytes())
    with pytest.raises(IngestError, match="no usage_date partition"):
        ParquetDataset(flat)
    with pytest.raises(IngestError, match="no Parquet files here"):
        ParquetDataset(tmp_path / "nothing-*.parquet")
