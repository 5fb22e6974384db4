"""Saved Message Batches results (``.jsonl``) -> request rows, checked, in bounded memory.

Two readers share one set of rules:

- **The fast reader** is DuckDB's ``read_ndjson`` with an explicit schema, run in a private
  in-memory DuckDB (a parser, not the usage store). It streams rows in chunks and, because it
  is a SQL ``SELECT``, the store can also run it inside its own transaction (see
  :meth:`ResultsFile.select_sql`) so a file goes from disk into the store without passing
  through Python objects. Measured on the project's machines at about 750K lines/s with flat
  memory, against about 24K lines/s for the SDK's pydantic types.
- **The reference reader** parses line by line with :mod:`json`. It is the definition of a
  valid line, it finds the line numbers the fast reader cannot give, and it reads what the
  fast reader refuses for its own reasons (a line over DuckDB's object-size limit, a key
  repeated within an object). It only runs when something is wrong, or with ``skip_invalid``.

Both readers hold every line to the same types, and the fast one never coerces: it reads the
counts and texts as raw JSON and checks them in its own SQL (a count is taken only if its JSON
text is the canonical text of a whole number, so ``1.5``, ``12.0``, ``true``, ``"2000"`` and
``-3`` are refused; a custom id or model is taken only if it is a JSON string). Whatever the
fast reader refuses, the reference reader judges, line by line, so both give one verdict.

A line is invalid when it is not a JSON object (a truncated last line included), has no
``custom_id`` or one that is not a string, has no or an unknown ``result.type``, is a
succeeded line without ``usage`` (input and output tokens) or without a model given as a
string, has a token count that is not a JSON integer from 0 to 2**63-1 (no fractions, not
even ``12.0``; no booleans, strings or negatives), or repeats a ``custom_id`` seen earlier in
the file. Other text fields (error type, service tier, geo, speed) are kept when they are
strings and read as absent otherwise. Blank lines are skipped. By default one invalid line
refuses the whole file with :class:`~costmodel.errors.IngestError`; ``skip_invalid`` keeps the
valid lines (a repeated ``custom_id`` keeps its first line) and reports the rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from costmodel.adapters.ingest import REQUEST_COLUMNS, RESULT_TYPES
from costmodel.adapters.user_files import check_regular_file
from costmodel.core.times import naive_utc, parse_moment
from costmodel.errors import IngestError

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "LineProblem",
    "Rejection",
    "ResultsFile",
    "Validation",
    "batch_id_for",
    "parse_line",
    "read_results",
]

DEFAULT_CHUNK_ROWS: Final = 100_000
MAX_LISTED: Final = 10  # rejections kept with their line numbers; the rest are only counted
_SHOWN_IN_ERROR: Final = 5
_MAX_COUNT: Final = 2**63 - 1  # what a BIGINT column holds
_PARSER_MEMORY: Final = "256MB"  # DuckDB's budget for parsing: streaming needs little
_BATCH_ID = re.compile(r"^(msgbatch_[A-Za-z0-9]+)")

# -- the rows' Arrow schema, shared by both readers so their chunks are identical -------------
_ARROW_TYPES: Final = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "TIMESTAMP": pa.timestamp("us"),
}
ARROW_SCHEMA: Final = pa.schema(
    [(name, _ARROW_TYPES[kind]) for name, kind in REQUEST_COLUMNS.items()]
)
_COUNT_COLUMNS: Final = tuple(name for name, kind in REQUEST_COLUMNS.items() if kind == "BIGINT")


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class Validation:
    """What reading a file found. Complete (``complete``) once every line has been read."""

    lines_read: int = 0  # non-blank lines, valid or not
    rejected_count: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # the first MAX_LISTED, in order
    complete: bool = False

    @property
    def accepted(self) -> int:
        return self.lines_read - self.rejected_count

    def describe(self, limit: int = _SHOWN_IN_ERROR) -> str:
        """``line 3: not valid JSON; line 9: ...; and 4 more`` (empty when nothing was rejected)."""
        shown = [f"line {r.line}: {r.reason}" for r in self.rejected[:limit]]
        more = self.rejected_count - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


class LineProblem(ValueError):
    """One results line that is not a valid result (raised by :func:`parse_line`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- the reference reader ---------------------------------------------------------------------
RowValues = tuple[Any, ...]  # the request row from custom_id to speed, in REQUEST_COLUMNS order
_ZEROS: Final = (0,) * len(_COUNT_COLUMNS)


def _count(container: dict[str, Any], key: str, where: str) -> int:
    value = container.get(key)
    if value is None:
        return 0
    # Only a JSON integer: the API writes counts as integers, and anything else (12.0, true,
    # "12") means the file is not what it claims to be.
    if isinstance(value, bool) or not isinstance(value, int):
        raise LineProblem(f"{where}.{key}: expected a whole number, got {_short(value)}")
    if value < 0:
        raise LineProblem(f"negative token count in {where}.{key} ({value})")
    if value > _MAX_COUNT:
        raise LineProblem(f"{where}.{key}: {value} is too large for a token count")
    return value


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_line(raw: bytes | str) -> RowValues:
    """One results line -> its request row (without batch id and times), or :class:`LineProblem`.

    >>> parse_line('{"custom_id": "a-1", "result": {"type": "expired"}}')[:3]
    ('a-1', 'expired', None)
    """
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise LineProblem("not valid JSON") from exc
    if not isinstance(record, dict):
        raise LineProblem(f"expected a JSON object, got {type(record).__name__}")
    custom_id = record.get("custom_id")
    if custom_id is not None and not isinstance(custom_id, str):
        raise LineProblem(f"custom_id: expected a string, got {_short(custom_id)}")
    if not custom_id:
        raise LineProblem("missing custom_id")
    result = record.get("result")
    result_type = result.get("type") if isinstance(result, dict) else None
    if result_type is None:
        raise LineProblem("missing result type")
    if result_type not in RESULT_TYPES:
        raise LineProblem(
            f"unknown result type {_short(result_type)} (expected {', '.join(RESULT_TYPES)})"
        )
    assert isinstance(result, dict)
    if result_type == "errored":
        envelope = result.get("error")
        inner = envelope.get("error") if isinstance(envelope, dict) else None
        error_type = _text(inner.get("type")) if isinstance(inner, dict) else None
        return (custom_id, "errored", error_type, None, *_ZEROS, None, None, None)
    if result_type != "succeeded":
        return (custom_id, result_type, None, None, *_ZEROS, None, None, None)

    message = result.get("message")
    usage = message.get("usage") if isinstance(message, dict) else None
    if (
        not isinstance(usage, dict)
        or usage.get("input_tokens") is None
        or usage.get("output_tokens") is None
    ):
        raise LineProblem("succeeded line without usage")
    assert isinstance(message, dict)
    model = message.get("model")
    if model is not None and not isinstance(model, str):
        raise LineProblem(f"message.model: expected a string, got {_short(model)}")
    if not model:
        raise LineProblem("succeeded line without model")
    cache_creation = usage.get("cache_creation")
    tools = usage.get("server_tool_use")
    if cache_creation is not None and not isinstance(cache_creation, dict):
        raise LineProblem("usage.cache_creation: expected an object")
    if tools is not None and not isinstance(tools, dict):
        raise LineProblem("usage.server_tool_use: expected an object")
    written = _count(usage, "cache_creation_input_tokens", "usage")
    breakdown = cache_creation or {}
    if (
        breakdown.get("ephemeral_5m_input_tokens") is None
        and breakdown.get("ephemeral_1h_input_tokens") is None
    ):
        # The usage object before cache TTLs had no breakdown, and 5 minutes was the only TTL
        # then: its writes are 5-minute writes.
        write_5m, write_1h = written, 0
    else:
        where = "usage.cache_creation"
        write_5m = _count(breakdown, "ephemeral_5m_input_tokens", where)
        write_1h = _count(breakdown, "ephemeral_1h_input_tokens", where)
    tools = tools or {}
    return (
        custom_id,
        "succeeded",
        None,
        model,
        _count(usage, "input_tokens", "usage"),
        _count(usage, "output_tokens", "usage"),
        written,
        write_5m,
        write_1h,
        _count(usage, "cache_read_input_tokens", "usage"),
        _count(tools, "web_search_requests", "usage.server_tool_use"),
        _count(tools, "web_fetch_requests", "usage.server_tool_use"),
        _text(usage.get("service_tier")),
        _text(usage.get("inference_geo")),
        _text(usage.get("speed")),
    )


def _scan(path: Path, name: str) -> Iterator[tuple[int, RowValues | None, str | None]]:
    """(line number, row or None, problem or None) for every non-blank line, in file order."""
    first_seen: dict[str, int] = {}
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise IngestError(f"{name}: cannot read it: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                row = parse_line(raw)
            except LineProblem as problem:
                reason = problem.reason
                if reason == "not valid JSON" and not raw.endswith(b"\n"):
                    reason = "truncated last line (not valid JSON)"
                yield number, None, reason
                continue
            first = first_seen.setdefault(row[0], number)
            if first != number:
                yield number, None, f"duplicate custom_id {row[0]!r} (first on line {first})"
                continue
            yield number, row, None


# -- the fast reader --------------------------------------------------------------------------
# Counts and texts are read as raw JSON, never cast by the reader (which would turn 1.5 into 2,
# true into 1 and "2000" into 2000); the SELECT below takes a value only when its JSON is of
# the right kind, and flags the line otherwise. Measured on 200K lines: this SELECT costs about
# what the typed one did (0.76-0.90 s of CPU against 0.89 s, on a loaded machine).
_J = "JSON"
_USAGE_TYPE: Final = (
    f"STRUCT(input_tokens {_J}, output_tokens {_J}, cache_creation_input_tokens {_J}, "
    f"cache_read_input_tokens {_J}, "
    f"cache_creation STRUCT(ephemeral_5m_input_tokens {_J}, ephemeral_1h_input_tokens {_J}), "
    f"server_tool_use STRUCT(web_search_requests {_J}, web_fetch_requests {_J}), "
    f"service_tier {_J}, inference_geo {_J}, speed {_J})"
)
_JSON_COLUMNS: Final = {
    "custom_id": _J,
    "result": (
        f"STRUCT(type VARCHAR, message STRUCT(model {_J}, usage {_USAGE_TYPE}), "
        f"error STRUCT(error STRUCT(type {_J})))"
    ),
}
# Flat names for the usage fields, extracted once by the JSON reader (cheaper than carrying
# the whole struct up and taking it apart per column).
_U = "result.message.usage"
_FIELDS: Final = {
    "input_tokens": f"{_U}.input_tokens",
    "output_tokens": f"{_U}.output_tokens",
    "cache_creation_input_tokens": f"{_U}.cache_creation_input_tokens",
    "cache_read_tokens": f"{_U}.cache_read_input_tokens",
    "write_5m": f"{_U}.cache_creation.ephemeral_5m_input_tokens",
    "write_1h": f"{_U}.cache_creation.ephemeral_1h_input_tokens",
    "web_search_requests": f"{_U}.server_tool_use.web_search_requests",
    "web_fetch_requests": f"{_U}.server_tool_use.web_fetch_requests",
    "service_tier": f"{_U}.service_tier",
    "inference_geo": f"{_U}.inference_geo",
    "speed": f"{_U}.speed",
}
_COUNT_SQL: Final = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_creation_input_tokens": "cache_creation_input_tokens",
    # No breakdown: the older usage object, whose writes were all 5-minute writes.
    "cache_write_5m_tokens": (
        "coalesce(write_5m, CASE WHEN write_1h IS NULL THEN cache_creation_input_tokens END)"
    ),
    "cache_write_1h_tokens": "write_1h",
    "cache_read_tokens": "cache_read_tokens",
    "web_search_requests": "web_search_requests",
    "web_fetch_requests": "web_fetch_requests",
}


def _json_text(expr: str) -> str:
    """The string a JSON value holds, or NULL when it is not a JSON string."""
    return f"CASE WHEN starts_with({expr}::VARCHAR, '\"') THEN {expr}->>'$' END"


def _json_count(expr: str) -> str:
    """A count from its JSON: the value when its text is a whole number's own text, else NULL."""
    # One cast, written the same way three times so that DuckDB computes it once.
    text = f"({expr}::VARCHAR)"
    value = f"TRY_CAST({text} AS UBIGINT)"
    return (
        f"CASE WHEN {value}::VARCHAR = {text} AND {value} <= {_MAX_COUNT} THEN {value}::BIGINT END"
    )


def _select_rows() -> str:
    """The SELECT that turns the file's lines into request rows plus a ``_problem`` column."""
    counts = ",\n  ".join(
        f"CASE WHEN ok THEN coalesce({expr}, 0) ELSE 0 END AS {name}"
        for name, expr in _COUNT_SQL.items()
    )
    raw = [name for name in _FIELDS if name not in ("service_tier", "inference_geo", "speed")]
    fields = ",\n         ".join(
        [f"{_json_count(_FIELDS[name])} AS {name}" for name in raw]
        + [f"{_FIELDS[name]} IS NOT NULL AS {name}_given" for name in raw]
        + [
            f"{_json_text(_FIELDS[name])} AS {name}"
            for name in ("service_tier", "inference_geo", "speed")
        ]
    )
    # A count that was given but is no whole number reads as NULL above: flag its line.
    miscounted = " OR ".join(f"({name}_given AND {name} IS NULL)" for name in raw)
    known = ", ".join(f"'{kind}'" for kind in RESULT_TYPES)
    return f"""
SELECT
  $batch_id::VARCHAR AS batch_id,
  custom_id,
  rtype AS result_type,
  CASE WHEN rtype = 'errored' THEN etype END AS error_type,
  CASE WHEN ok THEN model END AS model,
  {counts},
  CASE WHEN ok THEN service_tier END AS service_tier,
  CASE WHEN ok THEN inference_geo END AS inference_geo,
  CASE WHEN ok THEN speed END AS speed,
  $created_at::TIMESTAMP AS batch_created_at,
  $ended_at::TIMESTAMP AS batch_ended_at,
  CASE
    WHEN custom_id_given AND custom_id IS NULL THEN 'custom_id is not a string'
    WHEN custom_id IS NULL OR custom_id = '' THEN 'missing custom_id'
    WHEN rtype IS NULL THEN 'missing result type'
    WHEN rtype NOT IN ({known}) THEN 'unknown result type'
    WHEN NOT ok THEN NULL
    WHEN input_tokens IS NULL OR output_tokens IS NULL THEN 'succeeded line without usage'
    WHEN model_given AND model IS NULL THEN 'model is not a string'
    WHEN model IS NULL OR model = '' THEN 'succeeded line without model'
    WHEN {miscounted} THEN 'a token count is not a whole number'
  END AS _problem
FROM (
  SELECT {_json_text("custom_id")} AS custom_id, custom_id IS NOT NULL AS custom_id_given,
         result.type AS rtype, coalesce(result.type = 'succeeded', FALSE) AS ok,
         {_json_text("result.error.error.type")} AS etype,
         {_json_text("result.message.model")} AS model,
         result.message.model IS NOT NULL AS model_given,
         {fields}
  FROM read_ndjson($path, columns = $columns)
)"""


_SELECT_ROWS: Final = _select_rows()
_ROW_NAMES: Final = ", ".join(REQUEST_COLUMNS)


def _utc(value: datetime | date | str | None, what: str) -> datetime | None:
    """A naive UTC datetime (the store's TIMESTAMP convention) from what a caller may give."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = parse_moment(value)
        except ValueError as exc:
            raise IngestError(f"{what}: expected an ISO date or time, got {value!r}") from exc
    return naive_utc(value)


def batch_id_for(path: Path | str) -> str:
    """The batch a results file belongs to, from a ``msgbatch_...`` id in its name.

    >>> batch_id_for("downloads/msgbatch_01Q7fVt3MzLbR2cX9wE4nKpA_results.jsonl")
    'msgbatch_01Q7fVt3MzLbR2cX9wE4nKpA'

    Any other name is refused rather than made into an id: two downloads both called
    ``results.jsonl`` would otherwise be one batch, the second replacing the first.
    """
    name = Path(path).name
    match = _BATCH_ID.match(name)
    if match is None:
        raise IngestError(
            f"{path}: the file name does not say which batch it holds (no msgbatch_... id "
            "in it); give the batch's id with --batch-id"
        )
    return match.group(1)


class ResultsFile:
    """A results file, ready to be read as request rows: iterate it for DataFrame chunks.

    ``validation`` is complete once the rows have been consumed (at once with
    ``skip_invalid``). In the default, strict mode a problem can surface part way through
    iteration, as :class:`IngestError`: write the chunks inside one transaction, as
    :meth:`costmodel.adapters.store.Store.write_batch` does, and a refused file leaves nothing behind.
    """

    def __init__(
        self,
        path: Path,
        *,
        batch_id: str,
        created_at: datetime | None,
        ended_at: datetime | None,
        skip_invalid: bool,
        chunk_rows: int,
        name: str,
        source: str,
        expires_at: datetime | None = None,
    ) -> None:
        self.path = path
        self.expires_at = expires_at
        self.batch_id = batch_id
        self.created_at = created_at
        self.ended_at = ended_at
        self.skip_invalid = skip_invalid
        self.chunk_rows = chunk_rows
        self.name = name
        self.source = source
        self.validation = Validation()
        self._per_line = False  # rows come from the reference reader
        self._rejected_lines: set[int] = set()

    def batch_meta(self) -> dict[str, Any]:
        """What :meth:`costmodel.adapters.store.Store.write_batch` records about the batch."""
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "processing_status": "ended",
            "created_at": self.created_at,
            "ended_at": self.ended_at,
            "expires_at": self.expires_at,
            "rejected_lines": self.validation.rejected_count,
        }

    # -- the store's fast path ----------------------------------------------------------------
    def select_sql(self) -> tuple[str, dict[str, Any]] | None:
        """A DuckDB SELECT of the file's request rows, failing on the first invalid line.

        ``None`` when the rows must come from iteration (the reference reader). The store
        checks that custom ids are unique itself, and calls :meth:`explain_failure` when the
        SELECT fails or finds duplicates.
        """
        if self._per_line:
            return None
        sql = (
            f"SELECT {_ROW_NAMES} FROM ({_SELECT_ROWS}) "
            "WHERE CASE WHEN _problem IS NULL THEN TRUE "
            "ELSE error('invalid results line: ' || _problem) END"
        )
        return sql, self._params()

    def explain_failure(self, error: BaseException | None) -> None:
        """Raise :class:`IngestError` naming the invalid lines, if the file has any.

        Returns quietly when the reference reader finds the file valid (the fast reader
        failed for its own reasons); the rows then come from iteration.
        """
        self._diagnose()
        self._per_line = True
        if self.validation.rejected_count and not self.skip_invalid:
            raise IngestError(self._refusal()) from error

    def loaded(self, rows: int) -> None:
        """Told by the store how many rows the fast path wrote (a valid file: every line)."""
        if not self._per_line:
            self.validation = Validation(lines_read=rows, complete=True)

    # -- iteration ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._per_line:
            yield from self._iter_per_line()
        else:
            yield from self._iter_fast()

    def _params(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "columns": _JSON_COLUMNS,
            "batch_id": self.batch_id,
            "created_at": self.created_at,
            "ended_at": self.ended_at,
        }

    def _iter_fast(self) -> Iterator[pd.DataFrame]:
        import duckdb

        read = 0
        keys: list[np.ndarray] = []
        failed = False
        failure: BaseException | None = None
        connection = duckdb.connect(config={"memory_limit": _PARSER_MEMORY})
        try:
            try:
                reader = connection.sql(
                    f"SELECT *, hash(custom_id) AS _key FROM ({_SELECT_ROWS})",
                    params=self._params(),
                ).to_arrow_reader(self.chunk_rows)
            except duckdb.Error as exc:  # DuckDB reads ahead: the first chunk can fail here
                failed, failure = True, exc
            while not failed:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (duckdb.Error, pa.ArrowException) as exc:
                    failed, failure = True, exc
                    break
                table = pa.Table.from_batches([batch])
                if table.column("_problem").null_count != table.num_rows:
                    failed = True
                    break
                keys.append(table.column("_key").to_numpy())
                read += table.num_rows
                yield _frame(table.drop_columns(["_problem", "_key"]))
        finally:
            connection.close()
        if failed:
            # Invalid lines, or one the fast reader cannot take: the reference reader decides
            # (raising in strict mode) and carries on past the rows already handed out.
            self.explain_failure(failure)
            yield from self._iter_per_line(skip_valid=read)
            return
        # Repeated custom ids, found by their 64-bit hashes (8 bytes a line, not the ids
        # themselves); the reference reader confirms, so a hash collision refuses nothing.
        if keys:
            every = np.concatenate(keys)
            if len(np.unique(every)) != len(every):
                self.explain_failure(None)  # strict: raises, naming the lines
                if self.validation.rejected_count:
                    # skip_invalid checked the file up front and found it clean, so it
                    # changed since; the repeated rows were handed out already.
                    raise IngestError(f"{self.name}: the file changed while it was read")
        if not self._per_line:
            self.validation = Validation(lines_read=read, complete=True)

    def _iter_per_line(self, skip_valid: int = 0) -> Iterator[pd.DataFrame]:
        """Rows from the reference reader; ``skip_valid``: valid rows already handed out."""
        if not self.validation.complete:
            self._diagnose()
        if self.validation.rejected_count and not self.skip_invalid:
            raise IngestError(self._refusal())
        rows: list[RowValues] = []
        for number, row, _problem in _scan(self.path, self.name):
            if row is None or number in self._rejected_lines:
                continue
            if skip_valid:
                skip_valid -= 1
                continue
            rows.append(row)
            if len(rows) >= self.chunk_rows:
                yield self._rows_frame(rows)
                rows = []
        if rows:
            yield self._rows_frame(rows)

    def _rows_frame(self, rows: list[RowValues]) -> pd.DataFrame:
        columns = list(zip(*rows, strict=True))
        n = len(rows)
        data: dict[str, Any] = {"batch_id": [self.batch_id] * n}
        data.update(zip(list(REQUEST_COLUMNS)[1:16], columns, strict=True))
        data["batch_created_at"] = [self.created_at] * n
        data["batch_ended_at"] = [self.ended_at] * n
        return _frame(pa.Table.from_pydict(data, schema=ARROW_SCHEMA))

    # -- problems -----------------------------------------------------------------------------
    def _diagnose(self) -> None:
        """Run the reference reader over the whole file and record what it rejects."""
        found = Validation(complete=True)
        rejected: set[int] = set()
        for number, _row, problem in _scan(self.path, self.name):
            found.lines_read += 1
            if problem is not None:
                found.rejected_count += 1
                rejected.add(number)
                if len(found.rejected) < MAX_LISTED:
                    found.rejected.append(Rejection(number, problem))
        self.validation = found
        self._rejected_lines = rejected

    def _refusal(self) -> str:
        v = self.validation
        lines = "line" if v.rejected_count == 1 else "lines"
        return (
            f"{self.name}: {v.rejected_count} invalid {lines} of {v.lines_read}, nothing "
            f"imported: {v.describe()} (--skip-invalid imports the valid lines)"
        )

    def precheck(self) -> None:
        """Check every line now (one fast pass); with problems, find them line by line."""
        import duckdb

        if self._per_line:
            self._diagnose()
            return

        connection = duckdb.connect(config={"memory_limit": _PARSER_MEMORY})
        try:
            lines, problems, distinct = connection.execute(
                f"SELECT count(*), count(_problem), count(DISTINCT custom_id) FROM ({_SELECT_ROWS})",
                self._params(),
            ).fetchall()[0]
        except duckdb.Error:
            lines, problems, distinct = -1, 1, 0
        finally:
            connection.close()
        if problems == 0 and distinct == lines:
            self.validation = Validation(lines_read=lines, complete=True)
            return
        self._diagnose()
        self._per_line = True


def _frame(table: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = table.cast(ARROW_SCHEMA).to_pandas()  # pyarrow has no type information
    return frame


def read_results(
    path: Path | str,
    *,
    batch_id: str | None = None,
    created_at: datetime | date | str | None = None,
    ended_at: datetime | date | str | None = None,
    skip_invalid: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    name: str | None = None,
    per_line: bool = False,
    expires_at: datetime | date | str | None = None,
) -> ResultsFile:
    """Open a saved results file for reading as request rows (see :class:`ResultsFile`).

    ``batch_id`` defaults to the id in a ``msgbatch_...`` file name (any other name is refused:
    give ``batch_id``).
    ``created_at`` / ``ended_at`` / ``expires_at`` are the batch's times when known (a file
    does not carry them; an end or expiry before the creation is refused). ``name`` is how messages refer to the file (default: its path). With
    ``skip_invalid`` the whole file is checked here, so ``validation`` is complete at once.
    ``per_line`` uses the reference reader throughout (slower; for checking the fast one).
    """
    file = Path(path)
    label = name or str(file)
    # Regular files only (a FIFO, /dev/zero or a folder is refused before DuckDB opens it);
    # no size limit: results files are as big as their batches.
    check_regular_file(file, kind="results file (.jsonl)", error=IngestError, name=label)
    if chunk_rows < 1:
        raise IngestError(f"chunk_rows: expected 1 or more, got {chunk_rows}")
    batch = batch_id if batch_id is not None else batch_id_for(file)
    if not batch.strip():
        raise IngestError(f"{label}: empty batch id")
    times = {
        "created_at": _utc(created_at, "created_at"),
        "ended_at": _utc(ended_at, "ended_at"),
        "expires_at": _utc(expires_at, "expires_at"),
    }
    start = times["created_at"]
    for key in ("ended_at", "expires_at"):
        moment = times[key]
        if start is not None and moment is not None and moment < start:
            raise IngestError(
                f"{label}: {key} {moment:%Y-%m-%d %H:%M} is before created_at {start:%Y-%m-%d %H:%M}"
            )
    results = ResultsFile(
        file,
        batch_id=batch,
        created_at=times["created_at"],
        ended_at=times["ended_at"],
        expires_at=times["expires_at"],
        skip_invalid=skip_invalid,
        chunk_rows=chunk_rows,
        name=label,
        source=f"file:{file.resolve()}",
    )
    # DuckDB reads a path with glob characters as a pattern: such files go line by line.
    if per_line or any(char in str(file) for char in "*?["):
        results._per_line = True
    if skip_invalid:
        results.precheck()
    return results
