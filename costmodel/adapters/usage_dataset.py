"""Stored requests as a Parquet dataset, hive-partitioned by usage day, and back.

``costmodel usage export --format parquet DIR`` writes ``DIR/usage_date=YYYY-MM-DD/*.parquet``
(:meth:`costmodel.adapters.store.Store.export_parquet`): the request columns of
:data:`costmodel.core.usage_rows.REQUEST_COLUMNS`, the day as the partition key. Such a dataset
can be

- **read in place** (:class:`ParquetDataset`): summaries run the store's own aggregate SQL
  over ``read_parquet(..., hive_partitioning=true)``, which DuckDB streams, so a dataset
  larger than memory is summarised in bounded memory, never imported;
- **imported** (:func:`import_dataset`): one :meth:`~costmodel.adapters.store.Store.write_batch` per
  batch id, so digests and idempotence are those of any import: the same dataset again
  stores nothing twice, and different requests under a stored id are refused unless
  ``replace``.

Every file's columns and types are checked first, with an error naming the file and column.
A path is a folder (every ``*.parquet`` under it), a glob, or a URL of an object store where
DuckDB supports one (its ``httpfs`` extension, loaded only for a URL): not tested here.
"""

from __future__ import annotations

import glob as globbing
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from costmodel.core.usage_rows import REQUEST_COLUMNS, RESULT_TYPES, JobRule, PriceBand
from costmodel.errors import IngestError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from costmodel.adapters.store import Store, WriteResult

__all__ = ["PARTITION", "ParquetDataset", "dataset_pattern", "import_dataset", "is_dataset"]

PARTITION: Final = "usage_date"
_MEMORY_LIMIT: Final = "512MB"
_COUNTS: Final = tuple(name for name, kind in REQUEST_COLUMNS.items() if kind == "BIGINT")
_COLUMN_LIST: Final = ", ".join(REQUEST_COLUMNS)
_CHUNK_ROWS: Final = 100_000


