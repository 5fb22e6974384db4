"""The organisation's report in the usage store: the tables the Usage and Cost Analytics API
fills, beside the batch results :mod:`costmodel.adapters.store` keeps. With ``store.py``, the only
module that talks to the database.

Tables (created with ``CREATE TABLE IF NOT EXISTS`` on the first write, so a store that never
held a report is not changed by reading it):

- ``org_usage``: one row per usage row of a pull; ``query`` is ``usage`` (grouped by
  :data:`~costmodel.adapters.ingest.org.USAGE_GROUP_BY`) or ``geo`` (by
  :data:`~costmodel.adapters.ingest.org.GEO_GROUP_BY`); integer token counts.
- ``org_cost``: one row per cost row; ``amount_cents`` and ``list_amount_cents`` are
  ``DECIMAL(38, 12)``: the API's fractional-cent strings, exactly. A value with more than
  twelve decimal places is refused rather than rounded.
- ``org_pulls``: one row per day range written: the pull's period, its workspace filter, the
  report's ``data_refreshed_at``, when it was written, and its source (``api`` or ``demo``,
  so demo data is labelled wherever it is shown).

A write replaces the days it covers (those of its workspaces, when the pull was filtered by
workspace) in one transaction: the report is refreshed upstream, so pulling a period again
never double counts, and a write that fails part way leaves the store as it was. Times are
naive UTC in the database (the store's convention) and UTC-aware in the row types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from costmodel.adapters.ingest.org import CostRow, OrgReport, UsageRow
from costmodel.errors import StoreError

__all__ = [
    "AMOUNT_SCALE",
    "OrgPeriod",
    "OrgWrite",
    "has_org_data",
    "org_period",
    "read_cost",
    "read_report",
    "read_usage",
    "sources",
    "write_org_report",
]

AMOUNT_SCALE: Final = 12  # decimal places of fractional cents kept exactly
_DIMENSIONS: Final = (
    "model",
    "service_tier",
    "workspace_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "speed",
)
_USAGE_COUNTS: Final = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
    "web_search_requests",
)
_DIM_SQL: Final = ", ".join(f"{d} VARCHAR" for d in _DIMENSIONS)
_SCHEMA: Final = (
    f"""CREATE TABLE IF NOT EXISTS org_usage (
        query VARCHAR NOT NULL, starting_at TIMESTAMP NOT NULL, ending_at TIMESTAMP NOT NULL,
        day DATE NOT NULL, {_DIM_SQL},
        {", ".join(f"{c} BIGINT NOT NULL" for c in _USAGE_COUNTS)}, requests BIGINT)""",
    f"""CREATE TABLE IF NOT EXISTS org_cost (
        starting_at TIMESTAMP NOT NULL, ending_at TIMESTAMP NOT NULL, day DATE NOT NULL,
        {_DIM_SQL}, cost_type VARCHAR, token_type VARCHAR,
        amount_cents DECIMAL(38, {AMOUNT_SCALE}) NOT NULL,
        list_amount_cents DECIMAL(38, {AMOUNT_SCALE}) NOT NULL,
        currency VARCHAR NOT NULL, requests BIGINT)""",
    """CREATE TABLE IF NOT EXISTS org_pulls (
        since DATE NOT NULL, until DATE NOT NULL, workspace_ids VARCHAR NOT NULL,
        data_refreshed_at TIMESTAMP, written_at TIMESTAMP NOT NULL, source VARCHAR NOT NULL)""",
)
_TABLES: Final = ("org_usage", "org_cost", "org_pulls")
_USAGE_COLUMNS: Final = ("starting_at", "ending_at", *_DIMENSIONS, *_USAGE_COUNTS, "requests")
_COST_COLUMNS: Final = (
    "starting_at",
    "ending_at",
    *_DIMENSIONS,
    "cost_type",
    "token_type",
    "amount_cents",
    "list_amount_cents",
    "currency",
    "requests",
)
_QUANTUM: Final = Decimal(1).scaleb(-AMOUNT_SCALE)
_MAX_CENTS: Final = Decimal(10) ** (38 - AMOUNT_SCALE)


@dataclass(frozen=True)
class OrgWrite:
    """What a write replaced and stored."""

    since: date
    until: date
    usage_rows: int
    geo_rows: int
    cost_rows: int
    replaced_rows: int  # rows of the same days (and workspaces) that were there before


@dataclass(frozen=True)
class OrgPeriod:
    first_day: date
    last_day: date
    data_refreshed_at: datetime | None
    demo: bool  # some of the period's data is the generated demo report


def _connection(store: Any) -> Any:
    """The store's DuckDB connection (``Store.connection``), or a connection itself."""
    return getattr(store, "connection", store)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _exact(value: Decimal, what: str) -> Decimal:
    if not value.is_finite() or abs(value) >= _MAX_CENTS:
        raise StoreError(f"{what}: {value} cents is outside what the store keeps")
    if value.quantize(_QUANTUM) != value:
        raise StoreError(
            f"{what}: {value} has more than {AMOUNT_SCALE} decimal places of a cent; "
            "the store keeps amounts exactly and will not round it"
        )
    return value


