"""Invariants of the bundled price catalogue (costmodel/data/anthropic.yaml).

These read only the catalogue shipped in the package. The golden figures below were checked by
hand against official Anthropic pages on 2026-11-24; if one of them fails, re-check the page
before changing either the data or the test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.core.catalogue import RATE_FIELDS, PriceEntry, Rates

CATALOGUE = bundled_catalogue()
MODELS = sorted(CATALOGUE.models.values(), key=lambda m: m.id)
ENTRIES = [
    pytest.param(model.id, entry, id=f"{model.id}@{entry.effective_from.isoformat()}")
    for model in MODELS
    for entry in model.prices
]


def _rate_sets(entry: PriceEntry) -> list[tuple[str, Rates]]:
    """The standard rates and, where there is one, the long-context tier's rates."""
    sets = [("standard", entry.rates)]
    if entry.long_context is not None:
        sets.append(("long_context", entry.long_context.rates))
    return sets


def test_catalogue_is_not_trivially_small():
    assert len(CATALOGUE.models) >= 20


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_every_entry_has_a_source_url_and_a_checked_date(model_id, entry):
    assert entry.source.startswith("https://"), model_id
    assert isinstance(entry.checked, date), model_id
    assert entry.checked <= CATALOGUE.checked, model_id


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_every_entry_prices_input_and_output(model_id, entry):
    assert entry.rates.input_mtok is not None and entry.rates.input_mtok > 0, model_id
    assert entry.rates.output_mtok is not None and entry.rates.output_mtok > 0, model_id


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_no_rate_or_multiplier_is_negative(model_id, entry):
    for _tier, rates in _rate_sets(entry):
        for value in rates.as_tuple():
            assert value is None or value >= 0, model_id
    for multiplier in (
        entry.fast_multiplier,
        entry.web_search_per_1k,
        *entry.inference_geo.values(),
    ):
        assert multiplier is None or multiplier >= 0, model_id


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_cache_reads_cost_less_and_cache_writes_more_than_input(model_id, entry):
    for tier, rates in _rate_sets(entry):
        where = f"{model_id} {tier}"
        if rates.cache_read_mtok is not None:
            assert rates.cache_read_mtok < rates.input_mtok, where
        for write in (rates.cache_write_5m_mtok, rates.cache_write_1h_mtok):
            if write is not None:
                assert write > rates.input_mtok, where


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_one_hour_writes_cost_at_least_five_minute_writes(model_id, entry):
    for tier, rates in _rate_sets(entry):
        if rates.cache_write_1h_mtok is not None and rates.cache_write_5m_mtok is not None:
            assert rates.cache_write_1h_mtok >= rates.cache_write_5m_mtok, f"{model_id} {tier}"


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_long_context_tiers_cost_more_than_standard(model_id, entry):
    if entry.long_context is None:
        return
    assert entry.long_context.above_prompt_tokens > 0
    for name in RATE_FIELDS:
        standard = getattr(entry.rates, name)
        premium = getattr(entry.long_context.rates, name)
        if standard is not None and premium is not None:
            assert premium > standard, f"{model_id} {name}"


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_third_party_lists_only_fields_the_entry_has(model_id, entry):
    for name in entry.third_party:
        if name in RATE_FIELDS:
            assert getattr(entry.rates, name) is not None, f"{model_id} {name}"
        elif name in ("fast_multiplier", "web_search_per_1k"):
            assert getattr(entry, name) is not None, f"{model_id} {name}"


def test_price_histories_are_ordered_and_contiguous():
    for model in MODELS:
        if model.unpriced:  # known, with no price published: no history at all
            assert not model.prices, model.id
            continue
        starts = [entry.effective_from for entry in model.prices]
        assert starts == sorted(starts), model.id
        assert len(set(starts)) == len(starts), model.id
        for earlier, later in zip(model.prices, model.prices[1:], strict=False):
            assert earlier.effective_to == later.effective_from, model.id
        assert model.prices[-1].effective_to is None, model.id


def test_every_status_is_a_known_lifecycle_state():
    for model in MODELS:
        assert model.status in ("active", "deprecated", "retired"), model.id


# -- Claude Sonnet 3.5: the worked examples depend on it ----------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "claude-3-5-sonnet",
        "claude-3-5-sonnet-20240620",
        "claude-3-5-sonnet-20241022",
        "claude-3-5-sonnet-latest",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
    ],
)
def test_sonnet_3_5_resolves_from_its_snapshot_ids(name):
    assert CATALOGUE.resolve(name) == "claude-3-5-sonnet"


def test_sonnet_3_5_is_priced_3_and_15():
    entry = CATALOGUE.rates_for("claude-3-5-sonnet-20241022", date(2024, 11, 1))
    assert entry.rates.input_mtok == Decimal("3")
    assert entry.rates.output_mtok == Decimal("15")