def _is_url(path: str) -> bool:
    return "://" in path


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` names a Parquet dataset: a folder, a ``.parquet`` glob or file, a URL."""
    text = str(path)
    if _is_url(text) or text.endswith(".parquet"):
        return True
    return Path(text).is_dir() or (any(c in text for c in "*?[") and ".parquet" in text)


def dataset_pattern(path: str | Path) -> str:
    """The glob DuckDB reads: every ``*.parquet`` under a folder, else the path as given."""
    text = str(path)
    if not _is_url(text) and Path(text).is_dir():
        return str(Path(text) / "**" / "*.parquet")
    return text


def _connect(url: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    # Extensions only for an object-store URL the user named (httpfs), never otherwise.
    return duckdb.connect(
        ":memory:",
        config={
            "memory_limit": _MEMORY_LIMIT,
            "autoinstall_known_extensions": url,
            "autoload_known_extensions": url,
        },
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


class ParquetDataset:
    """A Parquet dataset of request rows, read in place (see the module docstring).

    Offers the query side summaries need (:class:`costmodel.core.measured.UsageSource`):
    :meth:`usage_aggregates`, :meth:`succeeded_models` and :meth:`usage_span`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.pattern = dataset_pattern(path)
        self._con = _connect(_is_url(self.pattern))
        self._source = (
            "(SELECT *, CAST(usage_date AS DATE) AS usage_date "
            "FROM read_parquet(?, hive_partitioning = true, union_by_name = true))"
        )
        self._check()

    def __enter__(self) -> ParquetDataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    # -- checks -------------------------------------------------------------------------------
    def _files(self) -> list[str]:
        if _is_url(self.pattern):
            return [self.pattern]
        files = sorted(globbing.glob(self.pattern, recursive=True))
        if not files:
            raise IngestError(f"{self.path}: no Parquet files here (expected *.parquet)")
        return files

    def _check(self) -> None:
        """Every file holds the request columns with their types; the day is the partition."""
        import duckdb

        for file in self._files():
            try:
                described = self._con.execute(
                    "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = true)", [file]
                ).fetchall()
            except duckdb.Error as exc:
                raise IngestError(f"{file}: not a Parquet file ({_first_line(str(exc))})") from exc
            types = {str(row[0]): str(row[1]) for row in described}
            for name, kind in REQUEST_COLUMNS.items():
                if name not in types:
                    raise IngestError(f"{file}: column {name}: missing (expected {kind})")
                if types[name] != kind and not (kind == "BIGINT" and types[name] == "INTEGER"):
                    raise IngestError(f"{file}: column {name}: expected {kind}, got {types[name]}")
            if PARTITION not in types:
                raise IngestError(
                    f"{file}: no {PARTITION} partition (expected a folder "
                    f"{PARTITION}=YYYY-MM-DD above the file, as `usage export` writes)"
                )
        self._check_values()

    def _check_values(self) -> None:
        """Counts present and not negative, known result types, a day that is a date."""
        import duckdb

        bad_count = " OR ".join(f"{name} IS NULL OR {name} < 0" for name in _COUNTS)
        kinds = ", ".join(f"'{kind}'" for kind in RESULT_TYPES)
        try:
            found = self._con.execute(
                f"SELECT filename, {', '.join(_COUNTS)}, result_type, batch_id, custom_id "
                "FROM read_parquet(?, hive_partitioning = true, union_by_name = true, "
                "filename = true) "
                f"WHERE {bad_count} OR result_type IS NULL OR result_type NOT IN ({kinds}) "
                "OR batch_id IS NULL OR custom_id IS NULL OR TRY_CAST(usage_date AS DATE) IS NULL "
                "LIMIT 1",
                [self.pattern],
            ).fetchall()
        except duckdb.Error as exc:
            raise IngestError(
                f"{self.path}: cannot read the dataset: {_first_line(str(exc))}"
            ) from exc
        if not found:
            return
        row = found[0]
        file, values = (
            row[0],
            dict(zip((*_COUNTS, "result_type", "batch_id", "custom_id"), row[1:], strict=True)),
        )
        for name in _COUNTS:
            if values[name] is None or values[name] < 0:
                raise IngestError(
                    f"{file}: column {name}: expected a count of 0 or more, got {values[name]!r}"
                )
        for name in ("batch_id", "custom_id"):
            if values[name] is None:
                raise IngestError(f"{file}: column {name}: missing in a row")
        if values["result_type"] not in RESULT_TYPES:
            raise IngestError(
                f"{file}: column result_type: expected one of {', '.join(RESULT_TYPES)}, "
                f"got {values['result_type']!r}"
            )
        raise IngestError(f"{file}: {PARTITION}: not a date (expected YYYY-MM-DD)")

    # -- the query side -----------------------------------------------------------------------
    def usage_aggregates(
        self,
        by: Sequence[str] = (),
        *,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
        jobs: JobRule | None = None,
        bands: Sequence[PriceBand] = (),
        models: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """As :meth:`costmodel.adapters.store.Store.usage_aggregates`, over the dataset."""
        from costmodel.adapters.store import run_aggregate

        return run_aggregate(
            self._con,
            self._source,
            [self.pattern],
            by,
            since=since,
            until=until,
            jobs=jobs,
            bands=bands,
            models=models,
        )

    def _window(
        self, since: date | datetime | str | None, until: date | datetime | str | None
    ) -> tuple[str, list[Any]]:
        from costmodel.adapters.store import window_clause

        where, params = window_clause(since, until)
        return where, [self.pattern, *params]  # the dataset's path comes first in its queries

    def succeeded_models(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> list[str]:
        where, params = self._window(since, until)
        where += (" AND " if where else " WHERE ") + "result_type = 'succeeded'"
        rows = self._con.execute(
            f"SELECT DISTINCT model FROM {self._source}{where} ORDER BY 1", params
        ).fetchall()
        return [str(row[0]) for row in rows if row[0] is not None]

    def usage_span(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> tuple[date | None, date | None, int]:
        where, params = self._window(since, until)
        row = self._con.execute(
            f"SELECT min(usage_date), max(usage_date), count(DISTINCT batch_id) "
            f"FROM {self._source}{where}",
            params,
        ).fetchone()
        first, last, batches = row if row else (None, None, 0)
        return first, last, int(batches)

    # -- reading batches, for import ----------------------------------------------------------
    def batches(self) -> list[dict[str, Any]]:
        """Each batch id in the dataset with the batch times its rows carry."""
        rows = self._con.execute(
            f"SELECT batch_id, min(batch_created_at), min(batch_ended_at), count(*) "
            f"FROM {self._source} GROUP BY batch_id ORDER BY batch_id",
            [self.pattern],
        ).fetchall()
        return [
            {"batch_id": r[0], "created_at": r[1], "ended_at": r[2], "requests": int(r[3])}
            for r in rows
        ]

    def batch_rows(self, batch_id: str) -> Iterator[pd.DataFrame]:
        """The request rows of one batch, in chunks. A row without batch times keeps its
        usage day as its end time, so the store dates it as the dataset did."""
        ended = (
            "CASE WHEN batch_created_at IS NULL AND batch_ended_at IS NULL "
            "THEN CAST(usage_date AS TIMESTAMP) ELSE batch_ended_at END AS batch_ended_at"
        )
        columns = ", ".join(ended if name == "batch_ended_at" else name for name in REQUEST_COLUMNS)
        cursor = self._con.cursor()
        try:
            reader = cursor.sql(
                f"SELECT {columns} FROM {self._source} WHERE batch_id = ? ORDER BY custom_id",
                params=[self.pattern, batch_id],
            ).to_arrow_reader(_CHUNK_ROWS)
            for chunk in reader:
                yield chunk.to_pandas()
        finally:
            cursor.close()


def import_dataset(store: Store, path: str | Path, *, replace: bool = False) -> list[WriteResult]:
    """Import a Parquet dataset into the store, one batch at a time (see the module docstring)."""
    with ParquetDataset(path) as dataset:
        results = []
        for batch in dataset.batches():
            meta = {
                "batch_id": batch["batch_id"],
                "source": f"file:{path}",
                "processing_status": "ended",
                "created_at": batch["created_at"],
                "ended_at": batch["ended_at"],
                "expected_requests": batch["requests"],
            }
            results.append(
                store.write_batch(meta, dataset.batch_rows(batch["batch_id"]), replace=replace)
            )
        return results
