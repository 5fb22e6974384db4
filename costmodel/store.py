"""The usage store: measured request rows in an embedded DuckDB file. The only module that
talks to the database.

Why DuckDB: the questions asked of the store are analytical (sum tokens by model and day over
millions of requests), which a columnar engine answers in milliseconds from one local file
with no server; it reads Arrow and pandas chunks without copying them row by row, and it can
run the results parser's ``SELECT`` over a ``.jsonl`` file inside the same transaction that
stores the rows, so an import never holds a file in memory.

Where: ``open_store(path)``, else ``$COSTMODEL_STORE``, else
``$XDG_DATA_HOME/costmodel/usage.duckdb`` (``~/.local/share/costmodel/usage.duckdb`` when
``XDG_DATA_HOME`` is unset).

What it holds (schema version :data:`SCHEMA_VERSION`, kept in the ``meta`` table):

- ``requests``: one row per results line, columns as :data:`costmodel.ingest.REQUEST_COLUMNS`.
- ``batches``: one row per stored batch: its source (``api`` or ``file:<name>``), status,
  times, counts by result type, lines rejected on import, whether it is complete, and when it
  was imported.
- ``requests_dated``: a view of ``requests`` with ``usage_date``, the day the usage is priced
  on: the batch's creation day, else its end day, else the day it was imported (a results
  file does not say when its batch ran).

Never an API key, a header or a message body: only the counts listed.

Atomic and idempotent per batch: :meth:`Store.write_batch` replaces a batch's rows in one
transaction (delete, then insert). Once a batch has ended its results never change, so
storing it again yields the same rows; and a write that fails or is interrupted part way
rolls back to the batch as it was. The key (batch_id, custom_id) is checked inside that
transaction (one grouped query over the batch just written) rather than by a primary key
with INSERT OR IGNORE: measured on a 1,000,000-line import, the key's index took the peak
memory from about 315 MB to 590 MB, the time from 2.0 s to 3.8 s and the file from 18 MB
to 67 MB, against the goal of flat memory.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

import duckdb
import pandas as pd
import pyarrow as pa

from costmodel.errors import IngestError, StoreError
from costmodel.ingest import REQUEST_COLUMNS, RESULT_TYPES
from costmodel.usage import COUNT_COLUMNS

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "SCHEMA_VERSION",
    "SqlRowSource",
    "Store",
    "WriteResult",
    "default_store_path",
    "open_store",
]

SCHEMA_VERSION: Final = 2
# DuckDB's own default is 80% of RAM, which it fills with cached pages on a big import; a
# bound keeps memory flat as inputs grow (DuckDB spills to ``<store>.tmp`` beyond it). At
# 256MB a 1,000,000-line import ran at half the speed (pages evicted and reread); at 512MB it
# peaks near 320 MB.
DEFAULT_MEMORY_LIMIT: Final = "512MB"
DEFAULT_CHUNK_ROWS: Final = 100_000
_COLUMN_LIST: Final = ", ".join(REQUEST_COLUMNS)
_GROUPS: Final = {
    "batch": "batch_id",
    "batch_id": "batch_id",
    "model": "model",
    "day": "usage_date",
    "result_type": "result_type",
    "error_type": "error_type",
}
_USAGE_COUNTS: Final = COUNT_COLUMNS
# The usage frame (costmodel.usage) of a stored request: counts as floats, one request a row,
# batch tier, and the API's defaults where an older usage object left geo or speed out.
_USAGE_COLUMNS: Final = ", ".join(
    [
        "model",
        "1.0::DOUBLE AS requests",
        *(f"{name}::DOUBLE AS {name}" for name in _USAGE_COUNTS),
        "'batch' AS tier",
        "coalesce(inference_geo, 'global') AS inference_geo",
        "coalesce(speed, 'standard') AS speed",
        "CAST(usage_date AS TIMESTAMP) AS date",
        "batch_id",
        "custom_id",
    ]
)
_STATISTICS: Final = dict(
    zip(
        ("input", "output", "cache_5m", "cache_1h", "cache_read", "web_search"),
        _USAGE_COUNTS,
        strict=True,
    )
)
_BATCH_COLUMNS: Final = (
    "batch_id",
    "source",
    "processing_status",
    "created_at",
    "ended_at",
    "expires_at",
    "archived_at",
    "requests",
    *RESULT_TYPES,
    "expected_requests",
    "rejected_lines",
    "complete",
    "imported_at",
)

_MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    1: (
        f"""CREATE TABLE requests (
            {", ".join(f"{name} {kind}" for name, kind in REQUEST_COLUMNS.items())}
        )""",
        f"""CREATE TABLE batches (
            batch_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            processing_status VARCHAR,
            created_at TIMESTAMP,
            ended_at TIMESTAMP,
            expires_at TIMESTAMP,
            archived_at TIMESTAMP,
            requests BIGINT NOT NULL,
            {", ".join(f"{kind} BIGINT NOT NULL" for kind in RESULT_TYPES)},
            expected_requests BIGINT,
            rejected_lines BIGINT NOT NULL,
            complete BOOLEAN NOT NULL,
            imported_at TIMESTAMP NOT NULL
        )""",
        """CREATE VIEW requests_dated AS
            SELECT r.*,
                   CAST(coalesce(r.batch_created_at, r.batch_ended_at, b.imported_at) AS DATE)
                       AS usage_date
            FROM requests r JOIN batches b USING (batch_id)""",
    ),
    # Batches whose results were gone when a pull reached them (kept 29 days). Remembered so
    # that later pulls do not report, and fail on, the same old batches every time.
    2: (
        """CREATE TABLE unavailable_batches (
            batch_id VARCHAR PRIMARY KEY,
            reason VARCHAR NOT NULL,
            noted_at TIMESTAMP NOT NULL
        )""",
    ),
}


@runtime_checkable
class SqlRowSource(Protocol):
    """A source of request rows the store can read with SQL (a results file does).

    ``select_sql`` gives a DuckDB SELECT of request rows (or None: iterate instead);
    ``explain_failure`` raises a user-facing error when that SELECT failed or produced
    repeated custom ids because of the data, and returns when iterating will do; ``loaded``
    hears how many rows were written. Iterating yields the same rows as DataFrame chunks.
    """

    def select_sql(self) -> tuple[str, dict[str, Any]] | None: ...

    def explain_failure(self, error: BaseException | None) -> None: ...

    def loaded(self, rows: int) -> None: ...

    def __iter__(self) -> Iterator[pd.DataFrame]: ...


@dataclass(frozen=True)
class WriteResult:
    """What :meth:`Store.write_batch` stored for one batch."""

    batch_id: str
    rows: int
    counts: dict[str, int] = field(default_factory=dict)  # rows by result type
    replaced_rows: int = 0  # rows the batch had before (replaced by these)
    complete: bool = True


class _Duplicate(Exception):
    def __init__(self, custom_id: str) -> None:
        super().__init__(custom_id)
        self.custom_id = custom_id


def default_store_path() -> Path:
    """``$COSTMODEL_STORE``, else ``$XDG_DATA_HOME/costmodel/usage.duckdb`` (XDG's default)."""
    explicit = os.environ.get("COSTMODEL_STORE")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = (
        Path(data_home)
        if data_home and Path(data_home).is_absolute()
        else Path.home() / ".local/share"
    )
    return base / "costmodel" / "usage.duckdb"


def open_store(
    path: Path | str | None = None,
    *,
    read_only: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> Store:
    """Open (creating it and its folder if needed, unless ``read_only``) a usage store."""
    target = Path(path).expanduser() if path is not None else default_store_path()
    if read_only and not target.exists():
        raise StoreError(f"{target}: no usage store here (pull or import some usage first)")
    if not read_only:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{target}: cannot create its folder: {exc.strerror}") from exc
    try:
        connection = duckdb.connect(
            str(target), read_only=read_only, config={"memory_limit": memory_limit}
        )
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise StoreError(
                f"{target}: in use by another process (one writer at a time); retry when it ends"
            ) from exc
        raise StoreError(f"{target}: cannot open the usage store: {_first_line(text)}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"{target}: not a usage store ({_first_line(str(exc))})") from exc
    store = Store(target, connection, read_only=read_only)
    try:
        if read_only and (store._schema_version() or 0) < SCHEMA_VERSION:
            # A store made by an older costmodel: upgrade it once through a short read-write
            # connection (which says clearly why if it cannot), then read it as asked.
            connection.close()
            open_store(target, memory_limit=memory_limit).close()
            return open_store(target, read_only=True, memory_limit=memory_limit)
        store._migrate()
    except BaseException:
        connection.close()
        raise
    return store


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _timestamp(value: Any, what: str) -> datetime | None:
    """A naive UTC datetime, the convention of every TIMESTAMP column here."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise StoreError(f"{what}: expected an ISO time, got {value!r}") from exc
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise StoreError(f"{what}: expected a time, got {value!r}")


def _day(value: date | datetime | str | None, what: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise StoreError(f"{what}: expected a date as YYYY-MM-DD, got {value!r}") from exc


class Store:
    """A usage store; get one from :func:`open_store`. Usable as a context manager."""

    def __init__(
        self, path: Path, connection: duckdb.DuckDBPyConnection, *, read_only: bool
    ) -> None:
        self.path = path
        self.read_only = read_only
        self._con = connection

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}{', read_only' if self.read_only else ''})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for :mod:`costmodel.org_store`'s tables."""
        return self._con

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, read to the end (DuckDB refuses new work on a connection
        while a result is unfinished)."""
        found = self._con.execute(sql, list(params)).fetchall()
        return found[0] if found else None

    # -- schema -------------------------------------------------------------------------------
    def _schema_version(self) -> int | None:
        tables = {
            row[0] for row in self._con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if "meta" not in tables:
            if tables:
                raise StoreError(f"{self.path}: a DuckDB file, but not a costmodel usage store")
            return None
        row = self._one("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(row[0]) if row else None

    def _migrate(self) -> None:
        version = self._schema_version()
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: made by a newer costmodel (store schema {version}, this version "
                f"reads up to {SCHEMA_VERSION}); upgrade costmodel"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(f"{self.path}: needs upgrading; open it once without read-only")
        self._con.execute("BEGIN TRANSACTION")
        try:
            if version is None:
                self._con.execute(
                    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
                )
            for step in range((version or 0) + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step]:
                    self._con.execute(statement)
            self._con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return self._schema_version() or 0

    # -- writing ------------------------------------------------------------------------------
    def write_batch(
        self, batch_meta: Mapping[str, Any], chunks: Iterable[pd.DataFrame] | SqlRowSource
    ) -> WriteResult:
        """Store one batch's request rows, replacing any it had, in one transaction.

        ``batch_meta``: ``batch_id`` (required), ``source`` (``api`` or ``file:<name>``),
        ``processing_status``, ``created_at``, ``ended_at``, ``expires_at``, ``archived_at``,
        ``expected_requests`` (the API's total for the batch) and ``rejected_lines``.
        ``chunks``: DataFrames with the request columns (see :mod:`costmodel.ingest`), or a
        :class:`SqlRowSource` such as :class:`costmodel.ingest.files.ResultsFile`, which is
        read straight from its file by SQL. Every row must carry this batch's id, and custom
        ids must be unique within the batch. If anything fails, nothing changes.
        """
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        meta = dict(batch_meta)
        batch_id = meta.get("batch_id")
        if not isinstance(batch_id, str) or not batch_id:
            raise StoreError("write_batch: batch_meta needs a batch_id")
        if isinstance(chunks, SqlRowSource):
            select = chunks.select_sql()
            if select is not None:
                sql, params = select
                try:
                    result = self._write(meta, lambda: self._insert_select(sql, params))
                except (duckdb.Error, _Duplicate) as exc:
                    chunks.explain_failure(exc)  # raises when the data itself is at fault
                else:
                    chunks.loaded(result.rows)
                    return result
        try:
            return self._write(meta, lambda: self._insert_chunks(batch_id, chunks))
        except _Duplicate as exc:
            raise IngestError(
                f"batch {batch_id}: custom_id {exc.custom_id!r} appears more than once; "
                "nothing was stored"
            ) from None
        except duckdb.Error as exc:
            raise StoreError(
                f"batch {batch_id}: could not store it: {_first_line(str(exc))}"
            ) from exc

    def _insert_select(self, sql: str, params: dict[str, Any]) -> None:
        self._con.execute(f"INSERT INTO requests ({_COLUMN_LIST}) {sql}", params)

    def _insert_chunks(self, batch_id: str, chunks: Iterable[Any]) -> None:
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            names = chunk.column_names if isinstance(chunk, pa.Table) else list(chunk.columns)
            missing = [name for name in REQUEST_COLUMNS if name not in names]
            if missing:
                raise StoreError(f"batch {batch_id}: rows lack the column(s) {', '.join(missing)}")
            # Registration hands DuckDB the chunk's columns as they are (no row-by-row insert).
            self._con.register("_chunk", chunk)
            try:
                other = self._one(
                    "SELECT batch_id FROM _chunk WHERE batch_id IS DISTINCT FROM ? LIMIT 1",
                    [batch_id],
                )
                if other is not None:
                    raise StoreError(f"batch {batch_id}: a row belongs to batch {other[0]!r}")
                self._con.execute(
                    f"INSERT INTO requests ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM _chunk"
                )
            finally:
                self._con.unregister("_chunk")

    def _write(self, meta: dict[str, Any], insert: Callable[[], None]) -> WriteResult:
        batch_id = meta["batch_id"]
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            before = self._one("SELECT requests FROM batches WHERE batch_id = ?", [batch_id])
            con.execute("DELETE FROM requests WHERE batch_id = ?", [batch_id])
            insert()
            repeated = self._one(
                "SELECT custom_id FROM requests WHERE batch_id = ? "
                "GROUP BY custom_id HAVING count(*) > 1 LIMIT 1",
                [batch_id],
            )
            if repeated is not None:
                raise _Duplicate(str(repeated[0]))
            counts = dict.fromkeys(RESULT_TYPES, 0)
            for kind, n in con.execute(
                "SELECT result_type, count(*) FROM requests WHERE batch_id = ? GROUP BY 1",
                [batch_id],
            ).fetchall():
                if kind not in counts:
                    raise StoreError(f"batch {batch_id}: unknown result type {kind!r}")
                counts[kind] = int(n)
            rows = sum(counts.values())
            expected = meta.get("expected_requests")
            rejected = int(meta.get("rejected_lines") or 0)
            complete = rejected == 0 and (expected is None or int(expected) == rows)
            record = {
                "batch_id": batch_id,
                "source": str(meta.get("source") or "api"),
                "processing_status": meta.get("processing_status", "ended"),
                **{
                    key: _timestamp(meta.get(key), f"batch {batch_id}: {key}")
                    for key in ("created_at", "ended_at", "expires_at", "archived_at")
                },
                "requests": rows,
                **counts,
                "expected_requests": None if expected is None else int(expected),
                "rejected_lines": rejected,
                "complete": complete,
                "imported_at": datetime.now(UTC).replace(tzinfo=None),
            }
            placeholders = ", ".join("?" for _ in _BATCH_COLUMNS)
            con.execute(
                f"INSERT OR REPLACE INTO batches ({', '.join(_BATCH_COLUMNS)}) VALUES ({placeholders})",
                [record[name] for name in _BATCH_COLUMNS],
            )
            con.execute("COMMIT")
        except BaseException:
            # Also on KeyboardInterrupt: the batch stays exactly as it was before.
            with contextlib.suppress(duckdb.Error):  # the failure may have ended it already
                con.execute("ROLLBACK")
            raise
        return WriteResult(batch_id, rows, counts, int(before[0]) if before else 0, complete)

    # -- reading ------------------------------------------------------------------------------
    def batches(self) -> pd.DataFrame:
        """One row per stored batch, newest first."""
        return self._con.execute(
            f"SELECT {', '.join(_BATCH_COLUMNS)} FROM batches "
            "ORDER BY created_at DESC NULLS LAST, imported_at DESC"
        ).df()

    def has_complete_batch(self, batch_id: str, *, expected_requests: int | None = None) -> bool:
        """Whether ``batch_id`` is stored whole (nothing rejected; as many rows as expected)."""
        row = self._one("SELECT complete, requests FROM batches WHERE batch_id = ?", [batch_id])
        if row is None or not row[0]:
            return False
        return expected_requests is None or int(row[1]) == expected_requests

    def note_unavailable(self, batch_id: str, reason: str) -> None:
        """Remember that ``batch_id``'s results could not be had (see :meth:`unavailable`)."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        self._con.execute(
            "INSERT OR REPLACE INTO unavailable_batches VALUES (?, ?, ?)",
            [batch_id, reason, datetime.now(UTC).replace(tzinfo=None)],
        )

    def unavailable(self) -> set[str]:
        """Batches an earlier pull found without results (reported then, skipped since)."""
        return {
            row[0]
            for row in self._con.execute("SELECT batch_id FROM unavailable_batches").fetchall()
        }

    def _where(
        self,
        since: date | datetime | str | None,
        until: date | datetime | str | None,
        extra: str = "",
    ) -> tuple[str, list[Any]]:
        clauses, params = ([extra] if extra else []), []
        start, end = _day(since, "since"), _day(until, "until")
        if start is not None:
            clauses.append("usage_date >= ?")
            params.append(start)
        if end is not None:
            clauses.append("usage_date < ?")
            params.append(end)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def requests(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Stored request rows used from ``since`` (inclusive) to ``until`` (exclusive), by day.

        ``columns``: any of the request columns and ``usage_date`` (default: all of them).
        """
        allowed = (*REQUEST_COLUMNS, "usage_date")
        chosen = list(columns) if columns is not None else list(allowed)
        unknown = [name for name in chosen if name not in allowed]
        if unknown:
            raise StoreError(f"requests: unknown column(s) {', '.join(unknown)}")
        where, params = self._where(since, until)
        table = self._con.sql(
            f"SELECT {', '.join(chosen)} FROM requests_dated{where}", params=params
        ).to_arrow_table()
        return _pandas(table)

    def _usage_select(
        self,
        since: date | datetime | str | None,
        until: date | datetime | str | None,
        key_sql: str | None,
        key_params: Sequence[Any],
    ) -> tuple[str, list[Any]]:
        where, params = self._where(since, until, "result_type = 'succeeded'")
        key = f", ({key_sql}) AS key" if key_sql else ""
        return f"SELECT {_USAGE_COLUMNS}{key} FROM requests_dated{where}", [*key_params, *params]

    def iter_usage_frames(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        key_sql: str | None = None,
        key_params: Sequence[Any] = (),
    ) -> Iterator[pd.DataFrame]:
        """:meth:`usage_frame` in chunks of ``chunk_rows``: memory stays flat however much is stored.

        ``key_sql``: a SQL expression over ``requests_dated`` columns (from code, never from
        user input; values go in ``key_params``) added to every chunk as a ``key`` column, so
        callers can group by job, model or day without a second pass.
        """
        sql, params = self._usage_select(since, until, key_sql, key_params)
        # A cursor of its own, so other queries on the store can run while this streams.
        cursor = self._con.cursor()
        try:
            reader = cursor.sql(sql, params=params).to_arrow_reader(chunk_rows)
            for batch in reader:
                yield _usage_pandas(pa.Table.from_batches([batch]))
        finally:
            cursor.close()

    def usage_frame(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> pd.DataFrame:
        """Succeeded requests as a usage frame (:mod:`costmodel.usage`), one row per request.

        Columns: the usage-frame columns (``requests`` = 1, ``tier`` = ``batch``, ``date`` =
        the usage day, see ``requests_dated``) plus ``batch_id`` and ``custom_id``. Errored,
        canceled and expired requests are not billed, so they are not here. For large stores
        prefer :meth:`iter_usage_frames`, whose memory does not grow with the store.
        """
        sql, params = self._usage_select(since, until, None, ())
        return _usage_pandas(self._con.sql(sql, params=params).to_arrow_table())

    def result_counts(
        self,
        group_by: str | Sequence[str] = "batch_id",
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> pd.DataFrame:
        """Requests by result type, grouped by any of batch(_id), model, day, result_type, error_type.

        One column per group (named as given), then succeeded, errored, canceled, expired and
        requests (their sum). Errored, canceled and expired requests carry no model.
        """
        groups = [group_by] if isinstance(group_by, str) else list(group_by)
        unknown = [name for name in groups if name not in _GROUPS]
        if unknown or not groups:
            raise StoreError(
                f"result_counts: cannot group by {', '.join(unknown) or 'nothing'}; "
                f"choose from {', '.join(_GROUPS)}"
            )
        keys = ", ".join(f"{_GROUPS[name]} AS {name}" for name in groups)
        return self._counts(keys, [], len(groups), since, until)

    def result_counts_by(
        self,
        key_sql: str,
        key_params: Sequence[Any] = (),
        *,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> pd.DataFrame:
        """:meth:`result_counts` grouped by a SQL expression (see :meth:`iter_usage_frames`), as ``key``."""
        return self._counts(f"({key_sql}) AS key", list(key_params), 1, since, until)

    def _counts(
        self,
        keys: str,
        key_params: list[Any],
        n_keys: int,
        since: date | datetime | str | None,
        until: date | datetime | str | None,
    ) -> pd.DataFrame:
        counts = ", ".join(
            f"count(*) FILTER (WHERE result_type = '{kind}') AS {kind}" for kind in RESULT_TYPES
        )
        where, params = self._where(since, until)
        order = ", ".join(f"{i} NULLS LAST" for i in range(1, n_keys + 1))
        return self._con.execute(
            f"SELECT {keys}, {counts}, count(*) AS requests FROM requests_dated{where} "
            f"GROUP BY ALL ORDER BY {order}",
            [*key_params, *params],
        ).df()

    def usage_span(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> tuple[date | None, date | None, int]:
        """First and last usage day of the stored requests in the window, and how many batches."""
        where, params = self._where(since, until)
        row = self._one(
            f"SELECT min(usage_date), max(usage_date), count(DISTINCT batch_id) "
            f"FROM requests_dated{where}",
            params,
        )
        first, last, batches = row if row else (None, None, 0)
        return first, last, int(batches)

    def usage_statistics(
        self,
        key_sql: str,
        key_params: Sequence[Any] = (),
        *,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
        job: str | None = None,
        model_sql: str = "model",
        model_params: Sequence[Any] = (),
    ) -> pd.DataFrame:
        """Per (key, model) over succeeded requests: count, most common geo, and the mean,
        median and 95th percentile of each token kind, for fitting scenarios.

        Columns: ``workload`` (the key), ``model``, ``requests``, ``inference_geo``, then
        ``<kind>_mean``, ``<kind>_p50``, ``<kind>_p95`` for kind in input, output, cache_5m,
        cache_1h, cache_read, web_search. ``job`` keeps only that key. ``model_sql`` (with
        ``model_params``) names the model, e.g. a CASE mapping snapshot ids to one model.
        """
        where, params = self._where(since, until, "result_type = 'succeeded'")
        stats = ", ".join(
            f"avg({column}) AS {kind}_mean, "
            f"quantile_disc({column}, 0.5) AS {kind}_p50, "
            f"quantile_disc({column}, 0.95) AS {kind}_p95"
            for kind, column in _STATISTICS.items()
        )
        only = " WHERE workload = ?" if job is not None else ""
        return self._con.execute(
            f"SELECT workload, model_name AS model, count(*) AS requests, "
            f"mode(coalesce(inference_geo, 'global')) AS inference_geo, {stats} "
            f"FROM (SELECT ({key_sql}) AS workload, ({model_sql}) AS model_name, * "
            f"FROM requests_dated{where}){only} "
            "GROUP BY workload, model_name ORDER BY workload, model_name",
            [*key_params, *model_params, *params, *([job] if job is not None else [])],
        ).df()

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Any SQL over ``requests``, ``requests_dated`` and ``batches``, as a DataFrame."""
        try:
            return self._con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {_first_line(str(exc))}") from exc


def _pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


# Few distinct values each: categorical keeps a million-row frame small and groups fast.
_CATEGORICAL: Final = ("model", "tier", "inference_geo", "speed", "batch_id", "key")


def _usage_pandas(table: pa.Table) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for name in table.column_names:
        column = table.column(name)
        if name in _CATEGORICAL:
            columns[name] = column.cast(pa.string()).dictionary_encode().to_pandas()
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns)
