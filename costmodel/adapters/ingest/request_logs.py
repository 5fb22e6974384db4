"""Request logs as a source of usage: CSV, JSONL, or OpenTelemetry GenAI spans exported as JSON.

For teams without an admin key, or who want per-feature detail. Each reader streams its file
in chunks (``chunk_rows`` rows at a time, so memory stays flat however long the log) and yields
usage frames (:mod:`costmodel.core.usage`: one row per request, ``requests`` = 1) with these extra
columns:

timestamp          datetime64[ns, UTC]  when the request was made (naive times are read as UTC)
date               datetime64[ns]       its UTC day, for effective-dated prices
tag                str | None           the workload tag, if the log gives one
latency_budget_ms  float (NaN if none)  how long the caller could wait for the answer
service_tier       str                  as logged (``standard`` by default); ``tier`` is
                                        ``batch`` for batch and ``standard`` otherwise
source_row         int                  the line (CSV, JSONL) or span number it came from

**CSV and JSONL** columns use the API's usage names: ``timestamp``, ``model``,
``input_tokens`` (uncached input, as the usage object counts it) and ``output_tokens`` are
required; ``cache_creation_input_tokens`` (read as 5-minute writes unless split),
``ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens`` (also as
``cache_creation.ephemeral_5m_input_tokens``), ``cache_read_input_tokens``,
``web_search_requests``, ``service_tier``, ``inference_geo``, ``speed``, ``tag`` and
``latency_budget_ms`` are optional. A JSONL line may hold the API's ``usage`` object itself
(``{"timestamp": ..., "model": ..., "usage": {...}}``).

**OpenTelemetry** spans (OTLP JSON, as the collector's file exporter writes it: one
``{"resourceSpans": [...]}`` document per line, or one document) are read with these
attributes: ``gen_ai.request.model`` (else ``gen_ai.response.model``),
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``,
``gen_ai.usage.cache_read.input_tokens`` and ``gen_ai.usage.cache_creation.input_tokens``
(and their older spellings ``gen_ai.usage.cache_read_input_tokens`` /
``..._creation_input_tokens``); the workload tag is the span attribute ``costmodel.workload``
and the latency budget ``costmodel.latency_budget_ms``. The semantic conventions count cache
tokens *inside* ``gen_ai.usage.input_tokens``, so they are subtracted to get the uncached
input (``otel_input_includes_cache=False`` for exporters that write Anthropic's own count).
Spans without ``gen_ai.usage.input_tokens`` (HTTP, database ...) are skipped and counted.

Bad input -- a missing column, an unparseable timestamp, an unknown model, a negative or
fractional count -- raises :class:`IngestError` naming the file, row and column; with
``skip_invalid=True`` the row is left out and reported in :class:`LogReport` instead.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.user_files import check_regular_file
from costmodel.core.catalogue import Catalogue
from costmodel.core.times import parse_moment
from costmodel.errors import IngestError, UnknownModelError, located

__all__ = [
    "LOG_COLUMNS",
    "OTEL_LATENCY_ATTRIBUTE",
    "OTEL_TAG_ATTRIBUTE",
    "LogReport",
    "read_request_log",
]

OTEL_TAG_ATTRIBUTE: Final = "costmodel.workload"
OTEL_LATENCY_ATTRIBUTE: Final = "costmodel.latency_budget_ms"
LOG_COLUMNS: Final = (
    "timestamp",
    "date",
    "model",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "web_search_requests",
    "tier",
    "service_tier",
    "inference_geo",
    "speed",
    "tag",
    "latency_budget_ms",
    "source_row",
)
_REQUIRED: Final = ("timestamp", "model", "input_tokens", "output_tokens")
# Log column -> usage frame column, for the optional counts.
_OPTIONAL_COUNTS: Final = {
    "cache_read_input_tokens": "cache_read_tokens",
    "web_search_requests": "web_search_requests",
}
_SPLIT_WRITES: Final = {
    "ephemeral_5m_input_tokens": "cache_write_5m_tokens",
    "ephemeral_1h_input_tokens": "cache_write_1h_tokens",
}
_KNOWN: Final = frozenset(
    {
        *_REQUIRED,
        *_OPTIONAL_COUNTS,
        *_SPLIT_WRITES,
        *(f"cache_creation.{name}" for name in _SPLIT_WRITES),
        "cache_creation_input_tokens",
        "service_tier",
        "inference_geo",
        "speed",
        "tag",
        "latency_budget_ms",
    }
)
_MAX_PROBLEMS: Final = 100  # problems kept word for word; the rest are counted


@dataclass
class LogReport:
    """What a read took in and what it left out (``skip_invalid``)."""

    rows: int = 0
    rejected: int = 0
    skipped_spans: int = 0  # OpenTelemetry spans that are not model calls
    problems: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)

    def reject(self, message: str) -> None:
        self.rejected += 1
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)

    def describe(self) -> list[str]:
        lines = [f"{self.rows:,} requests read, {self.rejected:,} rows rejected"]
        if self.skipped_spans:
            lines[0] += f", {self.skipped_spans:,} spans without model usage skipped"
        lines += self.problems
        if self.rejected > len(self.problems):
            lines.append(f"... and {self.rejected - len(self.problems):,} more rejected rows")
        return lines


class _Bad(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        self.column = column
        self.message = message


def _count(value: Any, column: str, *, required: bool = False) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Bad(column, "missing; expected a token count of 0 or more")
        return 0
    number: Any = value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            raise _Bad(column, f"got {value!r}; expected a whole count of 0 or more") from None
    if isinstance(number, bool) or not isinstance(number, int):
        if isinstance(number, float) and number.is_integer() and number >= 0:
            return int(number)
        raise _Bad(column, f"got {value!r}; expected a whole count of 0 or more")
    if number < 0:
        raise _Bad(column, f"got {value!r}; expected a count of 0 or more")
    return number


def _timestamp(value: Any, column: str = "timestamp") -> datetime:
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return parse_moment(text)
        except ValueError:
            raise _Bad(
                column, f"got {value!r}; expected an ISO 8601 time such as 2026-11-03T14:05:00Z"
            ) from None
    raise _Bad(column, f"got {value!r}; expected an ISO 8601 time such as 2026-11-03T14:05:00Z")


def _budget(value: Any, column: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad(column, f"got {value!r}; expected milliseconds, 0 or more") from None
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise _Bad(column, f"got {value!r}; expected milliseconds, 0 or more")
    return number


def _text(value: Any, default: str | None) -> str | None:
    if value is None:
        return default
    text = str(value).strip()
    return text or default


class _Builder:
    """Turns raw records into chunked frames, checking each field and naming where it failed."""

    def __init__(
        self,
        source: str,
        catalogue: Catalogue,
        skip_invalid: bool,
        report: LogReport,
        chunk_rows: int,
    ) -> None:
        self.source = source
        self.catalogue = catalogue
        self.skip_invalid = skip_invalid
        self.report = report
        self.chunk_rows = chunk_rows
        self.rows: list[tuple[Any, ...]] = []
        self._models: dict[str, str | None] = {}  # name -> error message (None: known)

    def fail(self, row: int, column: str | None, message: str, what: str = "row") -> None:
        where = f"{what} {row}"
        text = located(message, file=self.source, field=f"{where}: {column}" if column else where)
        if not self.skip_invalid:
            raise IngestError(text)
        self.report.reject(text)

    def model(self, name: str) -> None:
        if name not in self._models:
            try:
                self.catalogue.resolve(name)
                self._models[name] = None
            except UnknownModelError as exc:
                self._models[name] = str(exc)
        problem = self._models[name]
        if problem is not None:
            raise _Bad("model", problem)

    def add(self, row: int, record: Mapping[str, Any], what: str = "row") -> Iterator[pd.DataFrame]:
        try:
            parsed = self._parse(record)
        except _Bad as bad:
            self.fail(row, bad.column, bad.message, what)
            return
        self.rows.append((*parsed, row))
        self.report.rows += 1
        if parsed[-2] is not None:
            self.report.tags.add(parsed[-2])
        if len(self.rows) >= self.chunk_rows:
            yield self.flush()

    def _parse(self, r: Mapping[str, Any]) -> tuple[Any, ...]:
        moment = _timestamp(r.get("timestamp"))
        model = _text(r.get("model"), None)
        if model is None:
            raise _Bad("model", "missing; expected a model id such as claude-sonnet-4-5")
        self.model(model)
        input_tokens = _count(r.get("input_tokens"), "input_tokens", required=True)
        output_tokens = _count(r.get("output_tokens"), "output_tokens", required=True)
        split = {
            target: _count(
                r.get(name, r.get(f"cache_creation.{name}")),
                name if name in r else f"cache_creation.{name}",
            )
            for name, target in _SPLIT_WRITES.items()
        }
        total_writes = _count(r.get("cache_creation_input_tokens"), "cache_creation_input_tokens")
        if not any(split.values()) and total_writes:
            # The usage object's total without its TTL split: the default TTL is 5 minutes.
            split["cache_write_5m_tokens"] = total_writes
        reads = _count(r.get("cache_read_input_tokens"), "cache_read_input_tokens")
        searches = _count(r.get("web_search_requests"), "web_search_requests")
        service_tier = _text(r.get("service_tier"), "standard")
        speed = _text(r.get("speed"), "standard")
        if speed not in ("standard", "fast"):
            raise _Bad("speed", f"got {speed!r}; expected standard or fast")
        if speed == "fast" and service_tier == "batch":
            raise _Bad("speed", "fast mode is not available with the Message Batches API")
        return (
            moment,
            model,
            input_tokens,
            output_tokens,
            split["cache_write_5m_tokens"],
            split["cache_write_1h_tokens"],
            reads,
            searches,
            "batch" if service_tier == "batch" else "standard",
            service_tier,
            _text(r.get("inference_geo"), "global"),
            speed,
            _text(r.get("tag"), None),
            _budget(r.get("latency_budget_ms"), "latency_budget_ms"),
        )

    def flush(self) -> pd.DataFrame:
        columns = [c for c in LOG_COLUMNS if c not in ("date", "requests")]
        frame = pd.DataFrame.from_records(self.rows, columns=columns)
        self.rows = []
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        frame.insert(1, "date", frame["timestamp"].dt.tz_localize(None).dt.normalize())
        frame.insert(3, "requests", 1.0)
        for column in (
            "input_tokens",
            "output_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "cache_read_tokens",
            "web_search_requests",
        ):
            frame[column] = frame[column].astype("float64")
        frame["latency_budget_ms"] = frame["latency_budget_ms"].astype("float64")
        return frame


def _csv_records(path: Path, builder: _Builder) -> Iterator[pd.DataFrame]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [name for name in _REQUIRED if name not in header]
        if missing:
            raise IngestError(
                located(
                    f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                    f"expected at least {', '.join(_REQUIRED)}",
                    file=builder.source,
                    line=1,
                )
            )
        unknown = [name for name in header if name not in _KNOWN]
        if unknown:
            raise IngestError(
                located(
                    f"unknown column {unknown[0]!r}; expected the API's usage names "
                    f"({', '.join(sorted(_KNOWN))})",
                    file=builder.source,
                    line=1,
                )
            )
        reader.fieldnames = header
        for record in reader:
            line = reader.line_num
            if None in record:  # more fields than the header names
                builder.fail(line, None, "more fields than the header has columns")
                continue
            yield from builder.add(line, record)


def _jsonl_records(path: Path, builder: _Builder) -> Iterator[pd.DataFrame]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, 1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                builder.fail(line, None, f"not valid JSON ({exc.msg}); expected one object a line")
                continue
            if not isinstance(record, dict):
                builder.fail(line, None, "expected a JSON object")
                continue
            usage = record.get("usage")
            if isinstance(usage, dict):
                record = {
                    **_flatten_usage(usage),
                    **{k: v for k, v in record.items() if k != "usage"},
                }
            unknown = [key for key in record if key not in _KNOWN]
            if unknown:
                builder.fail(line, unknown[0], "unknown field; expected the API's usage names")
                continue
            yield from builder.add(line, record)


def _flatten_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """The API's usage object as flat log fields (the tier and geo fields included)."""
    flat: dict[str, Any] = {}
    for key in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "service_tier",
        "inference_geo",
        "speed",
    ):
        if usage.get(key) is not None:
            flat[key] = usage[key]
    creation = usage.get("cache_creation")
    if isinstance(creation, dict):
        for name in _SPLIT_WRITES:
            if creation.get(name) is not None:
                flat[name] = creation[name]
    tools = usage.get("server_tool_use")
    if isinstance(tools, dict) and tools.get("web_search_requests") is not None:
        flat["web_search_requests"] = tools["web_search_requests"]
    return flat


