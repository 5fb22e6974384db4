"""SIGKILL in the middle of an import and of a pull: the store stays whole, and an exact
re-import or re-pull gives exactly the expected totals (issue 8)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_batches_api import TEST_API_KEY, FakeBatch, FakeBatchesAPI

from costmodel.adapters.store import open_store
from costmodel.adapters.synthetic import Expected, generate, write_results
from costmodel.core.usage import COUNT_COLUMNS

CLI = [sys.executable, "-m", "costmodel", "usage"]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"finished before {what} (exit {process.returncode})")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} within 120 s")
        time.sleep(0.005)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def totals(path: Path, batch_id: str) -> dict[str, int]:
    with open_store(path, read_only=True) as store:
        rows = store.requests()
        mine = rows[rows["batch_id"] == batch_id]
        assert mine["custom_id"].is_unique
        return {name: int(mine[name].sum()) for name in COUNT_COLUMNS} | {"rows": len(mine)}


def expected_totals(expected: Expected) -> dict[str, int]:
    return {name: expected.tokens(name) for name in COUNT_COLUMNS} | {
        "rows": sum(expected.result_types.values())
    }


def test_an_import_killed_mid_way_leaves_the_store_whole(tmp_path: Path) -> None:
    store = tmp_path / "usage.duckdb"
    small = tmp_path / "msgbatch_01Small_results.jsonl"
    small_expected = write_results(small, 50, seed=1)
    assert subprocess.run([*CLI, "import", str(small), "--store", str(store)]).returncode == 0
    big = tmp_path / "msgbatch_01Big_results.jsonl"
    big_expected = write_results(big, 150_000, seed=2, text_words=60)

    importing = subprocess.Popen([*CLI, "import", str(big), "--store", str(store)])
    # The write has begun once DuckDB logs to the store's write-ahead file.
    wal = store.with_name(store.name + ".wal")
    wait_for(wal.exists, importing, "the import's first write")
    kill(importing)

    # Consistent: the earlier batch whole, the killed one absent (or whole, had it finished).
    with open_store(store) as opened:
        batches = set(opened.batches()["batch_id"])
    assert "msgbatch_01Small" in batches
    assert totals(store, "msgbatch_01Small") == expected_totals(small_expected)
    if "msgbatch_01Big" in batches:
        assert totals(store, "msgbatch_01Big") == expected_totals(big_expected)
    again = subprocess.run(
        [*CLI, "import", str(big), "--store", str(store)], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert totals(store, "msgbatch_01Big") == expected_totals(big_expected)
    assert totals(store, "msgbatch_01Small") == expected_totals(small_expected)


def test_a_pull_killed_mid_stream_leaves_no_partial_batch_and_no_spool(tmp_path: Path) -> None:
    start = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    expected: dict[str, Expected] = {}
    with FakeBatchesAPI() as api:
        for i in range(2):
            batch_id = f"msgbatch_{i:03d}Crash"
            totals_i = Expected()
            lines = list(generate(300, seed=i, job=f"job{i}", errored=0.1, expected=totals_i))
            api.add_batch(FakeBatch(batch_id, start + timedelta(hours=i), lines))
            expected[batch_id] = totals_i
        # Newest first: msgbatch_001Crash streams whole, then msgbatch_000Crash crawls.
        api.slow_stream("msgbatch_000Crash", seconds_per_kb=0.02)
        env = {
            **os.environ,
            "ANTHROPIC_API_KEY": TEST_API_KEY,
            "ANTHROPIC_BASE_URL": api.base_url,
        }
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
        store = tmp_path / "data" / "usage.duckdb"
        pulling = subprocess.Popen([*CLI, "pull", "--store", str(store)], env=env)

        def spool_files() -> list[Path]:
            return list(store.parent.glob(".usage.duckdb.spool-*/msgbatch_000Crash.jsonl"))

        wait_for(lambda: any(f.stat().st_size > 2048 for f in spool_files()), pulling, "a spool")
        # Private while it lives: beside the store, the folder 0700 and the file 0600.
        spool = spool_files()[0]
        assert stat.S_IMODE(spool.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(spool.stat().st_mode) == 0o600
        kill(pulling)

        assert spool.exists()  # what kill -9 leaves behind, to be cleared by the next run
        assert totals(store, "msgbatch_001Crash") == expected_totals(expected["msgbatch_001Crash"])
        assert totals(store, "msgbatch_000Crash")["rows"] == 0  # absent, not partial

        api.slow_stream("msgbatch_000Crash", seconds_per_kb=0)
        again = subprocess.run(
            [*CLI, "pull", "--store", str(store)], env=env, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
    assert not spool_files() and not list(store.parent.glob(".usage.duckdb.spool-*"))
    for batch_id, wanted in expected.items():
        assert totals(store, batch_id) == expected_totals(wanted)
