"""The usage store: location, schema, atomic idempotent writes, and what it hands back."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.ingest import REQUEST_COLUMNS
from costmodel.adapters.ingest.files import read_results
from costmodel.adapters.store import SCHEMA_VERSION, Store, default_store_path, open_store
from costmodel.adapters.synthetic import bare_line, errored_line, succeeded_line, usage_object
from costmodel.core.jobs import JobRule
from costmodel.core.pricing import price_usage
from costmodel.core.usage import USAGE_COLUMNS, validate_usage
from costmodel.errors import IngestError, StoreError


def rows(
    batch_id: str,
    custom_ids: list[str],
    *,
    model: str = "claude-haiku-5-5",
    input_tokens: int = 1000,
    result_type: str = "succeeded",
    created_at: datetime | None = datetime(2026, 11, 20, 9, 0),
) -> pd.DataFrame:
    """A chunk of request rows as an ingest reader hands them over."""
    n = len(custom_ids)
    ok = result_type == "succeeded"
    frame = pd.DataFrame(
        {
            "batch_id": [batch_id] * n,
            "custom_id": custom_ids,
            "result_type": [result_type] * n,
            "error_type": ["api_error" if result_type == "errored" else None] * n,
            "model": [model if ok else None] * n,
            **{name: [0] * n for name, kind in REQUEST_COLUMNS.items() if kind == "BIGINT"},
            "service_tier": ["batch" if ok else None] * n,
            "inference_geo": ["global" if ok else None] * n,
            "speed": ["standard" if ok else None] * n,
            "batch_created_at": pd.Series([created_at] * n, dtype="datetime64[us]"),
            "batch_ended_at": pd.Series([None] * n, dtype="datetime64[us]"),
        }
    )
    if ok:
        frame["input_tokens"] = input_tokens
        frame["output_tokens"] = 100
    return frame[list(REQUEST_COLUMNS)]


def meta(batch_id: str, **extra: object) -> dict[str, object]:
    return {
        "batch_id": batch_id,
        "source": "api",
        "created_at": datetime(2026, 11, 20, 9, 0),
        **extra,
    }


# -- where and what -----------------------------------------------------------------------------
def test_default_location_honours_costmodel_store_then_xdg(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COSTMODEL_STORE", str(tmp_path / "mine.duckdb"))
    assert default_store_path() == tmp_path / "mine.duckdb"
    monkeypatch.delenv("COSTMODEL_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_path() == tmp_path / "data" / "costmodel" / "usage.duckdb"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local/share/costmodel/usage.duckdb"


def test_open_store_without_a_path_uses_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COSTMODEL_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with open_store() as store:
        assert store.path == tmp_path / "xdg" / "costmodel" / "usage.duckdb"
    assert store.path.exists()


def test_a_new_store_records_its_schema_version(tmp_path: Path) -> None:
    with open_store(tmp_path / "a" / "b" / "usage.duckdb") as store:
        assert store.schema_version == SCHEMA_VERSION
        store.write_batch(meta("b1"), [rows("b1", ["x"])])
        assert store.connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").df()[
            "value"
        ][0] == str(SCHEMA_VERSION)
    with open_store(tmp_path / "a" / "b" / "usage.duckdb", read_only=True) as again:
        assert len(again.requests()) == 1
        with pytest.raises(StoreError, match="read-only"):
            again.write_batch(meta("b2"), [rows("b2", ["y"])])


def test_a_store_from_a_newer_costmodel_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.duckdb"
    open_store(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer costmodel"):
        open_store(path)


def test_files_that_are_not_stores_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"definitely not a database" * 100)
    with pytest.raises(StoreError, match=r"junk\.duckdb"):
        open_store(junk)
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE t (x INT)")
    with pytest.raises(StoreError, match="not a costmodel usage store"):
        open_store(other)
    with pytest.raises(StoreError, match="no usage store"):
        open_store(tmp_path / "missing.duckdb", read_only=True)


def test_a_store_in_use_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "usage.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from costmodel.adapters.store import open_store
            store = open_store({str(path)!r})
            print("ready", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="in use by another process"):
            open_store(path)
    finally:
        holder.communicate("done\n", timeout=30)


# -- writing ------------------------------------------------------------------------------------
def test_write_batch_is_idempotent(store: Store) -> None:
    chunks = [rows("b1", ["a", "b"]), rows("b1", ["c"], result_type="errored")]
    first = store.write_batch(meta("b1"), chunks)
    before = store.requests().sort_values("custom_id", ignore_index=True)
    second = store.write_batch(meta("b1"), chunks)
    after = store.requests().sort_values("custom_id", ignore_index=True)

    assert (first.rows, first.replaced_rows, second.rows, second.replaced_rows) == (3, 0, 3, 3)
    assert first.counts == {"succeeded": 2, "errored": 1, "canceled": 0, "expired": 0}
    pd.testing.assert_frame_equal(before, after)
    assert len(store.batches()) == 1


def test_stored_rows_come_back_as_written(store: Store) -> None:
    written = pd.concat(
        [rows("b1", ["a", "b"]), rows("b1", ["c"], result_type="canceled")], ignore_index=True
    )
    store.write_batch(meta("b1"), [written])
    back = store.requests(columns=list(REQUEST_COLUMNS)).sort_values("custom_id", ignore_index=True)
    for column in REQUEST_COLUMNS:
        assert back[column].tolist() == written[column].tolist() or (
            back[column].isna().tolist() == written[column].isna().tolist()
        ), column


class Boom(Exception):
    pass


def failing_chunks(batch_id: str, exc: BaseException) -> Iterator[pd.DataFrame]:
    yield rows(batch_id, [f"n{i}" for i in range(50)])
    raise exc


@pytest.mark.parametrize(
    "exc", [Boom("network gone"), KeyboardInterrupt()], ids=["error", "ctrl-c"]
)
def test_a_write_that_dies_part_way_leaves_the_batch_as_it_was(
    store: Store, exc: BaseException
) -> None:
    store.write_batch(meta("b1"), [rows("b1", ["old-1", "old-2"])])
    store.write_batch(meta("b0"), [rows("b0", ["keep"])])
    before = store.requests().sort_values(["batch_id", "custom_id"], ignore_index=True)
    batches_before = store.batches()

    with pytest.raises(type(exc)):
        store.write_batch(meta("b1"), failing_chunks("b1", exc))
    with pytest.raises(type(exc)):
        store.write_batch(meta("b2"), failing_chunks("b2", exc))

    after = store.requests().sort_values(["batch_id", "custom_id"], ignore_index=True)
    pd.testing.assert_frame_equal(before, after)
    pd.testing.assert_frame_equal(batches_before, store.batches())
    # The store is usable afterwards, and a retry completes the batch.
    assert store.write_batch(meta("b2"), [rows("b2", ["new"])]).rows == 1


def test_a_repeated_custom_id_is_refused_with_nothing_stored(store: Store) -> None:
    with pytest.raises(IngestError, match="custom_id 'a' appears more than once"):
        store.write_batch(meta("b1"), [rows("b1", ["a", "b"]), rows("b1", ["a"])])
    assert store.batches().empty


def test_rows_of_another_batch_or_missing_columns_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="belongs to batch 'b9'"):
        store.write_batch(meta("b1"), [rows("b9", ["a"])])
    with pytest.raises(StoreError, match="lack the column"):
        store.write_batch(meta("b1"), [rows("b1", ["a"]).drop(columns=["model"])])
    with pytest.raises(StoreError, match="batch_id"):
        store.write_batch({"source": "api"}, [])
    assert store.batches().empty


def test_completeness_follows_the_expected_count(store: Store) -> None:
    store.write_batch(meta("whole", expected_requests=2), [rows("whole", ["a", "b"])])
    store.write_batch(meta("short", expected_requests=3), [rows("short", ["a", "b"])])
    assert store.has_complete_batch("whole")
    assert store.has_complete_batch("whole", expected_requests=2)
    assert not store.has_complete_batch("whole", expected_requests=5)
    assert not store.has_complete_batch("short")
    assert not store.has_complete_batch("never-seen")
    listed = store.batches().set_index("batch_id")
    assert listed.loc["short", "requests"] == 2 and listed.loc["short", "expected_requests"] == 3


# -- reading ------------------------------------------------------------------------------------
def test_usage_frame_holds_succeeded_requests_in_the_pricing_contract(store: Store) -> None:
    store.write_batch(
        meta("b1"),
        [
            rows("b1", ["a", "b"], input_tokens=50_000),
            rows("b1", ["e"], result_type="errored"),
            rows("b1", ["x"], result_type="expired"),
        ],
    )
    usage = store.usage_frame()
    assert set(USAGE_COLUMNS) | {"date", "batch_id", "custom_id"} == set(usage.columns)
    validate_usage(usage)
    assert sorted(usage["custom_id"]) == ["a", "b"]
    assert (usage["tier"] == "batch").all() and (usage["requests"] == 1.0).all()
    assert str(usage["date"].iloc[0]) == "2026-11-20 00:00:00"
    # Hand-computed, two requests: Haiku 5.5 input $0.10/MTok and output $0.50/MTok (below its
    # 100K long-context threshold), halved by the batch discount.
    priced = price_usage(usage, bundled_catalogue())
    assert priced.total == pytest.approx(2 * (50_000 * 0.10 + 100 * 0.50) * 0.5 / 1e6)


def test_usage_without_a_batch_date_is_dated_by_its_import(store: Store) -> None:
    store.write_batch(meta("b1", created_at=None), [rows("b1", ["a"], created_at=None)])
    imported = store.batches()["imported_at"].iloc[0]
    assert store.usage_frame()["date"].iloc[0] == imported.normalize()


def test_since_and_until_select_by_usage_day(store: Store) -> None:
    for day in (18, 19, 20):
        batch = f"b{day}"
        created = datetime(2026, 11, day, 23, 59)
        store.write_batch(
            meta(batch, created_at=created), [rows(batch, ["a", "b"], created_at=created)]
        )
    assert len(store.requests(since="2026-11-19")) == 4
    assert len(store.requests(until=date(2026, 11, 19))) == 2
    assert len(store.usage_frame(since="2026-11-19", until="2026-11-20")) == 2
    assert set(store.usage_frame(since=datetime(2026, 11, 20))["batch_id"]) == {"b20"}
    with pytest.raises(StoreError, match="since: expected a date"):
        store.requests(since="last tuesday")


def test_iter_usage_frames_chunks_the_same_rows(store: Store, results_file) -> None:
    path, expected = results_file(700)
    results = read_results(path, created_at="2026-11-20")
    store.write_batch(results.batch_meta(), results)
    whole = store.usage_frame()
    chunks = list(store.iter_usage_frames(chunk_rows=100))
    assert max(len(c) for c in chunks) <= 100
    assert sum(len(c) for c in chunks) == len(whole) == expected.result_types["succeeded"]
    total = sum(price_usage(c, bundled_catalogue()).total for c in chunks)
    assert total == pytest.approx(price_usage(whole, bundled_catalogue()).total)


def test_result_counts_group_by_model_batch_and_day(store: Store) -> None:
    store.write_batch(
        meta("b1"),
        [
            rows("b1", ["a", "b"]),
            rows("b1", ["c"], model="claude-opus-4-6"),
            rows("b1", ["d"], result_type="errored"),
        ],
    )
    store.write_batch(meta("b2"), [rows("b2", ["a"], result_type="canceled")])
    by_batch = store.result_counts("batch").set_index("batch")
    assert by_batch.loc[
        "b1", ["succeeded", "errored", "canceled", "expired", "requests"]
    ].tolist() == [3, 1, 0, 0, 4]
    by_model = store.result_counts("model")
    assert by_model["model"].tolist()[:2] == ["claude-haiku-5-5", "claude-opus-4-6"]
    assert by_model["model"].isna().iloc[-1]  # errored and canceled lines carry no model
    by_day = store.result_counts(["day", "result_type"])
    assert by_day["requests"].sum() == 5
    with pytest.raises(StoreError, match="cannot group by colour"):
        store.result_counts("colour")


def test_a_results_file_goes_into_the_store_by_sql(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "msgbatch_01Sql_results.jsonl"
    path.write_text(
        "\n".join(
            [
                succeeded_line(
                    "s-1",
                    "claude-sonnet-4-5-20250929",
                    usage_object(input_tokens=10, output_tokens=2),
                ),
                errored_line("e-1"),
                bare_line("c-1", "canceled"),
                bare_line("x-1", "expired"),
            ]
        )
        + "\n"
    )
    results = read_results(path, ended_at="2026-11-21T01:00:00+01:00")
    written = store.write_batch(results.batch_meta(), results)
    assert written.counts == {"succeeded": 1, "errored": 1, "canceled": 1, "expired": 1}
    assert results.validation.lines_read == 4
    batch = store.batches().iloc[0]
    assert batch["source"] == f"file:{path.resolve()}"  # the whole path: names can repeat
    assert str(batch["ended_at"]) == "2026-11-21 00:00:00"  # kept in UTC
    assert store.usage_frame()["date"].iloc[0] == pd.Timestamp("2026-11-21")


def test_keyed_reads_for_the_summary_layer(store: Store) -> None:
    for day, batch in ((18, "b1"), (20, "b2")):
        created = datetime(2026, 11, day, 8, 0)
        store.write_batch(
            meta(batch, created_at=created),
            [
                rows(batch, ["review-1", "review-2"], input_tokens=100 * day, created_at=created),
                rows(
                    batch, ["claims-1"], model="claude-opus-4-6", input_tokens=7, created_at=created
                ),
                rows(batch, ["claims-2"], result_type="errored", created_at=created),
            ],
        )
    job = JobRule(separator="-")  # review-1 -> review, claims-2 -> claims

    keyed = pd.concat(store.iter_usage_frames(jobs=job, chunk_rows=2), ignore_index=True)
    assert sorted(keyed["key"].astype(str)) == ["claims"] * 2 + ["review"] * 4

    counts = store.result_counts_by("job", job).set_index("key")
    assert counts.loc["claims", ["succeeded", "errored", "requests"]].tolist() == [2, 2, 4]
    assert store.result_counts_by("batch", since="2026-11-19")["key"].tolist() == ["b2"]
    by_model = store.result_counts_by("model").set_index("key")
    assert by_model.loc["claude-opus-4-6", "requests"] == 2

    assert store.usage_span() == (date(2026, 11, 18), date(2026, 11, 20), 2)
    assert store.usage_span(since="2026-11-19") == (date(2026, 11, 20), date(2026, 11, 20), 1)
    assert store.usage_span(since="2027-01-01") == (None, None, 0)

    stats = store.usage_statistics(job, job="review").set_index("workload")
    review = stats.loc["review"]
    assert (review["model"], review["requests"], review["inference_geo"]) == (
        "claude-haiku-5-5",
        4,
        "global",
    )
    assert review["input_mean"] == pytest.approx((2 * 1800 + 2 * 2000) / 4)
    assert review["input_p50"] == 1800 and review["input_p95"] == 2000
    assert review["output_mean"] == 100 and review["web_search_mean"] == 0
    assert sorted(store.usage_statistics(job)["workload"]) == ["claims", "review"]


def test_a_version_1_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with open_store(path) as store:
        store.note_unavailable("msgbatch_01Old", "results not found (404)")
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE unavailable_batches")
    con.execute("ALTER TABLE batches DROP COLUMN digest")  # as version 1 made it
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with open_store(path, read_only=True) as store:  # a reader upgrades it too
        assert store.schema_version == SCHEMA_VERSION
        assert store.unavailable() == set()
    with open_store(path) as store:
        store.note_unavailable("msgbatch_01Old", "results not found (404)")
        assert store.unavailable() == {"msgbatch_01Old"}


# -- never a silent replacement (issue 8, item 1) -----------------------------------------------
def write_file(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def lines_for(ids: list[str], *, input_tokens: int = 10) -> list[str]:
    return [
        succeeded_line(
            i, "claude-haiku-5-5", usage_object(input_tokens=input_tokens, output_tokens=5)
        )
        for i in ids
    ]


def import_file(store: Store, path: Path, **options: object) -> object:
    replace = bool(options.pop("replace", False))
    results = read_results(path, **options)  # type: ignore[arg-type]
    return store.write_batch(results.batch_meta(), results, replace=replace)


def test_different_requests_under_a_stored_id_are_refused_naming_both_sources(
    tmp_path: Path, store: Store
) -> None:
    first = write_file(tmp_path / "a" / "msgbatch_01Same_results.jsonl", lines_for(["x", "y"]))
    second = write_file(tmp_path / "b" / "msgbatch_01Same_results.jsonl", lines_for(["z"]))
    import_file(store, first)
    before = store.requests()

    with pytest.raises(IngestError) as refused:
        import_file(store, second)
    message = str(refused.value)
    assert str(first.resolve()) in message and str(second.resolve()) in message
    assert "--replace" in message and "nothing changed" in message
    pd.testing.assert_frame_equal(before, store.requests())

    replaced = import_file(store, second, replace=True)
    assert (replaced.rows, replaced.replaced_rows) == (1, 2)
    assert store.requests()["custom_id"].tolist() == ["z"]


def test_the_same_requests_again_change_nothing_but_another_day_is_refused(
    tmp_path: Path, store: Store
) -> None:
    path = write_file(tmp_path / "msgbatch_01Day.jsonl", lines_for(["x", "y"]))
    import_file(store, path, created_at="2026-11-20")
    stored = store.batches()

    again = import_file(store, path, created_at="2026-11-20")
    assert again.unchanged and again.rows == 2  # type: ignore[attr-defined]
    assert import_file(store, path).unchanged  # type: ignore[attr-defined]  # no date: keeps it
    pd.testing.assert_frame_equal(stored, store.batches())

    with pytest.raises(IngestError, match=r"another created_at 2026-11-25 .*stored: 2026-11-20"):
        import_file(store, path, created_at="2026-11-25")
    assert store.usage_span()[0] == date(2026, 11, 20)


def test_an_empty_results_file_is_refused_and_wipes_nothing(tmp_path: Path, store: Store) -> None:
    path = write_file(tmp_path / "msgbatch_01Empty.jsonl", lines_for(["x"]))
    import_file(store, path)
    path.write_text("")
    with pytest.raises(IngestError, match="no results lines"):
        import_file(store, path)
    with pytest.raises(IngestError, match="no results lines"):
        import_file(store, path, replace=True)
    assert store.requests()["custom_id"].tolist() == ["x"]
    with pytest.raises(IngestError, match="no results lines"):
        store.write_batch(meta("b9"), [])
    assert set(store.batches()["batch_id"]) == {"msgbatch_01Empty"}


def test_the_same_requests_under_another_id_are_not_counted_twice(
    tmp_path: Path, store: Store
) -> None:
    lines = lines_for(["x", "y", "z"])
    first = write_file(tmp_path / "msgbatch_01First.jsonl", lines)
    import_file(store, first)
    # The same lines in another order under another id: the same content.
    second = write_file(tmp_path / "saved.jsonl", lines[::-1])
    with pytest.raises(IngestError) as refused:
        import_file(store, second, batch_id="msgbatch_01Second")
    assert "the same requests as batch msgbatch_01First" in str(refused.value)
    assert str(first.resolve()) in str(refused.value)
    assert set(store.batches()["batch_id"]) == {"msgbatch_01First"}

    # Two batches the API lists under two ids are two batches, even with equal requests.
    store.write_batch(meta("api-1"), [rows("api-1", ["e"], result_type="expired")])
    store.write_batch(meta("api-2"), [rows("api-2", ["e"], result_type="expired")])
    assert {"api-1", "api-2"} <= set(store.batches()["batch_id"])


def test_a_pulled_batch_and_its_saved_file_have_one_digest(tmp_path: Path, store: Store) -> None:
    path = write_file(tmp_path / "msgbatch_01Twin.jsonl", lines_for(["a", "b"], input_tokens=7))
    fast = import_file(store, path)
    with open_store(tmp_path / "other.duckdb") as other:
        per_line = other.write_batch(
            {**meta("msgbatch_01Twin"), "created_at": datetime(2026, 1, 1)},
            read_results(path, per_line=True, created_at="2026-01-01"),
        )
    assert fast.digest == per_line.digest and fast.digest.startswith("sha256:")  # type: ignore[attr-defined]
    changed = write_file(tmp_path / "c" / "x.jsonl", lines_for(["a", "b"], input_tokens=8))
    with pytest.raises(IngestError, match="different requests"):
        import_file(store, changed, batch_id="msgbatch_01Twin")


def test_a_version_2_store_gets_a_digest_for_every_batch(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    with open_store(path) as store:
        written = store.write_batch(meta("b1"), [rows("b1", ["a", "b"])])
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE batches DROP COLUMN digest")
    con.execute("ALTER TABLE unavailable_batches DROP COLUMN batch_created_at")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    with open_store(path, read_only=True) as store:  # a reader upgrades it too
        assert store.schema_version == SCHEMA_VERSION
        assert store.batches()["digest"].tolist() == [written.digest]
    with open_store(path) as store:
        assert store.write_batch(meta("b1"), [rows("b1", ["a", "b"])]).unchanged


# -- store paths (item 7) and creation on the first write (item 5) ------------------------------
def test_a_sqlite_file_or_random_bytes_as_the_store_is_a_clear_error(tmp_path: Path) -> None:
    import sqlite3

    lite = tmp_path / "usage.sqlite"
    with sqlite3.connect(lite) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    noise = tmp_path / "noise.duckdb"
    noise.write_bytes(bytes(range(256)) * 64)
    for path, kind in ((lite, "SQLite"), (noise, "")):
        before = path.read_bytes()
        for read_only in (False, True):
            with pytest.raises(StoreError) as refused:
                open_store(path, read_only=read_only)
            message = str(refused.value)
            assert message.startswith(str(path)) and "not a costmodel usage store" in message
            assert kind in message and "xtension" not in message
        assert path.read_bytes() == before  # untouched


def test_duckdb_never_loads_an_extension_for_the_store(store: Store) -> None:
    settings = store.connection.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('autoinstall_known_extensions', 'autoload_known_extensions')"
    ).df()
    assert dict(zip(settings["name"], settings["value"], strict=True)) == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


def test_a_store_opened_to_write_later_is_created_only_by_a_write(tmp_path: Path) -> None:
    path = tmp_path / "new" / "usage.duckdb"
    with open_store(path, create=False) as store:
        assert not store.exists and store.batches().empty and store.unavailable() == set()
        with pytest.raises(IngestError):
            store.write_batch(meta("b1"), [rows("b1", ["a", "a"])])  # refused: repeated id
        assert not path.exists()
    assert not path.exists()
    with open_store(path, create=False) as store:
        store.write_batch(meta("b1"), [rows("b1", ["a"])])
        assert store.exists and path.exists()
    with open_store(path, read_only=True) as store:
        assert len(store.requests()) == 1
    empty = tmp_path / "empty.duckdb"
    empty.touch()  # what an older costmodel left after a failed pull
    with open_store(empty, create=False) as store:
        assert store.batches().empty
    assert not empty.exists()


def test_digests_from_another_duckdb_are_recomputed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "usage.duckdb"
    with open_store(path) as store:
        written = store.write_batch(meta("b1"), [rows("b1", ["a", "b"])])
    con = duckdb.connect(str(path))
    # As if an older DuckDB, whose hash() differed, had made the digests.
    con.execute("UPDATE batches SET digest = 'sha256:from-another-duckdb'")
    con.execute("UPDATE meta SET value = 'hash/duckdb 0.0.0' WHERE key = 'digest_function'")
    con.close()
    with open_store(path) as store:
        assert store.batches()["digest"].tolist() == [written.digest]
        assert store.write_batch(meta("b1"), [rows("b1", ["a", "b"])]).unchanged
        with pytest.raises(IngestError, match="not stored twice"):
            store.write_batch(meta("b2", source="file:/x.jsonl"), [rows("b2", ["a", "b"])])
