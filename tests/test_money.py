"""Money finance can file: exact totals, one rounding rule, footing, currency, the output
contract, bounds. Each reproduction of issue 7 (and issue 8 item 6) is a test here.

Every figure is priced on a pinned day (GOLDEN_DAY), never today's date.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.ingest.files import read_results
from costmodel.adapters.render import render
from costmodel.adapters.scenario_files import parse_scenario
from costmodel.adapters.store import open_store
from costmodel.adapters.synthetic import succeeded_line, usage_object
from costmodel.core.catalogue import RATE_FIELDS
from costmodel.core.contract import SCHEMAS
from costmodel.core.measured import usage_summary
from costmodel.core.money import allocate_cents, check_currency_code, quantize_cents
from costmodel.core.pricing import price_usage
from costmodel.core.report import compare_runs, diff_runs, price_list, run_scenario
from costmodel.core.scenario import Business, Currency, Scenario, Volume, Workload
from costmodel.core.usage import usage_frame
from costmodel.shells.cli import main
from tests.strategies import currencies, priced_models, scenarios

GOLDEN_DAY = date(2026, 11, 24)
CATALOGUE = bundled_catalogue()
ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "scenarios" / "claims-triage.yaml"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_workload(requests: int, input_tokens: int, output_tokens: int = 0, **extra: object) -> str:
    lines = [
        "name: s",
        f"price_date: {GOLDEN_DAY.isoformat()}",
        *(f"{key}: {value}" for key, value in extra.items()),
        "workloads:",
        f"  - {{name: w, model: claude-sonnet-4-5, requests: {requests}, "
        f"input_tokens: {input_tokens}, output_tokens: {output_tokens}, batch_share: 0}}",
    ]
    return "\n".join(lines) + "\n"


def strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


# -- 1. half-cent totals -------------------------------------------------------------------------
def test_half_cent_total_of_a_scenario_rounds_up() -> None:
    # 123,457 x 35,000 input tokens x $3/MTok = $12,962.985 exactly
    run = run_scenario(parse_scenario(one_workload(123_457, 35_000)), CATALOGUE)
    data = run.to_dict()
    assert data["totals"]["cost_sync"] == 12_962.99
    assert data["workloads"][0]["cost_sync"] == 12_962.99
    assert run.exact_total("cost_sync") == Decimal("12962.985")
    assert "$12,962.99" in render(run, "table", width=200)


def test_half_cent_in_a_display_currency_rounds_up() -> None:
    # 50 x 1,000 tokens x $3/MTok = $0.15; x 151.5 = 22.725 JPY exactly
    text = one_workload(50, 1_000)
    fx = Currency("JPY", Decimal("151.5"), date(2026, 11, 20))
    run = run_scenario(parse_scenario(text), CATALOGUE, fx=fx)
    assert run.to_dict()["totals"]["cost_sync"] == 22.73


def test_cli_half_cent_in_jpy(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(one_workload(50, 1_000))
    code, out, _ = invoke(
        "run", str(path), "--currency", "JPY", "--fx-rate", "151.5", "--fx-date", "2026-11-20",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert strict_json(out)["totals"]["cost_sync"] == 22.73


def _store_with(tmp_path: Path, lines: list[str], created: datetime, name: str) -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_half_cent_total_of_a_store_rounds_up_and_billed_plus_savings_is_sync(
    tmp_path: Path,
) -> None:
    # 2,305 x 6,000 output tokens on Sonnet 4.5 at batch rates ($7.50/MTok) = $103.725
    lines = [
        succeeded_line(
            f"job-{i}", "claude-sonnet-4-5", usage_object(input_tokens=0, output_tokens=6_000)
        )
        for i in range(2_305)
    ]
    path = _store_with(
        tmp_path, lines, datetime(2026, 11, 2, tzinfo=UTC), "msgbatch_01Half_results.jsonl"
    )
    with open_store(tmp_path / "u.duckdb") as store:
        source = read_results(path, created_at=datetime(2026, 11, 2, tzinfo=UTC))
        store.write_batch(source.batch_meta(), source)
        summary = usage_summary(store, by="model", catalogue=CATALOGUE)
    totals = summary.to_dict()["totals"]
    assert totals["cost_billed"] == 103.73
    assert totals["cost_if_sync"] == 207.45
    assert Decimal(str(totals["cost_billed"])) + Decimal(str(totals["savings"])) == Decimal(
        str(totals["cost_if_sync"])
    )


# -- 2. tables foot ------------------------------------------------------------------------------
FOOTING = f"""\
name: footing
price_date: {GOLDEN_DAY.isoformat()}
workloads:
  - {{name: a, model: claude-sonnet-4-5, requests: 669375, input_tokens: 1000, output_tokens: 0}}
  - {{name: b, model: claude-sonnet-4-5, requests: 95625, input_tokens: 1000, output_tokens: 0}}
