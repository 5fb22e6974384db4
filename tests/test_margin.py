"""Gross margin, savings and sensitivity: hand-computed cases and hypothesis properties."""

from __future__ import annotations

import doctest
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scenarios

import costmodel.core.margin
from costmodel.adapters.scenario_files import parse_scenario
from costmodel.core.analysis import SENSITIVITY_COLUMNS, sensitivity
from costmodel.core.margin import MarginImpact, margin_impact
from costmodel.core.scenario import Business, Scenario
from costmodel.errors import ScenarioError

money = st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
revenues = st.floats(1, 1e9, allow_nan=False, allow_infinity=False)


# -- hand-computed cases ------------------------------------------------------------------------
def test_the_articles_margin_example() -> None:
    # Revenue 100,000; COGS 20,000 of which inference 10,000; batch halves inference.
    m = margin_impact(100_000, 10_000, 10_000, 5_000)
    assert (m.cogs_sync, m.cogs_batch) == (20_000, 15_000)
    assert (m.gross_profit_sync, m.gross_profit_batch) == (80_000, 85_000)
    assert m.gross_margin_sync_pct == pytest.approx(80.0, abs=1e-12)
    assert m.gross_margin_batch_pct == pytest.approx(85.0, abs=1e-12)
    assert m.delta_pp == pytest.approx(5.0, abs=1e-12)
    assert m.monthly_savings == 5_000
    assert m.annual_savings == 60_000
    assert m.savings_per_customer is None
    assert m.equivalent_revenue == pytest.approx(6_250, abs=0.005)  # 5,000 / 0.80


def test_savings_are_worth_savings_over_margin_of_new_revenue() -> None:
    # $2,000 a month saved at a 70% gross margin: the article says $6,700; it is $2,857.14.
    m = margin_impact(10_000, 1_000, 2_000, 0)
    assert m.gross_margin_sync_pct == pytest.approx(70.0)
    assert m.equivalent_revenue == pytest.approx(2_857.14, abs=0.005)


def test_savings_per_customer() -> None:
    # 100 customers at $99; batch saves $296.40 a month at the article's 10,400 briefs a month.
    m = margin_impact(9_900, 0, 592.80, 296.40, customers=100)
    assert m.monthly_savings == pytest.approx(296.40, abs=0.005)
    assert m.savings_per_customer == pytest.approx(2.96, abs=0.005)
    assert m.annual_savings == pytest.approx(3_556.80, abs=0.005)


def test_no_equivalent_revenue_without_a_positive_margin() -> None:
    assert margin_impact(100, 80, 20, 10).equivalent_revenue is None  # 0% margin
    assert margin_impact(100, 90, 20, 10).equivalent_revenue is None  # -10%
    assert margin_impact(100, 90, 20, 10).gross_margin_batch_pct == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((0, 0, 1, 1), "business.revenue"),
        ((-5, 0, 1, 1), "business.revenue"),
        ((math.nan, 0, 1, 1), "business.revenue"),
        ((100, -1, 1, 1), "business.other_cogs"),
        ((100, 0, -1, 1), "inference_sync"),
        ((100, 0, 1, math.inf), "inference_batch"),
    ],
)
def test_amounts_that_make_no_margin_are_refused(
    args: tuple[float, float, float, float], field: str
) -> None:
    with pytest.raises(ScenarioError, match=rf"^{field}: got .*; expected "):
        margin_impact(*args)
    with pytest.raises(ScenarioError, match=r"^business\.customers: got -1; expected"):
        margin_impact(100, 0, 1, 1, customers=-1)


# -- properties ---------------------------------------------------------------------------------
@given(revenues, money, money, money)
def test_delta_is_the_difference_of_the_margins(
    revenue: float, other: float, sync: float, batch: float
) -> None:
    m = margin_impact(revenue, other, sync, batch)
    assert m.delta_pp == pytest.approx(m.gross_margin_batch_pct - m.gross_margin_sync_pct)
    # ... which is the savings as a share of revenue: the discount itself never shows. (The
    # margins are differences of large numbers when costs dwarf revenue: allow for rounding.)
    rounding = 1e-12 * (revenue + other + sync + batch) / revenue * 100
    assert m.delta_pp == pytest.approx(m.monthly_savings / revenue * 100, rel=1e-9, abs=rounding)


@given(revenues, money, money, money, st.floats(0, 1000))
def test_savings_are_linear_in_inference_cost(
    revenue: float, other: float, sync: float, batch: float, factor: float
) -> None:
    base = margin_impact(revenue, other, sync, batch)
    scaled = margin_impact(revenue, other, sync * factor, batch * factor)
    assert scaled.monthly_savings == pytest.approx(
        base.monthly_savings * factor, rel=1e-9, abs=1e-6
    )
    assert scaled.annual_savings == pytest.approx(scaled.monthly_savings * 12)


