"""Batch operations (costmodel.core.ops, `costmodel usage ops`): hand-computed percentiles on a small
store, properties over generated batches, the CLI's formats, and the capture of batch times by
pull (the real SDK against the loopback API) and by import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_batches_api import FakeBatch, FakeBatchesAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.adapters.ingest import REQUEST_COLUMNS
from costmodel.adapters.store import Store, open_store
from costmodel.adapters.synthetic import bare_line, errored_line, succeeded_line, usage_object
from costmodel.core.ops import OperationsSummary, operations_summary, summarise, turnaround
from costmodel.shells.cli import main

MODEL = "claude-haiku-4-5-20251001"


def _rows(
    batch_id: str, created: datetime | None, ended: datetime | None, spec: list[Any]
) -> pd.DataFrame:
    """Request rows: spec items are ("succeeded", input_tokens) or ("errored", type) or a kind."""
    records = []
    for i, item in enumerate(spec):
        kind, extra = (item, None) if isinstance(item, str) else item
        ok = kind == "succeeded"
        records.append(
            {
                "batch_id": batch_id,
                "custom_id": f"{batch_id.removeprefix('msgbatch_')}-{i}",
                "result_type": kind,
                "error_type": extra if kind == "errored" else None,
                "model": MODEL if ok else None,
                "input_tokens": int(extra) if ok else 0,
                "output_tokens": 200 if ok else 0,
                "cache_creation_input_tokens": 30 if ok else 0,
                "cache_write_5m_tokens": 30 if ok else 0,
                "cache_write_1h_tokens": 0,
                "cache_read_tokens": 50 if ok else 0,
                "web_search_requests": 0,
                "web_fetch_requests": 0,
                "service_tier": "batch" if ok else None,
                "inference_geo": "global" if ok else None,
                "speed": "standard" if ok else None,
                "batch_created_at": created,
                "batch_ended_at": ended,
            }
        )
    frame = pd.DataFrame(records, columns=list(REQUEST_COLUMNS))
    for name in ("batch_created_at", "batch_ended_at"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0)


# (id, created, ended, requests): turnarounds 1 h, 3 h, 18 h, 24 h (expired) and one unknown.
GOLDEN = [
    (
        "msgbatch_A",
        at(2, 9),
        at(2, 10),
        [("succeeded", 1000)] * 3 + [("errored", "invalid_request_error")],
    ),
    ("msgbatch_B", at(2, 9), at(2, 12), [("succeeded", 1000)] * 2),
    (
        "msgbatch_C",
        at(2, 14),
        at(3, 8),
        [("succeeded", 1000)] * 2 + [("errored", "overloaded_error")],
    ),
    ("msgbatch_D", at(3, 14), at(4, 14), [("succeeded", 4000)] + ["expired"] * 3),
    ("msgbatch_E", at(3, 10), None, [("succeeded", 1000), "canceled"]),
]


@pytest.fixture
def golden(tmp_path: Path) -> Path:
    path = tmp_path / "ops.duckdb"
    with open_store(path) as store:
        for batch_id, created, ended, spec in GOLDEN:
            meta = {
                "batch_id": batch_id,
                "source": "api",
                "created_at": created,
                "ended_at": ended,
                "expires_at": created + timedelta(hours=24),
            }
            store.write_batch(meta, [_rows(batch_id, created, ended, spec)])
    return path


def _summary(path: Path, **options: Any) -> OperationsSummary:
    with open_store(path, read_only=True) as store:
        return operations_summary(store, **options)


def test_turnaround_percentiles_by_hand() -> None:
    # sorted 1, 3, 18, 24: p50 at rank 1.5 -> 3 + 0.5 * 15; p95 at rank 2.85 -> 18 + 0.85 * 6
    spans = turnaround([24, 1, 18, 3])
    assert spans.batches == 4 and (spans.p50, spans.max) == (10.5, 24.0)
    assert spans.p95 == pytest.approx(23.1, abs=1e-12)
    assert turnaround([2.5]).__dict__ == {"batches": 1, "p50": 2.5, "p95": 2.5, "max": 2.5}
    assert turnaround([]).__dict__ == {"batches": 0, "p50": None, "p95": None, "max": None}


def test_golden_totals(golden: Path) -> None:
    total = _summary(golden).total
    assert total.batches == 5 and total.total == 15
    assert total.requests == {"succeeded": 9, "errored": 2, "canceled": 1, "expired": 3}
    assert total.success_rate == pytest.approx(9 / 15) and total.below_target
    assert total.expired_share == pytest.approx(3 / 15)
    assert total.expired_batches == 1 and total.expired_batch_share == pytest.approx(1 / 5)
    assert total.unknown_times == 1
    assert (total.turnaround.p50, total.turnaround.p95, total.turnaround.max) == pytest.approx(
        (10.5, 23.1, 24.0)
    )
    per = total.per_request()
    assert per["input_tokens"] == pytest.approx(12_000 / 9)  # 8 x 1,000 + 4,000, 9 succeeded
    assert per["output_tokens"] == 200 and per["cache_read_tokens"] == 50
    assert per["cache_write_tokens"] == 30


def test_golden_by_day_and_by_hour_of_submission(golden: Path) -> None:
    days = {row.key: row for row in _summary(golden, by="day").rows}
    assert list(days) == ["2026-11-02", "2026-11-03"]
    first = days["2026-11-02"].turnaround  # 1, 3, 18
    assert (first.p50, first.p95, first.max) == pytest.approx((3.0, 16.5, 18.0))
    second = days["2026-11-03"]  # D (24 h) and E (unknown)
    assert (second.turnaround.batches, second.unknown_times) == (1, 1)
    assert (second.turnaround.p50, second.turnaround.max) == (24.0, 24.0)
    assert second.per_request()["input_tokens"] == 2500  # (4,000 + 1,000) / 2
    hours = {row.key: row for row in _summary(golden, by="hour").rows}
    assert list(hours) == ["09:00", "10:00", "14:00"]
    nine, two = hours["09:00"].turnaround, hours["14:00"].turnaround  # 1, 3 and 18, 24
    assert (nine.p50, nine.p95, nine.max) == pytest.approx((2.0, 2.9, 3.0))
    assert (two.p50, two.p95, two.max) == pytest.approx((21.0, 23.7, 24.0))
    assert hours["10:00"].turnaround.batches == 0 and hours["10:00"].unknown_times == 1


def test_golden_errors_jobs_and_batches(golden: Path) -> None:
    summary = _summary(golden, by="job")
    assert summary.errors == {"invalid_request_error": 1, "overloaded_error": 1}
    jobs = {row.key: row for row in summary.rows}
    assert set(jobs) == {"A", "B", "C", "D", "E"}  # custom ids "A-0", ...: the job is "A"
    batches = {row.key: row for row in _summary(golden, by="batch").rows}
    assert batches["msgbatch_C"].turnaround.max == 18.0 and batches["msgbatch_C"].batches == 1
    assert batches["msgbatch_D"].expired_batches == 1
    notes = " ".join(summary.notes)
    assert "Turnaround unknown for 1 of 5 batches (msgbatch_E)" in notes
    assert "UTC" in notes and "never billed" in notes


def test_the_json_contract_and_the_csv_foot(golden: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["usage", "ops", "--store", str(golden), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["schema"] == "costmodel.ops/1" and data["timezone"] == "UTC"
    assert data["totals"]["turnaround"] == {
        "batches": 4,
        "p50_hours": 10.5,
        "p95_hours": 23.1,
        "max_hours": 24.0,
    }
    assert data["errors"][0] == {"error_type": "invalid_request_error", "requests": 1, "share": 0.5}
    assert sum(row["requests"] for row in data["rows"]) == data["totals"]["requests"] == 15
    csv = runner.invoke(
        main, ["usage", "ops", "--store", str(golden), "--format", "csv", "--by", "hour"]
    )
    frame = pd.read_csv(pd.io.common.StringIO(csv.output))
    assert frame["requests"].sum() == 15 and frame["key"].tolist() == ["09:00", "10:00", "14:00"]
    table = runner.invoke(
        main, ["usage", "ops", "--store", str(golden), "--by", "hour", "--format", "markdown"]
    )
    assert "60.00% (below 99%)" in table.output and "Hour submitted (UTC)" in table.output
    assert "10.5 h" in table.output and "unknown" in table.output


def test_since_until_and_bad_input(golden: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    only = runner.invoke(
        main,
        ["usage", "ops", "--store", str(golden), "--since", "2026-11-03", "--format", "json"],
    )
    assert json.loads(only.output)["totals"]["requests"] == 6  # D and E
    bad = runner.invoke(main, ["usage", "ops", "--store", str(golden), "--by", "week"])
    assert bad.exit_code == 2 and "week" in bad.output
    when = runner.invoke(main, ["usage", "ops", "--store", str(golden), "--since", "11/03"])
    assert when.exit_code != 0 and "--since" in when.output and "Traceback" not in when.output
    none = runner.invoke(
        main,
        ["usage", "ops", "--store", str(golden), "--since", "2027-01-01", "--format", "json"],
    )
    data = json.loads(none.output)
    assert data["totals"]["requests"] == 0 and data["totals"]["success_rate"] is None
    assert data["notes"] == ["No stored batches in the period."]
    missing = runner.invoke(main, ["usage", "ops", "--store", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1 and "no usage store yet" in missing.output


def test_python_m_costmodel_cli_has_the_command(golden: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "costmodel",
            "usage",
            "ops",
            "--store",
            str(golden),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["totals"]["batches"] == 5


# -- properties -----------------------------------------------------------------------------------
batch_strategy = st.tuples(
    st.lists(st.integers(0, 30), min_size=4, max_size=4),  # succeeded, errored, canceled, expired
    st.one_of(st.none(), st.integers(0, 23)),  # hour created (None: unknown)
    st.one_of(st.none(), st.floats(0, 30, allow_nan=False)),  # hours to end (None: unknown)
    st.sampled_from(["invalid_request_error", "overloaded_error", None]),
    st.integers(1, 4),  # day of November
)


def _frames(batches: list[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts, times = [], []
    for i, (ns, hour, hours, error, day) in enumerate(batches):
        batch_id = f"msgbatch_{i}"
        kinds = ("succeeded", "errored", "canceled", "expired")
        if sum(ns) == 0:
            ns = [1, 0, 0, 0]
        for kind, n in zip(kinds, ns, strict=True):
            if n:
                counts.append(
                    {
                        "batch_id": batch_id,
                        "key": f"job{i % 3}",
                        "result_type": kind,
                        "error_type": error if kind == "errored" else None,
                        "requests": n,
                        "input_tokens": 100 * n if kind == "succeeded" else 0,
                        "output_tokens": 10 * n if kind == "succeeded" else 0,
                        "cache_write_tokens": 0,
                        "cache_read_tokens": 0,
                    }
                )
        created = None if hour is None else datetime(2026, 11, day, hour)
        ended = None if created is None or hours is None else created + timedelta(hours=hours)
        times.append(
            {
                "batch_id": batch_id,
                "usage_date": date(2026, 11, day),
                "created_at": created,
                "ended_at": ended,
            }
        )
    return pd.DataFrame(counts), pd.DataFrame(times)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(batch_strategy, min_size=1, max_size=12),
    st.sampled_from(["day", "hour", "batch", "job"]),
)
def test_rates_are_shares_and_counts_foot(batches: list[Any], by: str) -> None:
    counts, times = _frames(batches)
    summary = summarise(counts, times, by=by)
    total = summary.total
    assert total.total == int(counts["requests"].sum())
    for kind in total.requests:
        assert sum(row.requests[kind] for row in summary.rows) == total.requests[kind]
    assert sum(summary.errors.values()) == total.requests["errored"]
    if by != "job":  # a batch sits in one day, hour or batch row (a job row may share it)
        assert sum(row.batches for row in summary.rows) == total.batches == len(batches)
    for row in (*summary.rows, total):
        assert row.success_rate is not None and 0 <= row.success_rate <= 1
        assert 0 <= (row.expired_share or 0) <= 1
        assert 0 <= row.expired_batches <= row.batches
        assert row.turnaround.batches + row.unknown_times == row.batches
        spans = row.turnaround
        if spans.batches:
            assert spans.p50 is not None and spans.p95 is not None and spans.max is not None
            assert 0 <= spans.p50 <= spans.p95 <= spans.max
    frame = summary.frame()
    assert int(frame["requests"].sum()) == total.total


# -- capture --------------------------------------------------------------------------------------
def test_pull_records_the_batch_times_and_the_api_counts(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    from costmodel.adapters.ingest.batches import pull

    start = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    usage = usage_object(input_tokens=900, output_tokens=90)
    ran_out = FakeBatch(
        "msgbatch_01RanOut",
        start,
        [succeeded_line("late-0", MODEL, usage), bare_line("late-1", "expired")],
        ended_at=start + timedelta(hours=24),
    )
    stopped = FakeBatch(
        "msgbatch_02Stopped",
        start + timedelta(hours=1),
        [errored_line("stop-0", "overloaded_error"), bare_line("stop-1", "canceled")],
        ended_at=start + timedelta(hours=1, minutes=20),
        cancel_initiated_at=start + timedelta(hours=1, minutes=5),
    )
    api_env.add_batch(ran_out)
    api_env.add_batch(stopped)
    report = pull(store, client=sdk_client, progress=False)
    assert report.ok
    times = store.batch_times().set_index("batch_id")
    late = times.loc["msgbatch_01RanOut"]
    assert late["created_at"] == pd.Timestamp("2026-11-20 14:00")
    assert late["ended_at"] == late["expires_at"] == pd.Timestamp("2026-11-21 14:00")
    assert (late["reported_succeeded"], late["reported_expired"], late["reported_processing"]) == (
        1,
        1,
        0,
    )
    early = times.loc["msgbatch_02Stopped"]
    assert early["cancel_initiated_at"] == pd.Timestamp("2026-11-20 15:05")
    assert early["reported_canceled"] == 1 and early["reported_errored"] == 1
    summary = operations_summary(store, by="batch")
    rows = {row.key: row for row in summary.rows}
    assert rows["msgbatch_01RanOut"].turnaround.max == 24.0
    assert rows["msgbatch_02Stopped"].turnaround.max == pytest.approx(20 / 60)
    assert summary.errors == {"overloaded_error": 1}
    assert not any("other counts than the API" in note for note in summary.notes)


def test_pull_notes_a_batch_whose_stored_counts_differ_from_the_api(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    from costmodel.adapters.ingest.batches import pull

    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    lines = [
        succeeded_line(f"x-{i}", MODEL, usage_object(input_tokens=10, output_tokens=1))
        for i in range(3)
    ]
    # The API counts one of them as errored: the stored lines disagree.
    api_env.add_batch(
        FakeBatch(
            "msgbatch_01Odd",
            start,
            lines,
            counts={"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0, "expired": 0},
        )
    )
    pull(store, client=sdk_client, progress=False)
    notes = operations_summary(store).notes
    assert any(
        "hold other counts than the API reported" in note and "msgbatch_01Odd" in note
        for note in notes
    )


def test_import_records_the_times_given_and_unknown_otherwise(tmp_path: Path) -> None:
    lines = [succeeded_line("imp-0", MODEL, usage_object(input_tokens=10, output_tokens=1))]
    given_times = tmp_path / "msgbatch_01Given_results.jsonl"
    given_times.write_text("\n".join([*lines, bare_line("imp-1", "expired")]) + "\n")
    bare = tmp_path / "msgbatch_01Bare_results.jsonl"
    bare.write_text(
        succeeded_line("bare-0", MODEL, usage_object(input_tokens=10, output_tokens=2)) + "\n"
    )
    store = tmp_path / "s.duckdb"
    runner = CliRunner()
    out = runner.invoke(
        main,
        [
            "usage", "import", str(given_times), "--store", str(store),
            "--created-at", "2026-11-05T08:00:00Z", "--ended-at", "2026-11-05T11:30:00Z",
            "--expires-at", "2026-11-06T08:00:00Z",
        ],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert runner.invoke(main, ["usage", "import", str(bare), "--store", str(store)]).exit_code == 0
    with open_store(store, read_only=True) as opened:
        times = opened.batch_times().set_index("batch_id")
        summary = operations_summary(opened, by="batch")
    assert times.loc["msgbatch_01Given", "expires_at"] == pd.Timestamp("2026-11-06 08:00")
    assert pd.isna(times.loc["msgbatch_01Bare", "created_at"])
    assert pd.isna(times.loc["msgbatch_01Bare", "reported_succeeded"])  # imports: unknown
    rows = {row.key: row for row in summary.rows}
    assert rows["msgbatch_01Given"].turnaround.max == 3.5
    assert rows["msgbatch_01Bare"].unknown_times == 1
    assert any(
        "Turnaround unknown for 1 of 2 batches (msgbatch_01Bare)" in n for n in summary.notes
    )


def test_import_refuses_an_end_before_the_creation(tmp_path: Path) -> None:
    path = tmp_path / "msgbatch_01Back_results.jsonl"
    path.write_text(bare_line("b-0", "expired") + "\n")
    out = CliRunner().invoke(
        main,
        [
            "usage", "import", str(path), "--store", str(tmp_path / "s.duckdb"),
            "--created-at", "2026-11-05T08:00:00", "--ended-at", "2026-11-05T07:00:00",
        ],
    )  # fmt: skip
    assert out.exit_code == 1
    assert "ended_at 2026-11-05 07:00 is before created_at 2026-11-05 08:00" in out.output
    assert not (tmp_path / "s.duckdb").exists()


def test_a_v3_store_reads_read_only_with_the_api_counts_unknown(tmp_path: Path) -> None:
    from test_store_migration import make_v3_store

    path = tmp_path / "v3.duckdb"
    make_v3_store(path)
    before = path.read_bytes()
    out = CliRunner().invoke(main, ["usage", "ops", "--store", str(path), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["totals"]["requests"] == 4 and data["totals"]["turnaround"]["max_hours"] == 2.5
    assert data["errors"] == [{"error_type": "overloaded_error", "requests": 1, "share": 1.0}]
    assert path.read_bytes() == before  # still schema 3: the first write upgrades it


def test_the_demo_store_has_something_true_to_show(tmp_path: Path) -> None:
    from costmodel.adapters.demo import ensure_demo_store

    path = ensure_demo_store(tmp_path / "demo.duckdb", today=date(2026, 12, 1))
    summary = _summary(path, by="hour")
    total = summary.total
    assert total.unknown_times == 0 and 0 < total.expired_batches < 10
    assert set(summary.errors) >= {"invalid_request_error", "overloaded_error", "api_error"}
    hours = {row.key: row for row in summary.rows}
    # business hours off-peak: a few hours; the peak: some batches of 12 hours or more
    assert all(hours[h].turnaround.max <= 4 for h in ("09:00", "10:00", "11:00") if h in hours)
    assert max(row.turnaround.max or 0 for row in summary.rows) >= 12
    assert any(not row.below_target for row in summary.rows) and any(
        r.below_target for r in summary.rows
    )
