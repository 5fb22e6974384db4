"""The monthly finance report: one result, the ``costmodel.report/1`` contract, that every layout
(HTML, xlsx, markdown, JSON) reads.

Every figure comes from the summary functions the other commands use, never from queries of its
own: the batch figures are :func:`costmodel.core.measured.usage_summary` (by model, job and day), the
organisation's are :func:`costmodel.core.org_summary.org_summary` (by model, workspace, tier and day)
and :func:`costmodel.core.reconcile.reconcile`, and the prediction is
:func:`costmodel.core.comparison.compare_with_actual`. So the report equals ``usage summary``, ``org
summary`` and ``reconcile`` to the cent by construction, and gets faster when they do.

The prediction's gap (measured - modelled) is split, per workload, into three parts that add up
to it exactly (see :func:`decompose_gap`):

- volume = modelled x (measured requests / modelled requests - 1)
- token mix = (the measured tokens at the scenario's prices and plan) - modelled - volume
- price = measured - (the measured tokens at the scenario's prices and plan)

Batch operations (result types and success rate as the usage summary counts them; turnaround,
expired share and errors by type from the operations summary) are one function,
:func:`batch_operations`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from costmodel.adapters.user_files import line_of, read_yaml, shown_key
from costmodel.core.money import allocate_cents, quantize_cents
from costmodel.errors import CostModelError, located

if TYPE_CHECKING:
    from costmodel.adapters.store import Store
    from costmodel.core.catalogue import Catalogue
    from costmodel.core.jobs import JobRule
    from costmodel.core.measured import UsageSummary
    from costmodel.core.scenario import Business, Scenario

__all__ = [
    "SOURCES",
    "FinanceReport",
    "ReportOptions",
    "ReportPeriod",
    "batch_operations",
    "build_finance_report",
    "decompose_gap",
    "load_business",
    "load_report_options",
    "report_period",
]

SOURCES: Final = ("batches", "org", "all")
GAP_FORMULA: Final = (
    "gap = measured - modelled = volume + token mix + price, per workload, where "
    "volume = modelled x (measured requests / modelled requests - 1); "
    "token mix = (measured tokens priced as the scenario prices them: its price day and "
    "batch plan) - modelled - volume; "
    "price = measured - (measured tokens priced as the scenario prices them)."
)
_RESULT_TYPES: Final = ("succeeded", "errored", "canceled", "expired")
_OPTION_KEYS: Final = ("title", "jobs", "job_separator", "tolerance", "business", "scenario")
_BUSINESS_KEYS: Final = ("revenue", "other_cogs", "customers")
MAX_AMOUNT: Final = 1e15


# -- the period -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportPeriod:
    """``since`` to ``until`` (exclusive, as ``usage summary``); ``month`` when it is one."""

    since: date
    until: date
    month: str | None = None

    @property
    def last_day(self) -> date:
        return self.until - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.until - self.since).days

    @property
    def label(self) -> str:
        if self.month is not None:
            return f"{date.fromisoformat(self.month + '-01'):%B %Y}"
        return f"{self.since.isoformat()} to {self.last_day.isoformat()}"


def _month(text: str) -> tuple[date, date]:
    parts = text.strip().split("-")
    if (
        len(parts) != 2
        or len(parts[0]) != 4
        or len(parts[1]) != 2
        or not all(p.isdigit() for p in parts)
    ):
        raise CostModelError(f"--month: expected a month as YYYY-MM (2026-11), got {text[:40]!r}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 1:
        raise CostModelError(f"--month: no such month {text[:40]!r}; expected YYYY-MM (2026-11)")
    first = date(year, month, 1)
    after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, after


def report_period(
    *, month: str | None, since: date | None, until: date | None, today: date
) -> ReportPeriod:
    """The period asked for: a month, or since/until; by default the last whole month."""
    if month is not None and (since is not None or until is not None):
        raise CostModelError("--month: give --month or --since/--until, not both")
    if month is not None:
        first, after = _month(month)
        return ReportPeriod(first, after, month)
    if since is None and until is None:
        last_month = today.replace(day=1) - timedelta(days=1)
        first, after = _month(f"{last_month:%Y-%m}")
        return ReportPeriod(first, after, f"{last_month:%Y-%m}")
    if since is None or until is None:
        raise CostModelError("--since and --until go together (until is exclusive)")
    if since >= until:
        raise CostModelError(
            f"--since {since.isoformat()} is not before --until {until.isoformat()} "
            "(until is the day after the period)"
        )
    whole = since.day == 1 and _month(f"{since:%Y-%m}")[1] == until
    return ReportPeriod(since, until, f"{since:%Y-%m}" if whole else None)


# -- option and business files --------------------------------------------------------------------
@dataclass(frozen=True)
class ReportOptions:
    """What a report options file sets (flags on the command line win)."""

    title: str | None = None
    jobs: tuple[tuple[str, str], ...] = ()  # (glob on custom_id, job name)
    job_separator: str | None = None
    tolerance: Decimal | None = None  # a share of the reported list amount, 0.005 = 0.5%
    business: Business | None = None
    scenario: Path | None = None


def _fail(path: Path, data: Any, key: Any, message: str, field: str | None = None) -> None:
    line = line_of(data, key) if isinstance(data, Mapping) else None
    raise CostModelError(located(message, file=path, line=line, field=field))


def _unknown_keys(path: Path, data: Mapping[Any, Any], allowed: Sequence[str], where: str) -> None:
    import difflib

    for key in data:
        if key in allowed:
            continue
        shown = shown_key(key, quoted=False)
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; expected {', '.join(allowed)}"
        _fail(path, data, key, f"unknown key{hint}", field=f"{where}{shown}" if shown else None)


def _amount(path: Path, data: Mapping[Any, Any], key: str, *, positive: bool) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(path, data, key, f"expected a number, got {str(value)[:40]!r}", f"business.{key}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0) or number > MAX_AMOUNT:
        bound = "above 0" if positive else "0 or more"
        _fail(
            path,
            data,
            key,
            f"got {value!r}; expected an amount in USD for the period, {bound} and at most 1e15",
            f"business.{key}",
        )
    return number


def _business_block(path: Path, data: Any, owner: Any = None, key: Any = None) -> Business:
    from costmodel.core.scenario import Business

    if not isinstance(data, Mapping):
        _fail(
            path,
            owner if owner is not None else data,
            key,
            "expected a mapping with revenue, other_cogs and customers",
            "business",
        )
    _unknown_keys(path, data, _BUSINESS_KEYS, "business.")
    if "revenue" not in data:
        _fail(path, data, None, "revenue is missing; expected the period's revenue", "business")
    revenue = _amount(path, data, "revenue", positive=True)
    other = _amount(path, data, "other_cogs", positive=False) if "other_cogs" in data else 0.0
    customers = _amount(path, data, "customers", positive=True) if "customers" in data else None
    return Business(revenue, other, customers)


def load_business(path: Path) -> Business:
    """A business file: ``revenue``, ``other_cogs`` and ``customers`` at the top level or under
    ``business:`` (as in a scenario file, whose other keys are then not read), in USD."""
    data = read_yaml(path, kind="business file")
    if isinstance(data, Mapping) and "business" in data:
        if data.get("currency") not in (None, "USD") and not isinstance(data.get("currency"), dict):
            _fail(path, data, "currency", "the report is in USD; give business amounts in USD")
        if isinstance(data.get("currency"), Mapping):
            _fail(path, data, "currency", "the report is in USD; give business amounts in USD")
        return _business_block(path, data["business"], data, "business")
    if not isinstance(data, Mapping):
        raise CostModelError(
            located(
                "not a business file; expected revenue, other_cogs and customers (USD)",
                file=path,
                line=1,
            )
        )
    return _business_block(path, data)


def _tolerance(path: Path, data: Mapping[Any, Any]) -> Decimal:
    value = data["tolerance"]
    text = str(value).strip().removesuffix("%").strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        percent = Decimal(text)
    except (ArithmeticError, ValueError):
        _fail(path, data, "tolerance", f"expected a percentage such as 0.5%, got {text[:40]!r}")
    if not percent.is_finite() or not 0 <= percent <= 100:
        _fail(path, data, "tolerance", f"expected a percentage from 0% to 100%, got {text[:40]!r}")
    return percent / 100


def load_report_options(path: Path) -> ReportOptions:
    """A report options file (YAML), checked like a scenario: every key known, every value of
    its kind, errors naming the file, line and field::

        title: Acme, monthly inference spend
        job_separator: "-"
        jobs: {contract-review: ["contract-*"], claims: ["claim-*"]}
        tolerance: 0.5%
        business: {revenue: 100000, other_cogs: 10000, customers: 400}
        scenario: scenarios/claims-triage.yaml     # relative to this file
    """
    data = read_yaml(path, kind="report options file")
    if not isinstance(data, Mapping) or not data:
        raise CostModelError(
            located(
                f"not a report options file; expected a mapping of {', '.join(_OPTION_KEYS)}",
                file=path,
                line=1,
            )
        )
    _unknown_keys(path, data, _OPTION_KEYS, "")
    title = data.get("title")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        _fail(path, data, "title", "expected a line of text", "title")
    separator = data.get("job_separator")
    if separator is not None and not isinstance(separator, str):
        _fail(path, data, "job_separator", "expected text such as '-'", "job_separator")
    patterns: list[tuple[str, str]] = []
    jobs = data.get("jobs")
    if jobs is not None:
        if not isinstance(jobs, Mapping) or not jobs:
            _fail(path, data, "jobs", "expected job names mapped to custom_id patterns", "jobs")
        for job, globs in jobs.items():
            listed = [globs] if isinstance(globs, str) else globs
            if not isinstance(listed, list) or not all(isinstance(g, str) and g for g in listed):
                shown = shown_key(job, quoted=False)
                _fail(
                    path,
                    jobs,
                    job,
                    "expected a list of custom_id patterns",
                    f"jobs.{shown}" if shown else "jobs",
                )
            patterns.extend((glob, str(job)) for glob in listed)
    tolerance = _tolerance(path, data) if "tolerance" in data else None
    business = (
        _business_block(path, data["business"], data, "business") if "business" in data else None
    )
    scenario = None
    if "scenario" in data:
        value = data["scenario"]
        if not isinstance(value, str) or not value.strip():
            _fail(path, data, "scenario", "expected the path of a scenario file", "scenario")
        scenario = Path(value) if Path(value).is_absolute() else path.parent / value
    return ReportOptions(
        title=title.strip() if isinstance(title, str) else None,
        jobs=tuple(patterns),
        job_separator=separator,
        tolerance=tolerance,
        business=business,
        scenario=scenario,
    )


# -- the result -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FinanceReport:
    """The report as the ``costmodel.report/1`` contract (:meth:`to_dict`); layouts read that."""

    data: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.data["title"])

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(self.data["notes"])

    @property
    def empty(self) -> bool:
        return bool(self.data["empty"])

    def to_dict(self) -> dict[str, Any]:
        return self.data


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _pct(part: Decimal | float | int, whole: Decimal | float | int) -> float | None:
    if not whole:
        return None
    return round(float(Decimal(str(part)) * 100 / Decimal(str(whole))), 2)


def batch_operations(
    store: Store,
    summary: UsageSummary,
    *,
    since: date,
    until: date,
    jobs: JobRule,
) -> dict[str, Any]:
    """The report's batch-operations section: result types and the success rate from the usage
    summary (so they equal ``usage summary``), turnaround (creation to end), the expired share
    and errors by type from :func:`costmodel.core.ops.operations_summary` over the same period."""
    from costmodel.core.ops import operations_summary

    totals = summary.totals()
    counted = sum(int(totals[kind]) for kind in _RESULT_TYPES)
    ops = operations_summary(store, by="day", since=since, until=until, jobs=jobs)
    spans = ops.total.turnaround.to_dict()
    unknown = ops.total.unknown_times
    errored = sum(ops.errors.values())
    note = (
        "Turnaround runs from a batch's creation to its end (UTC), over the batches whose "
        "requests fall in the period; result types and the success rate count every stored "
        "request."
    )
    if unknown:
        note += f" {unknown:,} batch(es) have no recorded creation or end time (imported from "
        note += "files without --created-at/--ended-at): their turnaround is unknown."
    return {
        "requests": counted,
        "result_types": [
            {"type": kind, "requests": int(totals[kind]), "share_pct": _pct(totals[kind], counted)}
            for kind in _RESULT_TYPES
        ],
        "success_rate_pct": _pct(totals["succeeded"], counted),
        "not_billed": counted - int(totals["succeeded"]),
        "turnaround": {**spans, "unknown_batches": unknown},
        "expired_share_pct": _pct(totals["expired"], counted),
        "errors_by_type": [
            {"type": kind, "requests": n, "share_pct": _pct(n, errored)}
            for kind, n in sorted(ops.errors.items(), key=lambda item: (-item[1], item[0]))
        ],
        "note": note,
    }


def _cache(summary: UsageSummary, catalogue: Catalogue, day: date) -> dict[str, Any]:
    """Cache use per model, and what caching saved: each priced model's mean request priced at
    batch rates on ``day`` as measured, against the same with every cache write and read billed
    as plain input."""
    import pandas as pd

    from costmodel.core.pricing import price_usage
    from costmodel.core.usage import usage_frame

    rows = []
    saved_exact: list[Decimal] = []
    unpriced = False
    for row in summary.to_dict()["rows"]:
        reads = int(row["cache_read_input_tokens"])
        writes_5m, writes_1h = (
            int(row["ephemeral_5m_input_tokens"]),
            int(row["ephemeral_1h_input_tokens"]),
        )
        uncached = int(row["input_tokens"])
        requests = int(row["succeeded"])
        prompt = uncached + writes_5m + writes_1h + reads
        saved: Decimal | None = Decimal(0)
        if reads or writes_5m or writes_1h:
            if not row["priced"] or not requests:
                saved, unpriced = None, True
            else:
                base = {
                    "model": row["key"],
                    "requests": float(requests),
                    "output_tokens": row["output_tokens"] / requests,
                    "tier": "batch",
                }
                actual = {
                    **base,
                    "input_tokens": uncached / requests,
                    "cache_write_5m_tokens": writes_5m / requests,
                    "cache_write_1h_tokens": writes_1h / requests,
                    "cache_read_tokens": reads / requests,
                }
                plain = {**base, "input_tokens": prompt / requests}
                try:
                    priced = price_usage(
                        usage_frame(pd.DataFrame([actual, plain])), catalogue, on=day
                    )
                    lines = priced.cost_lines(["actual", "plain"])
                    sums = {"actual": Decimal(0), "plain": Decimal(0)}
                    for group, amount in zip(lines["group"], lines["cost_contracted"], strict=True):
                        sums[str(group)] += amount
                    saved = sums["plain"] - sums["actual"]
                except CostModelError:
                    saved, unpriced = None, True
        if not prompt and not requests:
            continue  # errored requests only (no model, no tokens): nothing cached
        if saved is not None:
            saved_exact.append(saved)
        rows.append(
            {
                "key": row["key"],
                "prompt_tokens": prompt,
                "input_tokens": uncached,
                "cache_write_tokens": writes_5m + writes_1h,
                "cache_read_tokens": reads,
                "cache_read_share_pct": _pct(reads, prompt),
                "_saved": saved,
            }
        )
    shown = iter(allocate_cents(saved_exact)) if saved_exact else iter(())
    total_saved = quantize_cents(sum(saved_exact, Decimal(0)))
    for row in rows:
        exact = row.pop("_saved")
        row["saved"] = None if exact is None else float(next(shown))
    totals = {
        name: sum(int(r[name]) for r in rows)
        for name in ("prompt_tokens", "input_tokens", "cache_write_tokens", "cache_read_tokens")
    }
    return {
        "by_model": rows,
        "totals": {
            **totals,
            "cache_read_share_pct": _pct(totals["cache_read_tokens"], totals["prompt_tokens"]),
            "saved": float(total_saved),
        },
        "used": bool(totals["cache_read_tokens"] or totals["cache_write_tokens"]),
        "method": f"What caching saved: each model's mean request at the batch rates of "
        f"{day.isoformat()}, as measured against the same prompt tokens all billed as uncached "
        "input (the cache write premium counted against the read discount)."
        + (" Unpriced models are left out." if unpriced else ""),
    }


def _usage_section(
    store: Store, period: ReportPeriod, jobs: JobRule, catalogue: Catalogue
) -> tuple[dict[str, Any] | None, list[str], Any]:
    from costmodel.core.measured import usage_summary

    def summary(by: str) -> UsageSummary:
        return usage_summary(
            store, by=by, since=period.since, until=period.until, jobs=jobs, catalogue=catalogue
        )

    by_model = summary("model")
    if by_model.first_day is None and not by_model.batches:
        return None, [], by_model
    data = by_model.to_dict()
    totals = data["totals"]
    requests = sum(int(totals[kind]) for kind in _RESULT_TYPES)
    sync = totals["cost_if_sync"]
    section = {
        "batches": by_model.batches,
        "first_day": data["period"]["first_day"],
        "last_day": data["period"]["last_day"],
        "totals": {
            **totals,
            "requests": requests,
            "savings_pct": _pct(Decimal(str(totals["savings"])), Decimal(str(sync))),
        },
        "by_model": data["rows"],
        "by_job": summary("job").to_dict()["rows"],
        "by_day": summary("day").to_dict()["rows"],
        "operations": batch_operations(
            store, by_model, since=period.since, until=period.until, jobs=jobs
        ),
        "cache": _cache(by_model, catalogue, by_model.last_day or period.last_day),
        "workspace": "Batch results do not name a workspace: see the organisation report.",
    }
    return section, list(by_model.notes), by_model


def _org_section(
    org_store: Any, period: ReportPeriod, catalogue: Catalogue, tolerance: Decimal
) -> tuple[dict[str, Any] | None, list[str]]:
    from costmodel.adapters.org_store import read_report
    from costmodel.core.measured import daily_costs
    from costmodel.core.org_summary import org_summary
    from costmodel.core.reconcile import reconcile

    found = read_report(org_store, period.since, period.last_day)
    if found is None:
        return None, []
    report, stored = found

    def summary(by: str) -> Any:
        return org_summary(
            report.usage,
            report.cost,
            catalogue,
            by=by,
            data_refreshed_at=stored.data_refreshed_at,
            demo=stored.demo,
            geo_rows=report.geo_usage,
        )

    by_model = summary("model")
    data = by_model.to_dict()
    # The batch results in the same store, for the same days, as `costmodel reconcile` reads.
    batches = daily_costs(
        org_store, since=report.since, until=report.until + timedelta(days=1), catalogue=catalogue
    )
    store_batch = {
        (date.fromisoformat(str(day)[:10]), str(key)): Decimal(repr(float(cost)))
        for day, key, cost in zip(
            batches["day"], batches["key"], batches["cost_billed"], strict=True
        )
    }
    checked = reconcile(
        report.usage,
        report.cost,
        catalogue,
        tolerance=tolerance,
        geo_rows=report.geo_usage,
        store_batch_usd=store_batch,
    )
    rec = checked.to_dict()
    beyond = sum(1 for cell in checked.flagged if cell.beyond_tolerance)
    section = {
        "demo": stored.demo,
        "first_day": data["period"]["first_day"],
        "last_day": data["period"]["last_day"],
        "data_refreshed_at": data["data_refreshed_at"],
        "totals": data["totals"],
        "by_model": data["rows"],
        "by_workspace": summary("workspace").to_dict()["rows"],
        "by_tier": summary("tier").to_dict()["rows"],
        "by_day": summary("day").to_dict()["rows"],
        "reconciliation": {
            "status": "beyond tolerance" if checked.exit_code else "within tolerance",
            "exit_code": checked.exit_code,
            "tolerance_pct": rec["tolerance_pct"],
            "cells": len(checked.cells),
            "flagged": len(checked.flagged),
            "beyond_tolerance": beyond,
            "totals": rec["totals"],
            "batch_checks": len(checked.batch_checks),
            "batch_checks_beyond": sum(1 for b in checked.batch_checks if b.beyond_tolerance),
        },
    }
    notes = list(by_model.notes) + [f"Reconciliation: {n}" for n in checked.notes]
    return section, notes


def decompose_gap(
    modelled: Decimal,
    measured: Decimal,
    requests_modelled: Decimal,
    requests_measured: Decimal,
    measured_at_model_prices: Decimal,
) -> tuple[Decimal, Decimal, Decimal]:
    """(volume, token mix, price): exact Decimals whose sum is ``measured - modelled``.

    >>> decompose_gap(Decimal(100), Decimal(150), Decimal(10), Decimal(12), Decimal(132))
    (Decimal('20'), Decimal('12'), Decimal('18'))
    """
    if requests_modelled:
        volume = modelled * (requests_measured - requests_modelled) / requests_modelled
    else:
        volume = Decimal(0)  # nothing was modelled: the whole gap is mix and price
    mix = measured_at_model_prices - modelled - volume
    price = measured - measured_at_model_prices
    return volume, mix, price


def _prediction(
    store: Store,
    scenario: Scenario,
    period: ReportPeriod,
    jobs: JobRule,
    catalogue: Catalogue,
    by_job: UsageSummary,
) -> tuple[dict[str, Any], list[str]]:
    from costmodel.core.comparison import compare_with_actual
    from costmodel.core.report import run_scenario
    from costmodel.core.scenario import Volume

    comparison = compare_with_actual(
        scenario, store, since=period.since, until=period.until, jobs=jobs, catalogue=catalogue
    )
    shown = comparison.to_dict()
    rows = {row["key"]: row for row in by_job.to_dict()["rows"]}
    days = Decimal(period.days)
    scale = days / Decimal(repr(float(scenario.days_per_month)))
    # The measured tokens of each workload's job as the scenario prices them: its model, price
    # day and batch share, at the measured volume and mean request.
    measured_workloads = []
    for workload in scenario.workloads:
        row = rows.get(workload.name)
        count = int(row["succeeded"]) if row else 0
        if not count:
            measured_workloads.append(replace(workload, requests=Volume(0.0, "month")))
            continue
        measured_workloads.append(
            replace(
                workload,
                requests=Volume(float(Decimal(count) / scale), "month"),
                input_tokens=row["input_tokens"] / count,  # type: ignore[index]
                output_tokens=row["output_tokens"] / count,  # type: ignore[index]
                cache_write_tokens=row["ephemeral_5m_input_tokens"] / count,  # type: ignore[index]
                cache_write_1h_tokens=row["ephemeral_1h_input_tokens"] / count,  # type: ignore[index]
                cache_read_tokens=row["cache_read_input_tokens"] / count,  # type: ignore[index]
                web_search_requests=row["web_search_requests"] / count,  # type: ignore[index]
                ranges=None,
            )
        )
    at_model_prices = run_scenario(
        replace(scenario, workloads=tuple(measured_workloads)), catalogue, on=scenario.price_date
    )
    assert at_model_prices.exact is not None
    lines = []
    parts: list[tuple[Decimal, Decimal, Decimal] | None] = []
    records: list[dict[str, Any]] = comparison.lines.to_dict(orient="records")  # type: ignore[assignment]
    for index, line in enumerate(records):
        exact_modelled, exact_actual = line["exact_modelled"], line["exact_actual"]
        if line["status"] == "unpriced" or exact_actual is None or exact_modelled is None:
            parts.append(None)
            continue
        parts.append(
            decompose_gap(
                Decimal(exact_modelled),
                Decimal(exact_actual),
                Decimal(repr(float(line["requests_modelled"]))),
                Decimal(int(line["requests_actual"])),
                at_model_prices.exact["cost_batch"].iloc[index] * scale,
            )
        )
    totals = {"volume": Decimal(0), "mix": Decimal(0), "price": Decimal(0), "gap": Decimal(0)}
    for shown_line, split in zip(shown["lines"], parts, strict=True):
        line_out = dict(shown_line)
        if split is None:
            line_out.update(volume=None, mix=None, price=None)
        else:
            gap = Decimal(str(shown_line["difference"]))
            volume, mix, price = allocate_cents(list(split), gap)
            line_out.update(volume=float(volume), mix=float(mix), price=float(price))
            for name, value in (("volume", volume), ("mix", mix), ("price", price), ("gap", gap)):
                totals[name] += value
        lines.append(line_out)
    left_out = [line["workload"] for line, split in zip(lines, parts, strict=True) if split is None]
    notes = list(comparison.notes)
    if left_out:
        notes.append(
            "Not split into volume, token mix and price (unpriced): " + ", ".join(left_out) + "."
        )
    return {
        "scenario": shown["scenario"],
        "source": shown["source"],
        "price_date": at_model_prices.price_date.isoformat(),
        "lines": lines,
        "totals": {
            **shown["totals"],
            "requests_modelled": round(sum(line["requests_modelled"] for line in lines), 2),
            "requests_actual": sum(int(line["requests_actual"]) for line in lines),
            "decomposed_gap": float(totals["gap"]),
            "volume": float(totals["volume"]),
            "mix": float(totals["mix"]),
            "price": float(totals["price"]),
        },
        "formula": GAP_FORMULA,
    }, notes


def _margin(
    business: Business, billed: Decimal, sync: Decimal | None, label: str
) -> dict[str, Any]:
    from costmodel.core.margin import margin_impact

    impact = margin_impact(
        business.revenue,
        business.other_cogs,
        float(sync if sync is not None else billed),
        float(billed),
        business.customers,
    )
    revenue = quantize_cents(Decimal(repr(business.revenue)))
    other = quantize_cents(Decimal(repr(business.other_cogs)))
    out: dict[str, Any] = {
        "inference_source": label,
        "revenue": float(revenue),
        "other_cogs": float(other),
        "inference": float(billed),
        "cogs": float(other + billed),
        "gross_profit": float(revenue - other - billed),
        "gross_margin_pct": round(impact.gross_margin_batch_pct, 4),
        "customers": business.customers,
        "inference_if_sync": None,
        "gross_margin_if_sync_pct": None,
        "delta_pp": None,
        "savings_per_customer": None,
    }
    if sync is not None:
        out.update(
            inference_if_sync=float(sync),
            cogs_if_sync=float(other + sync),
            gross_profit_if_sync=float(revenue - other - sync),
            gross_margin_if_sync_pct=round(impact.gross_margin_sync_pct, 4),
            delta_pp=round(impact.delta_pp, 4),
            savings_per_customer=None
            if impact.savings_per_customer is None
            else float(quantize_cents(Decimal(repr(impact.savings_per_customer)))),
        )
    return out


def build_finance_report(
    store: Store | None,
    period: ReportPeriod,
    *,
    source: str,
    catalogue: Catalogue,
    jobs: JobRule,
    org_store: Any = None,
    scenario: Scenario | None = None,
    business: Business | None = None,
    tolerance: Decimal = Decimal("0.005"),
    title: str | None = None,
    demo: bool = False,
) -> FinanceReport:
    """The report of ``period`` from the batch ``store`` and the organisation report in
    ``org_store`` (the same store unless the demo's), as ``source`` asks."""
    if source not in SOURCES:
        raise CostModelError(f"--source: expected one of {', '.join(SOURCES)}, got {source!r}")
    notes: list[str] = []
    batches = org = prediction = margin = None
    by_job = None
    if source in ("batches", "all") and store is not None:
        batches, batch_notes, _ = _usage_section(store, period, jobs, catalogue)
        notes.extend(batch_notes)
    if source in ("org", "all") and org_store is not None:
        org, org_notes = _org_section(org_store, period, catalogue, tolerance)
        notes.extend(n for n in org_notes if n not in notes)
        if org is None and source == "all":
            notes.append(
                f"No organisation report in the store for {period.label}: the report shows the "
                "batch results only (`costmodel org pull` stores one)."
            )
    if scenario is not None and batches is not None and store is not None:
        from costmodel.core.measured import usage_summary

        by_job = usage_summary(
            store, by="job", since=period.since, until=period.until, jobs=jobs, catalogue=catalogue
        )
        priced_scenario = scenario
        if scenario.price_date is None:
            priced_scenario = replace(scenario, price_date=period.last_day)
        prediction, prediction_notes = _prediction(
            store, priced_scenario, period, jobs, catalogue, by_job
        )
        notes.extend(n for n in prediction_notes if n not in notes)
    elif scenario is not None:
        notes.append("The scenario's prediction is set beside measured batch results only.")
    if business is not None:
        if batches is not None:
            totals = batches["totals"]
            margin = _margin(
                business,
                Decimal(str(totals["cost_billed"])),
                Decimal(str(totals["cost_if_sync"])),
                "batch results",
            )
        elif org is not None and org["totals"]["reported_usd"] is not None:
            margin = _margin(
                business,
                Decimal(str(org["totals"]["reported_usd"])),
                None,
                "organisation report (its reported amount)",
            )
        if margin is not None:
            notes.append(
                "Gross margin: the business amounts are taken as the period's revenue and other "
                "costs of goods sold (USD); inference is the period's measured cost."
            )
    if batches is not None and org is not None:
        notes.append(
            "The batch results are part of the organisation's spend: the two sections are not "
            "added together."
        )
    stale = catalogue.stale_note(period.last_day)
    if stale and stale not in notes:
        notes.append(stale)
    empty = batches is None and org is None
    where = {"batches": "batch results", "org": "organisation report", "all": "usage"}[source]
    message = (
        f"No {where} in the store for {period.label} "
        f"({period.since.isoformat()} to {period.last_day.isoformat()})."
        if empty
        else None
    )
    data: dict[str, Any] = {
        "schema": _schema(),
        "title": title or f"Claude inference spend, {period.label}",
        "currency": "USD",
        "source": source,
        "demo": demo or bool(org and org["demo"]),
        "period": {
            "since": period.since.isoformat(),
            "until": period.until.isoformat(),
            "last_day": period.last_day.isoformat(),
            "month": period.month,
            "days": period.days,
            "label": period.label,
        },
        "catalogue_checked": catalogue.checked.isoformat(),
        "contract": catalogue.contract.name if catalogue.contract else None,
        "empty": empty,
        "empty_message": message,
        "batches": batches,
        "org": org,
        "prediction": prediction,
        "margin": margin,
        "notes": notes,
    }
    return FinanceReport(data)


def _schema() -> str:
    from costmodel.core.contract import SCHEMAS

    return str(SCHEMAS["report"])