@given(revenues, money, money, st.floats(0, 1), st.integers(1, 10_000))
def test_batch_never_lowers_the_margin_when_it_costs_less(
    revenue: float, other: float, sync: float, share: float, customers: int
) -> None:
    m = margin_impact(revenue, other, sync, sync * share, customers=customers)
    assert m.delta_pp >= -1e-9
    assert m.savings_per_customer == pytest.approx(m.monthly_savings / customers)
    if m.equivalent_revenue is not None:
        # New revenue at the sync margin earns exactly the savings in gross profit.
        gained = m.equivalent_revenue * m.gross_margin_sync_pct / 100
        assert gained == pytest.approx(m.monthly_savings, rel=1e-9, abs=1e-6)


# -- sensitivity --------------------------------------------------------------------------------
SCENARIO = parse_scenario(
    """\
name: tornado
business: {revenue: 10000, other_cogs: 1000, customers: 10}
workloads:
  - name: a
    model: claude-sonnet-4-5
    requests: {count: 100, per: day}
    input_tokens: 2000
    output_tokens: 500
    cache_read_tokens: 1000
    batch_share: 0.5
  - name: b
    model: claude-haiku-4-5
    requests: 10
    input_tokens: 10
    output_tokens: 10
"""
)


def toy_cost(s: Scenario) -> float:
    """A stand-in for pricing: tokens a month weighted like input and output rates."""
    total = 0.0
    for w in s.workloads:
        per_request = w.input_tokens * 3 + w.output_tokens * 15 + w.cache_read_tokens * 0.3
        total += w.requests.per_month(s.days_per_month) * per_request * (1 - w.batch_share / 2)
    return total / 1e6


def toy_margin(s: Scenario) -> float:
    business = s.business or Business(1.0)
    return (business.revenue - business.other_cogs - toy_cost(s)) / business.revenue * 100


def test_sensitivity_moves_each_set_input_down_and_up() -> None:
    frame = sensitivity(SCENARIO, toy_cost)
    assert tuple(frame.columns) == SENSITIVITY_COLUMNS
    assert set(frame["input"]) == {
        "a: volume",
        "a: input_tokens",
        "a: output_tokens",
        "a: cache_read_tokens",
        "a: batch_share",
        "b: volume",
        "b: input_tokens",
        "b: output_tokens",
        "b: batch_share",
        "business: revenue",
        "business: other_cogs",
    }  # inputs at 0 (b's cache tokens) cannot move and are left out
    row = frame.set_index("input").loc["a: volume"]
    assert (row["low_value"], row["high_value"]) == pytest.approx((80, 120))
    assert frame.attrs["base_result"] == pytest.approx(toy_cost(SCENARIO))
    # Cost does not depend on revenue: no swing.
    assert frame.set_index("input").loc["business: revenue", "swing"] == 0


def test_sensitivity_is_sorted_by_swing() -> None:
    frame = sensitivity(SCENARIO, toy_margin)
    assert list(frame["swing"]) == sorted(frame["swing"], reverse=True)
    assert frame.loc[0, "input"] == "business: revenue"
    assert (frame["swing"] == (frame["high_result"] - frame["low_result"]).abs()).all()


def test_a_batch_share_stays_within_0_and_1() -> None:
    everything = SCENARIO.with_workload(0, batch_share=1.0)
    row = sensitivity(everything, toy_cost, step=0.5).set_index("input").loc["a: batch_share"]
    assert (row["low_value"], row["high_value"]) == (0.5, 1.0)


@pytest.mark.parametrize("step", [0, -0.1, 1, 1.5])
def test_a_step_must_be_a_fraction(step: float) -> None:
    with pytest.raises(ValueError, match="step"):
        sensitivity(SCENARIO, toy_cost, step=step)


@given(scenarios(), st.floats(0.01, 0.99))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sensitivity_is_sorted_and_its_steps_symmetric(s: Scenario, step: float) -> None:
    frame = sensitivity(s, toy_cost, step=step)
    assert list(frame["swing"]) == sorted(frame["swing"], reverse=True)
    for row in frame.itertuples():
        if row.input.endswith("batch_share"):
            assert 0 <= row.low_value <= row.high_value <= 1
            continue
        base = (row.low_value + row.high_value) / 2
        assert row.low_value == pytest.approx(base * (1 - step))
        assert row.high_value == pytest.approx(base * (1 + step))


def test_margin_impact_is_a_plain_value() -> None:
    assert margin_impact(1, 0, 0, 0) == MarginImpact(1.0, 0.0, 0.0, 0.0, None)


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(costmodel.core.margin).failed == 0
