"""costmodel export focus: golden rows, totals against the summaries, and the FOCUS rules
(vendored requirements model, tests/focus_model/) run in DuckDB over CSV and Parquet files."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.store import open_store
from costmodel.adapters.synthetic import errored_line, succeeded_line, usage_object
from costmodel.core.focus import FocusExport, columns_for, focus_from_batches, focus_from_org
from costmodel.core.money import quantize_cents
from costmodel.shells.cli import main
from tests.focus_rules import Outcome, load_model, mandatory_columns, violations

CATALOGUE = bundled_catalogue()


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _import(store: Path, tmp: Path, name: str, lines: list[str], created: str) -> None:
    path = tmp / f"msgbatch_{name}_results.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = _run("usage", "import", str(path), "--created-at", created, "--store", str(store))
    assert result.exit_code == 0, result.output


@pytest.fixture
def golden_store(tmp_path: Path) -> Path:
    """Two days of hand-sized usage of claude-haiku-4-5 (batch: $0.50 / $2.50 / $0.05 / $1.00 per
    MTok for input, output, cache read and 1h cache write; web search $10 per 1,000)."""
    store = tmp_path / "usage.duckdb"
    _import(
        store,
        tmp_path,
        "01golden",
        [
            succeeded_line(
                "triage-0001",
                "claude-haiku-4-5",
                usage_object(input_tokens=1_000_000, output_tokens=200_000),
            ),
            succeeded_line(
                "triage-0002",
                "claude-haiku-4-5-20251001",
                usage_object(
                    input_tokens=500_000, output_tokens=100_000, cache_read=1_000_000, web_search=3
                ),
            ),
            errored_line("triage-0003"),
        ],
        "2026-11-03",
    )
    _import(
        store,
        tmp_path,
        "02golden",
        [
            succeeded_line(
                "summarise-0001",
                "claude-haiku-4-5",
                usage_object(input_tokens=0, output_tokens=10, cache_write_1h=123_457),
            )
        ],
        "2026-11-04",
    )
    return store


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_golden_rows_by_hand(golden_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "costs.csv"
    result = _run(
        "export", "focus", "--month", "2026-11", "--output", str(out), "--store", str(golden_store)
    )
    assert result.exit_code == 0, result.output
    rows = {(r["ChargePeriodStart"], r["SkuMeter"]): r for r in _read_csv(out)}
    # (day, meter): ConsumedQuantity, PricingQuantity, ListUnitPrice, cost, job
    expected = {
        ("2026-11-03T00:00:00Z", "Input Tokens"): ("1500000", "1.5", "0.5", "0.75", "triage"),
        ("2026-11-03T00:00:00Z", "Output Tokens"): ("300000", "0.3", "2.5", "0.75", "triage"),
        ("2026-11-03T00:00:00Z", "Cache Read Input Tokens"): (
            "1000000",
            "1",
            "0.05",
            "0.05",
            "triage",
        ),
        ("2026-11-03T00:00:00Z", "Web Searches"): ("3", "0.003", "10", "0.03", "triage"),
        ("2026-11-04T00:00:00Z", "Output Tokens"): (
            "10",
            "0.00001",
            "2.5",
            "0.000025",
            "summarise",
        ),
        ("2026-11-04T00:00:00Z", "Cache Write Input Tokens (1 hour)"): (
            "123457",
            "0.123457",
            "1",
            "0.123457",
            "summarise",
        ),
    }
    assert set(rows) == set(expected)
    for key, (consumed, quantity, price, cost, job) in expected.items():
        row = rows[key]
        assert row["ConsumedQuantity"] == consumed
        assert row["PricingQuantity"] == quantity
        assert row["ListUnitPrice"] == row["ContractedUnitPrice"] == price
        for column in ("ListCost", "ContractedCost", "EffectiveCost", "BilledCost"):
            assert row[column] == cost, (key, column)
        assert json.loads(row["Tags"]) == {"job": job}
        assert row["x_ServiceTier"] == "batch"
        assert row["ChargeCategory"] == "Usage" and row["ChargeClass"] == ""
        assert row["BillingPeriodStart"] == "2026-11-01T00:00:00Z"
        assert row["BillingPeriodEnd"] == "2026-12-01T00:00:00Z"
        assert row["SkuId"] == f"anthropic/claude-haiku-4-5/{row['SkuId'].split('/')[2]}/batch"
        assert row["SkuPriceId"].startswith(row["SkuId"] + "/from-")
    assert rows[("2026-11-03T00:00:00Z", "Input Tokens")]["PricingUnit"] == "1000000 Tokens"
    assert rows[("2026-11-03T00:00:00Z", "Web Searches")]["PricingUnit"] == "1000 Searches"
    # 0.75 + 0.75 + 0.05 + 0.03 + 0.000025 + 0.123457 = 1.703482 -> $1.70; the errored request
    # is not billed.
    total = sum(Decimal(r["BilledCost"]) for r in rows.values())
    assert total == Decimal("1.703482")


def test_contracted_prices_from_a_price_file(golden_store: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "name: Acme\nas_of: 2026-10-01\ndiscounts:\n  - {model: claude-haiku-4-5, percent: 15}\n"
    )
    out = tmp_path / "costs.csv"
    result = _run(
        "export", "focus", "--since", "2026-11-03", "--until", "2026-11-04",
        "--prices", str(prices), "--output", str(out), "--store", str(golden_store),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["SkuMeter"]: r for r in _read_csv(out)}
    assert set(rows) == {"Input Tokens", "Output Tokens", "Cache Read Input Tokens", "Web Searches"}
    row = rows["Input Tokens"]
    assert (row["ListUnitPrice"], row["ListCost"]) == ("0.5", "0.75")
    assert (row["ContractedUnitPrice"], row["ContractedCost"], row["BilledCost"]) == (
        "0.425",
        "0.6375",
        "0.6375",
    )
    assert violations(out, "1.2").failed == {}


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo stores (pinned: the month to 2026-11-30) exported in every version and format."""
    from costmodel.adapters.demo import ensure_demo_store
    from costmodel.adapters.org_demo import write_org_demo

    folder = tmp_path_factory.mktemp("focus")
    batches = ensure_demo_store(folder / "demo.duckdb", today=date(2026, 12, 1))
    org = folder / "org.duckdb"
    with open_store(org) as opened:
        write_org_demo(opened, until=date(2026, 11, 30))
    out: dict[str, Path] = {"store": batches, "org_store": org}
    for source, store in (("batches", batches), ("org", org)):
        for version in ("1.2", "1.3"):
            for suffix in ("csv", "parquet"):
                path = folder / f"{source}-{version}.{suffix}"
                result = _run(
                    "export", "focus", "--month", "2026-11", "--source", source,
                    "--focus-version", version, "--output", str(path), "--store", str(store),
                )  # fmt: skip
                assert result.exit_code == 0, result.output
                out[f"{source}-{version}-{suffix}"] = path
    return out


