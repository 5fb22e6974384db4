"""costmodel.cost_of: one response's exact cost, from SDK objects and the API's JSON.

The goldens are computed by hand from the bundled catalogue's published rates (USD per million
tokens) on pinned days; the SDK objects are the real ``anthropic.types`` built with
``model_validate``, as the SDK builds them from a response.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import anthropic.types as at
import pytest
from anthropic.types.messages import MessageBatchIndividualResponse
from hypothesis import given, settings
from hypothesis import strategies as st

import costmodel
from costmodel import CostOf, cost_of
from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.errors import PricingError, UnknownModelError, UnpricedError

ON = date(2026, 11, 24)
CATALOGUE = bundled_catalogue()


def message(model: str = "claude-sonnet-4-5-20250929", **usage: Any) -> dict[str, Any]:
    """A Message in the API's JSON shape."""
    return {
        "id": "msg_01Test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0, **usage},
    }


FULL_USAGE: dict[str, Any] = {
    "input_tokens": 2000,
    "output_tokens": 500,
    "cache_creation_input_tokens": 3000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    "cache_read_input_tokens": 10_000,
    "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 1},
    "service_tier": "standard",
    "inference_geo": "global",
    "speed": "standard",
}
# Claude Sonnet 4.5 on 2026-11-24: $3 in, $15 out, $3.75 5m writes, $6 1h writes, $0.30 reads,
# $10 per 1,000 web searches.
FULL_BY_HAND = {
    "input": Decimal(2000) * 3 / 10**6,  # 0.006
    "output": Decimal(500) * 15 / 10**6,  # 0.0075
    "cache_write_5m": Decimal(1000) * Decimal("3.75") / 10**6,  # 0.00375
    "cache_write_1h": Decimal(2000) * 6 / 10**6,  # 0.012
    "cache_read": Decimal(10_000) * Decimal("0.30") / 10**6,  # 0.003
    "web_search": Decimal(3) * 10 / 1000,  # 0.03
}


def test_an_sdk_message_costs_each_component_at_its_published_rate() -> None:
    sdk_message = at.Message.model_validate(message(**FULL_USAGE))
    result = cost_of(sdk_message, on=ON, catalogue=CATALOGUE)
    assert isinstance(result, CostOf)
    assert result.total == Decimal("0.06225") == sum(FULL_BY_HAND.values())
    assert {line.component: line.cost for line in result.lines} == FULL_BY_HAND
    assert result.cents == Decimal("0.06")
    assert result.model == "claude-sonnet-4-5"
    assert result.requested_model == "claude-sonnet-4-5-20250929"
    assert result.tier == "standard" and result.billed and not result.long_context
    assert result.price is not None and result.price.effective_from == date(2026, 4, 30)
    web = next(line for line in result.lines if line.component == "web_search")
    assert (web.quantity, web.unit, web.rate) == (Decimal(3), "1k searches", Decimal(10))
    read = next(line for line in result.lines if line.component == "cache_read")
    assert (read.quantity, read.unit, read.rate) == (Decimal(10_000), "MTok", Decimal("0.30"))
    # Sonnet 4.5 is retired in the catalogue, and the reader is told so.
    assert any("claude-sonnet-4-5 is retired" in note for note in result.notes)


def test_every_accepted_shape_gives_the_same_figure() -> None:
    as_json = message(**FULL_USAGE)
    sdk_message = at.Message.model_validate(as_json)
    figures = {
        cost_of(sdk_message, on=ON).total,
        cost_of(as_json, on=ON).total,
        cost_of(sdk_message.usage, model="claude-sonnet-4-5", on=ON).total,
        cost_of(as_json["usage"], model="claude-sonnet-4-5", on=ON).total,
    }
    assert figures == {Decimal("0.06225")}


def test_a_batch_result_line_is_priced_at_batch_rates() -> None:
    line = {
        "custom_id": "claim-1",
        "result": {
            "type": "succeeded",
            "message": message(**{**FULL_USAGE, "service_tier": "batch"}),
        },
    }
    sdk_line = MessageBatchIndividualResponse.model_validate(line)
    result = cost_of(sdk_line, on=ON)
    # Every token rate halves; web search is not discounted by the Batches API.
    tokens = sum(v for k, v in FULL_BY_HAND.items() if k != "web_search")
    assert result.total == tokens / 2 + FULL_BY_HAND["web_search"] == Decimal("0.046125")
    assert result.tier == "batch" and cost_of(line, on=ON).total == result.total
    # a bare synchronous message asked for at batch rates gives the same figure
    assert cost_of(message(**FULL_USAGE), batch=True, on=ON).total == result.total


@pytest.mark.parametrize("kind", ["errored", "canceled", "expired"])
def test_unbilled_batch_requests_cost_exactly_zero_and_say_why(kind: str) -> None:
    result_body: dict[str, Any] = {"type": kind}
    if kind == "errored":
        result_body["error"] = {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "bad"},
        }
    line = {"custom_id": "claim-9", "result": result_body}
    for response in (line, MessageBatchIndividualResponse.model_validate(line)):
        result = cost_of(response, on=ON)
        assert result.total == Decimal(0) and result.lines == () and not result.billed
        assert "claim-9" in result.notes[0] and "not bill" in result.notes[0]


