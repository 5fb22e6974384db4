"""Result objects: a scenario run, comparisons, diffs and the price list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.core.report import compare_runs, diff_runs, price_list, run_scenario
from costmodel.core.scenario import Currency
from costmodel.errors import CostModelError

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = bundled_catalogue()
DAY = date(2026, 11, 24)
HYBRID = load_scenario(ROOT / "scenarios" / "support-platform.yaml")


@settings(max_examples=40, deadline=None)
@given(shares=st.lists(st.floats(0, 1), min_size=2, max_size=2))
def test_batch_plan_cost_interpolates_linearly_in_the_share(shares: list[float]) -> None:
    """cost(share) = sync - share x (sync - all batch), per workload, for any share."""
    base = HYBRID
    all_sync = run_scenario(
        replace(base, workloads=tuple(replace(w, batch_share=0.0) for w in base.workloads)),
        CATALOGUE,
        on=DAY,
    )
    all_batch = run_scenario(
        replace(base, workloads=tuple(replace(w, batch_share=1.0) for w in base.workloads)),
        CATALOGUE,
        on=DAY,
    )
    mixed = run_scenario(
        replace(
            base,
            workloads=tuple(
                replace(w, batch_share=s) for w, s in zip(base.workloads, shares, strict=True)
            ),
        ),
        CATALOGUE,
        on=DAY,
    )
    for i, share in enumerate(shares):
        sync = all_sync.workloads["cost_batch"].iloc[i]
        batch = all_batch.workloads["cost_batch"].iloc[i]
        expected = sync - share * (sync - batch)
        assert mixed.workloads["cost_batch"].iloc[i] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert batch <= mixed.workloads["cost_batch"].iloc[i] + 1e-9 <= sync + 2e-9


def test_run_totals_are_the_sum_of_workloads() -> None:
    run = run_scenario(HYBRID, CATALOGUE, on=DAY)
    assert run.cost_sync == pytest.approx(4414.50)
    assert run.cost_batch == pytest.approx(4259.25)
    assert run.savings == pytest.approx(155.25)
    assert run.to_dict()["totals"]["savings_pct"] == pytest.approx(100 * 155.25 / 4414.50, abs=1e-4)


def test_currency_converts_costs_revenue_and_cogs_alike() -> None:
    text = (ROOT / "scenarios" / "claims-triage.yaml").read_text()
    usd = run_scenario(parse_scenario(text), CATALOGUE, on=DAY)
    eur = run_scenario(
        parse_scenario(text),
        CATALOGUE,
        on=DAY,
        fx=Currency(code="EUR", per_usd=Decimal("0.5"), as_of=DAY, source="test"),
    )
    assert eur.cost_sync == pytest.approx(usd.cost_sync * 0.5)
    assert eur.margin is not None and usd.margin is not None
    # The business block is in the scenario's currency (USD here): shown in EUR, revenue and
    # other COGS convert at the same rate as inference, so the margin does not move.
    assert eur.margin.revenue == pytest.approx(usd.margin.revenue * 0.5)
    assert eur.margin.other_cogs == pytest.approx(usd.margin.other_cogs * 0.5)
    assert eur.to_dict()["margin"]["gross_margin_sync_pct"] == 89.5875
    assert eur.margin.gross_margin_batch_pct == usd.margin.gross_margin_batch_pct
    assert eur.to_dict()["fx"] == {
        "code": "EUR",
        "per_usd": 0.5,
        "as_of": "2026-11-24",
        "source": "test",
    }


def test_compare_refuses_mixed_currencies() -> None:
    usd = run_scenario(HYBRID, CATALOGUE, on=DAY)
    eur = run_scenario(
        HYBRID, CATALOGUE, on=DAY, fx=Currency(code="EUR", per_usd=Decimal(1), as_of=DAY)
    )
    assert compare_runs([usd, usd]).to_dict()["currency"] == "USD"
    with pytest.raises(CostModelError, match="different currencies"):
        compare_runs([usd, eur]).to_dict()
    with pytest.raises(CostModelError, match="cannot diff USD against EUR"):
        diff_runs(usd, eur)


def test_diff_of_a_scenario_with_itself_is_unchanged() -> None:
    run = run_scenario(HYBRID, CATALOGUE, on=DAY)
    diff = diff_runs(run, run)
    assert set(diff.lines["status"]) == {"unchanged"}
    assert diff.change == 0


def test_price_list_history_and_current() -> None:
    current = price_list(CATALOGUE, on=DAY).to_dict()
    ids = [m["model"] for m in current["models"]]
    assert "claude-sonnet-4-5" in ids and len(ids) == len(set(ids))
    history = price_list(CATALOGUE, model="claude-sonnet-5-5", on=DAY).to_dict()["models"]
    assert [h["from"] for h in history] == sorted(h["from"] for h in history)
    assert history[0]["to"] == history[1]["from"]