_OTEL_READS: Final = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
)
_OTEL_WRITES: Final = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)


def _attribute_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain value (intValue arrives as a string in OTLP JSON)."""
    if not isinstance(value, dict):
        return value
    for kind in ("stringValue", "boolValue", "doubleValue"):
        if kind in value:
            return value[kind]
    if "intValue" in value:
        return str(value["intValue"])
    return None


def _otel_records(path: Path, builder: _Builder, includes_cache: bool) -> Iterator[pd.DataFrame]:
    import ijson  # streams one span at a time, from one document or one per line

    with path.open("rb") as handle:
        spans = ijson.items(
            handle,
            "resourceSpans.item.scopeSpans.item.spans.item",
            multiple_values=True,
            use_float=True,
        )
        number = 0
        try:
            for span in spans:
                number += 1
                record = _span_record(span, includes_cache)
                if record is None:
                    builder.report.skipped_spans += 1
                    continue
                if isinstance(record, _Bad):
                    builder.fail(number, record.column, record.message, what="span")
                    continue
                yield from builder.add(number, record, what="span")
        except ijson.JSONError as exc:
            raise IngestError(
                located(
                    f"not valid OTLP JSON after span {number} ({exc}); expected spans exported as "
                    "JSON (resourceSpans > scopeSpans > spans)",
                    file=builder.source,
                )
            ) from None


def _span_record(span: Any, includes_cache: bool) -> dict[str, Any] | _Bad | None:
    if not isinstance(span, dict):
        return _Bad(None, "expected a span object")
    attributes: dict[str, Any] = {}
    for item in span.get("attributes") or []:
        if isinstance(item, dict) and "key" in item:
            attributes[str(item["key"])] = _attribute_value(item.get("value"))
    if "gen_ai.usage.input_tokens" not in attributes:
        return None
    start: Any = span.get("startTimeUnixNano")
    try:
        nanos = int(start)
        moment = datetime.fromtimestamp(nanos // 1_000_000_000, tz=UTC).replace(
            microsecond=(nanos % 1_000_000_000) // 1000
        )
    except (TypeError, ValueError, OverflowError, OSError):
        return _Bad("startTimeUnixNano", f"got {start!r}; expected nanoseconds since 1970")

    def first(names: tuple[str, ...]) -> Any:
        return next((attributes[n] for n in names if n in attributes), None)

    reads = first(_OTEL_READS)
    writes = first(_OTEL_WRITES)
    try:
        total = _count(
            attributes["gen_ai.usage.input_tokens"], "gen_ai.usage.input_tokens", required=True
        )
        reads_n = _count(reads, _OTEL_READS[0])
        writes_n = _count(writes, _OTEL_WRITES[0])
    except _Bad as bad:
        return bad
    uncached = total
    if includes_cache:
        uncached = total - reads_n - writes_n
        if uncached < 0:
            return _Bad(
                "gen_ai.usage.input_tokens",
                f"{total} is less than its cache tokens ({reads_n} read, {writes_n} written); "
                "the semantic conventions count cache tokens inside it (read the file with "
                "otel_input_includes_cache=False if this exporter writes uncached input only)",
            )
    model = first(("gen_ai.request.model", "gen_ai.response.model"))
    return {
        "timestamp": moment.isoformat(),
        "model": model,
        "input_tokens": uncached,
        "output_tokens": attributes.get("gen_ai.usage.output_tokens"),
        "cache_read_input_tokens": reads_n,
        "cache_creation_input_tokens": writes_n,
        "tag": attributes.get(OTEL_TAG_ATTRIBUTE),
        "latency_budget_ms": attributes.get(OTEL_LATENCY_ATTRIBUTE),
    }


def _detect(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    with path.open("rb") as handle:
        head = handle.read(4096)
    if b'"resourceSpans"' in head:
        return "otel"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise IngestError(
        located(
            "cannot tell the log's format; expected .csv, .jsonl or OpenTelemetry spans as JSON "
            "(or name the format)",
            file=path,
        )
    )


def read_request_log(
    path: str | Path,
    *,
    format: str | None = None,
    catalogue: Catalogue | None = None,
    skip_invalid: bool = False,
    chunk_rows: int = 50_000,
    report: LogReport | None = None,
    otel_input_includes_cache: bool = True,
    name: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Stream a request log as usage frames of at most ``chunk_rows`` rows (see the module doc).

    ``format`` is ``csv``, ``jsonl`` or ``otel`` (default: from the suffix and content).
    ``catalogue`` checks model names (default: the bundled one). ``report`` collects counts
    and, with ``skip_invalid``, the rejected rows. Raises :class:`IngestError` otherwise.
    """
    path = Path(path)
    source = name or str(path)
    report = report if report is not None else LogReport()
    # Regular files only (a FIFO or /dev/zero would read without end); logs are streamed, so
    # there is no size limit here, only the check every user file goes through.
    check_regular_file(path, kind="request log", error=IngestError, name=source)
    kind = format or _detect(path)
    builder = _Builder(source, catalogue or bundled_catalogue(), skip_invalid, report, chunk_rows)
    readers: dict[str, Callable[[], Iterator[pd.DataFrame]]] = {
        "csv": lambda: _csv_records(path, builder),
        "jsonl": lambda: _jsonl_records(path, builder),
        "otel": lambda: _otel_records(path, builder, otel_input_includes_cache),
    }
    if kind not in readers:
        raise IngestError(f"format: got {kind!r}; expected csv, jsonl or otel")
    try:
        yield from readers[kind]()
    except UnicodeDecodeError as exc:
        raise IngestError(
            located(f"cannot read as UTF-8 ({exc.reason}); expected a text file", file=source)
        ) from None
    except csv.Error as exc:
        raise IngestError(located(f"malformed CSV ({exc})", file=source)) from None
    if builder.rows:
        yield builder.flush()