def test_cache_writes_without_a_breakdown_are_five_minute_writes() -> None:
    usage = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 4000}
    result = cost_of(usage, model="claude-haiku-4-5", on=ON)
    assert result.total == Decimal(4000) * Decimal("1.25") / 10**6 == Decimal("0.005")
    assert [line.component for line in result.lines] == ["cache_write_5m"]


def test_long_context_bills_every_token_at_the_tier() -> None:
    # Claude Haiku 5.5 on 2026-11-24: over 100,000 prompt tokens, $0.50 in and $2.50 out.
    usage = {"input_tokens": 90_000, "output_tokens": 1000, "cache_read_input_tokens": 20_000}
    result = cost_of(usage, model="claude-haiku-5-5", on=ON)
    by_hand = (
        Decimal(90_000) * Decimal("0.50") + 1000 * Decimal("2.50") + 20_000 * Decimal("0.05")
    ) / 10**6
    assert result.total == by_hand == Decimal("0.0485") and result.long_context
    assert any("long-context tier" in note for note in result.notes)
    # cache reads rest on a third-party quote of this model's pricing page
    assert "Third-party price: claude-haiku-5-5: cache_read_mtok." in result.notes
    below = cost_of({**usage, "input_tokens": 80_000}, model="claude-haiku-5-5", on=ON)
    assert not below.long_context
    assert below.total == (Decimal(80_000) * Decimal("0.10") + 1000 * Decimal("0.50") + 200) / 10**6


def test_fast_mode_and_us_inference_on_their_dated_rules() -> None:
    usage = {"input_tokens": 1000, "output_tokens": 100}
    # Opus 4.6, 2026-03-20: fast mode at 6x ($30 / $150)
    fast = cost_of(usage, model="claude-opus-4-6", speed="fast", on=date(2026, 3, 20))
    assert fast.total == (1000 * Decimal(30) + 100 * Decimal(150)) / 10**6 == Decimal("0.045")
    assert fast.speed == "fast"
    reported = cost_of({**usage, "speed": "fast"}, model="claude-opus-4-6", on=date(2026, 3, 20))
    assert reported.total == fast.total
    # after fast mode was removed (2026-06-29) fast requests bill at standard rates, with a note
    removed = cost_of(usage, model="claude-opus-4-6", speed="fast", on=ON)
    assert removed.total == Decimal("0.0075")
    assert any("fast mode billed at standard rates" in note for note in removed.notes)
    # US-only inference: 1.1x every token rate
    us = cost_of({**usage, "inference_geo": "us"}, model="claude-opus-4-6", on=ON)
    assert us.total == Decimal("0.0075") * Decimal("1.1") and us.inference_geo == "us"
    assert cost_of(usage, model="claude-opus-4-6", inference_geo="us", on=ON).total == us.total
    # usage that reports no geo ("not_available") is global
    assert cost_of(
        {**usage, "inference_geo": "not_available"}, model="claude-opus-4-6", on=ON
    ).total == Decimal("0.0075")


def test_priority_tier_is_priced_at_standard_list_rates_with_a_note() -> None:
    result = cost_of(message(input_tokens=1000, service_tier="priority"), on=ON)
    assert result.total == Decimal("0.003") and result.tier == "standard"
    assert any("Priority" in note and "contractual" in note for note in result.notes)


def test_a_stale_catalogue_is_noted() -> None:
    later = date(2027, 3, 1)
    result = cost_of({"input_tokens": 1, "output_tokens": 1}, model="claude-haiku-4-5", on=later)
    assert any(note.startswith("Prices may be stale") for note in result.notes)
    assert not any("stale" in n for n in cost_of(message(input_tokens=1), on=ON).notes)


def test_an_unknown_model_names_the_closest_ids() -> None:
    with pytest.raises(UnknownModelError) as caught:
        cost_of(message(model="claude-sonet-4-5", input_tokens=10), on=ON)
    assert "claude-sonnet-4-5" in str(caught.value) and caught.value.suggestions


def test_a_day_before_any_price_is_unpriced() -> None:
    with pytest.raises(UnpricedError, match="no price on 2020-01-01"):
        cost_of(
            {"input_tokens": 1, "output_tokens": 1}, model="claude-haiku-4-5", on=date(2020, 1, 1)
        )


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        ({"input_tokens": -1, "output_tokens": 0}, "usage.input_tokens"),
        ({"input_tokens": 1.5, "output_tokens": 0}, "usage.input_tokens"),
        ({"input_tokens": 12.0, "output_tokens": 0}, "usage.input_tokens"),
        ({"input_tokens": True, "output_tokens": 0}, "usage.input_tokens"),
        ({"input_tokens": "12", "output_tokens": 0}, "usage.input_tokens"),
        (
            {"input_tokens": 1, "output_tokens": 0, "cache_read_input_tokens": -5},
            "usage.cache_read_input_tokens",
        ),
        ({"input_tokens": 1}, "usage.output_tokens"),
        (
            {
                "input_tokens": 1,
                "output_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": False},
            },
            "usage.cache_creation.ephemeral_5m_input_tokens",
        ),
        (
            {"input_tokens": 1, "output_tokens": 0, "server_tool_use": {"web_search_requests": -2}},
            "usage.server_tool_use.web_search_requests",
        ),
        ({"input_tokens": 1, "output_tokens": 0, "service_tier": "flex"}, "usage.service_tier"),
        ({"input_tokens": 1, "output_tokens": 0, "speed": "turbo"}, "usage.speed"),
        ({"input_tokens": 1, "output_tokens": 0, "inference_geo": "mars"}, "usage.inference_geo"),
    ],
)
def test_bad_counts_and_values_name_the_field(usage: dict[str, Any], field: str) -> None:
    with pytest.raises(PricingError, match=re.escape(f"cost_of: {field}:")):
        cost_of(usage, model="claude-haiku-4-5", on=ON)


