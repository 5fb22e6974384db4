"""The bundled scenarios reproduce the source article's worked examples to the cent.

Figures are computed by hand at the article's prices for Claude 3.5 Sonnet, $3 input and $15
output per million tokens, batch 50% off, 30 days a month (see each scenario's comments for
where the article's own arithmetic differs). The hybrid and reference scenarios are priced by
hand from the catalogue's rates for Sonnet 4.5 ($3 / $15 / $3.75 cache write / $0.30 cache
read, $10 per 1,000 web searches, not discounted in batch) and Haiku 4.5 ($1 / $5 / $1.25 /
$0.10).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario
from costmodel.core.margin import margin_impact
from costmodel.core.planning import usage_for_plan
from costmodel.core.pricing import price_usage
from costmodel.core.scenario import Scenario, Volume

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CENT = 0.005
GOLDEN_DAY = date(2026, 11, 24)  # pinned: a golden figure never depends on today's date

# file: (sync USD a month, batch plan USD a month)
GOLDEN = {
    "document-summarisation.yaml": (855.00, 427.50),
    "claims-triage.yaml": (412.50, 206.25),
    "agentic-research.yaml": (49.40, 24.70),
    "claims-case-study.yaml": (52.50, 26.25),
    "support-platform.yaml": (4_414.50, 4_259.25),
    "reference.yaml": (1_026.60, 749.58),
}


def monthly_cost(s: Scenario, plan: str) -> float:
    day = s.price_date or GOLDEN_DAY
    return price_usage(usage_for_plan(s, plan), bundled_catalogue(), on=day).total


def test_every_bundled_scenario_has_a_golden_figure() -> None:
    assert {p.name for p in SCENARIOS.glob("*.yaml")} == set(GOLDEN)


@pytest.mark.parametrize(("name", "expected"), GOLDEN.items(), ids=list(GOLDEN))
def test_bundled_scenario_to_the_cent(name: str, expected: tuple[float, float]) -> None:
    s = load_scenario(SCENARIOS / name)
    sync, batch = expected
    assert monthly_cost(s, "sync") == pytest.approx(sync, abs=CENT)
    assert monthly_cost(s, "batch") == pytest.approx(batch, abs=CENT)


def test_document_summarisation_per_day_and_per_year() -> None:
    s = load_scenario(SCENARIOS / "document-summarisation.yaml")
    assert monthly_cost(s, "sync") / s.days_per_month == pytest.approx(28.50, abs=CENT)
    assert monthly_cost(s, "batch") / s.days_per_month == pytest.approx(14.25, abs=CENT)
    # The article's "$51K annually" is $5,130 a year.
    savings = monthly_cost(s, "sync") - monthly_cost(s, "batch")
    assert savings * 12 == pytest.approx(5_130.00, abs=CENT)


def test_agentic_research_at_the_articles_10400_a_month() -> None:
    # The article's volume (a year of 200 briefs a week) priced as if it were a month.
    s = load_scenario(SCENARIOS / "agentic-research.yaml")
    assert s.workloads[0].requests.per_month(s.days_per_month) == pytest.approx(866.67, abs=0.005)
    as_article = s.with_workload(0, requests=Volume(10_400, "month"))
    sync, batch = monthly_cost(as_article, "sync"), monthly_cost(as_article, "batch")
    assert sync == pytest.approx(592.80, abs=CENT)
    assert batch == pytest.approx(296.40, abs=CENT)
    assert s.business is not None
    m = margin_impact(
        s.business.revenue, s.business.other_cogs, sync, batch, customers=s.business.customers
    )
    assert s.business.revenue == 9_900  # 100 customers at $99
    assert m.savings_per_customer == pytest.approx(2.96, abs=CENT)


def test_agentic_research_per_customer_at_200_a_week() -> None:
    s = load_scenario(SCENARIOS / "agentic-research.yaml")
    assert s.business is not None
    m = margin_impact(
        s.business.revenue,
        s.business.other_cogs,
        monthly_cost(s, "sync"),
        monthly_cost(s, "batch"),
        customers=s.business.customers,
    )
    assert m.savings_per_customer == pytest.approx(0.25, abs=CENT)


def test_claims_case_study_per_claim() -> None:
    s = load_scenario(SCENARIOS / "claims-case-study.yaml")
    claims = s.workloads[0].requests.per_month(s.days_per_month)
    assert monthly_cost(s, "sync") / claims == pytest.approx(0.0105, abs=1e-9)
    # The article's $750 a month is about 14 times the right figure.
    assert 750 / monthly_cost(s, "sync") == pytest.approx(14.3, abs=0.05)


def test_claims_triage_margin_and_the_articles_equivalent_revenue() -> None:
    s = load_scenario(SCENARIOS / "claims-triage.yaml")
    assert s.business is not None
    m = margin_impact(
        s.business.revenue, s.business.other_cogs, monthly_cost(s, "sync"), monthly_cost(s, "batch")
    )
    assert m.gross_margin_sync_pct == pytest.approx(89.5875, abs=1e-9)
    assert m.gross_margin_batch_pct == pytest.approx(89.79375, abs=1e-9)
    assert m.delta_pp == pytest.approx(0.20625, abs=1e-9)
    # Ten such pipelines save about $2,000 a month; at 70% margin that is $2,857.14 of revenue.
    at_70 = margin_impact(10_000, 1_000, 2_000, 0)
    assert at_70.equivalent_revenue == pytest.approx(2_857.14, abs=CENT)


def test_the_articles_margin_example() -> None:
    m = margin_impact(100_000, 10_000, 10_000, 5_000)
    assert (m.gross_margin_sync_pct, m.gross_margin_batch_pct) == pytest.approx((80.0, 85.0))
    assert m.delta_pp == pytest.approx(5.0, abs=1e-9)


def test_the_hybrid_plan_saves_only_on_what_can_wait() -> None:
    s = load_scenario(SCENARIOS / "support-platform.yaml")
    sync, batch = monthly_cost(s, "sync"), monthly_cost(s, "batch")
    assert sync - batch == pytest.approx(155.25, abs=CENT)  # half of the analytics bill
    live_chat = price_usage(usage_for_plan(s, "sync"), bundled_catalogue(), on=GOLDEN_DAY).costs[
        "cost"
    ][0]
    assert live_chat / sync == pytest.approx(0.93, abs=0.005)