def _sum(path: Path, column: str) -> Decimal:
    con = duckdb.connect()
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    extra = "" if path.suffix == ".parquet" else ", all_varchar = true"
    values = con.execute(
        f"SELECT CAST({column} AS VARCHAR) FROM {reader}('{path}'{extra})"
    ).fetchall()
    return sum((Decimal(v) for (v,) in values if v is not None), Decimal(0))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_totals_equal_usage_summary_to_the_cent(demo_exports: dict[str, Path], suffix: str) -> None:
    from costmodel.core.measured import usage_summary

    with open_store(demo_exports["store"], read_only=True) as opened:
        summary = usage_summary(
            opened, since=date(2026, 11, 1), until=date(2026, 12, 1), catalogue=CATALOGUE
        )
    totals = summary.to_dict()["totals"]
    path = demo_exports[f"batches-1.2-{suffix}"]
    billed = _sum(path, "BilledCost")
    assert quantize_cents(billed) == Decimal(str(totals["cost_billed"]))
    # The rows foot: the exact row sum is the exact summary total, not only its rounding.
    assert billed == sum(summary.exact["cost_billed"].values(), Decimal(0))
    assert quantize_cents(_sum(path, "ListCost")) == Decimal(str(totals["cost_billed"]))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_org_totals_equal_org_summary_to_the_cent(
    demo_exports: dict[str, Path], suffix: str
) -> None:
    from costmodel.adapters.org_store import read_report
    from costmodel.core.org_summary import org_summary

    with open_store(demo_exports["org_store"], read_only=True) as opened:
        found = read_report(opened, date(2026, 11, 1), date(2026, 11, 30))
    assert found is not None
    report, _ = found
    total = org_summary(report.usage, report.cost, CATALOGUE, geo_rows=report.geo_usage).totals()
    path = demo_exports[f"org-1.2-{suffix}"]
    assert total.reported_usd is not None and total.reported_list_usd is not None
    assert _sum(path, "BilledCost") == total.reported_usd  # exact, not only to the cent
    assert _sum(path, "EffectiveCost") == total.reported_usd
    assert _sum(path, "ListCost") == total.reported_list_usd
    assert quantize_cents(total.reported_usd) > 0


