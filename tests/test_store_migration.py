"""Schema 3 -> 4 (batch operations): a store made by the schema-3 DDL, written here as that
version wrote it (not by today's code), is read as it is by a reader, upgraded in place by the
first writer, idempotently and atomically, with no stored row dropped or rewritten."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from costmodel.adapters.store import SCHEMA_VERSION, open_store

# The schema-3 store, as costmodel made it before batch operations (kept verbatim on purpose).
V3_DDL = (
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE requests (
        batch_id VARCHAR, custom_id VARCHAR, result_type VARCHAR, error_type VARCHAR,
        model VARCHAR, input_tokens BIGINT, output_tokens BIGINT,
        cache_creation_input_tokens BIGINT, cache_write_5m_tokens BIGINT,
        cache_write_1h_tokens BIGINT, cache_read_tokens BIGINT, web_search_requests BIGINT,
        web_fetch_requests BIGINT, service_tier VARCHAR, inference_geo VARCHAR, speed VARCHAR,
        batch_created_at TIMESTAMP, batch_ended_at TIMESTAMP)""",
    """CREATE TABLE batches (
        batch_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, processing_status VARCHAR,
        created_at TIMESTAMP, ended_at TIMESTAMP, expires_at TIMESTAMP, archived_at TIMESTAMP,
        requests BIGINT NOT NULL, succeeded BIGINT NOT NULL, errored BIGINT NOT NULL,
        canceled BIGINT NOT NULL, expired BIGINT NOT NULL, expected_requests BIGINT,
        rejected_lines BIGINT NOT NULL, complete BOOLEAN NOT NULL,
        imported_at TIMESTAMP NOT NULL, digest VARCHAR)""",
    """CREATE VIEW requests_dated AS
        SELECT r.*,
               CAST(coalesce(r.batch_created_at, r.batch_ended_at, b.imported_at) AS DATE)
                   AS usage_date
        FROM requests r JOIN batches b USING (batch_id)""",
    """CREATE TABLE unavailable_batches (
        batch_id VARCHAR PRIMARY KEY, reason VARCHAR NOT NULL, noted_at TIMESTAMP NOT NULL,
        batch_created_at TIMESTAMP)""",
)
CREATED = datetime(2026, 11, 3, 9, 0)
ENDED = datetime(2026, 11, 3, 11, 30)


def _request(custom_id: str, kind: str, error: str | None = None) -> tuple[object, ...]:
    ok = kind == "succeeded"
    counts = (1000, 200, 0, 0, 0, 50, 0, 0) if ok else (0,) * 8
    return (
        "msgbatch_01V3",
        custom_id,
        kind,
        error,
        "claude-haiku-4-5-20251001" if ok else None,
        *counts,
        "batch" if ok else None,
        "global" if ok else None,
        "standard" if ok else None,
        CREATED,
        ENDED,
    )


ROWS = [
    _request("job-1", "succeeded"),
    _request("job-2", "succeeded"),
    _request("job-3", "errored", "overloaded_error"),
    _request("job-4", "expired"),
]


def make_v3_store(path: Path, *, extra_requests: int = 0, digests_from: str = "") -> None:
    con = duckdb.connect(str(path))
    for statement in V3_DDL:
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    # The digests as a schema-3 costmodel of this DuckDB made them (so none is recomputed).
    con.execute(
        "INSERT INTO meta VALUES ('digest_function', ?)",
        [digests_from or f"hash/duckdb {duckdb.__version__}"],
    )
    con.executemany(f"INSERT INTO requests VALUES ({', '.join('?' * 18)})", ROWS)
    con.execute(  # many more like the first, by SQL (executemany is slow for thousands)
        "INSERT INTO requests SELECT r.* REPLACE ('bulk-' || i AS custom_id) "
        "FROM requests r, range(?) t(i) WHERE r.custom_id = 'job-1'",
        [extra_requests],
    )
    succeeded = 2 + extra_requests
    con.execute(
        "INSERT INTO batches VALUES ('msgbatch_01V3', 'api', 'ended', ?, ?, NULL, NULL, ?, ?, 1, "
        "0, 1, ?, 0, true, ?, 'sha256:stored-by-v3')",
        [CREATED, ENDED, succeeded + 2, succeeded, succeeded + 2, ENDED],
    )
    con.execute(
        "INSERT INTO unavailable_batches VALUES ('msgbatch_01Gone', 'results not found (404)', ?, ?)",
        [ENDED, CREATED],
    )
    con.close()


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").df()
            for name in ("requests", "batches", "unavailable_batches")
        }
    finally:
        con.close()