def test_bad_shapes_and_options_are_refused() -> None:
    with pytest.raises(PricingError, match="pass model="):
        cost_of({"input_tokens": 1, "output_tokens": 1}, on=ON)
    with pytest.raises(PricingError, match="expected a Message"):
        cost_of([1, 2], on=ON)
    with pytest.raises(PricingError, match="expected a Message"):
        cost_of({"tokens": 5}, on=ON)
    with pytest.raises(PricingError, match=r"result\.type"):
        cost_of({"custom_id": "a", "result": {"type": "pending"}}, on=ON)
    with pytest.raises(PricingError, match="speed"):
        cost_of(message(input_tokens=1), speed="slow", on=ON)
    with pytest.raises(PricingError, match="fast mode is not available with the Message Batches"):
        cost_of(
            message(model="claude-opus-4-6", input_tokens=1),
            batch=True,
            speed="fast",
            on=date(2026, 3, 20),
        )


def test_the_pricing_day_is_a_date_or_a_datetime() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert cost_of(message(input_tokens=10), on=moment).on == ON
    with pytest.raises(PricingError, match="on: expected a date"):
        cost_of(message(input_tokens=10), on="2026-11-24")  # type: ignore[arg-type]


def test_the_result_is_frozen() -> None:
    result = cost_of(message(input_tokens=1), on=ON)
    with pytest.raises(AttributeError):
        result.total = Decimal(0)  # type: ignore[misc]


def test_cost_of_is_the_public_name() -> None:
    assert costmodel.cost_of is cost_of and "shell edge" in (cost_of.__doc__ or "")


# -- properties ----------------------------------------------------------------------------------
counts = st.integers(min_value=0, max_value=20_000)
# Claude Haiku 4.5 has no long-context tier, so its cost is linear in every count.
LINEAR_MODEL = "claude-haiku-4-5"


def usage_of(i: int, o: int, w5: int, w1: int, r: int, s: int) -> dict[str, Any]:
    return {
        "input_tokens": i,
        "output_tokens": o,
        "cache_creation_input_tokens": w5 + w1,
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
        "cache_read_input_tokens": r,
        "server_tool_use": {"web_search_requests": s, "web_fetch_requests": 0},
    }


@settings(max_examples=60, deadline=None)
@given(counts, counts, counts, counts, counts, st.integers(0, 50), st.integers(1, 1000))
def test_cost_is_linear_in_every_count(
    i: int, o: int, w5: int, w1: int, r: int, s: int, k: int
) -> None:
    one = cost_of(usage_of(i, o, w5, w1, r, s), model=LINEAR_MODEL, on=ON)
    many = cost_of(usage_of(i * k, o * k, w5 * k, w1 * k, r * k, s * k), model=LINEAR_MODEL, on=ON)
    assert many.total == one.total * k  # exact: Decimal, no rounding


@settings(max_examples=60, deadline=None)
@given(counts, counts, counts, counts, counts, st.integers(0, 50))
def test_batch_is_the_catalogues_multiplier_of_standard(
    i: int, o: int, w5: int, w1: int, r: int, s: int
) -> None:
    usage = usage_of(i, o, w5, w1, r, s)
    standard = cost_of(usage, model=LINEAR_MODEL, on=ON, catalogue=CATALOGUE)
    batch = cost_of(usage, model=LINEAR_MODEL, on=ON, catalogue=CATALOGUE, batch=True)
    assert CATALOGUE.batch_multiplier == Decimal("0.5")
    web = standard.cost("web_search")
    discounted = web * CATALOGUE.batch_multiplier if CATALOGUE.batch_discounts_web_search else web
    assert batch.total == (standard.total - web) * CATALOGUE.batch_multiplier + discounted


@pytest.mark.parametrize("model", sorted(m for m, e in CATALOGUE.models.items() if e.prices))
def test_zero_usage_costs_zero_on_every_priced_model(model: str) -> None:
    entry = CATALOGUE.models[model]
    day = entry.prices[-1].effective_from
    result = cost_of({"input_tokens": 0, "output_tokens": 0}, model=model, on=day)
    assert result.total == Decimal(0) and result.lines == () and result.billed