# -- Golden figures, confirmed on official Anthropic pages --------------------------------------
GOLDEN = {
    # https://platform.claude.com/docs/en/models/opus-5/overview
    ("claude-opus-5", date(2026, 8, 1)): ("5", "25", "6.25", "10", "0.50"),
    # https://platform.claude.com/docs/zh-CN/models/opus-5-5/overview
    ("claude-opus-5-5", date(2026, 10, 1)): ("4", "20", "5", "8", "0.20"),
    # https://platform.claude.com/docs/zh-CN/models/sonnet-5/overview
    ("claude-sonnet-5", date(2026, 8, 1)): ("2", "10", "2.50", "4", "0.20"),
    # https://docs.anthropic.com/en/docs/about-claude/pricing
    ("claude-3-haiku", date(2025, 1, 1)): ("0.25", "1.25", "0.30", "0.50", "0.03"),
}


@pytest.mark.parametrize(("key", "figures"), GOLDEN.items(), ids=[k[0] for k in GOLDEN])
def test_golden_figures_from_official_pages(key, figures):
    model_id, day = key
    entry = CATALOGUE.rates_for(model_id, day)
    assert entry.rates.as_tuple() == tuple(Decimal(f) for f in figures)
    assert not entry.third_party & set(RATE_FIELDS)


def test_haiku_5_5_has_its_100k_prompt_tier():
    entry = CATALOGUE.rates_for("claude-haiku-5-5", date(2026, 11, 1))
    assert entry.long_context is not None
    assert entry.long_context.above_prompt_tokens == 100_000
    assert entry.long_context.rates.input_mtok == Decimal("0.50")
    assert entry.long_context.rates.output_mtok == Decimal("2.50")


def test_opus_4_6_fast_mode_and_us_inference():
    entry = CATALOGUE.rates_for("claude-opus-4-6", date(2026, 2, 10))
    assert entry.fast_multiplier == Decimal("6")
    assert entry.inference_geo == {"us": Decimal("1.1")}
    assert entry.long_context is not None
    assert entry.long_context.rates.input_mtok == Decimal("10")


def test_us_inference_multiplier_only_from_opus_4_6_on():
    for model_id in ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"):
        for entry in CATALOGUE.models[model_id].prices:
            assert not entry.inference_geo, model_id


# -- Aliases ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-opus-4-0", "claude-opus-4"),
        ("claude-opus-4-20250514", "claude-opus-4"),
        ("claude-sonnet-4-0", "claude-sonnet-4"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("claude-3-haiku-20240307", "claude-3-haiku"),
        ("claude-3-opus-20240229", "claude-3-opus"),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
    ],
)
def test_known_aliases_resolve(name, model_id):
    assert CATALOGUE.resolve(name) == model_id


# -- Effective dating ------------------------------------------------------------------------
def test_sonnet_5_5_cache_read_before_and_after_2026_10_07():
    before = CATALOGUE.rates_for("claude-sonnet-5-5", date(2026, 10, 6))
    on = CATALOGUE.rates_for("claude-sonnet-5-5", date(2026, 10, 7))
    after = CATALOGUE.rates_for("claude-sonnet-5-5", date(2026, 11, 20))
    assert before.rates.cache_read_mtok == Decimal("0.20")
    assert on.rates.cache_read_mtok == Decimal("0.10")
    assert after.rates.cache_read_mtok == Decimal("0.10")
    assert "cache_read_mtok" in on.third_party
    assert before.rates.input_mtok == on.rates.input_mtok == Decimal("2")


def test_long_context_premium_ends_for_the_4_6_models():
    for model_id in ("claude-opus-4-6", "claude-sonnet-4-6"):
        model = CATALOGUE.models[model_id]
        assert model.prices[0].long_context is not None, model_id
        assert model.prices[-1].long_context is None, model_id
        # the end of the premium on 2026-03-13 is in the official release notes
        ended = model.price_on(date(2026, 3, 13))
        assert ended.effective_from == date(2026, 3, 13), model_id
        assert ended.long_context is None and "long_context" not in ended.third_party, model_id
        assert "platform.claude.com/docs/en/release-notes" in ended.source, model_id


# -- sourcing, lifecycle and the corrections of the 2026-12-01 audit ------------------------------
OFFICIAL_HOSTS = (
    "https://platform.claude.com/",
    "https://docs.anthropic.com/",
    "https://code.claude.com/",
)


@pytest.mark.parametrize(("model_id", "entry"), ENTRIES)
def test_every_entry_cites_an_official_page(model_id, entry):
    # Third-party figures are flagged field by field; the entry's own source is always official.
    assert entry.source.startswith(OFFICIAL_HOSTS), model_id
    assert entry.checked is not None, model_id


