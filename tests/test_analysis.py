"""What-if curves, tornado and waterfall: each point is the run it stands for, priced at once."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import scenarios

import costmodel.core.analysis
from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario as _load_scenario
from costmodel.core.analysis import (
    DEFAULT_FACTORS,
    SENSITIVITY_COLUMNS,
    analyse,
    batch_share_curve,
    plan_costs,
    sensitivity,
    tornado,
    volume_curve,
    waterfall_steps,
)
from costmodel.core.catalogue import Contract
from costmodel.core.report import run_scenario
from costmodel.core.scenario import Scenario

# Every figure here is priced on a pinned day, never today's date: a scenario without its own
# price_date gets this one.
PRICE_DAY = date(2026, 11, 24)


def load_scenario(path: Path) -> Scenario:
    loaded = _load_scenario(path)
    return loaded if loaded.price_date else replace(loaded, price_date=PRICE_DAY)


SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
CATALOGUE = bundled_catalogue()


@pytest.fixture(params=SCENARIOS, ids=lambda p: p.stem)
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return load_scenario(request.param)


def _run(s: Scenario, catalogue=CATALOGUE):  # type: ignore[no-untyped-def]
    return run_scenario(s, catalogue)


def test_doctests() -> None:
    assert doctest.testmod(costmodel.core.analysis).failed == 0


# -- the volume curve ---------------------------------------------------------------------------
def test_volume_curve_at_factor_one_is_the_run(scenario: Scenario) -> None:
    run = _run(scenario)
    curve = volume_curve(scenario, CATALOGUE)
    today = curve[np.isclose(curve["factor"], 1.0)].iloc[0]
    assert today["cost_sync"] == pytest.approx(run.cost_sync, rel=1e-12)
    assert today["cost_batch"] == pytest.approx(run.cost_batch, rel=1e-12)
    assert today["requests"] == pytest.approx(run.requests, rel=1e-12)
    assert curve.attrs["currency"] == run.currency
    if run.margin is None:
        assert curve["gross_margin_sync_pct"].isna().all()
    else:
        assert today["gross_margin_sync_pct"] == pytest.approx(run.margin.gross_margin_sync_pct)
        assert today["gross_margin_batch_pct"] == pytest.approx(run.margin.gross_margin_batch_pct)


def test_volume_curve_spans_a_tenth_to_ten_times(scenario: Scenario) -> None:
    curve = volume_curve(scenario, CATALOGUE)
    assert len(curve) == len(DEFAULT_FACTORS) == 25
    assert curve["factor"].iloc[0] == pytest.approx(0.1)
    assert curve["factor"].iloc[-1] == pytest.approx(10.0)
    assert list(curve.columns) == [
        "factor",
        "requests",
        "cost_sync",
        "cost_batch",
        "savings",
        "gross_margin_sync_pct",
        "gross_margin_batch_pct",
    ]


def test_cost_is_linear_in_volume(scenario: Scenario) -> None:
    curve = volume_curve(scenario, CATALOGUE, factors=[0.1, 0.5, 1, 3, 10])
    base = curve.iloc[2]
    for column in ("cost_sync", "cost_batch", "savings", "requests"):
        np.testing.assert_allclose(curve[column], curve["factor"] * base[column], rtol=1e-12)


def test_margin_falls_as_volume_grows() -> None:
    s = load_scenario(SCENARIOS[0].parent / "claims-triage.yaml")
    curve = volume_curve(s, CATALOGUE)
    assert curve["gross_margin_sync_pct"].is_monotonic_decreasing
    assert (curve["gross_margin_batch_pct"] >= curve["gross_margin_sync_pct"]).all()


# -- the batch-share curve ----------------------------------------------------------------------
def test_share_curve_at_the_scenarios_share_is_the_run(scenario: Scenario) -> None:
    # Give every workload one share (the curve sets them all), then read that point.
    uniform = replace(
        scenario, workloads=tuple(replace(w, batch_share=0.35) for w in scenario.workloads)
    )
    run = _run(uniform)
    curve = batch_share_curve(uniform, CATALOGUE, shares=[0, 0.35, 1])
    point = curve.iloc[1]
    assert point["cost_sync"] == pytest.approx(run.cost_sync, rel=1e-12)
    assert point["cost_batch"] == pytest.approx(run.cost_batch, rel=1e-12)
    assert point["savings"] == pytest.approx(run.savings, rel=1e-9, abs=1e-9)
    assert point["savings_pct"] == pytest.approx(run.savings_pct, rel=1e-9, abs=1e-9)


def test_worked_example_share_points() -> None:
    s = load_scenario(SCENARIOS[0].parent / "document-summarisation.yaml")
    curve = batch_share_curve(s, CATALOGUE).set_index("share")
    assert curve.loc[1.0, "cost_batch"] == pytest.approx(427.50, abs=0.005)
    assert curve.loc[0.0, "cost_batch"] == pytest.approx(855.00, abs=0.005)
    assert curve.loc[0.0, "savings"] == 0


def test_savings_are_linear_in_the_share(scenario: Scenario) -> None:
    curve = batch_share_curve(scenario, CATALOGUE)
    full = curve["savings"].iloc[-1]
    np.testing.assert_allclose(curve["savings"], curve["share"] * full, rtol=1e-9, atol=1e-9)
    assert (curve["cost_sync"] == curve["cost_sync"].iloc[0]).all()
    assert (curve["cost_batch"] <= curve["cost_sync"] + 1e-9).all()


def test_shares_outside_zero_to_one_are_refused(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match="from 0 to 1"):
        batch_share_curve(scenario, CATALOGUE, shares=[0.5, 1.2])


# -- the tornado --------------------------------------------------------------------------------
def _slow_figure(s: Scenario) -> float:
    run = _run(s)
    return run.margin.gross_margin_batch_pct if run.margin else run.cost_batch


def test_tornado_equals_sensitivity_priced_one_run_at_a_time(scenario: Scenario) -> None:
    fast = tornado(scenario, CATALOGUE)
    slow = sensitivity(scenario, _slow_figure, step=0.2)
    assert list(fast.columns) == list(SENSITIVITY_COLUMNS)
    assert fast["input"].tolist() == slow["input"].tolist()
    for column in SENSITIVITY_COLUMNS[1:]:
        np.testing.assert_allclose(fast[column], slow[column], rtol=1e-9, atol=1e-9)
    assert fast.attrs["base_result"] == pytest.approx(slow.attrs["base_result"], rel=1e-12)


def test_tornado_is_sorted_by_swing_largest_first(scenario: Scenario) -> None:
    frame = tornado(scenario, CATALOGUE)
    assert len(frame) > 0
    assert frame["swing"].is_monotonic_decreasing
    assert (frame["swing"] >= 0).all()


def test_tornado_studies_margin_with_a_business_block_else_cost() -> None:
    folder = SCENARIOS[0].parent
    with_business = tornado(load_scenario(folder / "claims-triage.yaml"), CATALOGUE)
    assert with_business.attrs["unit"] == "percent"
    assert with_business.attrs["base_result"] == pytest.approx(89.79375)
    without = tornado(load_scenario(folder / "document-summarisation.yaml"), CATALOGUE)
    assert without.attrs["unit"] == "money"
    assert without.attrs["base_result"] == pytest.approx(427.50)
    # Volume moves the bill most: 20% more contracts is 20% more cost.
    assert without.iloc[0]["input"] == "contract-summary: volume"
    assert without.iloc[0]["high_result"] == pytest.approx(513.00)


# -- pricing many variants at once --------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_workloads=3))
def test_plan_costs_match_run_scenario(s: Scenario) -> None:
    s = replace(s, price_date=s.price_date or PRICE_DAY)
    run = run_scenario(s, CATALOGUE)
    sync, batch = plan_costs([s, s], CATALOGUE, on=run.price_date, fx=s.currency)
    np.testing.assert_allclose(sync, [run.cost_sync] * 2, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(batch, [run.cost_batch] * 2, rtol=1e-9, atol=1e-9)


def test_plan_costs_of_different_scenarios_in_one_pass() -> None:
    loaded = [load_scenario(path) for path in SCENARIOS if path.stem != "reference"]
    sync, batch = plan_costs(loaded, CATALOGUE, on=PRICE_DAY)
    for s, cost_sync, cost_batch in zip(loaded, sync, batch, strict=True):
        run = _run(s)
        assert cost_sync == pytest.approx(run.cost_sync, rel=1e-12)
        assert cost_batch == pytest.approx(run.cost_batch, rel=1e-12)


def test_curves_use_contracted_prices_and_the_scenarios_currency() -> None:
    s = load_scenario(SCENARIOS[0].parent / "reference.yaml")  # EUR at 0.86
    discounted = CATALOGUE.with_contract(
        Contract("what-if", "test", None, {("*", "*"): Decimal("0.8")})
    )
    run = run_scenario(s, discounted)
    assert run.currency == "EUR"
    curve = volume_curve(s, discounted, factors=[1.0])
    assert curve.attrs["currency"] == "EUR"
    assert curve["cost_sync"].iloc[0] == pytest.approx(run.cost_sync, rel=1e-12)
    assert curve["cost_batch"].iloc[0] == pytest.approx(run.cost_batch, rel=1e-12)
    list_price = volume_curve(s, CATALOGUE, factors=[1.0])["cost_sync"].iloc[0]
    assert curve["cost_sync"].iloc[0] == pytest.approx(0.8 * list_price, rel=1e-12)


# -- the waterfall ------------------------------------------------------------------------------
def test_waterfall_steps_add_up_to_gross_profit() -> None:
    run = _run(load_scenario(SCENARIOS[0].parent / "claims-triage.yaml"))
    steps = waterfall_steps(run)
    assert steps["plan"].unique().tolist() == ["Sync", "Batch plan"]
    for plan, profit in (
        ("Sync", run.margin.gross_profit_sync),
        ("Batch plan", run.margin.gross_profit_batch),
    ):
        rows = steps[steps["plan"] == plan].set_index("step")
        assert rows["measure"].tolist() == ["absolute", "relative", "relative", "total"]
        parts = rows.loc[["Revenue", "Other COGS", "Inference"], "amount"].sum()
        assert parts == pytest.approx(profit)
        assert rows.loc["Gross profit", "amount"] == pytest.approx(profit)
    assert steps.set_index(["plan", "step"]).loc[("Sync", "Inference"), "amount"] == -412.5


def test_waterfall_is_empty_without_a_business_block() -> None:
    run = _run(load_scenario(SCENARIOS[0].parent / "document-summarisation.yaml"))
    assert waterfall_steps(run).empty


# -- everything at once -------------------------------------------------------------------------
def test_analyse_prices_everything_as_the_separate_functions_do(scenario: Scenario) -> None:
    result = analyse(scenario, CATALOGUE)
    assert result.run.cost_sync == _run(scenario).cost_sync
    pd.testing.assert_frame_equal(result.volume, volume_curve(scenario, CATALOGUE))
    pd.testing.assert_frame_equal(result.shares, batch_share_curve(scenario, CATALOGUE))
    pd.testing.assert_frame_equal(result.tornado, tornado(scenario, CATALOGUE))
    pd.testing.assert_frame_equal(result.waterfall, waterfall_steps(result.run))
    assert result.currency == result.run.currency


# -- issue 8, items 16 and 19 ---------------------------------------------------------------------
def _many_workloads(n: int) -> Scenario:
    """A business with ``n`` varied workloads (several models, shares, long prompts)."""
    from costmodel.adapters.scenario_files import parse_scenario

    models = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-3-5-sonnet")
    rows = "".join(
        f"  - {{name: job-{i}, model: {models[i % 3]}, requests: {{count: {50 + i}, per: day}}, "
        f"input_tokens: {1000 + (i * 7919) % 210_000}, output_tokens: {100 + i % 900}, "
        f"cache_read_tokens: {(i * 13) % 4000}, batch_share: {(i % 5) / 4}}}\n"
        for i in range(n)
    )
    return parse_scenario(
        # Priced on a day Sonnet 4.5 still took prompts over 200K (its long-context tier).
        f"name: many\nprice_date: 2026-04-01\n"
        f"business: {{revenue: 5000000, other_cogs: 100000}}\nworkloads:\n{rows}"
    )


def test_analyse_prices_a_number_of_rows_linear_in_the_workloads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Item 16: each curve point and tornado variant used to price every workload again
    # (250 workloads took 17.5 s). Count the rows the one pricing pass is given.
    priced_rows: list[int] = []
    real = costmodel.core.analysis.price_usage

    def counting(usage: pd.DataFrame, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        priced_rows.append(len(usage))
        return real(usage, *args, **kwargs)

    monkeypatch.setattr(costmodel.core.analysis, "price_usage", counting)
    for n in (10, 40):
        priced_rows.clear()
        analyse(_many_workloads(n), CATALOGUE)
        # One pass: each workload and two variants per token count set, a sync and a batch row
        # each (the old code priced every workload again for every point: quadratic).
        assert len(priced_rows) == 1
        assert priced_rows[0] <= 3 * n * (1 + 2 * 3)


def test_a_thousand_workloads_analyse_whole() -> None:
    # How fast is benchmarks/dashboard.py's job (about 0.2 s here; 205 s before the one-pass
    # pricing); the work bound is the pricing-pass test above. This one checks the figures.
    scenario = _many_workloads(1000)
    result = analyse(scenario, CATALOGUE)
    assert len(result.tornado) > 3000
    assert result.volume["cost_sync"].iloc[0] == pytest.approx(0.1 * result.run.cost_sync)


def test_tornado_of_many_workloads_equals_sensitivity() -> None:
    s = _many_workloads(12)
    fast = tornado(s, CATALOGUE)
    slow = sensitivity(s, _slow_figure, step=0.2)
    assert sorted(fast["input"]) == sorted(slow["input"])
    merged = fast.merge(slow, on="input", suffixes=("", "_slow"))
    for column in SENSITIVITY_COLUMNS[1:]:
        np.testing.assert_allclose(merged[column], merged[f"{column}_slow"], rtol=1e-9, atol=1e-9)


def test_share_curve_keeps_what_the_plan_keeps_synchronous() -> None:
    # Item 19: the curve moved every workload to the same share, so the support platform
    # "saved" by batching live chat, which its plan keeps synchronous.
    s = load_scenario(SCENARIOS[0].parent / "support-platform.yaml")
    run = _run(s)
    curve = batch_share_curve(s, CATALOGUE)
    assert curve.attrs["varied"] == ("nightly-analytics",)
    assert curve.attrs["fixed"] == ("live-chat",)
    # At 100% the curve is the plan itself: only the nightly analytics are batched.
    assert curve["savings"].iloc[-1] == pytest.approx(run.savings, rel=1e-9)
    assert curve["savings"].iloc[-1] == pytest.approx(155.25, abs=0.005)
    assert curve.attrs["plan_share"] == 1.0
    assert curve.attrs["plan_cost_batch"] == pytest.approx(run.cost_batch, rel=1e-12)


def test_share_curve_marks_a_plan_of_mixed_shares_where_it_lies() -> None:
    s = load_scenario(SCENARIOS[0].parent / "support-platform.yaml")
    mixed = replace(
        s,
        workloads=(
            s.workloads[0],
            replace(s.workloads[1], batch_share=0.5),
            replace(s.workloads[1], name="reports", batch_share=1.0),
        ),
    )
    run = _run(mixed)
    curve = batch_share_curve(mixed, CATALOGUE, shares=np.linspace(0, 1, 101))
    x = curve.attrs["plan_share"]
    assert 0.5 < x < 1.0
    at_plan = np.interp(x, curve["share"], curve["savings"])
    assert at_plan == pytest.approx(run.savings, rel=1e-9)


def test_share_curve_of_a_plan_that_batches_nothing_moves_every_workload() -> None:
    s = load_scenario(SCENARIOS[0].parent / "claims-triage.yaml").with_workload(0, batch_share=0.0)
    curve = batch_share_curve(s, CATALOGUE)
    assert curve.attrs["batches_nothing"] is True
    assert curve["savings"].iloc[-1] == pytest.approx(206.25)
    assert curve.attrs["plan_share"] == 0.0
