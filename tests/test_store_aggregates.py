"""Summaries priced from aggregates the store sums, against the row-by-row reference path.

``Store.usage_aggregates`` groups the stored requests by everything a price depends on (model,
price band, the per-request long-context flag, geo, speed, result type) and the user's
grouping; ``usage_summary`` and ``daily_costs`` price those few rows exactly. The reference,
``usage_summary_rows`` / ``daily_costs_rows``, prices every request. They must agree to the
cent on every store, which hypothesis generates here: long-context crossings, fast mode, US
inference, several price entries, errored/expired/canceled rows, unknown models and models
used before their first price.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.store import Store, open_store
from costmodel.core.jobs import JobRule
from costmodel.core.measured import (
    BY,
    daily_costs,
    daily_costs_rows,
    price_bands,
    usage_summary,
    usage_summary_rows,
)
from costmodel.core.usage_rows import REQUEST_COLUMNS, PriceBand
from costmodel.errors import CostModelError, StoreError

CATALOGUE = bundled_catalogue()
# Days chosen around the catalogue's price entries: Opus 4.6 with its long-context tier and
# fast mode at 6x (2026-02-10), fast mode waiving that tier (2026-02-25), neither (2026-03-20);
# Sonnet 4.5 before its first price (2025-09-01), in its long-context era (2025-10-15) and
# after the tier ended (2026-11-20: prompts over 200K refused).
DAYS = (
    date(2025, 9, 1),
    date(2025, 10, 15),
    date(2026, 2, 10),
    date(2026, 2, 25),
    date(2026, 3, 20),
    date(2026, 11, 20),
)
MODELS = (
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",  # a snapshot id of the same model
    "claude-opus-4-6",
    "claude-haiku-5-5",  # long-context tier at 100K, US inference, a third-party rate
    "claude-fable-5-2",  # fast mode, third-party rates
    "claude-haiku-4-5",
    "acme-private-model",  # unknown: counted, shown unpriced, never $0
)
US_MODELS = {"claude-opus-4-6", "claude-haiku-5-5", "claude-fable-5-2"}
FAST_MODELS = {"claude-opus-4-6", "claude-fable-5-2"}


def row(
    batch: str,
    custom_id: str,
    created: date,
    *,
    result_type: str = "succeeded",
    model: str | None = "claude-haiku-4-5",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_5m: int = 0,
    cache_1h: int = 0,
    cache_read: int = 0,
    web_search: int = 0,
    geo: str | None = None,
    speed: str | None = None,
) -> dict[str, Any]:
    succeeded = result_type == "succeeded"
    return {
        "batch_id": batch,
        "custom_id": custom_id,
        "result_type": result_type,
        "error_type": "api_error" if result_type == "errored" else None,
        "model": model if succeeded else None,
        "input_tokens": input_tokens if succeeded else 0,
        "output_tokens": output_tokens if succeeded else 0,
        "cache_creation_input_tokens": (cache_5m + cache_1h) if succeeded else 0,
        "cache_write_5m_tokens": cache_5m if succeeded else 0,
        "cache_write_1h_tokens": cache_1h if succeeded else 0,
        "cache_read_tokens": cache_read if succeeded else 0,
        "web_search_requests": web_search if succeeded else 0,
        "web_fetch_requests": 0,
        "service_tier": "batch" if succeeded else None,
        "inference_geo": geo if succeeded else None,
        "speed": speed if succeeded else None,
        "batch_created_at": datetime(created.year, created.month, created.day, 10),
        "batch_ended_at": None,
    }


def fill(path: Path, rows: Sequence[dict[str, Any]]) -> Store:
    """A real store file holding ``rows``, one write per batch (as a pull writes them)."""
    store = open_store(path)
    frame = pd.DataFrame(list(rows), columns=list(REQUEST_COLUMNS))
    for column, kind in REQUEST_COLUMNS.items():
        if kind == "BIGINT":
            frame[column] = frame[column].astype("int64")
        elif kind == "TIMESTAMP":
            frame[column] = pd.to_datetime(frame[column])
    for batch, part in frame.groupby("batch_id", sort=True):
        first = part["batch_created_at"].iloc[0]
        store.write_batch(
            {"batch_id": batch, "source": "api", "created_at": first.to_pydatetime()},
            [part.reset_index(drop=True)],
        )
    return store


# -- the named store method ------------------------------------------------------------------------
def test_usage_aggregates_sums_per_price_key_and_flags_long_context_per_request(
    tmp_path: Path,
) -> None:
    day = date(2025, 10, 15)
    rows = [
        # 200,000 prompt tokens: not over the threshold; 200,001: over (each its own request)
        row("b1", "job-1", day, model="claude-sonnet-4-5", input_tokens=200_000, output_tokens=5),
        row("b1", "job-2", day, model="claude-sonnet-4-5", input_tokens=150_000, cache_read=50_001),
        row("b1", "job-3", day, model="claude-sonnet-4-5", input_tokens=100, output_tokens=7),
        row("b1", "job-4", day, result_type="errored"),
        row("b1", "job-5", day, model="acme-private-model", input_tokens=9),
    ]
    with fill(tmp_path / "usage.duckdb", rows) as store:
        bands = price_bands(CATALOGUE, store.succeeded_models())
        assert bands == [
            PriceBand(0, "claude-sonnet-4-5", date(2025, 9, 29), date(2026, 4, 30), 200_000),
            PriceBand(1, "claude-sonnet-4-5", date(2026, 4, 30), None, None),
        ]
        agg = store.usage_aggregates(("job",), bands=bands)
    got = agg[["job", "result_type", "model", "band", "long_context", "requests"]]
    got = got.astype(object).where(got.notna(), None)
    assert got.to_dict(orient="records") == [
        {"job": "job", "result_type": "errored", "model": None, "band": None,
         "long_context": False, "requests": 1},
        {"job": "job", "result_type": "succeeded", "model": "acme-private-model", "band": None,
         "long_context": False, "requests": 1},
        {"job": "job", "result_type": "succeeded", "model": "claude-sonnet-4-5", "band": 0,
         "long_context": False, "requests": 2},
        {"job": "job", "result_type": "succeeded", "model": "claude-sonnet-4-5", "band": 0,
         "long_context": True, "requests": 1},
    ]  # fmt: skip
    # Integer sums, and the longest single prompt of each group (not the sum of prompts).
    short = agg[(agg["band"] == 0) & ~agg["long_context"]].iloc[0]
    assert (int(short["input_tokens"]), int(short["output_tokens"])) == (200_100, 12)
    assert int(short["longest_prompt"]) == 200_000
    assert str(agg["input_tokens"].dtype) == "int64"


def test_usage_aggregates_refuses_an_unknown_grouping(tmp_path: Path) -> None:
    with (
        fill(tmp_path / "usage.duckdb", [row("b1", "a-1", date(2026, 3, 20))]) as store,
        pytest.raises(StoreError, match="cannot group by custom_id; choose from batch, job, day"),
    ):
        store.usage_aggregates(("custom_id",))


def test_long_context_crossing_is_priced_per_request_not_per_sum(tmp_path: Path) -> None:
    """Two requests of 150K prompt tokens each sum to 300K: neither is long-context."""
    day = date(2025, 10, 15)
    rows = [
        row("b1", "a-1", day, model="claude-sonnet-4-5", input_tokens=150_000),
        row("b1", "a-2", day, model="claude-sonnet-4-5", input_tokens=150_000),
        # one request over 200K: every token at the long-context rates (6 / 22.50), batch half
        row(
            "b1", "a-3", day, model="claude-sonnet-4-5", input_tokens=250_000, output_tokens=10_000
        ),
        row("b1", "a-4", day, result_type="expired"),
        row("b1", "a-5", day, result_type="canceled"),
    ]
    with fill(tmp_path / "usage.duckdb", rows) as store:
        summary = usage_summary(store, by="batch", catalogue=CATALOGUE)
    data = summary.to_dict()
    # 300,000 x 3 / 2 = $0.45; 250,000 x 6 / 2 = $0.75 + 10,000 x 22.50 / 2 = $0.1125
    assert data["totals"]["cost_billed"] == 1.31
    assert data["totals"]["cost_if_sync"] == 2.63  # 0.90 + 1.50 + 0.225 = 2.625, half up
    assert data["rows"] == [
        {
            "key": "b1", "succeeded": 3, "errored": 0, "canceled": 1,
            "expired": 1, "input_tokens": 550_000, "output_tokens": 10_000,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0,
            "web_search_requests": 0, "cost_billed": 1.31, "cost_if_sync": 2.63,
            "savings": 1.32, "priced": True,
        }
    ]  # fmt: skip
    assert any("1 request with a prompt over 200,000 tokens" in note for note in data["notes"])
    assert summary.exact["cost_billed"]["b1"] == Decimal("1.3125")


def test_unpriced_models_are_shown_unpriced_never_zero(tmp_path: Path) -> None:
    rows = [
        row("b1", "a-1", date(2026, 3, 20), model="acme-private-model", input_tokens=1_000),
        row("b2", "b-1", date(2025, 9, 1), model="claude-sonnet-4-5", input_tokens=1_000),
        row("b3", "c-1", date(2026, 3, 20), model="claude-haiku-4-5", input_tokens=1_000_000),
    ]
    with fill(tmp_path / "usage.duckdb", rows) as store:
        data = usage_summary(store, by="model", catalogue=CATALOGUE).to_dict()
    shown = {r["key"]: (r["cost_billed"], r["priced"]) for r in data["rows"]}
    assert shown == {
        "claude-haiku-4-5": (0.5, True),
        "acme-private-model": (None, False),
        "claude-sonnet-4-5": (None, False),
    }
    assert data["totals"]["cost_billed"] == 0.5
    unpriced = [note for note in data["notes"] if note.startswith("Unpriced")]
    # Only the batch that used it, never "(0 requests)" for the other batches (the row path
    # listed every batch of the chunk before).
    assert unpriced == [
        "Unpriced, not in the totals: acme-private-model (1 requests): unknown to the "
        "catalogue or without a published price.",
        "Unpriced, not in the totals: claude-sonnet-4-5 in batch b2 (1 requests): used before "
        "the model's first price in the catalogue.",
    ]


def test_row_path_names_only_the_batches_that_used_a_model_too_early(tmp_path: Path) -> None:
    rows = [
        row("b1", "a-1", date(2026, 3, 20), model="claude-haiku-4-5", input_tokens=10),
        row("b2", "b-1", date(2025, 9, 1), model="claude-sonnet-4-5", input_tokens=1_000),
    ]
    with fill(tmp_path / "usage.duckdb", rows) as store:
        notes = usage_summary_rows(store, by="model", catalogue=CATALOGUE).notes
    assert [n for n in notes if "first price" in n] == [
        "Unpriced, not in the totals: claude-sonnet-4-5 in batch b2 (1 requests): used before "
        "the model's first price in the catalogue."
    ]


# -- aggregate == row path, on generated stores --------------------------------------------------
@st.composite
def generated_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=40))
    tokens = st.one_of(
        st.integers(0, 3_000),
        st.sampled_from([0, 99_999, 100_000, 100_001, 199_999, 200_000, 200_001]),
        st.integers(0, 260_000),
    )
    small = st.one_of(st.just(0), st.integers(0, 60_000))
    rows = []
    for index in range(count):
        batch = draw(st.sampled_from(["b1", "b2", "b3", "b4"]))
        kind = draw(st.sampled_from(["succeeded"] * 6 + ["errored", "expired", "canceled"]))
        model = draw(st.sampled_from(MODELS))
        geo = draw(st.sampled_from([None, "global", "us"] if model in US_MODELS else [None]))
        speed = draw(
            st.sampled_from([None, "standard", "fast"] if model in FAST_MODELS else [None])
        )
        job = draw(st.sampled_from(["claims", "review-eu", "x"]))
        rows.append(
            {
                "batch": batch,
                "custom_id": f"{job}-{index}",
                "result_type": kind,
                "model": model,
                "input_tokens": draw(tokens),
                "output_tokens": draw(st.integers(0, 20_000)),
                "cache_5m": draw(small),
                "cache_1h": draw(small),
                "cache_read": draw(small),
                "web_search": draw(st.sampled_from([0, 0, 0, 1, 3])),
                "geo": geo,
                "speed": speed,
            }
        )
    # one usage day per batch (the store dates usage by its batch)
    days = {b: draw(st.sampled_from(DAYS)) for b in ("b1", "b2", "b3", "b4")}
    return [
        row(
            r["batch"],
            r["custom_id"],
            days[r["batch"]],
            result_type=r["result_type"],
            model=r["model"],
            input_tokens=r["input_tokens"],
            output_tokens=r["output_tokens"],
            cache_5m=r["cache_5m"],
            cache_1h=r["cache_1h"],
            cache_read=r["cache_read"],
            web_search=r["web_search"],
            geo=r["geo"],
            speed=r["speed"],
        )
        for r in rows
    ]


def _both(run: Any) -> tuple[Any, Any]:
    """Run one summary both ways: the same figures, or the same kind of refusal."""
    try:
        reference = run(rows=True)
    except CostModelError as exc:
        with pytest.raises(type(exc)):
            run(rows=False)
        return None, None
    return reference, run(rows=False)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=generated_rows(), since=st.sampled_from([None, date(2026, 1, 1)]))
def test_aggregate_path_equals_row_path(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]], since: date | None
) -> None:
    path = tmp_path_factory.mktemp("agg") / "usage.duckdb"
    jobs = JobRule(separator="-", patterns=(("review-*", "reviews"),))
    with fill(path, rows) as store:
        for by in BY:

            def summary(*, rows: bool, by: str = by) -> dict[str, Any]:
                run = usage_summary_rows if rows else usage_summary
                return run(store, by=by, since=since, jobs=jobs, catalogue=CATALOGUE).to_dict()

            reference, aggregate = _both(summary)
            assert aggregate == reference, by
        for by in ("model", "job"):

            def daily(*, rows: bool, by: str = by) -> pd.DataFrame:
                run = daily_costs_rows if rows else daily_costs
                return run(store, by=by, since=since, jobs=jobs, catalogue=CATALOGUE)

            reference, aggregate = _both(daily)
            if reference is None:
                continue
            assert list(aggregate[["day", "key"]].itertuples(index=False)) == list(
                reference[["day", "key"]].itertuples(index=False)
            )
            for column in ("cost_billed", "cost_if_sync"):
                # floats of the exact sums against sums of per-request floats
                assert aggregate[column].tolist() == pytest.approx(
                    reference[column].tolist(), abs=1e-9
                )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ids=st.lists(
        st.text(alphabet="ab-_%*?\\x", min_size=1, max_size=8), min_size=1, max_size=8, unique=True
    ),
    separator=st.sampled_from(["-", "_", "", "ab"]),
    glob=st.sampled_from(["a*", "?b*", "x_%*", "*\\\\*"]),
)
def test_the_store_groups_jobs_as_the_rule_says(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str], separator: str, glob: str
) -> None:
    """The job rule is data; the SQL the store makes of it agrees with JobRule.job_of."""
    jobs = JobRule(separator=separator, patterns=((glob, "matched"),))
    day = date(2026, 3, 20)
    rows = [row("b1", custom_id, day, result_type="expired") for custom_id in ids]
    with fill(tmp_path_factory.mktemp("jobs") / "usage.duckdb", rows) as store:
        agg = store.usage_aggregates(("job",), jobs=jobs)
    expected: dict[str, int] = {}
    for custom_id in ids:
        expected[jobs.job_of(custom_id)] = expected.get(jobs.job_of(custom_id), 0) + 1
    assert dict(zip(agg["job"], agg["requests"].astype(int), strict=True)) == expected
