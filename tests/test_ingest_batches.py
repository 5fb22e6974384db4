"""Pulling batches: the real anthropic SDK against the loopback Batches API, faults and all."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fake_batches_api import TEST_API_KEY, FakeBatch, FakeBatchesAPI

from costmodel.adapters.ingest.batches import PullReport, pull
from costmodel.adapters.store import Store, open_store
from costmodel.adapters.synthetic import Expected, generate
from costmodel.core.usage import COUNT_COLUMNS
from costmodel.errors import ApiError

START = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TOKENS = COUNT_COLUMNS


def add_batches(api: FakeBatchesAPI, count: int, *, lines: int = 40) -> dict[str, Expected]:
    """``count`` ended batches an hour apart, every result type, lines out of request order."""
    expected: dict[str, Expected] = {}
    for i in range(count):
        batch_id = f"msgbatch_{i:03d}Fake"
        totals = Expected()
        generated = generate(
            lines, seed=i, job=f"job{i}", errored=0.1, expired=0.05, canceled=0.05, expected=totals
        )
        api.add_batch(FakeBatch(batch_id, START + timedelta(hours=i), list(generated)))
        expected[batch_id] = totals
    return expected


def stored(store: Store) -> pd.DataFrame:
    return store.requests().sort_values(["batch_id", "custom_id"], ignore_index=True)


def pulled_ids(report: PullReport) -> list[str]:
    return sorted(outcome.batch_id for outcome in report.pulled)


def test_a_pull_stores_every_ended_batch_following_every_page(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    expected = add_batches(api_env, 5)

    report = pull(store, client=sdk_client, progress=False)

    assert report.ok and report.exit_code == 0
    assert report.listed == 5 and pulled_ids(report) == sorted(expected)
    pages = api_env.requests_to("/v1/messages/batches")
    listing = [r for r in pages if r.path == "/v1/messages/batches"]
    assert len(listing) == 3  # the server hands back 2 a page: the SDK followed has_more
    assert listing[0].query == {"limit": ["100"]}
    assert listing[1].query["after_id"] == ["msgbatch_003Fake"]
    rows = store.requests()
    for batch_id, totals in expected.items():
        mine = rows[rows["batch_id"] == batch_id]
        assert mine["result_type"].value_counts().to_dict() == dict(totals.result_types)
        for name in TOKENS:
            assert int(mine[name].sum()) == totals.tokens(name)
    batch = store.batches().set_index("batch_id").loc["msgbatch_002Fake"]
    assert batch["source"] == "api" and batch["complete"]
    assert batch["created_at"] == pd.Timestamp("2026-11-20 11:30:00")
    assert batch["ended_at"] == pd.Timestamp("2026-11-20 12:12:00")
    assert batch["expected_requests"] == 40


def test_pulling_twice_changes_nothing(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 3)
    pull(store, client=sdk_client, progress=False)
    before = stored(store)
    results_fetched = len(api_env.requests_to("/results"))

    again = pull(store, client=sdk_client, progress=False)

    assert again.pulled == [] and sorted(again.already_stored) == sorted(
        before["batch_id"].unique()
    )
    assert len(api_env.requests_to("/results")) == results_fetched  # nothing downloaded again
    pd.testing.assert_frame_equal(before, stored(store))


def test_batches_in_progress_wait_for_a_later_pull(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 3)
    api_env.batch("msgbatch_001Fake").processing_status = "in_progress"
    api_env.batch("msgbatch_002Fake").processing_status = "canceling"

    first = pull(store, client=sdk_client, progress=False)
    assert first.ok
    assert sorted(first.in_progress) == ["msgbatch_001Fake", "msgbatch_002Fake"]
    assert pulled_ids(first) == ["msgbatch_000Fake"]

    for batch_id in ("msgbatch_001Fake", "msgbatch_002Fake"):
        api_env.batch(batch_id).processing_status = "ended"
        api_env.batch(batch_id).ended_at = START + timedelta(days=1)
    second = pull(store, client=sdk_client, progress=False)
    assert pulled_ids(second) == ["msgbatch_001Fake", "msgbatch_002Fake"]
    assert second.already_stored == ["msgbatch_000Fake"]


def test_rate_limits_and_overloads_are_retried_by_the_sdk(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 2)
    api_env.fail("/v1/messages/batches", 429, times=2)  # the first listing, twice
    api_env.fail("/msgbatch_000Fake/results", 529, times=2)
    api_env.fail("/msgbatch_001Fake", 500, times=1)

    report = pull(store, client=sdk_client, progress=False)

    assert report.ok and pulled_ids(report) == ["msgbatch_000Fake", "msgbatch_001Fake"]
    statuses = [r.status for r in api_env.log]
    assert statuses.count(429) == 2 and statuses.count(529) == 2 and statuses.count(500) == 1
    assert len(api_env.requests_to("/msgbatch_000Fake/results")) == 3


def test_retries_run_out_and_the_pull_carries_on(api_env: FakeBatchesAPI, store: Store) -> None:
    add_batches(api_env, 3)
    api_env.fail("/msgbatch_001Fake/results", 529, times=10)

    report = pull(store, max_retries=1, progress=False)  # client from the environment

    assert not report.ok and report.exit_code == 1
    assert [o.batch_id for o in report.failed] == ["msgbatch_001Fake"]
    assert "529 overloaded_error" in report.failed[0].reason
    assert pulled_ids(report) == ["msgbatch_000Fake", "msgbatch_002Fake"]
    assert len(api_env.requests_to("/msgbatch_001Fake/results")) == 2  # first try + 1 retry
    assert "failed msgbatch_001Fake" in "\n".join(report.describe())


def test_expired_results_are_reported_and_the_others_pulled(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 3)
    api_env.batch("msgbatch_000Fake").results_gone = True
    api_env.batch("msgbatch_002Fake").archived_at = START + timedelta(days=29)

    report = pull(store, client=sdk_client, progress=False)

    assert pulled_ids(report) == ["msgbatch_001Fake"]
    gone = {o.batch_id: o.reason for o in report.unavailable}
    assert "404" in gone["msgbatch_000Fake"] and "29 days" in gone["msgbatch_000Fake"]
    assert "archived on 2026-12-19" in gone["msgbatch_002Fake"]
    assert api_env.requests_to("/msgbatch_002Fake/results") == []  # not even asked for
    assert report.exit_code == 1 and report.failed == []
    assert set(store.batches()["batch_id"]) == {"msgbatch_001Fake"}


def test_a_stream_cut_off_mid_batch_stores_nothing_and_the_next_pull_completes_it(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    expected = add_batches(api_env, 3, lines=400)
    api_env.drop_stream("msgbatch_001Fake", after=0.6)

    first = pull(store, client=sdk_client, progress=False)

    assert [o.batch_id for o in first.failed] == ["msgbatch_001Fake"]
    assert "broke off" in first.failed[0].reason
    assert "msgbatch_001Fake" not in set(store.requests()["batch_id"])
    assert "msgbatch_001Fake" not in set(store.batches()["batch_id"])

    second = pull(store, client=sdk_client, progress=False)

    assert second.ok and pulled_ids(second) == ["msgbatch_001Fake"]
    rows = store.requests()
    assert not rows.duplicated(["batch_id", "custom_id"]).any()
    mine = rows[rows["batch_id"] == "msgbatch_001Fake"]
    assert len(mine) == 400
    assert int(mine["input_tokens"].sum()) == expected["msgbatch_001Fake"].tokens("input_tokens")


def test_a_batch_stored_short_is_fetched_again(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 1)
    batch = api_env.batch("msgbatch_000Fake")
    real = batch.request_counts()
    batch.counts = {**real, "succeeded": real["succeeded"] + 1}  # the API counts one more

    first = pull(store, client=sdk_client, progress=False)
    assert "stored 40 of the 41 requests" in first.failed[0].reason
    assert not store.has_complete_batch("msgbatch_000Fake")

    batch.counts = None
    second = pull(store, client=sdk_client, progress=False)
    assert second.ok and pulled_ids(second) == ["msgbatch_000Fake"]
    assert len(store.requests()) == 40


def test_invalid_results_from_the_api_are_refused_with_the_line(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 2)
    api_env.batch("msgbatch_001Fake").lines.insert(
        3, '{"custom_id": "x", "result": {"type": "succeeded"}}'
    )

    report = pull(store, client=sdk_client, progress=False)

    assert [o.batch_id for o in report.failed] == ["msgbatch_001Fake"]
    assert "results of msgbatch_001Fake: 1 invalid line" in report.failed[0].reason
    assert "line 4: succeeded line without usage" in report.failed[0].reason
    assert set(store.batches()["batch_id"]) == {"msgbatch_000Fake"}


def test_since_stops_listing_at_older_batches(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 6)

    report = pull(store, client=sdk_client, since=START + timedelta(hours=4), progress=False)

    assert pulled_ids(report) == ["msgbatch_004Fake", "msgbatch_005Fake"]
    listing = [r for r in api_env.log if r.path == "/v1/messages/batches"]
    assert len(listing) == 2  # stopped paging once it met an older batch
    assert pulled_ids(pull(store, client=sdk_client, since="2026-11-20", progress=False)) == [
        f"msgbatch_{i:03d}Fake" for i in range(4)
    ]


def test_the_workspace_goes_with_every_request(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 2)
    pull(store, client=sdk_client, workspace_id="wrkspc_01Test", progress=False)
    assert api_env.log and all(
        r.headers.get("anthropic-workspace-id") == "wrkspc_01Test" for r in api_env.log
    )


# -- credentials ----------------------------------------------------------------------------------
def test_a_missing_key_is_one_clear_line(
    api_env: FakeBatchesAPI, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ApiError) as missing:
        pull(store, progress=False)
    assert str(missing.value) == "no API key: set ANTHROPIC_API_KEY in the environment"
    assert api_env.log == []


def test_a_refused_key_is_one_clear_line_without_the_key(
    api_env: FakeBatchesAPI, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    wrong = "sk-ant-api03-wrong-key-5vK2mXq9"
    monkeypatch.setenv("ANTHROPIC_API_KEY", wrong)
    with pytest.raises(ApiError) as refused:
        pull(store, progress=False)
    message = str(refused.value)
    assert "401 authentication_error" in message and "ANTHROPIC_API_KEY" in message
    assert wrong not in message and "\n" not in message
    assert api_env.log[0].headers["authorization"] == f"Bearer {wrong}"  # what SDK 2.x sends


def test_the_key_is_never_written_to_the_store(
    api_env: FakeBatchesAPI, sdk_client: Any, tmp_path: Path
) -> None:
    add_batches(api_env, 3)
    api_env.batch("msgbatch_000Fake").results_gone = True
    api_env.drop_stream("msgbatch_001Fake")
    path = tmp_path / "usage.duckdb"
    with open_store(path) as store:
        report = pull(store, client=sdk_client, progress=False)
        store.connection.execute("CHECKPOINT")
    assert TEST_API_KEY not in "\n".join(report.describe())
    key = TEST_API_KEY.encode()
    for file in tmp_path.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert key not in data and key[-20:] not in data, file


def test_progress_bars_stay_off_when_stderr_is_not_a_terminal(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    add_batches(api_env, 2)
    assert pull(store, client=sdk_client, progress=True).ok
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_importing_ingest_loads_neither_the_sdk_nor_duckdb() -> None:
    code = "import sys, costmodel.adapters.ingest; print(sorted({'anthropic', 'duckdb', 'pandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- a 404 is not forever (issue 8, item 3) -------------------------------------------------------
def test_a_batch_found_gone_is_retried_inside_the_window_and_counted_after_it(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    expected = add_batches(api_env, 2)
    gone = api_env.batch("msgbatch_000Fake")
    gone.results_gone = True
    early = START + timedelta(days=3)

    first = pull(store, client=sdk_client, progress=False, now=early)
    assert [o.batch_id for o in first.unavailable] == ["msgbatch_000Fake"]
    assert store.unavailable() == {"msgbatch_000Fake"}

    gone.results_gone = False  # the 404 was passing: the results are there after all
    second = pull(store, client=sdk_client, progress=False, now=early + timedelta(days=1))
    assert pulled_ids(second) == ["msgbatch_000Fake"] and second.ok
    assert second.retried_gone == ["msgbatch_000Fake"] and store.unavailable() == set()
    mine = store.requests()
    mine = mine[mine["batch_id"] == "msgbatch_000Fake"]
    assert int(mine["input_tokens"].sum()) == expected["msgbatch_000Fake"].tokens("input_tokens")


def test_past_the_window_a_gone_batch_is_one_count_and_retry_gone_forces_it(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 2)
    api_env.batch("msgbatch_001Fake").results_gone = True
    pull(store, client=sdk_client, progress=False, now=START + timedelta(days=1))
    late = START + timedelta(days=30)
    fetched = len(api_env.requests_to("/msgbatch_001Fake/results"))

    quiet = pull(store, client=sdk_client, progress=False, now=late)
    assert quiet.ok and quiet.known_unavailable == ["msgbatch_001Fake"]
    assert len(api_env.requests_to("/msgbatch_001Fake/results")) == fetched  # not asked again
    summary = quiet.describe()
    assert len(summary) == 1 and "past the 29 days" in summary[0] and "--retry-gone" in summary[0]

    api_env.batch("msgbatch_001Fake").results_gone = False
    forced = pull(store, client=sdk_client, progress=False, now=late, retry_gone=True)
    assert pulled_ids(forced) == ["msgbatch_001Fake"] and store.unavailable() == set()


# -- a misbehaving API (item 4) -------------------------------------------------------------------
def batch_json(api: FakeBatchesAPI, **changes: Any) -> dict[str, Any]:
    return {**api.batch_object(api.batch("msgbatch_000Fake")), **changes}


MALFORMED_LISTS: dict[str, tuple[Any, str]] = {
    "not JSON": (lambda api, q: b"<html>502 Bad Gateway</html>", "page 1 is not JSON"),
    "not an object": (lambda api, q: b"[1, 2]", "page 1 is not a JSON object"),
    "no data": (lambda api, q: {"has_more": False}, "page 1.data: expected a list"),
    "data not a list": (
        lambda api, q: {"data": "x", "has_more": False, "last_id": None},
        "page 1.data: expected a list",
    ),
    "has_more not a bool": (
        lambda api, q: {"data": [], "has_more": "yes", "last_id": None},
        "page 1.has_more: expected true or false",
    ),
    "a batch without an id": (
        lambda api, q: {"data": [batch_json(api, id=None)], "has_more": False, "last_id": None},
        "data[0].id: expected a string",
    ),
    "counts as text": (
        lambda api, q: {
            "data": [batch_json(api, request_counts={"succeeded": "5"})],
            "has_more": False,
            "last_id": None,
        },
        "data[0].request_counts.succeeded: expected a whole number",
    ),
    "a time that is not a time": (
        lambda api, q: {
            "data": [batch_json(api, created_at="yesterday")],
            "has_more": False,
            "last_id": None,
        },
        "data[0].created_at: expected an ISO time",
    ),
    "more but no cursor": (
        lambda api, q: {"data": [batch_json(api)], "has_more": True, "last_id": None},
        "says more follow but gives no last_id",
    ),
    "the same page forever": (
        lambda api, q: {"data": [batch_json(api)], "has_more": True, "last_id": "msgbatch_000Fake"},
        "repeated the page after msgbatch_000Fake",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED_LISTS))
def test_a_malformed_batch_list_is_one_clear_line(
    api_env: FakeBatchesAPI, sdk_client: Any, tmp_path: Path, case: str
) -> None:
    add_batches(api_env, 1)
    answer, expected = MALFORMED_LISTS[case]
    api_env.list_answer = lambda query: answer(api_env, query)
    path = tmp_path / "new" / "usage.duckdb"
    with open_store(path, create=False) as store, pytest.raises(ApiError) as refused:
        pull(store, client=sdk_client, progress=False)
    message = str(refused.value)
    assert message.startswith("listing batches: ") and expected in message, message
    assert "\n" not in message and TEST_API_KEY not in message
    assert not path.exists()  # a failed pull leaves no store behind (item 5)


def test_pages_that_never_end_stop_at_the_page_limit(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 1)
    served: list[int] = []

    def endless(query: dict[str, list[str]]) -> dict[str, Any]:
        served.append(1)
        fresh = f"msgbatch_{len(served):04d}Endless"
        return {"data": [batch_json(api_env, id=fresh)], "has_more": True, "last_id": fresh}

    api_env.list_answer = endless
    with pytest.raises(ApiError, match="still more after 5 pages"):
        pull(store, client=sdk_client, progress=False, max_pages=5)
    assert len(served) == 5 and store.batches().empty


def test_the_cli_pull_with_a_malformed_list_says_one_line_and_creates_no_store(
    api_env: FakeBatchesAPI, tmp_path: Path
) -> None:
    api_env.list_answer = lambda query: {"data": [{"id": 7}], "has_more": False, "last_id": None}
    path = tmp_path / "usage.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "costmodel", "usage", "pull", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "internal error" not in done.stderr
    assert "data[0].id: expected a string" in done.stderr
    assert not path.exists()


# -- pull against stored files (item 1) and spools (item 5) -------------------------------------
def test_a_pull_refuses_to_replace_a_batch_imported_from_a_file_unless_told(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store, tmp_path: Path
) -> None:
    from costmodel.adapters.ingest.files import read_results

    add_batches(api_env, 1)
    saved = tmp_path / "msgbatch_000Fake_results.jsonl"
    lines = api_env.batch("msgbatch_000Fake").lines
    saved.write_text("".join(line + "\n" for line in lines[:10]))  # a partial download
    results = read_results(saved)
    store.write_batch(results.batch_meta(), results)

    refused = pull(store, client=sdk_client, progress=False)
    assert [o.batch_id for o in refused.failed] == ["msgbatch_000Fake"]
    assert str(saved.resolve()) in refused.failed[0].reason
    assert "a pull from the API" in refused.failed[0].reason
    assert len(store.requests()) == 10

    replaced = pull(store, client=sdk_client, progress=False, replace=True)
    assert pulled_ids(replaced) == ["msgbatch_000Fake"] and len(store.requests()) == 40


def test_a_pull_does_not_count_again_a_batch_imported_under_another_id(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store, tmp_path: Path
) -> None:
    from costmodel.adapters.ingest.files import read_results

    add_batches(api_env, 1)
    saved = tmp_path / "results.jsonl"
    saved.write_text("".join(line + "\n" for line in api_env.batch("msgbatch_000Fake").lines))
    results = read_results(saved, batch_id="msgbatch_mine")
    store.write_batch(results.batch_meta(), results)

    report = pull(store, client=sdk_client, progress=False)
    assert report.ok and [o.batch_id for o in report.duplicates] == ["msgbatch_000Fake"]
    assert "the same requests as batch msgbatch_mine" in report.duplicates[0].reason
    assert set(store.batches()["batch_id"]) == {"msgbatch_mine"} and len(store.requests()) == 40


def test_stale_spools_of_dead_pulls_are_cleared(
    api_env: FakeBatchesAPI, sdk_client: Any, store: Store
) -> None:
    add_batches(api_env, 1)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = store.path.parent / f".{store.path.name}.spool-{dead.stdout.strip()}-abc"
    stale.mkdir()
    (stale / "msgbatch_000Fake.jsonl").write_text("message text")
    alive = store.path.parent / f".{store.path.name}.spool-{os.getpid()}-live"
    alive.mkdir()

    assert pull(store, client=sdk_client, progress=False).ok
    assert not stale.exists() and alive.exists()  # a running pull's spool is left alone
    assert not list(store.path.parent.glob(f".{store.path.name}.spool-*-[!l]*"))