@pytest.mark.parametrize("source", ["batches", "org"])
@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_exports_meet_the_focus_model(
    demo_exports: dict[str, Path], source: str, version: str, suffix: str
) -> None:
    path = demo_exports[f"{source}-{version}-{suffix}"]
    # Org rows' unit prices are the report's amounts over the quantity, at 18 places.
    tolerance = Decimal("1e-18") if source == "org" else Decimal(0)
    outcome = violations(path, version, product_tolerance=tolerance)
    assert outcome.failed == {}
    # The model drove presence, types, formats, allowed values, nulls and the product rules.
    assert {
        "ColumnPresent", "TypeDecimal", "TypeString", "TypeDateTime", "FormatNumeric",
        "FormatDateTime", "FormatKeyValue", "FormatCurrency", "CheckNationalCurrency",
        "CheckValue", "CheckNotValue", "OR", "ColumnByColumnEqualsColumnValue",
        "CheckDistinctCount", "CheckGreaterOrEqualThanValue",
    } <= outcome.kinds  # fmt: skip
    assert len(outcome.checked) > 100
    header = (
        duckdb.connect()
        .execute(
            f"DESCRIBE SELECT * FROM {'read_parquet' if suffix == 'parquet' else 'read_csv'}('{path}')"
        )
        .fetchall()
    )
    names = [row[0] for row in header]
    assert names == list(columns_for(version))
    assert mandatory_columns(load_model(version)) <= set(names)
    if version == "1.3":
        assert {"ServiceProviderName", "HostProviderName", "ProviderName", "PublisherName"} <= set(
            names
        )


def test_parquet_money_is_decimal(demo_exports: dict[str, Path]) -> None:
    types = dict(
        (name, kind)
        for name, kind, *_ in duckdb.connect()
        .execute(f"DESCRIBE SELECT * FROM read_parquet('{demo_exports['batches-1.2-parquet']}')")
        .fetchall()
    )
    for column in ("BilledCost", "ListCost", "ContractedUnitPrice", "PricingQuantity"):
        assert types[column] == "DECIMAL(38,18)"
    assert types["ChargePeriodStart"].startswith("TIMESTAMP WITH TIME ZONE")


def test_the_checker_fails_broken_files(demo_exports: dict[str, Path], tmp_path: Path) -> None:
    """The rules can fail: each break of a model rule is caught by that rule."""
    rows = _read_csv(demo_exports["batches-1.2-csv"])

    def broken(change: dict[str, str], drop: str | None = None) -> Outcome:
        path = tmp_path / "broken.csv"
        names = [n for n in rows[0] if n != drop]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, names, extrasaction="ignore")
            writer.writeheader()
            writer.writerow({**rows[0], **change})
            writer.writerows(rows[1:])
        return violations(path, "1.2")

    assert "CostAndUsage-D-038-M" in broken({}, drop="ProviderName").failed
    assert "BilledCost-C-003-M" in broken({"BilledCost": ""}).failed
    assert "ChargeCategory-C-003-M" in broken({"ChargeCategory": "Usages"}).failed
    assert "BillingCurrency-C-004-M" in broken({"BillingCurrency": "XYZ"}).failed or any(
        "BillingCurrency" in k for k in broken({"BillingCurrency": "XYZ"}).failed
    )
    assert "ListCost-C-002-M" in broken({"ListCost": "7.5e-1"}).failed
    assert "ChargePeriodStart-C-002-M" in broken({"ChargePeriodStart": "2026-11-01 00:00"}).failed
    assert "ListUnitPrice-C-010-C" in broken({"ListCost": "0.43"}).failed
    assert any("Tags" in k for k in broken({"Tags": "job=x"}).failed)
    assert any("ServiceCategory" in k for k in broken({"ServiceCategory": "AI"}).failed)


def test_unknown_version_is_refused_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "focus", "--focus-version", "1.4", "--output", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "costmodel: error: --focus-version: FOCUS '1.4' is not one this tool writes; "
        "known versions: 1.2, 1.3"
    ]