def has_org_data(store: Any) -> bool:
    """Whether the store holds any organisation report rows."""
    con = _connection(store)
    if not _tables_exist(con):
        return False
    return bool(con.execute("SELECT count(*) FROM org_pulls").fetchone()[0])


def _tables_exist(con: Any) -> bool:
    names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return all(name in names for name in _TABLES)


def write_org_report(store: Any, report: OrgReport, *, source: str = "api") -> OrgWrite:
    """Replace the report's days in the store with its rows, in one transaction."""
    import pyarrow as pa

    if getattr(store, "read_only", False):
        raise StoreError(f"{store.path}: opened read-only; cannot store the report")
    # A store opened to be created on first write makes its file now.
    writable = getattr(store, "writable_connection", None)
    con = writable() if writable is not None else _connection(store)
    usage = [("usage", row) for row in report.usage] + [("geo", row) for row in report.geo_usage]
    for _, row in usage:
        _check_day(row.day, report, "usage row")
    for cost_row in report.cost:
        _check_day(cost_row.day, report, "cost row")
    usage_table = pa.table(
        {
            "query": pa.array([q for q, _ in usage], pa.string()),
            **{
                name: pa.array([_naive(getattr(r, name)) for _, r in usage], pa.timestamp("us"))
                for name in ("starting_at", "ending_at")
            },
            "day": pa.array([r.day for _, r in usage], pa.date32()),
            **{d: pa.array([getattr(r, d) for _, r in usage], pa.string()) for d in _DIMENSIONS},
            **{c: pa.array([getattr(r, c) for _, r in usage], pa.int64()) for c in _USAGE_COUNTS},
            "requests": pa.array([r.requests for _, r in usage], pa.int64()),
        }
    )
    cost = report.cost
    cost_table = pa.table(
        {
            **{
                name: pa.array([_naive(getattr(r, name)) for r in cost], pa.timestamp("us"))
                for name in ("starting_at", "ending_at")
            },
            "day": pa.array([r.day for r in cost], pa.date32()),
            **{d: pa.array([getattr(r, d) for r in cost], pa.string()) for d in _DIMENSIONS},
            "cost_type": pa.array([r.cost_type for r in cost], pa.string()),
            "token_type": pa.array([r.token_type for r in cost], pa.string()),
            **{
                name: pa.array(
                    [
                        _exact(getattr(r, name), f"cost row {i + 1} {name}")
                        for i, r in enumerate(cost)
                    ],
                    pa.decimal128(38, AMOUNT_SCALE),
                )
                for name in ("amount_cents", "list_amount_cents")
            },
            "currency": pa.array([r.currency for r in cost], pa.string()),
            "requests": pa.array([r.requests for r in cost], pa.int64()),
        }
    )
    workspaces = sorted(set(report.workspace_ids))
    where = "day BETWEEN ? AND ?"
    params: list[Any] = [report.since, report.until]
    if workspaces:
        where += f" AND workspace_id IN ({', '.join('?' for _ in workspaces)})"
        params += workspaces
    import duckdb

    con.register("_org_usage_rows", usage_table)
    con.register("_org_cost_rows", cost_table)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in _SCHEMA:
                con.execute(statement)
            replaced = sum(
                con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]
                for table in ("org_usage", "org_cost")
            )
            con.execute(f"DELETE FROM org_usage WHERE {where}", params)
            con.execute(f"DELETE FROM org_cost WHERE {where}", params)
            con.execute("INSERT INTO org_usage BY NAME SELECT * FROM _org_usage_rows")
            con.execute("INSERT INTO org_cost BY NAME SELECT * FROM _org_cost_rows")
            con.execute(
                "INSERT INTO org_pulls VALUES (?, ?, ?, ?, ?, ?)",
                [
                    report.since,
                    report.until,
                    ",".join(workspaces),
                    None if report.data_refreshed_at is None else _naive(report.data_refreshed_at),
                    datetime.now(UTC).replace(tzinfo=None),
                    source,
                ],
            )
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise StoreError(f"cannot store the organisation report: {first}") from exc
            raise
    finally:
        con.unregister("_org_usage_rows")
        con.unregister("_org_cost_rows")
    return OrgWrite(
        report.since,
        report.until,
        len(report.usage),
        len(report.geo_usage),
        len(report.cost),
        int(replaced),
    )