"""


def test_parts_add_up_to_the_total_in_json_table_and_csv() -> None:
    # exact parts $2,008.125 + $286.875 = $2,295.00; rounding each alone shows $2,295.01
    run = run_scenario(parse_scenario(FOOTING), CATALOGUE)
    data = run.to_dict()
    parts = [Decimal(str(w["cost_sync"])) for w in data["workloads"]]
    assert sum(parts) == Decimal(str(data["totals"]["cost_sync"])) == Decimal("2295.00")
    frame = run.sections()[0].frame
    assert sum(frame["Sync"].iloc[:-1]) == frame["Sync"].iloc[-1]
    rows = list(csv.DictReader(io.StringIO(render(run, "csv"))))
    workload_sum = sum(Decimal(r["cost_sync"]) for r in rows if r["row"] == "workload")
    total = next(Decimal(r["cost_sync"]) for r in rows if r["row"] == "total")
    assert workload_sum == total


def _decimals(value: str) -> int:
    return len(value.partition(".")[2])


def test_compare_and_diff_csvs_carry_cents_and_contract_columns() -> None:
    run = run_scenario(parse_scenario(FOOTING), CATALOGUE)
    other = run_scenario(parse_scenario(one_workload(836, 1000)), CATALOGUE)
    compare = list(csv.DictReader(io.StringIO(render(compare_runs([run, other]), "csv"))))
    assert {"scenario", "cost_sync", "cost_batch", "savings"} <= set(compare[0])
    assert all(_decimals(row["cost_sync"]) <= 2 for row in compare)
    diff = list(csv.DictReader(io.StringIO(render(diff_runs(run, other), "csv"))))
    assert "Total" not in {row["workload"] for row in diff}
    assert {"row", "workload", "cost_baseline", "cost_proposed", "change"} <= set(diff[0])
    money = [row[c] for row in diff for c in ("cost_baseline", "cost_proposed", "change") if row[c]]
    assert money and all(_decimals(value) <= 2 for value in money)
    lines = [row for row in diff if row["row"] == "line"]
    total = next(row for row in diff if row["row"] == "total")
    assert sum(Decimal(r["change"]) for r in lines) == Decimal(total["change"])


def test_margin_table_foots() -> None:
    text = FOOTING + "business: {revenue: 10000.005, other_cogs: 1234.565}\n"
    run = run_scenario(parse_scenario(text), CATALOGUE)
    margin = run.to_dict()["margin"]
    for plan in ("sync", "batch"):
        cogs = Decimal(str(margin["other_cogs"])) + Decimal(str(margin[f"inference_{plan}"]))
        assert cogs == Decimal(str(margin[f"cogs_{plan}"]))
        profit = Decimal(str(margin["revenue"])) - cogs
        assert profit == Decimal(str(margin[f"gross_profit_{plan}"]))


def test_allocate_cents_largest_remainder() -> None:
    parts = [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]
    assert allocate_cents(parts) == [Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]
    assert allocate_cents([Decimal("-1.005"), Decimal("2.005")]) == [
        Decimal("-1.00"),
        Decimal("2.00"),
    ]  # a tie goes to the earlier part
    assert quantize_cents(Decimal("-0.125")) == Decimal("-0.13")  # half away from zero


# -- 3. currency ---------------------------------------------------------------------------------
def test_display_currency_leaves_the_margin_alone() -> None:
    usd = run_scenario(parse_scenario(CLAIMS.read_text()), CATALOGUE, on=GOLDEN_DAY)
    fx = Currency("EUR", Decimal("0.5"), date(2026, 11, 20))
    eur = run_scenario(parse_scenario(CLAIMS.read_text()), CATALOGUE, on=GOLDEN_DAY, fx=fx)
    for key in ("gross_margin_sync_pct", "gross_margin_batch_pct", "delta_pp"):
        assert eur.to_dict()["margin"][key] == usd.to_dict()["margin"][key]
    assert eur.to_dict()["margin"]["revenue"] == 50_000.0
    assert "89.59%" in render(eur, "table", width=200)


def test_business_block_in_the_scenario_currency_converts_to_another_display() -> None:
    text = one_workload(1000, 1000, currency="{code: EUR, per_usd: 0.5, as_of: 2026-11-20}")
    text += "business: {revenue: 1000, other_cogs: 100}\n"
    in_eur = run_scenario(parse_scenario(text), CATALOGUE)
    gbp = Currency("GBP", Decimal("0.25"), date(2026, 11, 20))
    in_gbp = run_scenario(parse_scenario(text), CATALOGUE, fx=gbp)
    assert in_eur.to_dict()["margin"]["revenue"] == 1000.0  # EUR as written
    assert in_gbp.to_dict()["margin"]["revenue"] == 500.0  # 1000 EUR = 2000 USD = 500 GBP
    assert (
        in_gbp.to_dict()["margin"]["gross_margin_sync_pct"]
        == in_eur.to_dict()["margin"]["gross_margin_sync_pct"]
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), display=currencies())
def test_margin_percent_never_depends_on_the_display_currency(
    scenario: Scenario, display: Currency
) -> None:
    scenario = replace(scenario, business=scenario.business or Business(1e6, 1e4))
    base = run_scenario(scenario, CATALOGUE, on=GOLDEN_DAY)
    shown = run_scenario(scenario, CATALOGUE, on=GOLDEN_DAY, fx=display)
    assert base.margin is not None and shown.margin is not None
    assert shown.margin.gross_margin_sync_pct == base.margin.gross_margin_sync_pct
    assert shown.margin.gross_margin_batch_pct == base.margin.gross_margin_batch_pct


def test_currency_codes_are_iso_4217(tmp_path: Path) -> None:
    assert check_currency_code("EUR") is None and check_currency_code("jpy") is None
    assert "did you mean EUR" in (check_currency_code("euro") or "")
    code, _, err = invoke(
        "run", str(CLAIMS), "--currency", "euro", "--fx-rate", "0.5", "--fx-date", "2026-11-20"
    )
    assert code != 0 and "did you mean EUR" in err
    bad = one_workload(10, 10, currency="{code: XYZ, per_usd: 0.5, as_of: 2026-11-20}")
    path = tmp_path / "s.yaml"
    path.write_text(bad)
    code, _, err = invoke("validate", str(path))
    assert code != 0 and "currency.code" in err and "ISO 4217" in err


def test_labels_name_the_scenario_currency_not_usd(tmp_path: Path) -> None:
    text = one_workload(10, 10) + "business: {revenue: -1}\n"
    path = tmp_path / "s.yaml"
    path.write_text(text)
    _, _, err = invoke("validate", str(path))
    assert "business.revenue" in err and "in USD" not in err


# -- 4. exports ----------------------------------------------------------------------------------
def test_every_json_object_names_its_schema(tmp_path: Path) -> None:
    run = run_scenario(parse_scenario(FOOTING), CATALOGUE)
    assert run.to_dict()["schema"] == SCHEMAS["run"] == "costmodel.run/2"
    assert compare_runs([run]).to_dict()["schema"] == "costmodel.compare/2"
    assert diff_runs(run, run).to_dict()["schema"] == "costmodel.diff/2"
    assert price_list(CATALOGUE, on=GOLDEN_DAY).to_dict()["schema"] == "costmodel.prices/2"
    code, out, _ = invoke("validate", str(CLAIMS), "--format", "json")
    assert code == 0 and strict_json(out)["schema"] == "costmodel.validate/1"


def test_prices_json_is_strict() -> None:
    code, out, _ = invoke("prices", "--format", "json", "--on", GOLDEN_DAY.isoformat())
    assert code == 0 and "NaN" not in out
    strict_json(out)


def test_run_json_uses_the_api_token_names_and_keeps_the_aliases() -> None:
    text = f"""\
