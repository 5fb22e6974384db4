"""Reconciliation: the catalogue's cost of reported usage beside the report, golden by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.ingest.org import admin_client, pull_org_report
from costmodel.adapters.synthetic_org import generate_org_report
from costmodel.core.reconcile import TokenCounts, cents, exact_cost, reconcile, reconciliation_rows
from tests.fake_analytics_api import FakeAnalyticsAPI
from tests.test_assess import CATALOGUE


def usage(
    day: int, model: str, tier: str, inp: int, out: int, *, window="0-200k", geo=None, **extra
):
    return {
        "day": date(2026, 11, day),
        "model": model,
        "service_tier": tier,
        "context_window": window,
        "inference_geo": geo,
        "requests": extra.pop("requests", 10),
        "uncached_input_tokens": inp,
        "output_tokens": out,
        **extra,
    }


def cost(day: int, model: str, tier: str, token_type: str, list_cents: str, discount="0.2"):
    listed = Decimal(list_cents)
    return {
        "day": date(2026, 11, day),
        "model": model,
        "service_tier": tier,
        "cost_type": "tokens",
        "token_type": token_type,
        "list_amount_cents": listed,
        "amount_cents": listed * (1 - Decimal(discount)),
    }


USAGE = [
    # Day 2: model-a, both context windows: 3 + 1.5 + 0.15 = 4.65, and 6 + 0.225 = 6.225
    usage(2, "model-a", "standard", 1_000_000, 100_000, cache_read_input_tokens=500_000),
    usage(2, "model-a", "standard", 1_000_000, 10_000, window="200k-1M"),
    usage(2, "model-b", "batch", 2_000_000, 200_000),  # (2 + 1) x 0.5 = 1.50
    usage(2, "model-b", "standard", 1_000_000, 0),  # 1.00, plus 0.05 for the US half
    usage(2, "model-a", "priority", 1_000, 10),
    usage(3, "model-a", "standard", 1_000, 10),  # no cost rows
    usage(5, "model-a", "standard", 1_000_000, 0),  # reported 10% above the catalogue
    usage(6, "model-a", "standard", 1_000_000, 0),  # reported 0.3% above: within tolerance
]
COST = [
    cost(2, "model-a", "standard", "uncached_input_tokens", "900"),
    cost(2, "model-a", "standard", "output_tokens", "172.5"),
    cost(2, "model-a", "standard", "cache_read_input_tokens", "15"),
    cost(2, "model-b", "batch", "uncached_input_tokens", "100"),
    cost(2, "model-b", "batch", "output_tokens", "50"),
    cost(2, "model-b", "standard", "uncached_input_tokens", "105"),
    cost(2, "model-a", "priority", "uncached_input_tokens", "0.6"),
    cost(4, "model-b", "standard", "uncached_input_tokens", "3"),  # no usage rows
    cost(5, "model-a", "standard", "uncached_input_tokens", "330"),
    cost(6, "model-a", "standard", "uncached_input_tokens", "300.9"),
]
GEO = [
    usage(2, "model-b", "standard", 500_000, 0, geo="us"),
    usage(2, "model-b", "standard", 500_000, 0, geo="global"),
]


def test_exact_cost_is_integer_tokens_times_decimal_rates() -> None:
    priced = exact_cost(
        CATALOGUE,
        "model-a",
        date(2026, 11, 2),
        "standard",
        TokenCounts(input_tokens=1_234_567, output_tokens=89, web_search_requests=3),
    )
    assert priced.total == Decimal("3.703701") + Decimal("0.001335") + Decimal("0.03")
    assert cents(Decimal("0.125")) == Decimal("0.13") and cents(Decimal("-0.125")) == Decimal(
        "-0.13"
    )


def test_golden_cells_computed_by_hand() -> None:
    result = reconcile(USAGE, COST, CATALOGUE, geo_rows=GEO)
    cells = {(c.day.day, c.model, c.tier): c for c in result.cells}
    a = cells[(2, "model-a", "standard")]
    assert a.catalogue_usd == Decimal("10.875") and a.list_usd == Decimal("10.875")
    assert a.amount_usd == Decimal("8.7") and a.effective_discount_pct == Decimal("20")
    assert a.flags == []
    b_batch = cells[(2, "model-b", "batch")]
    assert b_batch.catalogue_usd == Decimal("1.5") and not b_batch.flags
    b = cells[(2, "model-b", "standard")]
    assert b.catalogue_usd == Decimal("1.05") and not b.flags  # the US half at 1.1
    assert cells[(2, "model-a", "priority")].flags == ["unpriced"]
    assert (
        "'priority' service tier has no public price" in cells[(2, "model-a", "priority")].unpriced
    )
    assert cells[(3, "model-a", "standard")].flags == ["usage without cost rows"]
    assert cells[(4, "model-b", "standard")].flags == ["cost without usage rows"]
    missing_rows = reconcile(USAGE[5:6], [], CATALOGUE)  # usage, no cost rows: exit 3
    assert missing_rows.exit_code == 3
    assert reconcile(USAGE[4:5], COST[6:7], CATALOGUE).exit_code == 0  # unpriced only
    five = cells[(5, "model-a", "standard")]
    assert five.flags == ["beyond tolerance"] and five.difference_usd == Decimal("0.3")
    assert five.hints[0] == "most of the difference is in input: reported $3.30, catalogue $3.00"
    assert cells[(6, "model-a", "standard")].flags == []  # 0.3% is within 0.5%
    assert result.exit_code == 3
    rows = {(r["day"], r["model"], r["tier"]): r for r in reconciliation_rows(result)}
    assert rows[("2026-11-02", "model-a", "standard")]["catalogue_usd"] == Decimal(
        "10.88"
    )  # 10.875 rounded half away from zero


def test_without_the_geo_split_a_surcharge_sized_gap_is_pointed_out() -> None:
    result = reconcile(USAGE, COST, CATALOGUE)
    b = next(c for c in result.cells if (c.day.day, c.model, c.tier) == (2, "model-b", "standard"))
    assert b.catalogue_usd == Decimal("1") and b.flags == ["beyond tolerance"]
    assert any(
        "US-only inference surcharge (1.1x) on about 50% of the tokens" in h for h in b.hints
    )


def test_a_clean_report_exits_0_and_the_tolerance_is_a_share_of_the_list() -> None:
    # Reported $3.30 against the catalogue's $3.00: 0.30 is 9.09% of the list amount.
    clean = reconcile(USAGE[6:7], COST[8:9], CATALOGUE, tolerance=Decimal("0.091"))
    assert clean.exit_code == 0
    assert reconcile(USAGE[6:7], COST[8:9], CATALOGUE, tolerance=Decimal("0.09")).exit_code == 3


def test_batch_results_in_the_store_against_the_report_batch_tier() -> None:
    store = {
        (date(2026, 11, 2), "model-b"): Decimal("1.50"),
        (date(2026, 11, 3), "model-b"): Decimal("2"),
    }
    result = reconcile(USAGE, COST, CATALOGUE, geo_rows=GEO, store_batch_usd=store)
    checks = {c.day.day: c for c in result.batch_checks}
    assert not checks[2].beyond_tolerance and checks[2].report_list_usd == Decimal("1.5")
    assert checks[3].beyond_tolerance and checks[3].report_list_usd is None


def test_a_pulled_synthetic_report_reconciles_except_its_unpriced_tiers() -> None:
    facts = generate_org_report(since=date(2026, 11, 1), days=5, seed=3, requests_per_day=120)
    with FakeAnalyticsAPI(facts=facts, page_cap=50) as api:
        client = admin_client(environ={"ANTHROPIC_ADMIN_KEY": api.api_key}, base_url=api.base_url)
        report = pull_org_report(
            client, date(2026, 11, 1), date(2026, 11, 5), today=date(2026, 12, 1)
        )
    result = reconcile(report.usage, report.cost, bundled_catalogue(), geo_rows=report.geo_usage)
    flagged = {(c.tier, tuple(c.flags)) for c in result.flagged}
    assert flagged == {("priority", ("unpriced",))}
    assert result.exit_code == 0  # unpriced cells are flagged, not failures
    priced = [c for c in result.cells if c.catalogue_usd is not None]
    assert priced and all(c.catalogue_usd == c.list_usd for c in priced)  # exact, to the digit
    assert all(c.effective_discount_pct == Decimal("10") for c in priced)
    totals = result.totals()
    assert totals["amount_usd"] == sum((r.amount_usd for r in report.cost), Decimal(0))


def test_the_demo_report_equals_a_pull_of_the_same_facts() -> None:
    from costmodel.adapters.synthetic_org import demo_org_report

    facts = generate_org_report(since=date(2026, 10, 20), days=20, seed=5, requests_per_day=60)
    demo = demo_org_report(facts, since=date(2026, 10, 20), until=date(2026, 11, 8))
    with FakeAnalyticsAPI(facts=facts, page_cap=40) as api:
        client = admin_client(environ={"ANTHROPIC_ADMIN_KEY": api.api_key}, base_url=api.base_url)
        pulled = pull_org_report(
            client, date(2026, 10, 20), date(2026, 11, 8), today=date(2026, 12, 1)
        )
    assert sorted(demo.usage, key=repr) == sorted(pulled.usage, key=repr)
    assert sorted(demo.cost, key=repr) == sorted(pulled.cost, key=repr)
    assert len(demo.windows) == 1 and demo.tiers == ["batch", "priority", "standard"]
    # Seeded: the same arguments give the same report, another seed another one.
    again = generate_org_report(since=date(2026, 10, 20), days=20, seed=5, requests_per_day=60)
    other = generate_org_report(since=date(2026, 10, 20), days=20, seed=6, requests_per_day=60)
    assert again == facts and other != facts


def test_usage_not_split_by_context_window_points_at_the_long_context_tier() -> None:
    unsplit = [{**usage(5, "model-a", "standard", 1_000_000, 0), "context_window": None}]
    result = reconcile(unsplit, COST[8:9], CATALOGUE, geo_rows=GEO)
    (cell,) = result.cells
    assert cell.flags == ["beyond tolerance"]
    assert any("not split by context window" in hint for hint in cell.hints)
    split = reconcile(USAGE[6:7], COST[8:9], CATALOGUE, geo_rows=GEO)
    assert not any("context window" in hint for hint in split.cells[0].hints)


def test_the_reconciliation_renders_in_every_format() -> None:
    import json

    from costmodel.adapters.render import render

    store = {(date(2026, 11, 3), "model-b"): Decimal("2")}
    result = reconcile(USAGE, COST, CATALOGUE, geo_rows=GEO, store_batch_usd=store)
    data = json.loads(render(result, "json"))
    assert data["exit_code"] == 3 and data["tolerance_pct"] == 0.5
    cell = next(c for c in data["cells"] if c["day"] == "2026-11-05")
    assert cell["difference_usd"] == 0.3 and cell["flags"] == ["beyond tolerance"]
    table = render(result, "table", width=250)
    assert "usage without cost rows" in table and "$10.88" in table
    assert "Batch results in the store" in table
    assert render(result, "csv").startswith("Day,Model,Tier")


def test_doctests() -> None:
    import doctest

    import costmodel.adapters.ingest.org
    import costmodel.core.reconcile

    assert doctest.testmod(costmodel.core.reconcile).failed == 0
    assert doctest.testmod(costmodel.adapters.ingest.org).failed == 0
