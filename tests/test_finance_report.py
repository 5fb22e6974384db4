"""The finance report's figures (costmodel/adapters/finance_report.py): each one equals what `usage
summary`, `org summary` and `reconcile` print for the same period, to the cent; the prediction's
gap splits into volume, token mix and price that add up to it exactly; caching's saving follows
the catalogue's rates; option and business files are checked like scenarios. Dates pinned.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_demo import MONTH, TODAY, demo_stores

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.finance_report import (
    FinanceReport,
    build_finance_report,
    decompose_gap,
    load_business,
    load_report_options,
    report_period,
)
from costmodel.adapters.report_layouts import markdown_report, report_tables
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.adapters.store import open_store
from costmodel.core.comparison import compare_with_actual
from costmodel.core.jobs import JobRule
from costmodel.core.margin import margin_impact
from costmodel.errors import CostModelError
from costmodel.shells.cli import main

SINCE, UNTIL, LAST = "2026-11-01", "2026-12-01", "2026-11-30"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_stores(tmp_path_factory.getbasetemp())


def _report(stores: tuple[Path, Path], **kwargs: Any) -> dict[str, Any]:
    batches, org = stores
    period = kwargs.pop("period", None) or report_period(
        month=MONTH, since=None, until=None, today=TODAY
    )
    with open_store(batches, read_only=True) as b, open_store(org, read_only=True) as o:
        result = build_finance_report(
            b,
            period,
            source=kwargs.pop("source", "all"),
            catalogue=kwargs.pop("catalogue", bundled_catalogue()),
            jobs=JobRule(),
            org_store=o,
            **kwargs,
        )
    assert isinstance(result, FinanceReport)
    return result.to_dict()


def _cli_json(*args: str) -> dict[str, Any]:
    out = CliRunner().invoke(main, [*args, "--format", "json"], catch_exceptions=False)
    assert out.exit_code in (0, 3), out.output
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def full(stores: tuple[Path, Path]) -> dict[str, Any]:
    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "claims-triage.yaml")
    return _report(stores, scenario=scenario, business=scenario.business)


@pytest.mark.parametrize("by", ["model", "job", "day"])
def test_every_batch_figure_equals_usage_summary_to_the_cent(
    stores: tuple[Path, Path], full: dict[str, Any], by: str
) -> None:
    summary = _cli_json(
        "usage",
        "summary",
        "--by",
        by,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--store",
        str(stores[0]),
    )
    assert full["batches"][f"by_{by}"] == summary["rows"]
    totals = {k: v for k, v in full["batches"]["totals"].items() if k in summary["totals"]}
    assert totals == summary["totals"]
    assert full["batches"]["totals"]["cost_billed"] > 0
    assert full["batches"]["batches"] == summary["batches"]


@pytest.mark.parametrize("by", ["model", "workspace", "tier", "day"])
def test_every_org_figure_equals_org_summary_to_the_cent(
    stores: tuple[Path, Path], full: dict[str, Any], by: str
) -> None:
    summary = _cli_json(
        "org", "summary", "--by", by, "--since", SINCE, "--until", LAST, "--store", str(stores[1])
    )
    assert full["org"][f"by_{by}"] == summary["rows"]
    assert full["org"]["totals"] == summary["totals"]
    assert full["org"]["demo"] is True and full["demo"] is True


def test_the_reconciliation_status_is_the_reconcile_commands(
    stores: tuple[Path, Path], full: dict[str, Any]
) -> None:
    checked = _cli_json("reconcile", "--since", SINCE, "--until", LAST, "--store", str(stores[1]))
    rec = full["org"]["reconciliation"]
    assert rec["exit_code"] == checked["exit_code"]
    assert rec["totals"] == checked["totals"]
    assert rec["cells"] == len(checked["cells"])
    assert rec["status"] == ("beyond tolerance" if checked["exit_code"] else "within tolerance")


def test_the_prediction_is_compare_with_actual_and_its_gap_splits_exactly(
    stores: tuple[Path, Path], full: dict[str, Any]
) -> None:
    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "claims-triage.yaml")
    with open_store(stores[0], read_only=True) as opened:
        expected = compare_with_actual(
            replace(scenario, price_date=date(2026, 11, 30)),
            opened,
            since=date(2026, 11, 1),
            until=date(2026, 12, 1),
            catalogue=bundled_catalogue(),
        ).to_dict()
    prediction = full["prediction"]
    for line, want in zip(prediction["lines"], expected["lines"], strict=True):
        assert {k: line[k] for k in want} == want
        parts = sum(Decimal(str(line[k])) for k in ("volume", "mix", "price"))
        assert parts == Decimal(str(line["difference"]))
    totals = prediction["totals"]
    assert {k: totals[k] for k in expected["totals"]} == expected["totals"]
    assert sum(Decimal(str(totals[k])) for k in ("volume", "mix", "price")) == Decimal(
        str(totals["difference"])
    )
    assert "volume + token mix + price" in prediction["formula"]


def test_a_half_sync_plan_on_another_day_shows_a_price_part_and_a_missing_job_is_volume(
    stores: tuple[Path, Path],
) -> None:
    scenario = parse_scenario(
        "name: half\nprice_date: 2026-11-15\nworkloads:\n"
        "  - {name: claim-classification, model: claude-3-5-sonnet, requests: 40000,"
        " input_tokens: 2000, output_tokens: 150, batch_share: 0.5}\n"
        "  - {name: never-ran, model: claude-haiku-4-5, requests: 1000, input_tokens: 100,"
        " output_tokens: 10}\n"
    )
    prediction = _report(stores, scenario=scenario, source="batches")["prediction"]
    claims, missing = prediction["lines"]
    # Half the modelled plan is synchronous (twice the rate); measured is all batch: cheaper.
    assert claims["price"] < 0 and claims["volume"] > 0
    assert missing["status"] == "no usage found"
    assert missing["volume"] == -missing["cost_modelled"] and missing["mix"] == 0
    assert missing["price"] == 0
    for line in prediction["lines"]:
        parts = sum(Decimal(str(line[k])) for k in ("volume", "mix", "price"))
        assert parts == Decimal(str(line["difference"]))
    totals = prediction["totals"]
    assert sum(Decimal(str(totals[k])) for k in ("volume", "mix", "price")) == Decimal(
        str(totals["difference"])
    )


@pytest.mark.parametrize(
    ("modelled", "measured", "r_model", "r_measured", "at_model", "expected"),
    [
        (100, 150, 10, 12, 132, (20, 12, 18)),  # more requests, larger ones, dearer rates
        (100, 80, 10, 10, 90, (0, -10, -10)),  # same volume: mix and price only
        (0, 30, 0, 5, 25, (0, 25, 5)),  # nothing modelled: no volume to speak of
        (100, 0, 10, 0, 0, (-100, 0, 0)),  # nothing measured: all volume
    ],
)
def test_decompose_gap_parts_sum_to_the_gap(
    modelled: int,
    measured: int,
    r_model: int,
    r_measured: int,
    at_model: int,
    expected: tuple[int, int, int],
) -> None:
    parts = decompose_gap(
        Decimal(modelled),
        Decimal(measured),
        Decimal(r_model),
        Decimal(r_measured),
        Decimal(at_model),
    )
    assert parts == tuple(Decimal(v) for v in expected)
    assert sum(parts) == Decimal(measured - modelled)


def test_caching_saved_follows_the_catalogue_rates(full: dict[str, Any]) -> None:
    catalogue = bundled_catalogue()
    cache = full["batches"]["cache"]
    rows = {row["key"]: row for row in cache["by_model"]}
    haiku = rows["claude-haiku-4-5"]
    rates = catalogue.model("claude-haiku-4-5").price_on(date(2026, 11, 30)).rates
    source = next(r for r in full["batches"]["by_model"] if r["key"] == "claude-haiku-4-5")
    w5, w1 = source["ephemeral_5m_input_tokens"], source["ephemeral_1h_input_tokens"]
    reads = source["cache_read_input_tokens"]
    assert rates.input_mtok and rates.cache_read_mtok and rates.cache_write_5m_mtok
    assert rates.cache_write_1h_mtok
    saved = (
        (
            reads * (rates.input_mtok - rates.cache_read_mtok)
            - w5 * (rates.cache_write_5m_mtok - rates.input_mtok)
            - w1 * (rates.cache_write_1h_mtok - rates.input_mtok)
        )
        * catalogue.batch_multiplier
        / Decimal(1_000_000)
    )
    # Each row is within a cent of its exact figure (the rows are rounded to foot the total).
    assert abs(Decimal(str(haiku["saved"])) - saved) <= Decimal("0.01")
    assert saved > 0
    assert Decimal(str(cache["totals"]["saved"])) == sum(
        Decimal(str(r["saved"])) for r in cache["by_model"] if r["saved"] is not None
    )
    assert haiku["cache_read_tokens"] == reads


def test_gross_margin_uses_the_billed_and_if_sync_cost(full: dict[str, Any]) -> None:
    margin, totals = full["margin"], full["batches"]["totals"]
    impact = margin_impact(100_000, 10_000, totals["cost_if_sync"], totals["cost_billed"])
    assert margin["inference"] == totals["cost_billed"]
    assert margin["inference_if_sync"] == totals["cost_if_sync"]
    assert Decimal(str(margin["gross_profit"])) == Decimal("90000") - Decimal(
        str(totals["cost_billed"])
    )
    assert margin["gross_margin_pct"] == round(impact.gross_margin_batch_pct, 4)
    assert margin["delta_pp"] == round(impact.delta_pp, 4)


def test_success_rate_and_result_types_count_every_request(full: dict[str, Any]) -> None:
    ops, totals = full["batches"]["operations"], full["batches"]["totals"]
    counted = {row["type"]: row["requests"] for row in ops["result_types"]}
    assert counted == {k: totals[k] for k in ("succeeded", "errored", "canceled", "expired")}
    assert ops["requests"] == sum(counted.values()) == totals["requests"]
    assert ops["success_rate_pct"] == round(100 * totals["succeeded"] / totals["requests"], 2)
    # turnaround and error types come from the operations summary over the same batches
    spans = ops["turnaround"]
    assert spans["batches"] > 0
    assert spans["p50_hours"] <= spans["p95_hours"] <= spans["max_hours"] <= 24.0
    assert sum(e["requests"] for e in ops["errors_by_type"]) == totals["errored"]
    assert "Turnaround" in ops["note"]


def test_every_note_of_the_summaries_is_in_the_report(full: dict[str, Any]) -> None:
    notes = full["notes"]
    assert any(n.startswith("Measured from stored Message Batches results") for n in notes)
    assert any("'priority' service tier has no public price" in n for n in notes)
    assert any("claude-3-5-sonnet is retired" in n for n in notes)
    assert any("not added together" in n for n in notes)


def test_a_period_with_no_data_says_so_and_has_no_tables(stores: tuple[Path, Path]) -> None:
    data = _report(
        stores, period=report_period(month="2026-06", since=None, until=None, today=TODAY)
    )
    assert data["empty"] is True
    assert data["empty_message"].startswith("No usage in the store for June 2026")
    assert data["batches"] is None and data["org"] is None
    assert report_tables(data) == []
    text = markdown_report(data)
    assert "No usage in the store for June 2026" in text and "|" not in text


def test_a_stale_catalogue_is_noted(stores: tuple[Path, Path]) -> None:
    catalogue = bundled_catalogue()
    later = replace(catalogue, checked=date(2026, 9, 1))
    data = _report(stores, catalogue=later, source="batches")
    assert any(n.startswith("Prices may be stale") for n in data["notes"])


# -- the period ---------------------------------------------------------------------------------
def test_report_period_months_and_ranges() -> None:
    november = report_period(month="2026-11", since=None, until=None, today=TODAY)
    assert (november.since, november.until, november.days) == (
        date(2026, 11, 1),
        date(2026, 12, 1),
        30,
    )
    december = report_period(month="2026-12", since=None, until=None, today=TODAY)
    assert december.until == date(2027, 1, 1)
    assert report_period(month=None, since=None, until=None, today=TODAY).month == "2026-11"
    assert report_period(month=None, since=None, until=None, today=date(2027, 1, 15)).month == (
        "2026-12"
    )
    ranged = report_period(
        month=None, since=date(2026, 11, 3), until=date(2026, 11, 10), today=TODAY
    )
    assert (ranged.month, ranged.days, ranged.last_day) == (None, 7, date(2026, 11, 9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"month": "2026-13"}, "no such month"),
        ({"month": "2026-00"}, "no such month"),
        ({"month": "2026-1"}, "expected a month as YYYY-MM"),
        ({"month": "November"}, "expected a month as YYYY-MM"),
        ({"month": "2026-11-01"}, "expected a month as YYYY-MM"),
        ({"month": "2026-11", "since": date(2026, 11, 1)}, "not both"),
        ({"since": date(2026, 11, 2), "until": date(2026, 11, 1)}, "is not before"),
        ({"since": date(2026, 11, 2), "until": date(2026, 11, 2)}, "is not before"),
        ({"since": date(2026, 11, 2)}, "go together"),
    ],
)
def test_bad_periods_are_one_line_errors(kwargs: dict[str, Any], message: str) -> None:
    arguments = {"month": None, "since": None, "until": None, **kwargs}
    with pytest.raises(CostModelError, match=message) as raised:
        report_period(**arguments, today=TODAY)
    assert "\n" not in str(raised.value)


def test_an_unknown_source_is_refused(stores: tuple[Path, Path]) -> None:
    with pytest.raises(CostModelError, match="--source: expected one of batches, org, all"):
        _report(stores, source="everything")


# -- option and business files ---------------------------------------------------------------
def _file(tmp_path: Path, text: str, name: str = "options.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_options_file_sets_title_jobs_tolerance_business_and_scenario(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "title: Acme, November\njob_separator: _\njobs: {claims: ['claim-*']}\n"
        "tolerance: 1%\nbusiness: {revenue: 5000, other_cogs: 100, customers: 4}\n"
        "scenario: s.yaml\n",
    )
    options = load_report_options(path)
    assert options.title == "Acme, November"
    assert options.jobs == (("claim-*", "claims"),)
    assert options.job_separator == "_"
    assert options.tolerance == Decimal("0.01")
    assert options.business is not None and options.business.revenue == 5000
    assert options.scenario == tmp_path / "s.yaml"


@pytest.mark.parametrize(
    ("text", "located"),
    [
        ("title: x\ntolerence: 1%\n", ":2: tolerence: unknown key; did you mean 'tolerance'?"),
        ("tolerance: lots\n", ":1: expected a percentage such as 0.5%"),
        ("tolerance: 150%\n", ":1: expected a percentage from 0% to 100%"),
        ("business:\n  revenue: -5\n", ":2: business.revenue: got -5"),
        ("business:\n  revenue: 10\n  other: 1\n", ":3: business.other: unknown key"),
        ("business: {other_cogs: 5}\n", ":1: business: revenue is missing"),
        ("business:\n  revenue: true\n", ":2: business.revenue: expected a number"),
        ("jobs: {claims: 5}\n", ":1: jobs.claims: expected a list of custom_id patterns"),
        ("title: 5\n", ":1: title: expected a line of text"),
        ("- a\n- b\n", ":1: not a report options file"),
        ("title: [unclosed\n", "options.yaml"),
    ],
)
def test_bad_options_files_are_located_one_line_errors(
    tmp_path: Path, text: str, located: str
) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(CostModelError) as raised:
        load_report_options(path)
    message = str(raised.value)
    assert located in message and str(path) in message
    assert "\n" not in message.strip()


def test_a_business_file_at_the_top_level_or_under_business(tmp_path: Path) -> None:
    top = load_business(_file(tmp_path, "revenue: 100000\nother_cogs: 10000\n", "b.yaml"))
    assert (top.revenue, top.other_cogs, top.customers) == (100000, 10000, None)
    scenario = Path(__file__).parents[1] / "scenarios" / "claims-triage.yaml"
    assert load_business(scenario).revenue == 100000  # a scenario file's business block
    with pytest.raises(CostModelError, match=r"c\.yaml:2: business\.customers: got 0"):
        load_business(_file(tmp_path, "revenue: 1\ncustomers: 0\n", "c.yaml"))
    with pytest.raises(CostModelError, match=r"d\.yaml:1: .*in USD"):
        load_business(_file(tmp_path, "currency: {code: EUR}\nbusiness: {revenue: 1}\n", "d.yaml"))