name: cache
price_date: {GOLDEN_DAY.isoformat()}
workloads:
  - {{name: w, model: claude-sonnet-4-5, requests: 10, input_tokens: 100, output_tokens: 10,
     cache_write_tokens: 20, cache_write_1h_tokens: 30, cache_read_tokens: 40,
     web_search_requests: 1}}
"""
    workload = run_scenario(parse_scenario(text), CATALOGUE).to_dict()["workloads"][0]
    assert workload["cache_creation_input_tokens"] == workload["cache_write_tokens"] == 500
    assert workload["cache_creation"] == {
        "ephemeral_5m_input_tokens": 200,
        "ephemeral_1h_input_tokens": 300,
    }
    assert workload["cache_read_input_tokens"] == workload["cache_read_tokens"] == 400
    assert workload["server_tool_use"] == {"web_search_requests": 10}
    components = {(c["plan"], c["component"]): c for c in workload["components"]}
    assert components[("sync", "cache_write_5m")]["quantity"] == 200
    assert components[("sync", "cache_write_1h")]["quantity"] == 300
    assert components[("sync", "cache_write_1h")]["rate"] == 6.0
    assert components[("sync", "web_search")]["quantity"] == 10
    for plan in ("sync", "batch"):
        costs = [Decimal(str(c["cost"])) for c in workload["components"] if c["plan"] == plan]
        assert sum(costs) == Decimal(str(workload[f"cost_{plan}"]))


def test_csv_escapes_formula_cells_but_not_negative_numbers() -> None:
    text = FOOTING.replace("name: a,", "name: '=HYPERLINK(1)',")
    run = run_scenario(parse_scenario(text), CATALOGUE)
    out = render(run, "csv")
    assert "'=HYPERLINK(1)" in out and ",=HYPERLINK" not in out
    diff = render(diff_runs(run, run_scenario(parse_scenario(FOOTING), CATALOGUE)), "csv")
    rows = list(csv.DictReader(io.StringIO(diff)))
    changes = [row["change"] for row in rows if row["change"].startswith("-")]
    assert changes and all(Decimal(value) < 0 for value in changes)  # numbers, not text


def test_unknown_model_in_a_summary_is_unpriced_never_zero(tmp_path: Path) -> None:
    lines = [
        succeeded_line("a-1", "claude-mystery-9", usage_object(input_tokens=10, output_tokens=0)),
        succeeded_line(
            "b-1", "claude-haiku-4-5", usage_object(input_tokens=1_000_000, output_tokens=0)
        ),
    ]
    path = _store_with(
        tmp_path, lines, datetime(2026, 11, 2, tzinfo=UTC), "msgbatch_01Unknown_results.jsonl"
    )
    with open_store(tmp_path / "u.duckdb") as store:
        source = read_results(path, created_at=datetime(2026, 11, 2, tzinfo=UTC))
        store.write_batch(source.batch_meta(), source)
        summary = usage_summary(store, by="model", catalogue=CATALOGUE)
    rows = {row["key"]: row for row in summary.to_dict()["rows"]}
    assert rows["claude-mystery-9"]["cost_billed"] is None
    assert rows["claude-mystery-9"]["priced"] is False
    assert rows["claude-haiku-4-5"]["cost_billed"] == 0.5
    table = render(summary, "table", width=240)
    mystery = next(line for line in table.splitlines() if "claude-mystery-9" in line)
    assert "unpriced" in mystery and "$0.00" not in mystery
    assert any("Unpriced, not in the totals" in note for note in summary.notes)


# -- issue 8, item 6: an old batch ---------------------------------------------------------------
def test_a_batch_before_a_models_first_price_is_unpriced_and_the_rest_priced(
    tmp_path: Path,
) -> None:
    first = CATALOGUE.models["claude-sonnet-4-5"].prices[0].effective_from
    old = tmp_path / "msgbatch_01Old_results.jsonl"
    old.write_text(
        succeeded_line(
            "old-1", "claude-sonnet-4-5", usage_object(input_tokens=1_000, output_tokens=0)
        )
        + "\n"
    )
    new = tmp_path / "msgbatch_01New_results.jsonl"
    new.write_text(
        succeeded_line(
            "new-1", "claude-sonnet-4-5", usage_object(input_tokens=100_000, output_tokens=0)
        )
        + "\n"
    )
    with open_store(tmp_path / "u.duckdb") as store:
        for path, day in ((old, date(first.year - 1, 1, 2)), (new, date(2026, 11, 2))):
            source = read_results(path, created_at=day.isoformat())
            store.write_batch(source.batch_meta(), source)
        summary = usage_summary(store, by="batch", catalogue=CATALOGUE)
    rows = {row["key"]: row for row in summary.to_dict()["rows"]}
    assert rows["msgbatch_01Old"]["cost_billed"] is None
    assert rows["msgbatch_01New"]["cost_billed"] == 0.15
    assert any("msgbatch_01Old" in note and "first price" in note for note in summary.notes)


# -- 5. bounds -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("requests", "tokens", "field"),
    [("1e30", "10", "requests"), ("10", "1e300", "input_tokens"), ("1e27", "10", "requests")],
)
def test_values_no_workload_can_have_are_refused(
    tmp_path: Path, requests: str, tokens: str, field: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(one_workload(requests, tokens))  # type: ignore[arg-type]
    for command in ("validate", "run"):
        code, out, err = invoke(command, str(path))
        assert code == 1 and f"workloads[0].{field}" in err and "at most" in err
        assert "InvalidOperation" not in err + out


def test_an_fx_rate_no_currency_has_is_refused() -> None:
    code, out, err = invoke(
        "run", str(CLAIMS), "--currency", "EUR", "--fx-rate", "1e30", "--fx-date", "2026-11-20"
    )
    assert code == 2 and "--fx-rate" in err and "at most" in err
    assert "InvalidOperation" not in err + out


# -- 7. texts and dates --------------------------------------------------------------------------
def test_texts_read_the_catalogues_batch_multiplier(tmp_path: Path) -> None:
    line = succeeded_line("j-1", "claude-haiku-4-5", usage_object(input_tokens=10, output_tokens=0))
    path = _store_with(
        tmp_path, [line], datetime(2026, 11, 2, tzinfo=UTC), "msgbatch_01Texts_results.jsonl"
    )
    catalogue = replace(CATALOGUE, batch_multiplier=Decimal("0.6"))
    with open_store(tmp_path / "u.duckdb") as store:
        source = read_results(path, created_at="2026-11-02")
        store.write_batch(source.batch_meta(), source)
        summary = usage_summary(store, catalogue=catalogue)
    assert "60% of the standard rates" in summary.notes[0]
    assert "60% of every token rate" in price_list(catalogue, on=GOLDEN_DAY).notes[0]


# -- exactness and footing, as properties --------------------------------------------------------
def _reference_usd(scenario: Scenario, plan: str) -> Decimal:
    """The scenario's cost by hand: Decimal rates x (requests x tokens), no float sums."""
    from costmodel.core.planning import usage_for_plan

    usage = usage_for_plan(scenario, plan)
    priced = price_usage(usage, CATALOGUE, on=GOLDEN_DAY)
    total = Decimal(0)
    for row, lc in zip(usage.itertuples(index=False), priced.costs["long_context"], strict=True):
        entry = CATALOGUE.models[CATALOGUE.resolve(row.model)].price_on(GOLDEN_DAY)
        rates = entry.long_context.rates if lc else entry.rates
        multiplier = CATALOGUE.batch_multiplier if row.tier == "batch" else Decimal(1)
        if row.inference_geo == "us":
            multiplier *= entry.inference_geo.get("us", Decimal(1))
        requests = Decimal(repr(float(row.requests)))
        for field, column in zip(RATE_FIELDS, ("input_tokens", "output_tokens",
                                               "cache_write_5m_tokens", "cache_write_1h_tokens",
                                               "cache_read_tokens"), strict=True):  # fmt: skip
            tokens = Decimal(repr(float(getattr(row, column))))
            total += getattr(rates, field) * multiplier * tokens * requests / Decimal(1_000_000)
    return total