def test_existing_output_needs_force(golden_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "costs.parquet"
    out.write_text("mine")
    args = ["export", "focus", "--output", str(out), "--store", str(golden_store)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "already exists; give --force" in result.output
    assert out.read_text() == "mine"
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0
    assert out.read_bytes()[:4] == b"PAR1"


def test_bad_arguments(golden_store: Path, tmp_path: Path) -> None:
    base = ["export", "focus", "--store", str(golden_store)]
    assert (
        "expected a .csv or .parquet"
        in CliRunner().invoke(main, [*base, "--output", str(tmp_path / "x.xlsx")]).output
    )
    result = CliRunner().invoke(
        main, [*base, "--month", "2026-13", "--output", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    result = CliRunner().invoke(
        main, [*base, "--month", "2025-01", "--output", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 1 and "no usage in that period" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_unknown_model_is_left_out_with_a_note(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    _import(
        store,
        tmp_path,
        "01odd",
        [
            succeeded_line(
                "a-1", "claude-haiku-4-5", usage_object(input_tokens=10, output_tokens=1)
            ),
            succeeded_line(
                "a-2", "claude-nonesuch-9", usage_object(input_tokens=10, output_tokens=1)
            ),
        ],
        "2026-11-05",
    )
    out = tmp_path / "c.csv"
    result = _run("export", "focus", "--output", str(out), "--store", str(store))
    assert "claude-nonesuch-9 (1 requests)" in result.output
    assert {r["SkuId"].split("/")[1] for r in _read_csv(out)} == {"claude-haiku-4-5"}


# -- properties of the rows -----------------------------------------------------------------------
_usage = st.fixed_dictionaries(
    {
        "input_tokens": st.integers(0, 60_000),
        "output_tokens": st.integers(0, 300_000),
        "cache_read": st.integers(0, 30_000),
        "cache_write_5m": st.integers(0, 9_000),
        "web_search": st.integers(0, 20),
    }
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    requests=st.lists(
        st.tuples(
            st.sampled_from(["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-6"]),
            st.sampled_from(["alpha", "beta-x"]),
            st.integers(1, 28),
            _usage,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_rows_foot_and_keep_the_null_rules(
    tmp_path_factory: pytest.TempPathFactory, requests: list[Any]
) -> None:
    from costmodel.core.measured import usage_summary

    folder = tmp_path_factory.mktemp("prop")
    store = folder / "s.duckdb"
    by_day: dict[int, list[str]] = {}
    for n, (model, job, day, usage) in enumerate(requests):
        by_day.setdefault(day, []).append(
            succeeded_line(f"{job}-{n}", model, usage_object(**usage))
        )
    for day, lines in by_day.items():
        _import(store, folder, f"{day:02d}prop", lines, f"2026-11-{day:02d}")
    with open_store(store, read_only=True) as opened:
        export = focus_from_batches(opened, CATALOGUE)
        summary = usage_summary(opened, catalogue=CATALOGUE)
    assert export.total("BilledCost") == sum(summary.exact["cost_billed"].values(), Decimal(0))
    records = list(export.records("1.3", billing_account_id="a", billing_account_name="b"))
    for record in records:
        for column in (
            "BilledCost",
            "ListCost",
            "ContractedCost",
            "EffectiveCost",
            "PricingQuantity",
            "ListUnitPrice",
            "ContractedUnitPrice",
            "SkuPriceId",
            "ServiceProviderName",
        ):
            assert record[column] is not None, column
        assert record["ListUnitPrice"] * record["PricingQuantity"] == record["ListCost"]
        assert record["ContractedUnitPrice"] * record["PricingQuantity"] == record["ContractedCost"]
        assert record["ChargeClass"] is None
        assert record["ConsumedQuantity"] > 0
    assert len({(r["ChargePeriodStart"], r["SkuPriceId"], r["Tags"]) for r in records}) == len(
        records
    )


def test_org_cells_without_usage_are_adjustments() -> None:
    from datetime import UTC, datetime

    from costmodel.adapters.ingest.org import CostRow, UsageRow

    start, end = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    usage = UsageRow(start, end, "claude-haiku-4-5", "standard", "wrkspc_1", None, "0-200k",
                     None, None, 2_000_000, 0, 0, 0, 0, 0, 10)  # fmt: skip
    costs = [
        CostRow(start, end, "claude-haiku-4-5", "standard", "wrkspc_1", None, "0-200k", None,
                None, "tokens", "uncached_input_tokens", Decimal("170"), Decimal("200"), "USD", None),
        CostRow(start, end, "claude-haiku-4-5", "standard", "wrkspc_1", None, "0-200k", None,
                None, "tokens", "output_tokens", Decimal("5"), Decimal("5"), "USD", None),
    ]  # fmt: skip
    export: FocusExport = focus_from_org([usage], costs, CATALOGUE)
    rows = {row.kind: row for row in export.rows}
    assert rows["input"].billed_cost == Decimal("1.70") and rows["input"].list_cost == Decimal("2")
    assert rows["input"].contracted_unit_price == Decimal("0.85")
    assert rows["output"].category == "Adjustment" and rows["output"].pricing_quantity is None
    assert any("Adjustment" in note for note in export.notes)
    assert export.total() == Decimal("1.75")
