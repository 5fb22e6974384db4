"""The pricing engine: golden figures for each modifier and how they stack, an exact Decimal
reference over a million requests, and hypothesis properties.

Golden figures are computed by hand from the published rates in the catalogue (USD per MTok):
Sonnet 4.5 3 / 15 / 3.75 (5m) / 6 (1h) / 0.30 (read), >200K prompt 6 / 22.50 / 7.50 / 12 / 0.60;
Opus 4.6 5 / 25 / ... with a >200K tier of 10 / 37.50 until 2026-03-13, US inference 1.1x,
fast mode 6x; Haiku 5.5 0.10 / 0.50 / 0.125 / 0.20 / 0.01, >100K prompt 0.50 / 2.50 / 0.625 /
1.00 / 0.05; batch 50% of every token rate.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue, load_price_file
from costmodel.core.catalogue import RATE_FIELDS
from costmodel.core.pricing import COST_COLUMNS, price_usage
from costmodel.core.usage import TOKEN_COLUMNS, usage_frame
from costmodel.errors import PricingError, UnknownModelError, UnpricedError

CATALOGUE = bundled_catalogue()
DAY = date(2026, 11, 24)
# Sonnet 4.5's >200K tier held until its 1M-context beta ended on 2026-04-30.
SONNET_45_LONG_CONTEXT_DAY = date(2026, 4, 1)


def cost(on: date = DAY, **row: object) -> float:
    return price_usage(usage_frame([row]), CATALOGUE, on=on).total


# -- golden figures, one modifier at a time and stacked -------------------------------------------
def test_every_token_kind_at_its_own_rate() -> None:
    row = dict(
        model="claude-sonnet-4-5",
        input_tokens=1000,
        output_tokens=500,
        cache_write_5m_tokens=2000,
        cache_write_1h_tokens=1000,
        cache_read_tokens=3000,
    )
    # 1000*3 + 500*15 + 2000*3.75 + 1000*6 + 3000*0.30 = 24,900 per MTok
    assert cost(**row) == pytest.approx(0.0249, abs=1e-12)
    # batch halves every rate, cache rates included
    assert cost(**row, tier="batch") == pytest.approx(0.01245, abs=1e-12)


def test_components_are_reported_apart_and_sum_to_the_total() -> None:
    priced = price_usage(
        usage_frame(
            [
                dict(
                    model="claude-sonnet-4-5",
                    input_tokens=1000,
                    output_tokens=500,
                    cache_write_5m_tokens=2000,
                    cache_write_1h_tokens=1000,
                    cache_read_tokens=3000,
                    web_search_requests=2,
                )
            ]
        ),
        CATALOGUE,
        on=DAY,
    )
    row = priced.costs.iloc[0]
    assert row["cost_input"] == pytest.approx(0.003)
    assert row["cost_output"] == pytest.approx(0.0075)
    assert row["cost_cache_write_5m"] == pytest.approx(0.0075)
    assert row["cost_cache_write_1h"] == pytest.approx(0.006)
    assert row["cost_cache_read"] == pytest.approx(0.0009)
    assert row["cost_web_search"] == pytest.approx(0.02)
    assert row["cost"] == pytest.approx(sum(row[c] for c in COST_COLUMNS))


def test_long_context_tier_bills_every_token_of_the_request() -> None:
    # 150K uncached + 60K cache reads = 210K prompt > 200K: the whole request at the premium
    row = dict(
        model="claude-sonnet-4-5",
        input_tokens=150_000,
        cache_read_tokens=60_000,
        output_tokens=1000,
    )
    on = SONNET_45_LONG_CONTEXT_DAY
    assert cost(on, **row) == pytest.approx((150_000 * 6 + 60_000 * 0.6 + 1000 * 22.5) / 1e6)
    assert cost(on, **row, tier="batch") == pytest.approx(0.47925)


def test_long_context_threshold_is_strictly_above() -> None:
    on = SONNET_45_LONG_CONTEXT_DAY
    at_threshold = dict(model="claude-sonnet-4-5", input_tokens=200_000, output_tokens=1000)
    assert cost(on, **at_threshold) == pytest.approx((200_000 * 3 + 1000 * 15) / 1e6)
    over = dict(at_threshold, input_tokens=200_001)
    assert cost(on, **over) == pytest.approx((200_001 * 6 + 1000 * 22.5) / 1e6)


def test_cache_writes_count_towards_the_prompt_size() -> None:
    # Haiku 5.5 has a 100K step: 90K uncached + 20K 1-hour writes = 110K > 100K
    over = dict(
        model="claude-haiku-5-5",
        input_tokens=90_000,
        cache_write_1h_tokens=20_000,
        output_tokens=1000,
    )
    assert cost(**over) == pytest.approx((90_000 * 0.5 + 20_000 * 1.0 + 1000 * 2.5) / 1e6)
    under = dict(over, cache_write_1h_tokens=10_000)  # exactly 100K: the lower tier
    assert cost(**under) == pytest.approx((90_000 * 0.1 + 10_000 * 0.2 + 1000 * 0.5) / 1e6)


def test_geo_long_context_and_batch_stack() -> None:
    # Opus 4.6 before 2026-03-13 had a >200K tier; US-only inference is 1.1x on every rate.
    row = dict(
        model="claude-opus-4-6",
        input_tokens=250_000,
        output_tokens=2000,
        inference_geo="us",
        tier="batch",
    )
    expected = (250_000 * 10 + 2000 * 37.5) / 1e6 * 1.1 * 0.5
    assert cost(on=date(2026, 3, 1), **row) == pytest.approx(expected)
    assert expected == pytest.approx(1.41625)
    # After the premium was dropped the same request is billed at standard rates.
    after = (250_000 * 5 + 2000 * 25) / 1e6 * 1.1 * 0.5
    assert cost(on=date(2026, 6, 1), **row) == pytest.approx(after)


def test_geo_surcharge_only_where_the_model_has_one() -> None:
    # Before Claude 4.6 the API rejects inference_geo (HTTP 400): an error, not standard rates.
    base = dict(model="claude-sonnet-4-5", input_tokens=1_000_000)
    with pytest.raises(PricingError, match="claude-sonnet-4-5 does not offer US-only inference"):
        cost(**base, inference_geo="us")
    opus = dict(model="claude-opus-4-6", input_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert cost(**opus, inference_geo="us") == pytest.approx((5 + 0.5) * 1.1)


def test_fast_mode_multiplies_every_rate_and_never_combines_with_batch() -> None:
    row = dict(
        model="claude-opus-4-6", input_tokens=1000, output_tokens=1000, cache_read_tokens=10_000
    )
    # Opus 4.6 fast mode was 6x until its removal on 2026-06-29 (standard rates after)
    assert cost(date(2026, 4, 1), **row, speed="fast") == pytest.approx(
        (1000 * 5 + 1000 * 25 + 10_000 * 0.5) / 1e6 * 6
    )
    with pytest.raises(
        PricingError, match="fast mode is not available with the Message Batches API"
    ):
        cost(**row, speed="fast", tier="batch")
    with pytest.raises(UnpricedError, match="claude-sonnet-4-5 has no fast-mode price"):
        cost(model="claude-sonnet-4-5", input_tokens=1, speed="fast")


def test_web_search_fee_is_not_halved_by_batch() -> None:
    row = dict(model="claude-sonnet-4-5", web_search_requests=10)
    assert cost(**row) == pytest.approx(0.10)
    assert cost(**row, tier="batch") == pytest.approx(0.10)


def test_prices_are_effective_dated() -> None:
    reads = dict(model="claude-sonnet-5-5", cache_read_tokens=1_000_000)
    assert cost(on=date(2026, 10, 6), **reads) == pytest.approx(0.20)
    assert cost(on=date(2026, 10, 7), **reads) == pytest.approx(0.10)


def test_rows_carry_their_own_dates() -> None:
    frame = usage_frame(
        [
            {"model": "claude-sonnet-5-5", "cache_read_tokens": 1_000_000},
            {"model": "claude-sonnet-5-5", "cache_read_tokens": 1_000_000},
        ]
    )
    frame["date"] = pd.to_datetime(["2026-10-06", "2026-11-01"])
    priced = price_usage(frame, CATALOGUE)
    assert priced.costs["cost"].tolist() == pytest.approx([0.20, 0.10])


def test_usage_before_a_models_first_price_is_unpriced_not_free() -> None:
    with pytest.raises(UnpricedError, match=r"claude-haiku-5-5 has no price on 2026-01-01"):
        cost(on=date(2026, 1, 1), model="claude-haiku-5-5", input_tokens=1)


# -- model names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("written", "model_id"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-3-5-sonnet-latest", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        ("claude-haiku-4-5@20251001", "claude-haiku-4-5"),
    ],
)
def test_model_names_resolve_as_usage_data_writes_them(written: str, model_id: str) -> None:
    assert CATALOGUE.resolve(written) == model_id


def test_unknown_model_is_an_error_with_suggestions_never_zero() -> None:
    with pytest.raises(UnknownModelError) as caught:
        cost(model="claude-sonet-4-5", input_tokens=1000)
    assert "unknown model 'claude-sonet-4-5'" in str(caught.value)
    assert "claude-sonnet-4-5" in caught.value.suggestions


def test_no_fuzzy_matching_of_prefixes() -> None:
    with pytest.raises(UnknownModelError):
        CATALOGUE.resolve("claude-sonnet")


# -- bad usage ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "many"])
def test_bad_counts_name_the_column(bad: object) -> None:
    with pytest.raises(PricingError, match="output_tokens: expected a count of 0 or more"):
        usage_frame([{"model": "claude-sonnet-4-5", "input_tokens": 1, "output_tokens": bad}])


def test_missing_input_count_is_an_error_not_zero() -> None:
    with pytest.raises(PricingError, match="input_tokens"):
        usage_frame(
            [
                {"model": "claude-sonnet-4-5", "input_tokens": 1},
                {"model": "claude-sonnet-4-5", "output_tokens": 1},
            ]
        )


def test_a_missing_rate_makes_usage_unpriced(tmp_path: Path) -> None:
    price_file = tmp_path / "prices.yaml"
    price_file.write_text(
        "models:\n  acme-private:\n    prices:\n      - {from: 2026-01-01, input_mtok: 1, "
        "output_mtok: 2, source: contract}\n"
    )
    catalogue = load_price_file(price_file, CATALOGUE)
    ok = usage_frame([{"model": "acme-private", "input_tokens": 1_000_000}])
    assert price_usage(ok, catalogue, on=DAY).total == pytest.approx(1.0)
    reads = usage_frame([{"model": "acme-private", "input_tokens": 1, "cache_read_tokens": 5}])
    with pytest.raises(UnpricedError, match="acme-private has no published cache_read rate"):
        price_usage(reads, catalogue, on=DAY)


# -- contracts ------------------------------------------------------------------------------------
def test_contract_discounts_show_list_and_contracted_apart(tmp_path: Path) -> None:
    price_file = tmp_path / "prices.yaml"
    price_file.write_text(
        "name: Acme MSA\ndiscounts:\n  - {model: claude-sonnet-4-5-20250929, percent: 15}\n"
        "  - {model: '*', tier: batch, percent: 5}\n"
    )
    catalogue = load_price_file(price_file, CATALOGUE)
    frame = usage_frame(
        [
            # 10 requests of 100K: a million tokens, under the 200K long-context threshold
            {"model": "claude-sonnet-4-5", "requests": 10, "input_tokens": 100_000},
            {
                "model": "claude-sonnet-4-5",
                "requests": 10,
                "input_tokens": 100_000,
                "tier": "batch",
            },
            {"model": "claude-haiku-4-5", "requests": 10, "input_tokens": 100_000, "tier": "batch"},
        ]
    )
    costs = price_usage(frame, catalogue, on=DAY).costs
    assert costs["cost"].tolist() == pytest.approx([3.0, 1.5, 0.5])
    # the model's own line wins over the catch-all for the same tier
    assert costs["cost_contracted"].tolist() == pytest.approx([2.55, 1.275, 0.475])


# -- third-party flags ----------------------------------------------------------------------------
def test_third_party_rates_are_flagged_only_when_used() -> None:
    plain = price_usage(
        usage_frame([{"model": "claude-haiku-5-5", "input_tokens": 10}]), CATALOGUE, on=DAY
    )
    assert plain.third_party == ()
    reads = price_usage(
        usage_frame([{"model": "claude-haiku-5-5", "input_tokens": 10, "cache_read_tokens": 10}]),
        CATALOGUE,
        on=DAY,
    )
    assert reads.third_party == ("claude-haiku-5-5: cache_read_mtok",)


# -- exactness: a Decimal reference over a million varied requests --------------------------------
MODELS = [
    "claude-sonnet-4-5",
    "claude-haiku-5-5",
    "claude-opus-4-6",
    "claude-3-5-sonnet",
    "claude-sonnet-5-5",
]


def _varied_usage(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "model": pd.Categorical(rng.choice(MODELS, n), categories=MODELS),
            "requests": np.ones(n),
            "input_tokens": rng.integers(0, 260_000, n),
            "output_tokens": rng.integers(0, 8_000, n),
            "cache_write_5m_tokens": rng.integers(0, 4_000, n) * (rng.random(n) < 0.3),
            "cache_write_1h_tokens": rng.integers(0, 4_000, n) * (rng.random(n) < 0.2),
            "cache_read_tokens": rng.integers(0, 50_000, n) * (rng.random(n) < 0.5),
            "web_search_requests": rng.integers(0, 3, n) * (rng.random(n) < 0.05),
            "tier": np.where(rng.random(n) < 0.6, "batch", "standard"),
            "inference_geo": np.where(rng.random(n) < 0.1, "us", "global"),
            "speed": "standard",
        }
    )
    # US-only inference only where the model offers it (elsewhere the API rejects it), and no
    # prompt over 200K on Sonnet 4.5, which the API refuses on DAY.
    no_us = [m for m in MODELS if "us" not in CATALOGUE.rates_for(m, DAY).inference_geo]
    frame.loc[frame["model"].isin(no_us), "inference_geo"] = "global"
    sonnet = (frame["model"] == "claude-sonnet-4-5").to_numpy()
    frame.loc[sonnet, "input_tokens"] = frame.loc[sonnet, "input_tokens"] % 140_000
    return usage_frame(frame)


def _decimal_reference(frame: pd.DataFrame, on: date) -> Decimal:
    """Exact: integer token sums per (model, tier, geo, band), times Decimal rates."""
    total = Decimal(0)
    prompt = (
        frame[
            ["input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens"]
        ]
        .to_numpy(dtype=np.int64)
        .sum(axis=1)
    )
    for model in MODELS:
        entry = CATALOGUE.rates_for(model, on)
        threshold = entry.long_context.above_prompt_tokens if entry.long_context else None
        for tier in ("standard", "batch"):
            for geo in ("global", "us"):
                for band in (False, True):
                    mask = (
                        (frame["model"] == model).to_numpy()
                        & (frame["tier"] == tier).to_numpy()
                        & (frame["inference_geo"] == geo).to_numpy()
                    )
                    long_ctx = prompt > threshold if threshold is not None else np.zeros_like(mask)
                    mask &= long_ctx if band else ~long_ctx
                    if not mask.any():
                        continue
                    rates = entry.long_context.rates if band else entry.rates
                    multiplier = Decimal(1)
                    if tier == "batch":
                        multiplier *= CATALOGUE.batch_multiplier
                    if geo == "us":
                        multiplier *= entry.inference_geo.get("us", Decimal(1))
                    for column, field in zip(TOKEN_COLUMNS, RATE_FIELDS, strict=True):
                        tokens = int(frame.loc[mask, column].to_numpy(dtype=np.int64).sum())
                        if tokens:
                            total += (
                                Decimal(tokens) * getattr(rates, field) * multiplier / 1_000_000
                            )
                    searches = int(frame.loc[mask, "web_search_requests"].to_numpy(np.int64).sum())
                    if searches:
                        total += Decimal(searches) * entry.web_search_per_1k / 1000
    return total


def test_a_million_requests_agree_with_a_decimal_reference_to_the_cent() -> None:
    frame = _varied_usage(1_000_000)
    engine = price_usage(frame, CATALOGUE, on=DAY).total
    reference = _decimal_reference(frame, DAY)
    assert reference > 100_000  # a realistic bill, not a trivially small one
    assert abs(Decimal(repr(engine)) - reference) < Decimal("0.005")


# -- properties -----------------------------------------------------------------------------------
counts = st.integers(min_value=0, max_value=400_000)


def _servable(row: dict[str, object]) -> dict[str, object]:
    """The row as the API would have served it on DAY: US-only inference only where offered,
    and prompts within the model's limit (refusals are tested above)."""
    entry = CATALOGUE.rates_for(str(row["model"]), DAY)
    if "us" not in entry.inference_geo:
        row = {**row, "inference_geo": "global"}
    if entry.max_prompt_tokens is not None:  # four kinds of at most 400K: an eighth each fits
        prompt = (
            "input_tokens",
            "cache_write_5m_tokens",
            "cache_write_1h_tokens",
            "cache_read_tokens",
        )
        row = {**row, **{kind: int(str(row[kind])) // 8 for kind in prompt}}
    return row


rows = st.fixed_dictionaries(
    {
        "model": st.sampled_from(MODELS),
        "input_tokens": counts,
        "output_tokens": st.integers(0, 64_000),
        "cache_write_5m_tokens": counts,
        "cache_write_1h_tokens": counts,
        "cache_read_tokens": counts,
        "web_search_requests": st.integers(0, 20),
        "inference_geo": st.sampled_from(["global", "us"]),
    }
).map(
    # A model with no published web-search fee makes searches unpriced (tested above), so the
    # properties only give searches to models that have a fee.
    lambda row: (
        row
        if CATALOGUE.rates_for(str(row["model"]), DAY).web_search_per_1k is not None
        else {**row, "web_search_requests": 0}
    )
)
rows = rows.map(_servable)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(rows, min_size=1, max_size=20), volume=st.integers(1, 10_000))
def test_cost_is_linear_in_volume(rows: list[dict[str, object]], volume: int) -> None:
    one = price_usage(usage_frame(rows), CATALOGUE, on=DAY).costs["cost"].to_numpy()
    scaled = usage_frame([{**row, "requests": volume} for row in rows])
    many = price_usage(scaled, CATALOGUE, on=DAY).costs["cost"].to_numpy()
    np.testing.assert_allclose(many, one * volume, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(rows, min_size=1, max_size=20))
def test_batch_never_costs_more_than_sync(rows: list[dict[str, object]]) -> None:
    sync = price_usage(usage_frame(rows), CATALOGUE, on=DAY).costs["cost"].to_numpy()
    batch_rows = usage_frame([{**row, "tier": "batch"} for row in rows])
    batch = price_usage(batch_rows, CATALOGUE, on=DAY).costs["cost"].to_numpy()
    assert (batch <= sync + 1e-12).all()
    # token costs halve exactly; only the web-search fee is left as it was
    no_search = [{**row, "web_search_requests": 0} for row in rows]
    s = price_usage(usage_frame(no_search), CATALOGUE, on=DAY).total
    b = price_usage(
        usage_frame([{**r, "tier": "batch"} for r in no_search]), CATALOGUE, on=DAY
    ).total
    assert b == pytest.approx(s * 0.5, rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(rows, min_size=1, max_size=20))
def test_components_sum_to_the_total_and_are_never_negative(rows: list[dict[str, object]]) -> None:
    costs = price_usage(usage_frame(rows), CATALOGUE, on=DAY).costs
    parts = costs[list(COST_COLUMNS)].to_numpy()
    assert (parts >= 0).all()
    np.testing.assert_allclose(parts.sum(axis=1), costs["cost"].to_numpy(), rtol=1e-12)


@given(model=st.sampled_from(sorted(m for m in CATALOGUE.models if CATALOGUE.models[m].prices)))
def test_zero_usage_costs_zero_for_every_model(model: str) -> None:
    entry = CATALOGUE.models[model].prices[-1]
    on = max(entry.effective_from, DAY)
    assert (
        price_usage(
            usage_frame([{"model": model, "input_tokens": 0, "output_tokens": 0}]), CATALOGUE, on=on
        ).total
        == 0.0
    )


# -- corrected rules (catalogue audit of 2026-12-01), each computed by hand ---------------------
def priced(on: date, **row: object):  # type: ignore[no-untyped-def]
    return price_usage(usage_frame([row]), CATALOGUE, on=on)


def test_opus_4_6_fast_over_200k_has_no_long_context_charge_from_2026_02_21() -> None:
    row = dict(model="claude-opus-4-6", input_tokens=250_000, output_tokens=750_000, speed="fast")
    # $30 / $150 flat: 250K * 30 + 750K * 150 = 7.50 + 112.50
    result = priced(date(2026, 3, 1), **row)
    assert result.total == pytest.approx(120.00, abs=1e-9)
    assert not result.costs["long_context"].any()
    assert not any("long-context tier" in note for note in result.notes)
    # Before the change (pricing page of 2026-02-18): 6x the long-context rates, $60 / $225
    before = priced(date(2026, 2, 10), **row)
    assert before.total == pytest.approx(250_000 * 60 / 1e6 + 750_000 * 225 / 1e6)
    assert before.total == pytest.approx(183.75)
    assert before.notes == (
        "claude-opus-4-6: 1 request with a prompt over 200,000 tokens billed at its long-context "
        "tier (every token of such a request, output included, at the long-context rates).",
    )
    # The same prompt at standard speed on 2026-03-01 is at the long-context tier: 2.50 + 28.125
    assert priced(date(2026, 3, 1), **{**row, "speed": "standard"}).total == pytest.approx(30.625)


def test_opus_4_6_fast_mode_launched_on_2026_02_07() -> None:
    row = dict(model="claude-opus-4-6", input_tokens=100_000, speed="fast")
    with pytest.raises(PricingError, match="claude-opus-4-6 does not accept fast mode"):
        priced(date(2026, 2, 6), **row)
    assert priced(date(2026, 2, 7), **row).total == pytest.approx(3.0)  # 100K at $30


def test_opus_4_6_fast_after_its_removal_bills_standard_rates_with_a_note() -> None:
    row = dict(model="claude-opus-4-6", input_tokens=1_000_000, output_tokens=100_000)
    assert priced(date(2026, 6, 28), **row, speed="fast").total == pytest.approx(45.0)  # 6x
    after = priced(date(2026, 7, 1), **row, speed="fast")
    assert after.total == pytest.approx(5.0 + 2.5)
    assert after.notes[0].startswith("claude-opus-4-6: 1 request in fast mode billed at standard")


def test_opus_4_7_fast_mode_is_6x_from_2026_05_12_and_rejected_from_2026_07_24() -> None:
    row = dict(model="claude-opus-4-7", input_tokens=1_000_000, output_tokens=100_000, speed="fast")
    assert priced(date(2026, 6, 1), **row).total == pytest.approx((5 + 2.5) * 6)
    assert priced(date(2026, 7, 23), **row).total == pytest.approx(45.0)
    for day in (date(2026, 5, 11), date(2026, 7, 24), date(2026, 12, 1)):
        with pytest.raises(PricingError, match="claude-opus-4-7 does not accept fast mode"):
            priced(day, **row)
    assert priced(date(2026, 8, 1), **{**row, "speed": "standard"}).total == pytest.approx(7.5)


def test_opus_4_8_fast_mode_is_rejected_from_2026_11_30() -> None:
    row = dict(model="claude-opus-4-8", input_tokens=1_000_000, speed="fast")
    assert priced(date(2026, 11, 29), **row).total == pytest.approx(10.0)
    assert priced(date(2026, 11, 29), **row).third_party == ()  # 2x is on the pricing page
    with pytest.raises(PricingError, match=r"from 2026-11-30: the API rejects"):
        priced(date(2026, 12, 1), **row)


def test_haiku_5_5_web_search_is_priced_and_not_halved_by_batch() -> None:
    row = dict(model="claude-haiku-5-5", input_tokens=1000, web_search_requests=3)
    assert priced(date(2026, 11, 1), **row).total == pytest.approx(0.03 + 0.0001)
    assert priced(date(2026, 11, 1), **row, tier="batch").total == pytest.approx(0.03 + 0.00005)


@pytest.mark.parametrize(
    "model", ["claude-haiku-4-5", "claude-opus-4-5", "claude-sonnet-4-5", "claude-3-5-sonnet"]
)
def test_us_only_inference_before_claude_4_6_is_an_error(model: str) -> None:
    with pytest.raises(PricingError, match=rf"{model} does not offer US-only inference.*HTTP 400"):
        priced(
            date(2025, 10, 1) if "3-5" in model else DAY,
            model=model,
            input_tokens=1,
            inference_geo="us",
        )


def test_us_only_inference_where_offered_is_1_1x() -> None:
    row = dict(model="claude-haiku-5-5", input_tokens=100_000, inference_geo="us")
    assert priced(date(2026, 11, 1), **row).total == pytest.approx(100_000 * 0.10 * 1.1 / 1e6)


def test_sonnet_4_5_long_prompts_are_refused_after_the_beta_ended() -> None:
    row = dict(model="claude-sonnet-4-5", input_tokens=250_000)
    tier = priced(date(2026, 4, 1), **row)
    assert tier.total == pytest.approx(1.50)  # 250K at the $6 long-context input rate
    assert tier.costs["long_context"].tolist() == [True]
    assert tier.notes == (
        "claude-sonnet-4-5: 1 request with a prompt over 200,000 tokens billed at its "
        "long-context tier (every token of such a request, output included, at the "
        "long-context rates).",
    )
    assert priced(date(2026, 4, 29), **row).total == pytest.approx(1.50)
    for day in (date(2026, 4, 30), date(2026, 5, 1)):
        with pytest.raises(PricingError, match="claude-sonnet-4-5 refuses prompts over 200,000"):
            priced(day, **row)
    # the prompt counts cache reads and writes too; 200K exactly is still served
    with pytest.raises(PricingError, match="this one has 200,001"):
        priced(
            date(2026, 5, 1), model="claude-sonnet-4-5", input_tokens=1, cache_read_tokens=200_000
        )
    ok = priced(date(2026, 5, 1), model="claude-sonnet-4-5", input_tokens=200_000)
    assert ok.total == pytest.approx(0.60) and ok.notes == ()


def test_notes_sum_long_context_requests_per_model() -> None:
    frame = usage_frame(
        [
            {"model": "claude-haiku-5-5", "requests": 40, "input_tokens": 150_000},
            {"model": "claude-haiku-5-5", "requests": 2, "input_tokens": 90_000},
            {"model": "claude-haiku-5-5", "requests": 2, "input_tokens": 101_000},
        ]
    )
    notes = price_usage(frame, CATALOGUE, on=DAY).notes
    assert notes == (
        "claude-haiku-5-5: 42 requests with a prompt over 100,000 tokens billed at its "
        "long-context tier (every token of such a request, output included, at the "
        "long-context rates).",
    )


@pytest.mark.parametrize("model", ["claude-mythos-5-2", "claude-mythos-preview"])
def test_known_models_without_a_price_say_so(model: str) -> None:
    assert CATALOGUE.resolve(model) == model
    with pytest.raises(
        UnpricedError, match=rf"{model} .* cannot be priced: Anthropic publishes no"
    ):
        priced(DAY, model=model, input_tokens=1000)


def test_an_unpriced_model_can_be_priced_from_a_price_file(tmp_path: Path) -> None:
    price_file = tmp_path / "prices.yaml"
    price_file.write_text(
        "models:\n  claude-mythos-5-2:\n    prices:\n      - {from: 2026-11-09, input_mtok: 8, "
        "output_mtok: 40, source: contract}\n"
    )
    catalogue = load_price_file(price_file, CATALOGUE)
    frame = usage_frame([{"model": "claude-mythos-5-2", "input_tokens": 1_000_000}])
    assert price_usage(frame, catalogue, on=DAY).total == pytest.approx(8.0)


def test_partner_regional_ids_of_claude_4_5_and_later_are_refused() -> None:
    with pytest.raises(UnpricedError) as caught:
        priced(DAY, model="us.anthropic.claude-sonnet-4-5-20250929-v1:0", input_tokens=1)
    message = str(caught.value)
    assert "regional endpoints cost 10% more than global ones" in message
    assert "'global.anthropic.claude-sonnet-4-5-20250929-v1:0'" in message
    assert "price file (--prices)" in message
    with pytest.raises(UnpricedError, match="Vertex AI without saying whether a global"):
        priced(DAY, model="claude-haiku-4-5@20251001", input_tokens=1)
    with pytest.raises(UnpricedError, match=r"'global\.anthropic\.claude-opus-4-6-v1'"):
        priced(DAY, model="anthropic.claude-opus-4-6-v1", input_tokens=1)


def test_partner_global_and_older_ids_are_priced_at_claude_api_rates_with_a_note() -> None:
    glob = priced(DAY, model="global.anthropic.claude-sonnet-4-6", input_tokens=1_000_000)
    assert glob.total == pytest.approx(3.0)
    assert "global endpoints carry no regional premium" in glob.notes[0]
    old = priced(
        date(2025, 10, 1), model="anthropic.claude-3-5-sonnet-20240620-v1:0", input_tokens=10**6
    )
    assert old.total == pytest.approx(3.0)
    assert "Amazon Bedrock publishes its own prices" in old.notes[0]


def test_a_partner_id_in_a_price_file_is_priced_at_its_own_rates(tmp_path: Path) -> None:
    name = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    price_file = tmp_path / "prices.yaml"
    price_file.write_text(
        f"models:\n  {name}:\n    prices:\n      - {{from: 2025-09-29, input_mtok: 3.3, "
        "output_mtok: 16.5, source: AWS price list}\n"
    )
    catalogue = load_price_file(price_file, CATALOGUE)
    frame = usage_frame([{"model": name, "input_tokens": 1_000_000}])
    assert price_usage(frame, catalogue, on=DAY).total == pytest.approx(3.3)


def test_code_execution_is_priced_past_the_free_allowance() -> None:
    # 2,000 requests of 1 container-hour: 2,000 h - 1,550 free = 450 h at $0.05 = $22.50
    frame = usage_frame(
        [{"model": "claude-sonnet-4-6", "requests": 2000, "input_tokens": 0, "output_tokens": 0}]
    ).assign(code_execution_hours=1.0)
    result = price_usage(frame, CATALOGUE, on=DAY)
    assert result.total == pytest.approx(22.50)
    assert result.costs["cost_code_execution"].tolist() == pytest.approx([22.50])
    assert "the first 1,550 a month are free" in result.notes[0]
    # batch does not discount it
    assert price_usage(frame.assign(tier="batch"), CATALOGUE, on=DAY).total == pytest.approx(22.5)
    # within the allowance: free
    assert price_usage(frame.assign(requests=1500.0), CATALOGUE, on=DAY).total == 0.0


def test_code_execution_is_free_alongside_web_search_and_shares_the_allowance() -> None:
    frame = usage_frame(
        [
            # 1,000 h alongside web search: free, and not counted against the allowance
            {
                "model": "claude-sonnet-4-6",
                "requests": 1000,
                "input_tokens": 0,
                "web_search_requests": 1,
            },
            # 1,000 h + 1,000 h without: 2,000 h, 450 h charged, split by hours
            {"model": "claude-sonnet-4-6", "requests": 1000, "input_tokens": 0},
            {"model": "claude-haiku-4-5", "requests": 1000, "input_tokens": 0},
        ]
    ).assign(code_execution_hours=1.0)
    costs = price_usage(frame, CATALOGUE, on=DAY).costs
    assert costs["cost_code_execution"].tolist() == pytest.approx([0.0, 11.25, 11.25])
    assert costs["cost"].sum() == pytest.approx(10.0 + 22.5)  # 1,000 searches at $10 per 1,000


def test_measured_code_execution_without_hours_is_flagged_unpriced_not_zero() -> None:
    frame = usage_frame(
        [
            {"model": "claude-sonnet-4-6", "input_tokens": 1000, "output_tokens": 10},
            {"model": "claude-sonnet-4-6", "input_tokens": 1000, "output_tokens": 10},
            {
                "model": "claude-sonnet-4-6",
                "input_tokens": 1000,
                "output_tokens": 10,
                "web_search_requests": 1,
            },
        ]
    ).assign(code_execution_requests=[2, 0, 1])
    result = price_usage(frame, CATALOGUE, on=DAY)
    assert result.unpriced_code_execution_requests == 1
    assert result.notes == (
        "Unpriced code execution: 1 request used code execution, but usage data carries no "
        "container-hours (it is billed per container-hour past a monthly free allowance), so "
        "its charge is not in these totals.",
    )


@pytest.mark.parametrize("bad", [-1, float("nan"), "long"])
def test_bad_code_execution_hours_name_the_column(bad: object) -> None:
    frame = usage_frame([{"model": "claude-sonnet-4-6", "input_tokens": 1}]).assign(
        code_execution_hours=[bad]
    )
    if isinstance(bad, float):  # a missing value means none
        assert price_usage(frame, CATALOGUE, on=DAY).total == pytest.approx(3e-6)
        return
    with pytest.raises(PricingError, match="code_execution_hours: expected a count of 0 or more"):
        price_usage(frame, CATALOGUE, on=DAY)


def test_scenario_code_execution_hours_price_both_plans_alike(tmp_path: Path) -> None:
    from costmodel.adapters.scenario_files import parse_scenario
    from costmodel.core.report import run_scenario

    scenario = parse_scenario(
        "name: s\nprice_date: 2026-11-01\nworkloads:\n  - name: analyst\n"
        "    model: claude-sonnet-4-6\n    requests: 20000\n    input_tokens: 0\n"
        "    output_tokens: 0\n    code_execution_hours: 0.1\n    batch_share: 0.5\n"
    )
    run = run_scenario(scenario, CATALOGUE)
    # 20,000 * 0.1 = 2,000 h; 450 h past the allowance at $0.05
    assert run.workloads["cost_sync"].tolist() == pytest.approx([22.50])
    assert run.workloads["cost_batch"].tolist() == pytest.approx([22.50])
    assert any("container-hours" in note for note in run.notes)


def test_stale_prices_are_noted_more_than_30_days_after_the_check() -> None:
    checked = CATALOGUE.checked
    assert CATALOGUE.stale_note(checked + timedelta(days=30)) is None
    note = CATALOGUE.stale_note(checked + timedelta(days=31))
    assert note is not None and checked.isoformat() in note and "stale" in note
    from costmodel.core.report import price_list

    assert note in price_list(CATALOGUE, on=checked + timedelta(days=31)).notes
    assert not any("stale" in n for n in price_list(CATALOGUE, on=checked).notes)


def test_the_price_list_of_an_unpriced_model_says_why() -> None:
    from costmodel.core.report import price_list

    with pytest.raises(UnpricedError, match=r"claude-mythos-5-2 .* Anthropic publishes no price"):
        price_list(CATALOGUE, model="claude-mythos-5-2", on=DAY)


def test_the_price_list_shows_fast_mode_removals_and_retirements_as_json() -> None:
    import json

    from costmodel.core.report import price_list

    history = price_list(CATALOGUE, model="claude-opus-4-7", on=DAY).to_dict()["models"]
    text = json.dumps(history, allow_nan=False)  # valid JSON: no NaN for missing values
    assert [(m["from"], m["fast_mode"]) for m in json.loads(text)] == [
        ("2026-04-16", "rejected"),
        ("2026-05-12", None),
        ("2026-07-24", "rejected"),
    ]
    sonnet = price_list(CATALOGUE, model="claude-sonnet-4-5", on=DAY).to_dict()["models"]
    assert {m["retired"] for m in sonnet} == {"2026-11-30"}
    assert [m["max_prompt_tokens"] for m in sonnet] == [None, 200_000]


def test_a_scenario_priced_long_after_the_check_says_prices_may_be_stale() -> None:
    from costmodel.adapters.scenario_files import parse_scenario
    from costmodel.core.report import run_scenario

    scenario = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-sonnet-4-6, requests: 10, "
        "input_tokens: 100, output_tokens: 10}\n"
    )
    late = CATALOGUE.checked + timedelta(days=45)
    stale = CATALOGUE.stale_note(late)
    assert stale is not None
    assert stale in run_scenario(scenario, CATALOGUE, on=late).notes
    fresh = run_scenario(scenario, CATALOGUE, on=CATALOGUE.checked).notes
    assert not any("stale" in note for note in fresh)


def test_a_scenario_workload_the_api_would_refuse_is_named_in_the_error() -> None:
    from costmodel.adapters.scenario_files import parse_scenario
    from costmodel.core.report import run_scenario

    scenario = parse_scenario(
        "name: s\nprice_date: 2026-11-01\nworkloads:\n  - {name: chat, model: claude-haiku-4-5, "
        "requests: 10, input_tokens: 100, output_tokens: 10, inference_geo: us}\n",
        source="geo.yaml",
    )
    with pytest.raises(PricingError, match=r"^geo\.yaml: workload 'chat': claude-haiku-4-5 does"):
        run_scenario(scenario, CATALOGUE)
