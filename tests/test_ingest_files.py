"""Saved results files -> request rows: the fast reader, the reference reader, refusals."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costmodel.adapters.ingest import REQUEST_COLUMNS
from costmodel.adapters.ingest.files import LineProblem, batch_id_for, parse_line, read_results
from costmodel.adapters.store import open_store
from costmodel.adapters.synthetic import (
    Expected,
    bare_line,
    errored_line,
    generate,
    succeeded_line,
    usage_object,
)
from costmodel.core.usage import COUNT_COLUMNS
from costmodel.errors import IngestError

MakeFile = Callable[..., tuple[Path, Expected]]
TOKENS = COUNT_COLUMNS


def rows_of(path: Path, **options: object) -> pd.DataFrame:
    chunks = list(read_results(path, **options))  # type: ignore[arg-type]
    return (
        pd.concat(chunks, ignore_index=True)
        if chunks
        else pd.DataFrame(columns=list(REQUEST_COLUMNS))
    )


def write_lines(path: Path, lines: list[str], *, final_newline: bool = True) -> Path:
    # surrogatepass: a lone surrogate from hypothesis becomes bytes that are not valid UTF-8,
    # which is one more kind of corrupt line to read.
    text = "\n".join(lines) + ("\n" if final_newline else "")
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    return path


# -- good files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("per_line", [False, True], ids=["fast", "reference"])
def test_a_generated_file_reads_back_every_count(results_file: MakeFile, per_line: bool) -> None:
    path, expected = results_file(500, seed=7)
    rows = rows_of(path, per_line=per_line)

    assert list(rows.columns) == list(REQUEST_COLUMNS)
    assert len(rows) == expected.lines == 500
    assert rows["result_type"].value_counts().to_dict() == dict(expected.result_types)
    assert set(rows["custom_id"]) == set(expected.custom_ids)
    assert (rows["batch_id"] == "msgbatch_01TestBatch").all()
    succeeded = rows[rows["result_type"] == "succeeded"]
    for name in TOKENS:
        assert int(succeeded[name].sum()) == expected.tokens(name), name
    by_model = succeeded.groupby("model")["input_tokens"].sum().to_dict()
    assert by_model == {m: c["input_tokens"] for m, c in expected.tokens_by_model.items()}


def test_fast_and_reference_readers_give_the_same_rows(results_file: MakeFile) -> None:
    path, _ = results_file(300, seed=3)
    fast = rows_of(path, created_at="2026-11-20T09:30:00Z")
    reference = rows_of(path, created_at="2026-11-20T09:30:00Z", per_line=True)
    pd.testing.assert_frame_equal(fast, reference)
    assert str(fast["batch_created_at"].iloc[0]) == "2026-11-20 09:30:00"
    assert fast["batch_ended_at"].isna().all()


def test_non_succeeded_lines_are_kept_with_zero_tokens(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "msgbatch_01R.jsonl",
        [
            errored_line("e-1", "overloaded_error"),
            bare_line("c-1", "canceled"),
            bare_line("x-1", "expired"),
        ],
    )
    rows = rows_of(path).set_index("custom_id")
    assert rows.loc["e-1", "error_type"] == "overloaded_error"
    assert rows["result_type"].to_dict() == {"e-1": "errored", "c-1": "canceled", "x-1": "expired"}
    assert rows["model"].isna().all()
    for name in TOKENS:
        assert (rows[name] == 0).all()


@pytest.mark.parametrize("per_line", [False, True], ids=["fast", "reference"])
def test_writes_without_a_ttl_breakdown_count_as_5_minute_writes(
    tmp_path: Path, per_line: bool
) -> None:
    legacy = usage_object(
        input_tokens=10, output_tokens=5, cache_write_5m=700, cache_read=30, legacy=True
    )
    current = usage_object(input_tokens=10, output_tokens=5, cache_write_5m=40, cache_write_1h=60)
    path = write_lines(
        tmp_path / "msgbatch_01R.jsonl",
        [
            succeeded_line("old", "claude-3-5-sonnet-20241022", legacy),
            succeeded_line("new", "claude-opus-4-6", current),
        ],
    )
    rows = rows_of(path, per_line=per_line).set_index("custom_id")
    assert rows.loc[
        "old", ["cache_creation_input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"]
    ].tolist() == [700, 700, 0]
    assert rows.loc[
        "new", ["cache_creation_input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"]
    ].tolist() == [100, 40, 60]
    assert rows.loc["new", "service_tier"] == "batch"
    assert pd.isna(rows.loc["old", "service_tier"])


def test_chunks_are_bounded(results_file: MakeFile) -> None:
    path, _ = results_file(1000)
    sizes = [len(chunk) for chunk in read_results(path, chunk_rows=128)]
    assert max(sizes) <= 128
    assert sum(sizes) == 1000


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "msgbatch_01R.jsonl",
        [bare_line("a", "expired"), "", "   ", bare_line("b", "canceled")],
    )
    results = read_results(path)
    assert len(rows_of(path)) == 2
    list(results)
    assert results.validation.lines_read == 2


def test_batch_id_comes_from_the_argument_else_a_msgbatch_file_name() -> None:
    assert batch_id_for("msgbatch_01abc_results.jsonl") == "msgbatch_01abc"
    assert (
        batch_id_for("/x/msgbatch_01Q7fVt3MzLbR2cX9wE4nKpA.jsonl")
        == "msgbatch_01Q7fVt3MzLbR2cX9wE4nKpA"
    )
    # Any other name is no batch id (two downloads named results.jsonl would be one batch).
    with pytest.raises(IngestError, match="give the batch's id with --batch-id"):
        batch_id_for("eval-run.results.jsonl")


def test_an_explicit_batch_id_wins(results_file: MakeFile) -> None:
    path, _ = results_file(10)
    assert set(rows_of(path, batch_id="mine")["batch_id"]) == {"mine"}
    assert read_results(path).batch_id == "msgbatch_01TestBatch"


def test_a_missing_file_is_an_ingest_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        read_results(tmp_path / "nope.jsonl")


# -- refusals -------------------------------------------------------------------------------------
GOOD = [
    succeeded_line(
        f"req-{i}", "claude-haiku-5-5", usage_object(input_tokens=100 + i, output_tokens=9)
    )
    for i in range(8)
]
NEGATIVE = succeeded_line("neg", "claude-haiku-5-5", usage_object(input_tokens=-5, output_tokens=9))
NO_USAGE = json.dumps(
    {
        "custom_id": "nu",
        "result": {"type": "succeeded", "message": {"model": "claude-haiku-5-5", "content": []}},
    }
)
NO_ID = json.dumps({"result": {"type": "canceled"}})
UNKNOWN = json.dumps({"custom_id": "u", "result": {"type": "vanished"}})
MALFORMED = {
    # name: (lines, bad line number, reason)
    "not json": ([*GOOD[:3], "this is not json", *GOOD[3:]], 4, "not valid JSON"),
    "truncated last line": (
        [*GOOD, GOOD[0][:57].replace("req-0", "req-X")],
        9,
        "truncated last line",
    ),
    "succeeded without usage": (
        [*GOOD[:5], NO_USAGE, *GOOD[5:]],
        6,
        "succeeded line without usage",
    ),
    "missing custom_id": ([NO_ID, *GOOD], 1, "missing custom_id"),
    "unknown result type": ([*GOOD, UNKNOWN], 9, "unknown result type"),
    "duplicate custom_id": ([*GOOD, GOOD[2]], 9, "duplicate custom_id 'req-2' (first on line 3)"),
    "negative token count": ([*GOOD[:2], NEGATIVE, *GOOD[2:]], 3, "negative token count"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_is_refused_whole_naming_the_line(
    tmp_path: Path, store, case: str
) -> None:
    lines, bad_line, reason = MALFORMED[case]
    truncated = case == "truncated last line"
    path = write_lines(
        tmp_path / "msgbatch_01Bad_results.jsonl", lines, final_newline=not truncated
    )

    results = read_results(path)
    with pytest.raises(IngestError) as refused:
        store.write_batch(results.batch_meta(), results)
    message = str(refused.value)
    assert message.startswith(str(path))
    assert f"line {bad_line}: {reason}" in message
    assert "nothing imported" in message and "--skip-invalid" in message
    assert store.batches().empty
    assert store.connection.execute("SELECT count(*) AS n FROM requests").df()["n"][0] == 0

    # Iterating on its own refuses the file too (the reference reader's verdict).
    with pytest.raises(IngestError, match=f"line {bad_line}"):
        list(read_results(path))
    with pytest.raises(IngestError, match=f"line {bad_line}"):
        list(read_results(path, per_line=True))


def test_a_refused_reimport_leaves_the_stored_batch_as_it_was(tmp_path: Path, store) -> None:
    path = write_lines(tmp_path / "msgbatch_01Again.jsonl", GOOD)
    results = read_results(path)
    store.write_batch(results.batch_meta(), results)
    before = store.requests().sort_values("custom_id", ignore_index=True)

    write_lines(path, [*GOOD[:4], "{oops", *GOOD[4:]])
    results = read_results(path)
    with pytest.raises(IngestError, match="line 5: not valid JSON"):
        store.write_batch(results.batch_meta(), results)
    after = store.requests().sort_values("custom_id", ignore_index=True)
    pd.testing.assert_frame_equal(before, after)


def test_many_bad_lines_are_counted_and_the_first_few_listed(tmp_path: Path) -> None:
    lines = [*GOOD] + [f"junk {i}" for i in range(12)]
    path = write_lines(tmp_path / "msgbatch_01R.jsonl", lines)
    with pytest.raises(IngestError) as refused:
        list(read_results(path))
    message = str(refused.value)
    assert "12 invalid lines of 20" in message
    assert "line 9: not valid JSON; line 10:" in message
    assert "and 7 more" in message


def test_skip_invalid_imports_the_valid_lines_and_reports_the_rest(tmp_path: Path, store) -> None:
    lines = [NO_ID, *GOOD[:4], "not json", NEGATIVE, GOOD[1], *GOOD[4:], UNKNOWN]
    path = write_lines(tmp_path / "msgbatch_01Skip.jsonl", lines)

    results = read_results(path, skip_invalid=True)
    validation = results.validation
    assert validation.complete
    assert (validation.lines_read, validation.rejected_count, validation.accepted) == (13, 5, 8)
    assert [(r.line, r.reason.split(" (")[0]) for r in validation.rejected] == [
        (1, "missing custom_id"),
        (6, "not valid JSON"),
        (7, "negative token count in usage.input_tokens"),
        (8, "duplicate custom_id 'req-1'"),
        (13, "unknown result type 'vanished'"),
    ]
    written = store.write_batch(results.batch_meta(), results)
    assert written.rows == 8 and not written.complete
    stored = store.batches().iloc[0]
    assert stored["rejected_lines"] == 5 and not stored["complete"]
    assert sorted(store.requests()["custom_id"]) == sorted(f"req-{i}" for i in range(8))
    assert not store.has_complete_batch("msgbatch_01Skip")


def test_skip_invalid_on_a_clean_file_takes_the_fast_path(results_file: MakeFile, store) -> None:
    path, _ = results_file(300)
    results = read_results(path, skip_invalid=True)
    assert results.validation.lines_read == 300 and results.validation.rejected_count == 0
    assert results.select_sql() is not None
    assert store.write_batch(results.batch_meta(), results).rows == 300
    assert store.has_complete_batch("msgbatch_01TestBatch")


def test_a_line_the_fast_reader_refuses_but_json_allows_is_read(tmp_path: Path, store) -> None:
    # A key repeated within an object: DuckDB refuses it, json (and the SDK) take the last one.
    repeated_key = '{"custom_id": "dup-key", "custom_id": "dup-key", "result": {"type": "expired"}}'
    path = write_lines(tmp_path / "msgbatch_01Odd.jsonl", [*GOOD, repeated_key])
    assert len(rows_of(path)) == 9
    results = read_results(path)
    assert store.write_batch(results.batch_meta(), results).rows == 9


# -- properties -----------------------------------------------------------------------------------
COUNT = st.integers(min_value=0, max_value=10**9)
USAGE = st.fixed_dictionaries(
    {
        "input_tokens": COUNT,
        "output_tokens": COUNT,
        "cache_write_5m": COUNT,
        "cache_write_1h": COUNT,
        "cache_read": COUNT,
        "web_search": st.integers(0, 50),
        "legacy": st.booleans(),
    }
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_parse_line_returns_a_row_or_a_line_problem(raw: str | bytes) -> None:
    try:
        row = parse_line(raw)
    except LineProblem as problem:
        assert problem.reason
    else:
        assert len(row) == 15 and isinstance(row[0], str)


@PROPERTY
@given(st.lists(USAGE, min_size=1, max_size=30))
def test_valid_lines_round_trip_their_token_counts(usages: list[dict]) -> None:
    lines = []
    for i, u in enumerate(usages):
        if u["legacy"]:
            u = {**u, "cache_write_1h": 0, "web_search": 0}
        usage = usage_object(
            input_tokens=u["input_tokens"],
            output_tokens=u["output_tokens"],
            cache_write_5m=u["cache_write_5m"],
            cache_write_1h=u["cache_write_1h"],
            cache_read=u["cache_read"],
            web_search=u["web_search"],
            legacy=u["legacy"],
        )
        lines.append((succeeded_line(f"r-{i}", "claude-opus-4-6", usage), u))
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder) / "msgbatch_01R.jsonl", [line for line, _ in lines])
        for per_line in (False, True):
            rows = rows_of(path, per_line=per_line).set_index("custom_id")
            for i, (_, u) in enumerate(lines):
                got = rows.loc[f"r-{i}"]
                assert got["input_tokens"] == u["input_tokens"]
                assert got["output_tokens"] == u["output_tokens"]
                assert got["cache_write_5m_tokens"] == u["cache_write_5m"]
                assert got["cache_write_1h_tokens"] == u["cache_write_1h"]
                assert got["cache_read_tokens"] == u["cache_read"]
                assert got["web_search_requests"] == u["web_search"]


BASE_LINES = list(generate(8, seed=11, errored=0.2, expired=0.1, canceled=0.1))
LINE_TEXT = st.text(st.characters(blacklist_characters="\n"), max_size=120)
MUTATION = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 7), LINE_TEXT),
    st.tuples(st.just("truncate"), st.integers(0, 7), st.integers(0, 400)),
    st.tuples(st.just("insert"), st.integers(0, 8), LINE_TEXT),
    st.tuples(st.just("repeat"), st.integers(0, 7), st.integers(0, 8)),
    st.tuples(
        st.just("splice"),
        st.integers(0, 7),
        st.sampled_from(
            [
                '"input_tokens":-1',
                '"type":"gone"',
                '"custom_id":""',
                '"usage":null',
                "\x00",
                '"model":5',
                '"input_tokens":"12"',
                '"input_tokens":1e30',
                '"input_tokens":2.5',
            ]
        ),
    ),
)


def mutate(lines: list[str], mutations: list[tuple]) -> list[str]:
    out = list(lines)
    for kind, index, arg in mutations:
        index = min(index, len(out) - 1) if out else 0
        if kind == "replace" and out:
            out[index] = arg
        elif kind == "truncate" and out:
            out[index] = out[index][:arg]
        elif kind == "insert":
            out.insert(index, arg)
        elif kind == "repeat" and out:
            out.insert(min(arg, len(out)), out[index])
        elif kind == "splice" and out:
            key = arg.split(":")[0]
            at = out[index].find(key)
            if at >= 0:
                end = out[index].find(",", at)
                out[index] = (
                    out[index][:at] + arg + out[index][end if end >= 0 else len(out[index]) :]
                )
    return out


@PROPERTY
@given(st.lists(MUTATION, min_size=1, max_size=4), st.booleans())
def test_corrupted_files_give_rows_or_an_ingest_error_only(
    mutations: list[tuple], final_newline: bool
) -> None:
    lines = mutate(BASE_LINES, mutations)
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder) / "msgbatch_01R.jsonl", lines, final_newline=final_newline)
        rows: pd.DataFrame | None
        try:
            rows = rows_of(path)
        except IngestError as refused:
            assert str(path) in str(refused) and "line" in str(refused)
            rows = None
        else:
            assert rows["custom_id"].is_unique
            assert (rows[list(TOKENS)] >= 0).all().all()

        skipping = read_results(path, skip_invalid=True)
        kept = sum(len(chunk) for chunk in skipping)
        v = skipping.validation
        assert v.complete and kept == v.accepted == v.lines_read - v.rejected_count
        assert len(v.rejected) == min(v.rejected_count, 10)

        # Through the store's SQL path: stored whole, or refused with nothing stored.
        with open_store(Path(folder) / "usage.duckdb") as store:
            results = read_results(path)
            try:
                written = store.write_batch(results.batch_meta(), results)
            except IngestError:
                assert store.batches().empty
            else:
                assert rows is not None and written.rows == len(rows)


def test_a_file_name_with_glob_characters_is_read_as_itself(tmp_path: Path) -> None:
    write_lines(tmp_path / "msgbatch_01Globa.jsonl", [bare_line("other", "expired")])
    path = write_lines(tmp_path / "msgbatch_01Glob[a].jsonl", GOOD)
    assert sorted(rows_of(path)["custom_id"]) == sorted(f"req-{i}" for i in range(8))


def test_the_docstring_examples_hold() -> None:
    import doctest

    import costmodel.adapters.ingest.files

    assert doctest.testmod(costmodel.adapters.ingest.files).failed == 0


# -- strict types, one verdict from both readers (issue 8, item 2) -------------------------------
def typed_line(custom_id: object, model: object, counts: dict[str, object]) -> str:
    usage = {"input_tokens": 10, "output_tokens": 2, **counts}
    return json.dumps(
        {
            "custom_id": custom_id,
            "result": {
                "type": "succeeded",
                "message": {"model": model, "usage": usage, "content": []},
            },
        }
    )


COERCED = {
    "a fractional count": (typed_line("c", "claude-haiku-5-5", {"input_tokens": 1.5}), "1.5"),
    "a whole float": (typed_line("c", "claude-haiku-5-5", {"output_tokens": 12.0}), "12.0"),
    "a boolean count": (typed_line("c", "claude-haiku-5-5", {"input_tokens": True}), "true"),
    "a count as text": (
        typed_line("c", "claude-haiku-5-5", {"cache_read_input_tokens": "2000"}),
        "'2000'",
    ),
    "a nested count as text": (
        typed_line(
            "c",
            "claude-haiku-5-5",
            {"cache_creation": {"ephemeral_1h_input_tokens": "5", "ephemeral_5m_input_tokens": 0}},
        ),
        "'5'",
    ),
    "a count too large": (
        typed_line("c", "claude-haiku-5-5", {"input_tokens": 2**63}),
        "too large",
    ),
    "a numeric custom_id": (
        typed_line(12345, "claude-haiku-5-5", {}),
        "custom_id: expected a string",
    ),
    "a numeric model": (typed_line("c", 4.5, {}), "message.model: expected a string"),
}


@pytest.mark.parametrize("case", list(COERCED))
def test_a_coerced_value_is_refused_naming_the_line_whatever_else_the_file_holds(
    tmp_path: Path, store, case: str
) -> None:
    bad, detail = COERCED[case]
    path = write_lines(tmp_path / "msgbatch_01Strict.jsonl", [*GOOD[:3], bad, *GOOD[3:]])
    for per_line in (False, True):
        with pytest.raises(IngestError) as refused:
            list(read_results(path, per_line=per_line))
        assert "line 4:" in str(refused.value) and detail in str(refused.value)
    results = read_results(path)
    with pytest.raises(IngestError, match="line 4:"):
        store.write_batch(results.batch_meta(), results)  # the store's SQL path
    assert store.batches().empty


# Every kind of JSON value a count, a custom id or a model might hold.
ANY_JSON_VALUE = st.one_of(
    st.integers(min_value=-5, max_value=10**6),
    st.integers(min_value=2**62, max_value=2**66),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e20, max_value=1e20),
    st.booleans(),
    st.none(),
    st.text(alphabet="0123456789.-ex", max_size=5),
    st.sampled_from(["claude-haiku-5-5", "", 'a"b', "\\u00e9"]),
    st.just([1]),
    st.just({"n": 1}),
)
COUNT_KEYS = st.sampled_from(
    ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"]
)
TYPED_LINE = st.one_of(
    st.builds(
        lambda key, value: typed_line("?", "claude-haiku-5-5", {key: value}),
        COUNT_KEYS,
        ANY_JSON_VALUE,
    ),
    st.builds(lambda value: typed_line(value, "claude-haiku-5-5", {}), ANY_JSON_VALUE),
    st.builds(lambda value: typed_line("?", value, {}), ANY_JSON_VALUE),
    st.builds(
        lambda value: typed_line(
            "?",
            "claude-haiku-5-5",
            {"server_tool_use": {"web_search_requests": value}, "service_tier": value},
        ),
        ANY_JSON_VALUE,
    ),
)


def numbered(lines: list[str]) -> list[str]:
    """Give the lines whose custom id is "?" unique ids, so only the values under test vary."""
    return [
        line.replace('"custom_id": "?"', f'"custom_id": "id-{n}"') for n, line in enumerate(lines)
    ]


def verdict(path: Path, *, per_line: bool) -> tuple[object, ...]:
    try:
        strict = sorted(map(tuple, rows_of(path, per_line=per_line).astype(str).values.tolist()))
    except IngestError as refused:
        strict = ["refused", str(refused)]
    skipping = read_results(path, skip_invalid=True, per_line=per_line)
    kept = [frame for frame in skipping]
    accepted = sorted(map(tuple, pd.concat(kept).astype(str).values.tolist()) if kept else [])
    v = skipping.validation
    return strict, accepted, [(r.line, r.reason) for r in v.rejected], v.rejected_count


@PROPERTY
@given(st.lists(TYPED_LINE, min_size=1, max_size=6))
def test_the_fast_and_per_line_readers_give_one_verdict(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder) / "msgbatch_01Verdict.jsonl", [*GOOD[:2], *numbered(lines)])
        fast = verdict(path, per_line=False)
        reference = verdict(path, per_line=True)
        assert fast == reference
        # And the store's SQL path agrees: everything stored, or nothing.
        with open_store(Path(folder) / "usage.duckdb") as store:
            results = read_results(path)
            try:
                written = store.write_batch(results.batch_meta(), results)
            except IngestError:
                assert fast[0][0] == "refused" and store.batches().empty
            else:
                assert fast[0][:1] != ["refused"] and written.rows == len(fast[0])