def _check_day(day: date, report: OrgReport, what: str) -> None:
    # A row outside the pulled days would survive a later re-pull of its own day: refuse it.
    if not report.since <= day <= report.until:
        raise StoreError(
            f"{what} for {day.isoformat()} is outside the pulled period "
            f"{report.since.isoformat()} to {report.until.isoformat()}"
        )


def _period_where(since: date | None, until: date | None) -> tuple[str, list[Any]]:
    clauses, params = ["TRUE"], []
    if since is not None:
        clauses.append("day >= ?")
        params.append(since)
    if until is not None:
        clauses.append("day <= ?")
        params.append(until)
    return " AND ".join(clauses), params


def read_usage(
    store: Any, since: date | None = None, until: date | None = None, *, geo: bool = False
) -> list[UsageRow]:
    """The stored usage rows of ``since`` to ``until`` (inclusive), oldest first."""
    con = _connection(store)
    if not _tables_exist(con):
        return []
    where, params = _period_where(since, until)
    rows = con.execute(
        f"SELECT {', '.join(_USAGE_COLUMNS)} FROM org_usage WHERE query = ? AND {where} "
        f"ORDER BY starting_at, {', '.join(_DIMENSIONS)}",
        ["geo" if geo else "usage", *params],
    ).fetchall()
    out = []
    for values in rows:
        record = dict(zip(_USAGE_COLUMNS, values, strict=True))
        record["starting_at"] = _aware(record["starting_at"])
        record["ending_at"] = _aware(record["ending_at"])
        out.append(UsageRow(**record))
    return out


def read_cost(store: Any, since: date | None = None, until: date | None = None) -> list[CostRow]:
    """The stored cost rows of ``since`` to ``until`` (inclusive), amounts as exact Decimals."""
    con = _connection(store)
    if not _tables_exist(con):
        return []
    where, params = _period_where(since, until)
    rows = con.execute(
        f"SELECT {', '.join(_COST_COLUMNS)} FROM org_cost WHERE {where} "
        f"ORDER BY starting_at, {', '.join(_DIMENSIONS)}, cost_type, token_type",
        params,
    ).fetchall()
    out = []
    for values in rows:
        record = dict(zip(_COST_COLUMNS, values, strict=True))
        record["starting_at"] = _aware(record["starting_at"])
        record["ending_at"] = _aware(record["ending_at"])
        # DuckDB hands DECIMAL back as Decimal at the column's scale; normalise the trailing
        # zeros away so a stored "1.5" reads back as it was written.
        for name in ("amount_cents", "list_amount_cents"):
            record[name] = _plain(Decimal(record[name]))
        out.append(CostRow(**record))
    return out


def _plain(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def org_period(
    store: Any, since: date | None = None, until: date | None = None
) -> OrgPeriod | None:
    """The stored days within ``since``/``until``, how fresh and whether demo; None if none."""
    con = _connection(store)
    if not _tables_exist(con):
        return None
    where, params = _period_where(since, until)
    first, last = con.execute(
        f"SELECT min(day), max(day) FROM (SELECT day FROM org_usage WHERE {where} "
        f"UNION ALL SELECT day FROM org_cost WHERE {where})",
        params + params,
    ).fetchone()
    if first is None:
        return None
    refreshed, demo = con.execute(
        "SELECT min(data_refreshed_at), bool_or(source = 'demo') FROM org_pulls "
        "WHERE since <= ? AND until >= ?",
        [last, first],
    ).fetchone()
    return OrgPeriod(first, last, _aware(refreshed), bool(demo))


def read_report(
    store: Any, since: date | None = None, until: date | None = None
) -> tuple[OrgReport, OrgPeriod] | None:
    """Everything stored for the period as an :class:`OrgReport` (None when nothing is)."""
    period = org_period(store, since, until)
    if period is None:
        return None
    first = since or period.first_day
    last = until or period.last_day
    report = OrgReport(
        since=first,
        until=last,
        windows=[
            (
                datetime(first.year, first.month, first.day, tzinfo=UTC),
                datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1),
            )
        ],
        usage=read_usage(store, first, last),
        geo_usage=read_usage(store, first, last, geo=True),
        cost=read_cost(store, first, last),
        data_refreshed_at=period.data_refreshed_at,
    )
    return report, period


def sources(store: Any, since: date, until: date) -> set[str]:
    """Where the stored rows of ``since`` to ``until`` came from (``api``, ``demo``)."""
    con = _connection(store)
    if not _tables_exist(con):
        return set()
    rows = con.execute(
        "SELECT DISTINCT source FROM org_pulls WHERE since <= ? AND until >= ?", [until, since]
    ).fetchall()
    return {row[0] for row in rows}


def stored_workspaces(store: Any) -> Sequence[str]:
    """Every workspace the stored report names (for the dashboard's filters)."""
    con = _connection(store)
    if not _tables_exist(con):
        return []
    return [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT workspace_id FROM org_usage WHERE workspace_id IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