def _version(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return str(con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def test_a_reader_reads_a_v3_store_as_it_is_with_the_new_figures_unknown(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    make_v3_store(path)
    before = path.read_bytes()
    with open_store(path, read_only=True) as store:
        assert store.schema_version == 3
        times = store.batch_times()
        counts = store.operation_counts()
    assert path.read_bytes() == before  # not upgraded, not touched
    assert times["batch_id"].tolist() == ["msgbatch_01V3"]
    row = times.iloc[0]
    assert row["created_at"] == pd.Timestamp(CREATED) and row["ended_at"] == pd.Timestamp(ENDED)
    assert pd.isna(row["expires_at"]) and pd.isna(row["cancel_initiated_at"])
    assert all(pd.isna(row[f"reported_{kind}"]) for kind in ("processing", "succeeded", "expired"))
    by_type = counts.groupby("result_type")["requests"].sum().to_dict()
    assert by_type == {"succeeded": 2, "errored": 1, "expired": 1}
    assert counts.loc[counts["result_type"] == "errored", "error_type"].tolist() == [
        "overloaded_error"
    ]


def test_the_first_writer_upgrades_v3_in_place_keeping_every_row(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    make_v3_store(path)
    old = _tables(path)
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 4
    new = _tables(path)
    pd.testing.assert_frame_equal(new["requests"], old["requests"])
    pd.testing.assert_frame_equal(new["unavailable_batches"], old["unavailable_batches"])
    # The batch row: every schema-3 column as it was (digest included), the new ones NULL.
    pd.testing.assert_frame_equal(new["batches"][list(old["batches"].columns)], old["batches"])
    added = [name for name in new["batches"].columns if name not in old["batches"].columns]
    assert added == [
        "reported_processing",
        "reported_succeeded",
        "reported_errored",
        "reported_canceled",
        "reported_expired",
        "cancel_initiated_at",
    ]
    assert new["batches"][added].isna().all().all()
    # Idempotent: opening again changes nothing.
    with open_store(path) as store:
        assert store.schema_version == 4
    for name, frame in _tables(path).items():
        pd.testing.assert_frame_equal(frame, new[name])


def test_a_re_pull_fills_what_a_v3_batch_did_not_record_and_rewrites_nothing(
    tmp_path: Path,
) -> None:
    from costmodel.adapters.synthetic import bare_line, errored_line, succeeded_line, usage_object

    path = tmp_path / "v3.duckdb"
    # made by another DuckDB: the first writer recomputes the digests from the rows (schema 3's
    # own rule), so the re-pull below is recognised as the same requests
    make_v3_store(path, digests_from="hash/duckdb 0.9.0")
    usage = usage_object(input_tokens=1000, output_tokens=200, cache_read=50)
    lines = [
        succeeded_line("job-1", "claude-haiku-4-5-20251001", usage),
        succeeded_line("job-2", "claude-haiku-4-5-20251001", usage),
        errored_line("job-3", "overloaded_error"),
        bare_line("job-4", "expired"),
    ]
    results = tmp_path / "msgbatch_01V3_results.jsonl"
    results.write_text("\n".join(lines) + "\n")
    from costmodel.adapters.ingest.files import read_results

    source = read_results(results, batch_id="msgbatch_01V3", created_at=CREATED, ended_at=ENDED)
    meta = {
        **source.batch_meta(),
        "source": "api",
        "expires_at": datetime(2026, 11, 4, 9, 0),
        "reported_counts": {
            "processing": 0,
            "succeeded": 2,
            "errored": 1,
            "canceled": 0,
            "expired": 1,
        },
    }
    with open_store(path) as store:
        stored_before = store.stored_batch("msgbatch_01V3")
        written = store.write_batch(meta, source)
        assert written.unchanged  # the same requests: the rows stay as stored
        times = store.batch_times().iloc[0]
        assert store.stored_batch("msgbatch_01V3") == stored_before | {
            "expires_at": datetime(2026, 11, 4, 9, 0)
        }
    assert times["reported_succeeded"] == 2 and times["reported_expired"] == 1
    assert times["expires_at"] == pd.Timestamp(2026, 11, 4, 9, 0)


def test_a_malformed_reported_count_is_refused_naming_it(tmp_path: Path) -> None:
    from costmodel.adapters.ingest.files import read_results
    from costmodel.adapters.synthetic import bare_line
    from costmodel.errors import StoreError

    results = tmp_path / "msgbatch_01Bad_results.jsonl"
    results.write_text(bare_line("a-1", "expired") + "\n")
    source = read_results(results)
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(StoreError, match="reported_expired: expected a count"):
            store.write_batch({**source.batch_meta(), "reported_counts": {"expired": -1}}, source)
        assert store.batches().empty


UPGRADE = (
    "import sys; from costmodel.adapters.store import open_store; open_store(sys.argv[1]).close()"
)


def test_an_upgrade_killed_at_any_moment_leaves_v3_or_v4_whole(tmp_path: Path) -> None:
    rng = random.Random(11)
    for attempt in range(6):
        path = tmp_path / f"v3-{attempt}.duckdb"
        make_v3_store(path, extra_requests=20_000)
        old = _tables(path)
        process = subprocess.Popen([sys.executable, "-c", UPGRADE, str(path)])
        time.sleep(rng.uniform(0.2, 1.5))  # from before the import ends to after the upgrade
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert _version(path) in {"3", "4"}
        with open_store(path) as store:  # the next writer completes (or re-does) the upgrade
            assert store.schema_version == 4
        new = _tables(path)
        pd.testing.assert_frame_equal(new["requests"], old["requests"])
        pd.testing.assert_frame_equal(new["batches"][list(old["batches"].columns)], old["batches"])
