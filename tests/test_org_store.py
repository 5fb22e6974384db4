"""The organisation report in the DuckDB store: exact amounts, atomic replacement of days."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from costmodel.adapters.ingest.org import CostRow
from costmodel.adapters.org_store import (
    has_org_data,
    org_period,
    read_cost,
    read_report,
    read_usage,
    write_org_report,
)
from costmodel.adapters.store import open_store
from costmodel.adapters.synthetic_org import demo_org_report, generate_org_report
from costmodel.errors import StoreError

SINCE = date(2026, 10, 1)


@pytest.fixture(scope="module")
def facts():
    return generate_org_report(since=SINCE, days=20, seed=5, requests_per_day=150)


def _report(facts, since: date, until: date):
    return demo_org_report(facts, since=since, until=until)


def test_a_report_reads_back_exactly_with_decimal_amounts(tmp_path: Path, facts) -> None:
    report = _report(facts, SINCE, date(2026, 10, 20))
    with open_store(tmp_path / "s.duckdb") as store:
        assert not has_org_data(store)
        written = write_org_report(store, report)
        assert written.replaced_rows == 0
        assert sorted(read_usage(store), key=repr) == sorted(report.usage, key=repr)
        assert sorted(read_usage(store, geo=True), key=repr) == sorted(report.geo_usage, key=repr)
        back = read_cost(store)
    assert sorted(back, key=repr) == sorted(report.cost, key=repr)
    assert all(isinstance(r.amount_cents, Decimal) for r in back)
    assert sum(r.amount_cents for r in back) == sum(r.amount_cents for r in report.cost)
    assert sum(r.list_amount_cents for r in back) == sum(r.list_amount_cents for r in report.cost)


def _cost(day: date, amount: str) -> CostRow:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRow(
        starting_at=start,
        ending_at=start.replace(day=day.day + 1),
        model="claude-sonnet-4-5",
        service_tier="standard",
        workspace_id="wrkspc_a",
        api_key_id=None,
        context_window="0-200k",
        inference_geo="global",
        speed=None,
        cost_type="tokens",
        token_type="output_tokens",
        amount_cents=Decimal(amount),
        list_amount_cents=Decimal(amount),
        currency="USD",
        requests=None,
    )


def test_fractional_cents_that_a_float_would_lose_are_kept(tmp_path: Path, facts) -> None:
    amounts = ["0.1", "0.2", "12345678901234.123456789012", "0.000000000001"]
    report = _report(facts, SINCE, SINCE)
    report = dataclasses.replace(report, cost=[_cost(SINCE, a) for a in amounts])
    with open_store(tmp_path / "s.duckdb") as store:
        write_org_report(store, report)
        got = sorted(r.amount_cents for r in read_cost(store))
    assert got == sorted(Decimal(a) for a in amounts)
    assert sum(got) == Decimal("12345678901234.423456789013")


@pytest.mark.parametrize("amount", ["0.0000000000001", "NaN", "1e30"])
def test_an_amount_the_store_cannot_keep_exactly_is_refused(
    tmp_path: Path, facts, amount: str
) -> None:
    report = _report(facts, SINCE, SINCE)
    report = dataclasses.replace(report, cost=[_cost(SINCE, amount)])
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(StoreError, match=r"decimal places|outside what the store keeps"):
            write_org_report(store, report)
        assert not has_org_data(store)


def test_a_re_pull_replaces_its_days_and_never_double_counts(tmp_path: Path, facts) -> None:
    whole = _report(facts, SINCE, date(2026, 10, 20))
    middle = _report(facts, date(2026, 10, 5), date(2026, 10, 9))
    with open_store(tmp_path / "s.duckdb") as store:
        write_org_report(store, whole)
        before = sum(r.list_amount_cents for r in read_cost(store))
        again = write_org_report(store, middle)
        assert again.replaced_rows > 0
        assert sum(r.list_amount_cents for r in read_cost(store)) == before
        assert len(read_usage(store)) == len(whole.usage)
        assert len(read_usage(store, geo=True)) == len(whole.geo_usage)


def test_a_write_that_fails_part_way_leaves_the_store_as_it_was(tmp_path: Path, facts) -> None:
    whole = _report(facts, SINCE, date(2026, 10, 20))
    with open_store(tmp_path / "s.duckdb") as store:
        write_org_report(store, whole)
        before = (read_usage(store), read_cost(store))
        # A re-pull of the same days whose last cost row cannot be stored: the delete of the
        # old rows and the inserts must all roll back.
        broken = _report(facts, SINCE, date(2026, 10, 20))
        # (no currency: the NOT NULL constraint fails the insert, after the delete ran).
        broken.cost.append(dataclasses.replace(_cost(SINCE, "1"), currency=None))
        with pytest.raises(StoreError, match="cannot store"):
            write_org_report(store, broken)
        assert (read_usage(store), read_cost(store)) == before
    with open_store(tmp_path / "s.duckdb", read_only=True) as store:
        assert (read_usage(store), read_cost(store)) == before


def test_a_row_outside_the_pulled_days_is_refused(tmp_path: Path, facts) -> None:
    report = _report(facts, SINCE, SINCE)
    report = dataclasses.replace(report, cost=[_cost(date(2026, 10, 3), "1")])
    with open_store(tmp_path / "s.duckdb") as store, pytest.raises(StoreError, match="outside"):
        write_org_report(store, report)


def test_period_freshness_and_the_demo_label(tmp_path: Path, facts) -> None:
    report = _report(facts, SINCE, date(2026, 10, 10))
    report.data_refreshed_at = datetime(2026, 10, 11, 6, tzinfo=UTC)
    with open_store(tmp_path / "s.duckdb") as store:
        assert org_period(store) is None and read_report(store) is None
        write_org_report(store, report, source="demo")
        period = org_period(store)
        assert period is not None
        assert (period.first_day, period.last_day) == (SINCE, date(2026, 10, 10))
        assert period.demo and period.data_refreshed_at == report.data_refreshed_at
        found = read_report(store, date(2026, 10, 2), date(2026, 10, 3))
    assert found is not None
    back, _ = found
    assert {r.day for r in back.usage} == {date(2026, 10, 2), date(2026, 10, 3)}


def test_reading_a_store_without_org_tables_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    with open_store(path, read_only=True) as store:
        assert read_usage(store) == [] and read_cost(store) == [] and not has_org_data(store)
