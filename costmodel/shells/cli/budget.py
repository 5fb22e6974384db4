"""``costmodel budget check``: monthly budgets against the month's spend so far, and where the
month is heading. Exit status 3 when any budget is or will be exceeded (cron, CI), 1 on errors."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from costmodel.errors import CostModelError, located
from costmodel.shells.cli.options import (
    EXIT_OVER_BUDGET,
    _emit,
    _job_rule,
    _open_store,
    _parse_date,
    friendly_errors,
    jobs_options,
    prices_option,
    store_option,
)
from costmodel.shells.cli.org import _org_store

__all__ = ["budget", "month_spend"]


@click.group()
def budget() -> None:
    """Monthly budgets per job, model, workspace or in total."""


def _month(value: str | None) -> date | None:
    if value is None:
        return None
    from datetime import datetime

    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter(
            f"expected a month as YYYY-MM, got {value!r}", param_hint="--month"
        ) from None


def _check_scopes(budgets: Any, source: str, catalogue: Any, path: str) -> tuple[Any, list[str]]:
    """Budgets with model names resolved, and notes naming those the source cannot check (a
    job budget against the organisation report, a workspace budget against batch results).
    An unknown model is an error naming its line."""
    from dataclasses import replace

    from costmodel.core.budgets import BudgetError

    problems, skipped, out = [], [], []
    for item in budgets:
        if (item.scope, source) in (("job", "org"), ("workspace", "batches")):
            skipped.append(f"{item.name} (line {item.line})")
            continue
        if item.scope == "model":
            if not catalogue.knows(item.key):
                problems.append(
                    located(f"unknown model {item.key!r}", file=path, line=item.line, field="model")
                )
                continue
            item = replace(item, key=catalogue.resolve(item.key))
        out.append(item)
    if problems:
        raise BudgetError(problems)
    notes = []
    if skipped:
        why = (
            "the organisation report has no jobs"
            if source == "org"
            else "batch results carry no workspace"
        )
        notes.append(f"Not checked with --source {source} ({why}): {', '.join(skipped)}.")
    return tuple(out), notes


def month_spend(
    opened: Any, source: str, first: date, as_of: date, catalogue: Any, jobs: Any
) -> dict[str, dict[str | None, Decimal]]:
    """Exact spend from ``first`` to ``as_of`` (inclusive) by scope: total, job, model, workspace."""
    spend: dict[str, dict[str | None, Decimal]] = {}
    if source == "batches":
        from costmodel.core.measured import usage_summary

        for by, scope in (("model", "model"), ("job", "job")):
            summary = usage_summary(
                opened, by=by, since=first, until=as_of + timedelta(days=1), jobs=jobs,
                catalogue=catalogue,
            )  # fmt: skip
            spend[scope] = {str(k): v for k, v in summary.exact["cost_billed"].items()}
        spend["total"] = {None: sum(spend["model"].values(), Decimal(0))}
        return spend
    from costmodel.adapters.org_store import read_report
    from costmodel.core.org_summary import org_summary

    found = read_report(opened, first, as_of)
    if found is None:
        return {"total": {None: Decimal(0)}}
    report, _ = found
    for by in ("model", "workspace"):
        rows = org_summary(report.usage, report.cost, catalogue, by=by).rows
        spend[by] = {row.key: row.reported_usd or Decimal(0) for row in rows}
    spend["total"] = {None: sum(spend["model"].values(), Decimal(0))}
    return spend


def _last_day(opened: Any, source: str, since: date | None, until: date | None) -> date | None:
    if source == "batches":
        last: date | None = opened.usage_span(since, until)[1]
        return last
    from costmodel.adapters.org_store import org_period

    period = org_period(opened, since, None if until is None else until - timedelta(days=1))
    return None if period is None else period.last_day


@budget.command(name="check")
@click.option(
    "--budgets",
    "budgets_file",
    required=True,
    help="The budgets file (YAML), or 'example' for the bundled example.",
)
@click.option(
    "--month", help="The month (YYYY-MM); default the month of --on, else of the last usage."
)
@click.option(
    "--on",
    "on",
    help="See the month from this day (YYYY-MM-DD); default the last day with usage in the month.",
)
@click.option(
    "--source",
    type=click.Choice(["batches", "org"]),
    default="batches",
    show_default=True,
    help="Stored batch results, or the stored organisation report (its reported amounts).",
)
@click.option("--demo", is_flag=True, help="With --source org: the generated demo report.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@prices_option
@store_option
@jobs_options
@friendly_errors
def budget_check(
    budgets_file: str,
    month: str | None,
    on: str | None,
    source: str,
    demo: bool,
    fmt: str,
    prices: Path | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
) -> None:
    """Month to date, the projected month end and the verdict for each budget; exit status 3
    when any budget is or will be exceeded."""
    from costmodel.adapters.budget_files import example_budgets_path, load_budgets
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.core.budgets import check_budgets
    from costmodel.core.focus import month_bounds

    path = example_budgets_path() if budgets_file == "example" else Path(budgets_file)
    catalogue = catalogue_for(None, prices)
    budgets, skipped = _check_scopes(load_budgets(path), source, catalogue, str(path))
    chosen_month, day = _month(month), _parse_date(on, "--on")
    if chosen_month and day and (day.year, day.month) != (chosen_month.year, chosen_month.month):
        raise click.BadParameter(f"{day.isoformat()} is not in {month}", param_hint="--on")
    if source == "batches" and demo:
        raise click.UsageError("--demo goes with --source org")
    opened_store = (
        _org_store(store, demo) if source == "org" else _open_store(store, read_only=True)
    )
    with opened_store as opened:
        if chosen_month is None:
            anchor = day or _last_day(opened, source, None, None)
            if anchor is None:
                raise CostModelError(f"{opened.path}: no usage stored; give --month and --on")
            chosen_month = anchor
        first, after = month_bounds(chosen_month)
        as_of = day or _last_day(opened, source, first, after)
        notes = list(skipped)
        if as_of is None:
            raise CostModelError(
                f"{opened.path}: no usage in {first:%Y-%m}; give --on to check it anyway"
            )
        if day is None:
            notes.append(f"Seen from {as_of.isoformat()}, the last day with usage in the month.")
        spend = month_spend(opened, source, first, as_of, catalogue, _job_rule(job_separator, jobs))
    result = check_budgets(budgets, spend, month=first, as_of=as_of, source=source)
    notes.append(result.method)
    if source == "org":
        notes.append("Spend is the organisation report's billed amount.")
    else:
        notes.append("Spend is the stored batch results at batch rates.")
    from dataclasses import replace

    result = replace(result, notes=tuple(notes))
    _emit(result, fmt)
    if result.exceeded:
        sys.exit(EXIT_OVER_BUDGET)