# Counts that land on half cents: whole requests and tokens times $3 or $15 per MTok.
half_cents = st.builds(
    lambda r, t: (r, t), st.integers(1, 200_000), st.sampled_from([35_000, 6_000, 1_000, 2_500])
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(models=priced_models(on=GOLDEN_DAY)), extra=half_cents)
def test_totals_are_exact_and_every_column_foots(scenario: Scenario, extra: tuple) -> None:
    requests, tokens = extra
    boundary = Workload(
        "half-cent", "claude-sonnet-4-5", Volume(requests, "month"), tokens, 0, batch_share=0
    )
    names = {w.name for w in scenario.workloads}
    if boundary.name not in names:
        scenario = replace(scenario, workloads=(*scenario.workloads, boundary))
    run = run_scenario(scenario, CATALOGUE, on=GOLDEN_DAY)
    per_usd = scenario.currency.per_usd if scenario.currency else Decimal(1)
    data = run.to_dict()
    for plan in ("sync", "batch"):
        exact = _reference_usd(scenario, plan) * per_usd
        assert abs(run.exact_total(f"cost_{plan}") - exact) < Decimal("1e-12")
        assert Decimal(str(data["totals"][f"cost_{plan}"])) == quantize_cents(
            run.exact_total(f"cost_{plan}")
        )
        parts = [Decimal(str(w[f"cost_{plan}"])) for w in data["workloads"]]
        assert sum(parts) == Decimal(str(data["totals"][f"cost_{plan}"]))
    savings = [Decimal(str(w["savings"])) for w in data["workloads"]]
    assert sum(savings) == Decimal(str(data["totals"]["savings"]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 50_000), st.integers(0, 9_000)),
        min_size=1,
        max_size=40,
    )
)
def test_store_summaries_are_exact_and_foot(tmp_path_factory: pytest.TempPathFactory, counts):
    tmp = tmp_path_factory.mktemp("store")
    lines = [
        succeeded_line(
            f"{job}-{i}", "claude-sonnet-4-5", usage_object(input_tokens=i_t, output_tokens=o_t)
        )
        for i, (job, i_t, o_t) in enumerate(counts)
    ]
    path = tmp / "msgbatch_01Summary_results.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    with open_store(tmp / "u.duckdb") as store:
        source = read_results(path, created_at="2026-11-02")
        store.write_batch(source.batch_meta(), source)
        data = usage_summary(store, by="job", catalogue=CATALOGUE).to_dict()
    inputs = sum(i for _, i, _ in counts)
    outputs = sum(o for _, _, o in counts)
    exact = (Decimal(inputs) * Decimal("1.5") + Decimal(outputs) * Decimal("7.5")) / 10**6
    assert Decimal(str(data["totals"]["cost_billed"])) == quantize_cents(exact)
    for column in ("cost_billed", "cost_if_sync", "savings"):
        parts = sum(Decimal(str(row[column])) for row in data["rows"])
        assert parts == Decimal(str(data["totals"][column]))


