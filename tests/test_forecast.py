"""The month-by-month forecast: point months equal run, growth, weekdays, price changes on
their dates, retirement flags, bands, and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.core.forecast import forecast_scenario, month_requests, next_month
from costmodel.core.report import run_scenario
from costmodel.core.uncertainty import Growth, WorkloadRanges
from costmodel.shells.cli import main
from tests.acme_prices import acme_catalogue

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
CATALOGUE = bundled_catalogue()
FIRST = date(2026, 12, 1)


def months(result: object) -> list[dict]:
    return result.to_dict()["months"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_without_growth_every_month_is_the_run_of_its_first_day(path: Path) -> None:
    s = load_scenario(path)
    result = forecast_scenario(s, CATALOGUE, months=3, first_month=FIRST)
    assert result.to_dict()["schema"] == "costmodel.forecast/1"
    for item, day in zip(months(result), result.months, strict=True):
        run = run_scenario(s, CATALOGUE, on=day).to_dict()
        for name in ("cost_sync", "cost_batch", "savings"):
            assert item[name] == run["totals"][name], (item["month"], name)
        if run["margin"] is not None:
            assert item["gross_margin_batch_pct"] == pytest.approx(
                run["margin"]["gross_margin_batch_pct"], abs=1e-4
            )


def test_a_price_change_splits_its_month_at_its_date(tmp_path: Path) -> None:
    """31M input tokens a month at $1/MTok, $2/MTok from 16 January: January is 15 days at
    the old rate and 16 at the new one, $15 + $32."""
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: acme-model, requests: 31000, "
        "input_tokens: 1000, output_tokens: 0, batch_share: 0.5}\n",
        catalogue=acme_catalogue(tmp_path),
    )
    result = forecast_scenario(s, acme_catalogue(tmp_path), months=3, first_month=FIRST)
    got = [(m["month"], m["cost_sync"], m["cost_batch"]) for m in months(result)]
    assert got == [("2026-12", 31.0, 23.25), ("2027-01", 47.0, 35.25), ("2027-02", 62.0, 46.5)]
    assert result.to_dict()["price_changes"] == [{"date": "2027-01-16", "model": "acme-model"}]
    assert any("2027-01-16" in note for note in result.notes)


def test_a_retirement_inside_the_horizon_is_flagged_from_its_month(tmp_path: Path) -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: acme-model, requests: 10000, "
        "input_tokens: 1000, output_tokens: 0}\n",
        catalogue=acme_catalogue(tmp_path),
    )
    result = forecast_scenario(s, acme_catalogue(tmp_path), months=6, first_month=FIRST)
    flags = {m["month"]: m["flags"] for m in months(result)}
    assert flags["2027-02"] == []
    assert flags["2027-03"] == ["acme-model: retires 2027-03-10"]
    assert flags["2027-04"] == flags["2027-05"] == ["acme-model: retired"]
    assert all(m["cost_sync"] > 0 for m in months(result))  # still priced, never dropped


def test_a_model_already_retired_is_flagged_every_month() -> None:
    s = load_scenario(ROOT / "scenarios" / "claims-triage.yaml")  # claude-3-5-sonnet, retired
    result = forecast_scenario(s, CATALOGUE, months=2, first_month=FIRST)
    assert [m["flags"] for m in months(result)] == [["claude-3-5-sonnet: retired"]] * 2


def test_growth_compounds_from_its_start_month_and_is_flat_before() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-haiku-4-5, input_tokens: 1000, "
        "output_tokens: 0, requests: {count: 1000, growth: {per_month: 10%, from: 2027-02}}}\n"
    )
    result = forecast_scenario(s, CATALOGUE, months=5, first_month=FIRST)
    assert [round(m["requests"], 6) for m in months(result)] == [1000, 1000, 1000, 1100, 1210]
    # $1/MTok on Haiku 4.5: 1M tokens cost $1, so the months grow with the volume.
    assert [m["cost_sync"] for m in months(result)] == [1.0, 1.0, 1.0, 1.1, 1.21]


def test_growth_without_a_start_grows_from_the_first_month() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-haiku-4-5, input_tokens: 1, "
        "output_tokens: 0, requests: {count: 1000, growth: {per_month: -50%}}}\n"
    )
    result = forecast_scenario(s, CATALOGUE, months=3, first_month=FIRST)
    assert [m["requests"] for m in months(result)] == [1000, 500, 250]


def test_a_weekday_profile_counts_the_calendar_days() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-haiku-4-5, input_tokens: 1, "
        "output_tokens: 0, requests: {count: 100, per: day, day_of_week: [1, 1, 1, 1, 1, 0, 0]}}\n"
    )
    w = s.workloads[0]
    # Weekdays only, so each weekday carries 7/5 of the mean day: 100 * 1.4 per weekday.
    assert month_requests(w, date(2027, 2, 1), FIRST, 30) == pytest.approx(2800)  # 20 weekdays
    assert month_requests(w, date(2027, 3, 1), FIRST, 30) == pytest.approx(3220)  # 23 weekdays


@settings(max_examples=40, deadline=None)
@given(st.floats(-0.95, 1.0), st.floats(0, 1.0), st.integers(1, 12))
def test_more_growth_never_lowers_cost(low: float, extra: float, horizon: int) -> None:
    base = parse_scenario(
        "name: s\nbusiness: {revenue: 100000}\nworkloads:\n"
        "  - {name: w, model: claude-sonnet-4-5, requests: {count: 300, per: day}, "
        "input_tokens: 4000, output_tokens: 500, batch_share: 0.6}\n"
        "  - {name: v, model: claude-haiku-4-5, requests: 5000, input_tokens: 900, "
        "output_tokens: 90}\n"
    )

    def grown(rate: float) -> list[dict]:
        workloads = tuple(
            replace(w, ranges=WorkloadRanges(growth=Growth(rate))) for w in base.workloads
        )
        s = replace(base, workloads=workloads)
        return months(forecast_scenario(s, CATALOGUE, months=horizon, first_month=FIRST))

    slow, fast = grown(low), grown(min(low + extra, 1.0))
    for a, b in zip(slow, fast, strict=True):
        assert a["cost_sync"] <= b["cost_sync"] and a["cost_batch"] <= b["cost_batch"]
        assert a["gross_margin_sync_pct"] >= b["gross_margin_sync_pct"]


def test_bands_are_ordered_reproducible_and_hold_the_point_when_certain() -> None:
    uncertain = parse_scenario(
        "name: s\nbusiness: {revenue: 9000}\nworkloads:\n  - {name: w, model: claude-haiku-4-5, "
        "requests: {count: 40, per: day, growth: {per_month: 5%}}, "
        "input_tokens: {mean: 3000, p95: 9000}, output_tokens: 200, deadline_hours: 24, "
        "miss_share: 0.1}\n"
    )
    first = forecast_scenario(
        uncertain, CATALOGUE, months=12, first_month=FIRST, draws=2000, seed=5
    ).to_dict()
    again = forecast_scenario(
        uncertain, CATALOGUE, months=12, first_month=FIRST, draws=2000, seed=5
    ).to_dict()
    assert first == again
    for item in first["months"]:
        for name in ("cost_sync", "cost_batch", "savings", "gross_margin_batch_pct"):
            band = item[f"{name}_band"]
            assert band["p10"] <= band["p50"] <= band["p90"]
    p50 = [m["cost_sync_band"]["p50"] for m in first["months"]]
    assert p50 == sorted(p50)  # 5% a month outgrows a month's noise
    certain = load_scenario(ROOT / "scenarios" / "support-platform.yaml")
    banded = forecast_scenario(certain, CATALOGUE, months=2, first_month=FIRST, draws=100)
    for item in months(banded):
        assert set(item["cost_batch_band"].values()) == {item["cost_batch"]}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_forecast_starts_the_month_after_the_pricing_day() -> None:
    assert next_month(date(2026, 12, 31)) == date(2027, 1, 1)
    path = str(ROOT / "scenarios" / "claims-triage.yaml")
    code, out, _ = invoke(
        "forecast", path, "--months", "2", "--on", "2026-11-24", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["from"] == "2026-12" and [m["month"] for m in data["months"]] == [
        "2026-12",
        "2027-01",
    ]
    code, out, _ = invoke(
        "forecast",
        path,
        "--from",
        "2027-05",
        "--months",
        "1",
        "--simulate",
        "50",
        "--format",
        "json",
    )
    assert json.loads(out)["months"][0]["month"] == "2027-05"
    for fmt in ("table", "csv", "markdown"):
        code, out, _ = invoke(
            "forecast", path, "--from", "2027-05", "--simulate", "50", "--format", fmt
        )
        assert code == 0 and "2027-05" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--months", "0"), "--months: got 0"),
        (("--months", "x"), "--months: got 'x'"),
        (("--from", "2026-13"), "--from: got '2026-13'; expected a month as YYYY-MM"),
        (("--simulate", "0"), "--simulate: got 0"),
        (("--simulate", "5", "--seed", "seven"), "--seed: got 'seven'"),
    ],
)
def test_cli_forecast_bad_options_are_one_line(args: tuple[str, ...], expected: str) -> None:
    code, out, err = invoke("forecast", str(BUNDLED[0]), *args)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"costmodel: error: {expected}")


def test_the_forecast_foots_and_renders_without_bands(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nbusiness: {revenue: 40000, other_cogs: 6000}\nworkloads:\n"
        "  - {name: w, model: claude-sonnet-4-5, requests: {count: 500, per: day, "
        "growth: {per_month: 8%}}, input_tokens: {mean: 15000, p95: 45000}, "
        "output_tokens: {p50: 800, p95: 2400}}\n"
    )
    code, out, _ = invoke(
        "forecast", str(path), "--months", "12", "--on", "2026-11-24", "--format", "json"
    )
    data = json.loads(out)
    cents = lambda v: round(v * 100)  # noqa: E731
    for name in ("cost_sync", "cost_batch", "savings"):
        assert sum(cents(m[name]) for m in data["months"]) == cents(data["totals"][name]), name
    for m in data["months"]:
        assert cents(m["cost_sync"]) - cents(m["cost_batch"]) == cents(m["savings"])
    for fmt in ("table", "csv", "markdown"):
        code, out, err = invoke("forecast", str(path), "--months", "3", "--format", fmt)
        assert code == 0 and err == ""
        assert "Total" in out or fmt == "csv"
