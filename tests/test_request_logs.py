"""Request logs: CSV, JSONL and OpenTelemetry spans into usage frames, strictly or skipping."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.ingest.request_logs import LogReport, read_request_log
from costmodel.core.pricing import price_usage
from costmodel.core.usage import validate_usage
from costmodel.errors import IngestError


def read_all(path: Path, **options) -> pd.DataFrame:
    frames = list(read_request_log(path, **options))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


CSV_TEXT = (
    "timestamp,model,input_tokens,output_tokens,cache_read_input_tokens,"
    "ephemeral_1h_input_tokens,tag,latency_budget_ms,service_tier\n"
    "2026-11-03T14:05:00Z,claude-sonnet-4-5,1200,300,5000,0,live-chat,800,standard\n"
    "2026-11-03T23:10:00+01:00,claude-sonnet-4-5-20250929,2000,150,0,1000,nightly,,priority\n"
    "2026-11-04 02:00:00,claude-haiku-4-5,10,5,,,,,\n"
)


def test_csv_rows_become_a_usage_frame(tmp_path: Path) -> None:
    log = tmp_path / "requests.csv"
    log.write_text(CSV_TEXT)
    frame = read_all(log)
    validate_usage(frame)  # the usage-frame contract holds
    assert frame["requests"].tolist() == [1.0, 1.0, 1.0]
    assert frame["input_tokens"].tolist() == [1200, 2000, 10]
    assert frame["cache_read_tokens"].tolist() == [5000, 0, 0]
    assert frame["cache_write_1h_tokens"].tolist() == [0, 1000, 0]
    assert frame["tag"].tolist()[:2] == ["live-chat", "nightly"] and pd.isna(frame["tag"][2])
    assert frame["latency_budget_ms"].tolist()[0] == 800 and pd.isna(frame["latency_budget_ms"][1])
    assert frame["service_tier"].tolist() == ["standard", "priority", "standard"]
    assert frame["tier"].tolist() == ["standard", "standard", "standard"]
    # Offsets are converted to UTC; a naive time is read as UTC.
    assert str(frame["timestamp"][1]) == "2026-11-03 22:10:00+00:00"
    assert str(frame["timestamp"][2]) == "2026-11-04 02:00:00+00:00"
    assert frame["date"].dt.day.tolist() == [3, 3, 4]
    assert frame["source_row"].tolist() == [2, 3, 4]
    # Priced by hand: 1200*3 + 300*15 + 5000*0.3 = 9600 -> $0.0096 per million...
    priced = price_usage(frame.iloc[:1], bundled_catalogue())
    assert round(priced.total, 10) == round((1200 * 3 + 300 * 15 + 5000 * 0.3) / 1e6, 10)


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("2026-11-03T14:05:00Z,claude-sonnet-4-5,-5,1", r"row 2: input_tokens: got '-5'"),
        (
            "yesterday,claude-sonnet-4-5,5,1",
            r"row 2: timestamp: got 'yesterday'; expected an ISO 8601",
        ),
        (
            "2026-11-03T14:05:00Z,claude-sonet-4-5,5,1",
            r"row 2: model: unknown model 'claude-sonet-4-5'",
        ),
        (
            "2026-11-03T14:05:00Z,claude-sonnet-4-5,5.5,1",
            r"row 2: input_tokens: got '5.5'; expected a whole count",
        ),
        ("2026-11-03T14:05:00Z,claude-sonnet-4-5,5,", r"row 2: output_tokens: missing"),
    ],
)
def test_bad_rows_are_refused_naming_file_row_and_column(
    tmp_path: Path, row: str, where: str
) -> None:
    log = tmp_path / "bad.csv"
    log.write_text("timestamp,model,input_tokens,output_tokens\n" + row + "\n")
    with pytest.raises(IngestError, match=rf"bad\.csv: {where}"):
        read_all(log)


def test_missing_and_unknown_columns_are_refused(tmp_path: Path) -> None:
    log = tmp_path / "cols.csv"
    log.write_text("timestamp,model,input_tokens\n2026-11-03T14:05:00Z,claude-sonnet-4-5,5\n")
    with pytest.raises(IngestError, match=r"cols\.csv:1: missing column output_tokens"):
        read_all(log)
    log.write_text("timestamp,model,input_tokens,output_tokens,outptu\n")
    with pytest.raises(IngestError, match=r"cols\.csv:1: unknown column 'outptu'"):
        read_all(log)


def test_skip_invalid_reports_every_rejected_row(tmp_path: Path) -> None:
    log = tmp_path / "mixed.csv"
    log.write_text(
        "timestamp,model,input_tokens,output_tokens\n"
        "2026-11-03T14:05:00Z,claude-sonnet-4-5,5,1\n"
        "nope,claude-sonnet-4-5,5,1\n"
        "2026-11-03T14:05:00Z,claude-sonnet-4-5,-1,1\n"
        "2026-11-03T14:06:00Z,claude-haiku-4-5,7,2\n"
    )
    report = LogReport()
    frame = read_all(log, skip_invalid=True, report=report)
    assert frame["input_tokens"].tolist() == [5, 7]
    assert report.rows == 2 and report.rejected == 2
    assert "row 3: timestamp" in report.problems[0] and "row 4: input_tokens" in report.problems[1]


def test_jsonl_with_the_api_usage_object(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    lines = [
        {
            "timestamp": "2026-11-05T09:00:00Z",
            "model": "claude-opus-4-6",
            "tag": "contracts",
            "usage": {
                "input_tokens": 100,
                "output_tokens": 50,
                "cache_creation_input_tokens": 300,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 100,
                    "ephemeral_1h_input_tokens": 200,
                },
                "cache_read_input_tokens": 40,
                "server_tool_use": {"web_search_requests": 2},
                "inference_geo": "us",
            },
        },
        {
            "timestamp": "2026-11-05T09:01:00Z",
            "model": "claude-opus-4-6",
            "input_tokens": 9,
            "output_tokens": 1,
            "cache_creation_input_tokens": 70,
        },
    ]
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    frame = read_all(log)
    assert frame["cache_write_5m_tokens"].tolist() == [100, 70]  # an unsplit total is 5-minute
    assert frame["cache_write_1h_tokens"].tolist() == [200, 0]
    assert frame["web_search_requests"].tolist() == [2, 0]
    assert frame["inference_geo"].tolist() == ["us", "global"]
    log.write_text(json.dumps({**lines[1], "input_tokns": 3}) + "\n")
    with pytest.raises(IngestError, match=r"row 1: input_tokns: unknown field"):
        read_all(log)


def _span(
    n: int, model: str, inp: int, out: int, read: int = 0, write: int = 0, tag: str | None = None
) -> dict:
    attrs = [
        {"key": "gen_ai.request.model", "value": {"stringValue": model}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(inp)}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": str(out)}},
        {"key": "gen_ai.usage.cache_read.input_tokens", "value": {"intValue": str(read)}},
        {"key": "gen_ai.usage.cache_creation.input_tokens", "value": {"intValue": str(write)}},
    ]
    if tag:
        attrs.append({"key": "costmodel.workload", "value": {"stringValue": tag}})
        attrs.append({"key": "costmodel.latency_budget_ms", "value": {"intValue": "86400000"}})
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": f"eee19b7ec3c1b1{n:02d}",
        "name": f"chat {model}",
        "startTimeUnixNano": str(1_793_000_000_000_000_000 + n * 1_000_000_000),
        "endTimeUnixNano": str(1_793_000_001_000_000_000 + n * 1_000_000_000),
        "attributes": attrs,
    }


def _otlp(spans: list[dict]) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [{"scope": {"name": "x"}, "spans": spans}],
            }
        ]
    }


def test_opentelemetry_spans_subtract_cache_tokens_from_input(tmp_path: Path) -> None:
    log = tmp_path / "spans.json"
    http = {
        "traceId": "a",
        "spanId": "b",
        "name": "GET /",
        "startTimeUnixNano": "1",
        "attributes": [],
    }
    # The collector's file exporter: one document a line.
    log.write_text(
        json.dumps(
            _otlp(
                [
                    _span(1, "claude-sonnet-4-5", 1500, 200, read=1000, write=300, tag="nightly"),
                    http,
                ]
            )
        )
        + "\n"
        + json.dumps(_otlp([_span(2, "claude-haiku-4-5", 50, 5)]))
        + "\n"
    )
    report = LogReport()
    frame = read_all(log, report=report)
    assert frame["input_tokens"].tolist() == [200, 50]
    assert frame["cache_read_tokens"].tolist() == [1000, 0]
    assert frame["cache_write_5m_tokens"].tolist() == [300, 0]
    assert frame["tag"].tolist()[0] == "nightly"
    assert frame["latency_budget_ms"].tolist()[0] == 86_400_000
    assert report.skipped_spans == 1
    assert frame["timestamp"][0] == pd.Timestamp(1_793_000_001_000_000_000, tz="UTC")
    # An exporter that writes the uncached count only is caught, or read as it says.
    log.write_text(json.dumps(_otlp([_span(3, "claude-sonnet-4-5", 10, 2, read=500)])))
    with pytest.raises(IngestError, match=r"span 1: gen_ai.usage.input_tokens: 10 is less than"):
        read_all(log)
    assert read_all(log, otel_input_includes_cache=False)["input_tokens"].tolist() == [10]


def test_streams_in_chunks_with_flat_memory(tmp_path: Path) -> None:
    def write(path: Path, rows: int) -> None:
        with path.open("w") as handle:
            handle.write("timestamp,model,input_tokens,output_tokens,tag\n")
            for i in range(rows):
                handle.write(
                    f"2026-11-{1 + i % 28:02d}T10:00:00Z,claude-haiku-4-5,{i % 997},{i % 89},t{i % 7}\n"
                )

    def peak(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        total = 0
        for chunk in read_request_log(path, chunk_rows=5_000):
            assert len(chunk) <= 5_000
            total += int(chunk["input_tokens"].sum())
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return total, top

    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write(small, 5_000)
    write(large, 40_000)
    _, peak_small = peak(small)
    total_large, peak_large = peak(large)
    assert total_large == sum(i % 997 for i in range(40_000))
    assert peak_large < peak_small * 2  # 8x the rows, not 8x the memory