def test_exact_lines_match_the_float_path_on_a_long_context_and_geo_sample() -> None:
    rows = [
        {"model": "claude-sonnet-4-5", "requests": 7.0, "input_tokens": 250_000.0,
         "output_tokens": 1_000.0, "tier": "batch"},
        {"model": "claude-sonnet-4-6", "requests": 2.0, "input_tokens": 1_000.0,
         "output_tokens": 10.0, "inference_geo": "us"},
        {"model": "claude-haiku-4-5", "requests": 3.0, "input_tokens": 12_345.0,
         "output_tokens": 678.0, "cache_read_tokens": 9.0},
    ]  # fmt: skip
    # 2026-04-01: Sonnet 4.5's long-context tier still applied (the 1M beta ended 04-30).
    priced = price_usage(usage_frame(rows), CATALOGUE, on=date(2026, 4, 1))
    lines = priced.cost_lines()
    assert abs(float(sum(lines["cost"], Decimal(0))) - priced.total) < 1e-6
    assert lines["long_context"].any()  # 250K prompt is billed at the long-context tier
    assert (lines["inference_geo"] == "us").any()


# Days on both sides of the catalogue's dated rules: fast mode's launch, its long-context
# waiver and removal, the end of the 4.6 long-context premium and of the 1M beta.
_RULE_DAYS = [date(2026, 2, 10), date(2026, 3, 1), date(2026, 4, 1), date(2026, 6, 1),
              date(2026, 7, 1), GOLDEN_DAY]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day=st.sampled_from(_RULE_DAYS),
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "model": st.sampled_from(sorted(CATALOGUE.models)),
                "requests": st.integers(1, 10_000).map(float),
                "input_tokens": st.integers(0, 400_000).map(float),
                "output_tokens": st.integers(0, 50_000).map(float),
                "cache_write_5m_tokens": st.integers(0, 50_000).map(float),
                "cache_write_1h_tokens": st.integers(0, 50_000).map(float),
                "cache_read_tokens": st.integers(0, 150_000).map(float),
                "web_search_requests": st.integers(0, 5).map(float),
                "code_execution_hours": st.sampled_from([0.0, 0.5, 2.0]),
                "tier": st.sampled_from(["standard", "batch"]),
                "inference_geo": st.sampled_from(["global", "us"]),
                "speed": st.sampled_from(["standard", "fast"]),
            }
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_exact_lines_equal_the_float_path_under_every_rule(day: date, rows: list[dict]) -> None:
    """The exact lines fold the same modifiers as the float pass (tiers, geo, fast mode and its
    dated rules, web search, code execution), on any usage the catalogue accepts."""
    from hypothesis import assume

    from costmodel.errors import CostModelError

    try:
        priced = price_usage(usage_frame(rows), CATALOGUE, on=day)
    except CostModelError:
        assume(False)  # usage the API refuses (fast with batch, geo where absent, ...)
        return
    lines = priced.cost_lines(groups=[r["model"] for r in rows])
    exact = float(sum(lines["cost"], Decimal(0)))
    assert abs(exact - priced.total) <= 1e-9 * max(1.0, priced.total)
    per_model = lines.groupby("group")["cost"].sum()
    for model, cost in per_model.items():
        float_cost = float(priced.cost[[r["model"] == model for r in rows]].sum())
        assert abs(float(cost) - float_cost) <= 1e-9 * max(1.0, float_cost)