def test_third_party_flags_only_where_no_official_text_was_found():
    flagged = {
        (model.id, name) for model in MODELS for entry in model.prices for name in entry.third_party
    }
    assert flagged == {
        ("claude-fable-5-2", "cache_write_5m_mtok"),
        ("claude-fable-5-2", "cache_write_1h_mtok"),
        ("claude-fable-5-2", "cache_read_mtok"),
        ("claude-fable-5-2", "fast_multiplier"),
        ("claude-opus-5-5", "fast_multiplier"),
        ("claude-sonnet-5-5", "cache_read_mtok"),
        ("claude-haiku-5-5", "cache_read_mtok"),
    }


def test_retired_models_carry_their_retirement_date():
    for model in MODELS:
        if model.status == "retired":
            assert model.retired_on is not None, model.id
            assert model.retired_on <= CATALOGUE.checked, model.id
        else:
            assert model.retired_on is None, model.id


@pytest.mark.parametrize(
    ("model_id", "retired"),
    [
        ("claude-sonnet-4-5", date(2026, 11, 30)),
        ("claude-opus-4-1", date(2026, 8, 5)),
        ("claude-opus-4", date(2026, 6, 15)),
        ("claude-sonnet-4", date(2026, 6, 15)),
        ("claude-3-haiku", date(2026, 4, 20)),
        ("claude-3-7-sonnet", date(2026, 2, 19)),
        ("claude-3-5-haiku", date(2026, 2, 19)),
        ("claude-3-opus", date(2026, 1, 5)),
        ("claude-3-5-sonnet", date(2025, 10, 28)),
    ],
)
def test_retirement_dates_from_the_release_notes(model_id, retired):
    assert CATALOGUE.models[model_id].retired_on == retired


@pytest.mark.parametrize("model_id", ["claude-mythos-5-2", "claude-mythos-preview"])
def test_mythos_models_are_known_but_unpriced(model_id):
    model = CATALOGUE.models[model_id]
    assert model.prices == () and "no price" in model.unpriced
    assert model.source.startswith(OFFICIAL_HOSTS)


def test_fast_mode_history_of_the_opus_models():
    def fast(model_id, day):
        entry = CATALOGUE.rates_for(model_id, day)
        return entry.fast_multiplier, entry.fast_mode

    assert fast("claude-opus-4-6", date(2026, 2, 6)) == (None, "rejected")
    assert fast("claude-opus-4-6", date(2026, 2, 7)) == (Decimal(6), None)
    assert fast("claude-opus-4-6", date(2026, 6, 29)) == (None, "standard_rates")
    assert fast("claude-opus-4-7", date(2026, 5, 11)) == (None, "rejected")
    assert fast("claude-opus-4-7", date(2026, 5, 12)) == (Decimal(6), None)
    assert fast("claude-opus-4-7", date(2026, 7, 24)) == (None, "rejected")
    assert fast("claude-opus-4-8", date(2026, 11, 29)) == (Decimal(2), None)
    assert fast("claude-opus-4-8", date(2026, 11, 30)) == (None, "rejected")
    assert fast("claude-opus-5", date(2026, 12, 1)) == (Decimal(2), None)
    waived = CATALOGUE.rates_for("claude-opus-4-6", date(2026, 2, 21))
    assert waived.fast_waives_long_context and waived.long_context is not None
    assert not CATALOGUE.rates_for("claude-opus-4-6", date(2026, 2, 20)).fast_waives_long_context


def test_sonnet_4_long_context_ends_with_the_beta_on_2026_04_30():
    for model_id in ("claude-sonnet-4-5", "claude-sonnet-4"):
        before = CATALOGUE.rates_for(model_id, date(2026, 4, 29))
        after = CATALOGUE.rates_for(model_id, date(2026, 4, 30))
        assert before.long_context is not None and before.max_prompt_tokens is None, model_id
        assert after.long_context is None and after.max_prompt_tokens == 200_000, model_id
        assert after.rates == before.rates, model_id


def test_web_search_on_every_model_that_offers_it():
    assert CATALOGUE.rates_for("claude-haiku-5-5", date(2026, 11, 1)).web_search_per_1k == 10
    assert not CATALOGUE.batch_discounts_web_search


def test_us_inference_is_offered_exactly_where_the_partner_premium_starts_after_4_5():
    for model in MODELS:
        for entry in model.prices:
            if entry.inference_geo:
                assert model.partner_regional_premium, model.id


def test_code_execution_and_partner_rules_are_data():
    rule = CATALOGUE.code_execution
    assert rule is not None
    assert (rule.per_container_hour, rule.free_hours_per_month) == (Decimal("0.05"), 1550)
    assert rule.source.startswith(OFFICIAL_HOSTS)
    assert CATALOGUE.partner_regional_multiplier == Decimal("1.1")
