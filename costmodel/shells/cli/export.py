"""``costmodel export focus``: the usage as a FOCUS file (CSV or Parquet), exact to the digit.

A thin shell over :mod:`costmodel.core.focus`: it reads the period and the store, and writes the rows.
CSV money is written as plain decimal strings (``0.000375``, never ``3.75e-4`` nor a float's
``0.00037499999``); Parquet money is ``decimal128(38, 18)``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from costmodel.errors import CostModelError
from costmodel.shells.cli.options import (
    _job_rule,
    _open_store,
    _parse_date,
    friendly_errors,
    jobs_options,
    prices_option,
    store_option,
)
from costmodel.shells.cli.org import _org_store

__all__ = ["export", "month_period", "write_focus"]

_FORMATS = {".csv": "csv", ".parquet": "parquet"}


def month_period(
    month: str | None, since: str | None, until: str | None
) -> tuple[date | None, date | None]:
    """``--month YYYY-MM`` or ``--since``/``--until`` (until exclusive) as (first day, day after)."""
    if month is not None:
        if since or until:
            raise click.UsageError("give --month or --since/--until, not both")
        try:
            first = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise click.BadParameter(
                f"expected a month as YYYY-MM, got {month!r}", param_hint="--month"
            ) from None
        from costmodel.core.focus import month_bounds

        return month_bounds(first)
    start, end = _parse_date(since, "--since"), _parse_date(until, "--until")
    if start and end and end <= start:
        raise click.BadParameter("must be after --since (it is exclusive)", param_hint="--until")
    return start, end


def _plain(value: Decimal) -> str:
    """A decimal as plain digits: no exponent, no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def write_focus(
    records: Iterable[dict[str, Any]], columns: tuple[str, ...], output: Path, fmt: str
) -> int:
    """Write the records to ``output`` (already known to be writable); return the row count."""
    from costmodel.core.focus import DATETIME_COLUMNS, MONEY_COLUMNS, QUANTITY_COLUMNS, SCALE

    if fmt == "csv":
        count = 0
        with open(output, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for record in records:
                writer.writerow([_csv_cell(record[name]) for name in columns])
                count += 1
        return count
    import pyarrow as pa
    import pyarrow.parquet as pq

    decimal = pa.decimal128(38, SCALE)
    fields = []
    for name in columns:
        if name in MONEY_COLUMNS or name in QUANTITY_COLUMNS:
            kind: pa.DataType = decimal
        elif name in DATETIME_COLUMNS:
            kind = pa.timestamp("us", tz="UTC")
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    schema = pa.schema(fields)
    rows = list(records)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, output)
    return len(rows)


def _target(output: Path, force: bool) -> str:
    fmt = _FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise click.BadParameter(
            f"{output}: expected a .csv or .parquet file name", param_hint="--output"
        )
    if os.path.lexists(output) and not force:
        raise CostModelError(f"{output}: already exists; give --force to replace it")
    if os.path.isdir(output):
        raise CostModelError(f"{output}: is a folder, not a file")
    return fmt


@click.group()
def export() -> None:
    """Exports for other tools: the usage as FOCUS rows (FinOps Open Cost and Usage Specification)."""


@export.command(name="focus")
@click.option("--month", help="The calendar month (YYYY-MM).")
@click.option("--since", help="First usage day (YYYY-MM-DD), inclusive.")
@click.option("--until", help="The day after the last (YYYY-MM-DD), exclusive.")
@click.option(
    "--source",
    type=click.Choice(["batches", "org"]),
    default="batches",
    show_default=True,
    help="Stored batch results, or the stored organisation report.",
)
@click.option(
    "--focus-version",
    default="1.2",
    show_default=True,
    help="The FOCUS version to write (1.2 or 1.3).",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="The file to write: costs.csv or costs.parquet.",
)
@click.option("--force", is_flag=True, help="Replace --output if it exists.")
@click.option(
    "--billing-account-id",
    default="anthropic-organization",
    show_default=True,
    help="BillingAccountId (your Anthropic organisation's id).",
)
@click.option(
    "--billing-account-name",
    default="Anthropic organization",
    show_default=True,
    help="BillingAccountName.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="With --source org: the generated demo organisation report.",
)
@prices_option
@store_option
@jobs_options
@friendly_errors
def export_focus(
    month: str | None,
    since: str | None,
    until: str | None,
    source: str,
    focus_version: str,
    output: Path,
    force: bool,
    billing_account_id: str,
    billing_account_name: str,
    demo: bool,
    prices: Path | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
) -> None:
    """Write the usage as FOCUS rows: one per day x model x token kind x tier (x job or
    workspace), with list, contracted, effective and billed cost, exact."""
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.core.focus import check_version, columns_for, focus_from_batches, focus_from_org

    version = check_version(focus_version)
    fmt = _target(output, force)
    first, after = month_period(month, since, until)
    catalogue = catalogue_for(None, prices)
    if source == "batches":
        if demo:
            raise click.UsageError("--demo goes with --source org")
        with _open_store(store, read_only=True) as opened:
            result = focus_from_batches(
                opened, catalogue, since=first, until=after, jobs=_job_rule(job_separator, jobs)
            )
    else:
        from costmodel.adapters.org_store import read_report

        last = None if after is None else after - timedelta(days=1)
        with _org_store(store, demo) as opened:
            found = read_report(opened, first, last)
            if found is None:
                raise CostModelError(f"{opened.path}: no organisation report for that period")
        report, _ = found
        result = focus_from_org(report.usage, report.cost, catalogue)
    if not result.rows:
        raise CostModelError("no usage in that period: nothing to export")
    records = result.records(
        version, billing_account_id=billing_account_id, billing_account_name=billing_account_name
    )
    count = write_focus(records, columns_for(version), output, fmt)
    for note in result.notes:
        click.echo(f"costmodel: note: {note}", err=True)
    from costmodel.core.money import quantize_cents

    click.echo(
        f"costmodel: {count:,} FOCUS {version} rows written to {output} "
        f"(BilledCost {quantize_cents(result.total('BilledCost')):,.2f} USD, "
        f"ListCost {quantize_cents(result.total('ListCost')):,.2f} USD)",
        err=True,
    )