def test_store_commands_take_format_and_export_real_csvs(tmp_path: Path) -> None:
    lines = [
        succeeded_line(f"claims-{i}", "claude-haiku-4-5", usage_object(input_tokens=1_000, output_tokens=100))
        for i in range(10)
    ]  # fmt: skip
    results = tmp_path / "msgbatch_01Csv_results.jsonl"
    results.write_text("".join(line + "\n" for line in lines))
    store = str(tmp_path / "u.duckdb")
    code, out, _ = invoke(
        "usage", "import", str(results), "--created-at", "2026-11-02", "--store", store,
        "--format", "json",
    )  # fmt: skip
    assert code == 0 and strict_json(out)["schema"] == "costmodel.import/1"
    assert strict_json(out)["batches"][0]["requests"] == 10
    code, out, _ = invoke("usage", "summary", "--store", store, "--format", "csv")
    header = out.splitlines()[0].split(",")
    assert code == 0 and {"key", "cost_billed", "ephemeral_5m_input_tokens"} <= set(header)
    code, out, _ = invoke("usage", "summary", "--store", store, "--format", "json")
    assert strict_json(out)["schema"] == "costmodel.usage_summary/2"
    code, out, _ = invoke("usage", "calibrate", "--store", store, "--format", "json")
    assert code == 0 and strict_json(out)["schema"] == "costmodel.calibrate/1"
    code, out, _ = invoke("usage", "calibrate", "--store", store, "--format", "csv")
    assert code == 0 and out.startswith("name,model,requests_per_month")
    scenario = tmp_path / "claims.yaml"
    scenario.write_text(
        f"name: c\nprice_date: {GOLDEN_DAY}\nworkloads:\n  - {{name: claims, "
        "model: claude-haiku-4-5, requests: 300, input_tokens: 1000, output_tokens: 100}\n"
    )
    code, out, _ = invoke(
        "run", str(scenario), "--actual", "--store", store, "--since", "2026-11-02",
        "--until", "2026-11-03", "--format", "csv",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {"workload", "cost_modelled", "cost_actual", "difference"} <= set(rows[0])
    assert rows[0]["workload"] == "claims" and rows[-1]["row"] == "total"
    code, out, _ = invoke(
        "run", str(scenario), "--actual", "--store", store, "--since", "2026-11-02",
        "--until", "2026-11-03", "--format", "json",
    )  # fmt: skip
    assert strict_json(out)["schema"] == "costmodel.actual/1"


def test_the_dashboard_upload_refuses_values_beyond_the_bounds() -> None:
    from costmodel.errors import ScenarioError
    from costmodel.shells.ui.services import scenario_from_upload

    data = one_workload("1e30", "1e300").encode()  # type: ignore[arg-type]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_upload("big.yaml", data)
    problems = caught.value.problems  # every problem at once, located
    assert any("big.yaml:4: workloads[0].requests" in p and "1e12" in p for p in problems)
    assert any("workloads[0].input_tokens" in p and "1e7" in p for p in problems)


def test_pull_takes_format_json(api_env: object, tmp_path: Path) -> None:
    from fake_batches_api import TEST_API_KEY, FakeBatch

    line = succeeded_line(
        "nightly-1", "claude-haiku-4-5", usage_object(input_tokens=1_000, output_tokens=0)
    )
    api_env.add_batch(  # type: ignore[attr-defined]
        FakeBatch("msgbatch_01Json", datetime(2026, 11, 2, 9, tzinfo=UTC), [line])
    )
    code, out, err = invoke(
        "usage", "pull", "--store", str(tmp_path / "p.duckdb"), "--no-progress", "--format", "json"
    )
    assert code == 0, err
    data = strict_json(out)
    assert data["schema"] == "costmodel.pull/1" and data["ok"] is True
    assert data["batches"] == [
        {"batch_id": "msgbatch_01Json", "outcome": "pulled", "requests": 1, "reason": ""}
    ]
    assert TEST_API_KEY not in out + err
