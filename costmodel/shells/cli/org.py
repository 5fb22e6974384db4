"""The organisation's report (``costmodel org``), ``reconcile`` and the pre-migration ``assess``."""

from __future__ import annotations

import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from costmodel.core.money import PERCENT
from costmodel.errors import CostModelError
from costmodel.shells.cli.options import (
    EXIT_ERROR,
    BoundedDecimal,
    F,
    _emit,
    _one_line,
    _open_store,
    _parse_date,
    format_option,
    friendly_errors,
    prices_option,
    store_option,
)

__all__ = ["Tolerance", "assess_command", "org", "reconcile_command"]


# -- the organisation's report, reconciliation and the pre-migration assessment (issue 10) ------
def org_period_options(func: F) -> F:
    func = click.option("--until", help="Last day (YYYY-MM-DD), inclusive.")(func)
    func = click.option("--since", help="First day (YYYY-MM-DD), inclusive.")(func)
    return func


def demo_option(func: F) -> F:
    return click.option(
        "--demo",
        is_flag=True,
        help="Use the generated demo organisation report (built on first use; no key needed) "
        "instead of the store.",
    )(func)


_today_option = click.option("--today", hidden=True, help="Today (YYYY-MM-DD), for tests.")


def _today(value: str | None) -> date:
    from datetime import UTC, datetime

    return _parse_date(value, "--today") or datetime.now(UTC).date()


def _org_store(store: Path | None, demo: bool) -> Any:
    """The store to read the organisation report from, read-only: the demo one with --demo."""
    if demo:
        if store is not None and os.environ.get("COSTMODEL_STORE") != str(store):
            raise click.UsageError("--demo reads the demo store: give --demo or --store, not both")
        from costmodel.adapters.org_demo import ensure_org_demo_store

        return _open_store(ensure_org_demo_store(), read_only=True)
    return _open_store(store, read_only=True)


def _read_org(opened: Any, since: str | None, until: str | None) -> tuple[Any, Any]:
    from costmodel.adapters.org_store import read_report

    found = read_report(opened, _parse_date(since, "--since"), _parse_date(until, "--until"))
    if found is None:
        period = ""
        if since or until:
            period = f" from {since or 'the start'} to {until or 'the end'}"
        raise CostModelError(
            f"{opened.path}: no organisation report{period}; run `costmodel org pull --since "
            "YYYY-MM-DD` (key: ANTHROPIC_ADMIN_KEY), or try `--demo`"
        )
    return found


def _demo_notice(period: Any) -> None:
    if period.demo:
        from costmodel.adapters.org_demo import ORG_DEMO_LABEL

        click.echo(f"costmodel: {ORG_DEMO_LABEL}", err=True)


@click.group()
def org() -> None:
    """The organisation's usage and cost (Usage and Cost Analytics API): pull, summary, demo."""


@org.command(name="pull")
@click.option("--since", required=True, help="First day (YYYY-MM-DD), inclusive.")
@click.option("--until", help="Last day (YYYY-MM-DD), inclusive; default yesterday.")
@click.option(
    "--workspace",
    "workspaces",
    multiple=True,
    help="Only this workspace (repeat for several); only its rows of those days are replaced.",
)
@click.option(
    "--max-retries",
    type=click.IntRange(0, 20),
    default=None,
    help="Retries of 429/500/529 answers and dropped connections (the SDK's; default 2).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress lines on stderr (default: when stderr is a terminal).",
)
@store_option
@_today_option
@format_option
@friendly_errors
def org_pull(
    since: str,
    until: str | None,
    workspaces: tuple[str, ...],
    max_retries: int | None,
    progress: bool | None,
    store: Path | None,
    today: str | None,
    fmt: str,
) -> None:
    """Store the organisation's daily usage and cost (key: ANTHROPIC_ADMIN_KEY).

    Ranges over 31 days are split into several queries; every page is read before anything is
    stored, and the pulled days replace what the store held for them, in one transaction: a
    re-pull never double counts, and a pull that fails leaves the store as it was.
    """
    from costmodel.adapters.ingest.org import admin_client, pull_org_report
    from costmodel.adapters.org_store import write_org_report

    first = _parse_date(since, "--since")
    assert first is not None
    show = sys.stderr.isatty() if progress is None else progress

    def report_progress(step: Any) -> None:
        if show:
            click.echo(
                f"{step.endpoint}: query {step.window}/{step.windows}, page {step.pages}, "
                f"{step.rows:,} rows",
                err=True,
            )

    client = admin_client(max_retries=max_retries)
    report = pull_org_report(
        client,
        first,
        _parse_date(until, "--until"),
        today=_today(today),
        workspace_ids=workspaces,
        progress=report_progress,
    )
    with _open_store(store, create=False) as opened:  # the file appears with the first write
        written = write_org_report(opened, report)
        where = str(opened.path)
    line = f"{report.describe()}; stored in {where}"
    if written.replaced_rows:
        line += f" (replacing {written.replaced_rows:,} rows of the same days)"
    if fmt == "table":
        click.echo(_one_line(line))
        return
    from costmodel.core.contract import SCHEMAS
    from costmodel.core.results import Records

    record = {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "queries": len(report.windows),
        "usage_rows": written.usage_rows,
        "geo_rows": written.geo_rows,
        "cost_rows": written.cost_rows,
        "replaced_rows": written.replaced_rows,
        "tiers": ", ".join(report.tiers),
        "data_refreshed_at": None
        if report.data_refreshed_at is None
        else report.data_refreshed_at.isoformat(),
    }
    _emit(
        Records(SCHEMAS["org_pull"], "Organisation report pulled", "pulls", (record,), {}, (line,)),
        fmt,
    )


@org.command(name="demo")
@click.option("--until", help="Last day of the demo month (YYYY-MM-DD); default yesterday.")
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the demo report into this store (labelled demo; default: the demo "
    "organisation store that --demo reads).",
)
@friendly_errors
def org_demo(until: str | None, store: Path | None) -> None:
    """Fill a store with a generated month of organisation usage and cost (demo data)."""
    from datetime import timedelta

    from costmodel.adapters.org_demo import (
        ORG_DEMO_DAYS,
        ORG_DEMO_LABEL,
        default_org_demo_path,
        ensure_org_demo_store,
        unmark_org_demo,
        write_org_demo,
    )

    last = _parse_date(until, "--until") or _today(None) - timedelta(days=1)
    if store is None:
        # The demo store --demo reads holds only demo data: it is built afresh for this month.
        target = default_org_demo_path()
        unmark_org_demo(target)
        ensure_org_demo_store(target, today=last + timedelta(days=1))
    else:
        target = store
        with _open_store(target) as opened:
            write_org_demo(opened, until=last)
    click.echo(f"{target}: {ORG_DEMO_DAYS} days to {last.isoformat()} written. {ORG_DEMO_LABEL}.")


@org.command(name="summary")
@click.option(
    "--by",
    type=click.Choice(["model", "tier", "workspace", "api_key", "day"]),
    default="model",
    show_default=True,
    help="What each row stands for.",
)
@org_period_options
@store_option
@demo_option
@format_option
@friendly_errors
def org_summary_command(
    by: str, since: str | None, until: str | None, store: Path | None, demo: bool, fmt: str
) -> None:
    """Requests, tokens by kind, reported and list cost, the catalogue's list cost of the same
    usage, and what the synchronous part would cost through the Batches API."""
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.core.org_summary import org_summary

    with _org_store(store, demo) as opened:
        report, period = _read_org(opened, since, until)
    _demo_notice(period)
    result = org_summary(
        report.usage,
        report.cost,
        bundled_catalogue(),
        by=by,
        data_refreshed_at=period.data_refreshed_at,
        demo=period.demo,
        geo_rows=report.geo_usage,
    )
    _emit(result, fmt)


class Tolerance(BoundedDecimal):
    """A tolerance in percent of the reported list amount: ``0.5%`` (the sign is optional),
    converted to a fraction (0.005)."""

    name = "percent"
    upper = Decimal(PERCENT)
    example = "a percentage such as 0.5%"
    bounds = "a percentage from 0% to 100%"

    def number_text(self, text: str) -> str:
        return text.removesuffix("%").strip()

    def value(self, number: Decimal) -> Decimal:
        return number / PERCENT


@click.command(name="reconcile")
@org_period_options
@click.option(
    "--tolerance",
    type=Tolerance(),
    default="0.5%",
    show_default=True,
    help="How far (in percent of the reported list amount) the catalogue may differ.",
)
@store_option
@demo_option
@format_option
@friendly_errors
def reconcile_command(
    since: str | None,
    until: str | None,
    tolerance: Decimal,
    store: Path | None,
    demo: bool,
    fmt: str,
) -> None:
    """The catalogue's cost of the reported usage beside Anthropic's reported amounts, per day,
    model and tier; exits with status 3 when a cell is beyond the tolerance."""
    from datetime import timedelta

    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.core.measured import daily_costs
    from costmodel.core.reconcile import reconcile

    catalogue = bundled_catalogue()
    with _org_store(store, demo) as opened:
        report, period = _read_org(opened, since, until)
        # The batch results in the same store, for the same days, against the batch tier.
        batches = daily_costs(
            opened,
            since=report.since,
            until=report.until + timedelta(days=1),
            catalogue=catalogue,
        )
    store_batch = {
        (date.fromisoformat(str(day)[:10]), str(key)): Decimal(repr(float(cost)))
        for day, key, cost in zip(
            batches["day"], batches["key"], batches["cost_billed"], strict=True
        )
    }
    _demo_notice(period)
    result = reconcile(
        report.usage,
        report.cost,
        catalogue,
        tolerance=tolerance,
        geo_rows=report.geo_usage,
        store_batch_usd=store_batch,
    )
    _emit(result, fmt)
    if result.exit_code:
        flagged = sum(1 for cell in result.flagged if cell.beyond_tolerance)
        click.echo(
            f"costmodel: {flagged:,} cell(s) beyond the tolerance of {(tolerance * PERCENT).normalize():f}%",
            err=True,
        )
        sys.exit(result.exit_code)


@click.command(name="assess")
@click.option(
    "--source",
    default="org",
    show_default=True,
    help="org (the organisation report in the store) or a request log FILE (CSV, JSONL or "
    "OpenTelemetry JSON).",
)
@org_period_options
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A migration policy (default: the bundled one, costmodel/data/default-policy.yaml).",
)
@click.option(
    "--by",
    type=click.Choice(["workspace", "api_key", "tag", "model"]),
    help="Candidates: workspace or api_key (x model) for the org report (default workspace); "
    "tag or model for a request log (default tag).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the proposed plan as a scenario file that `costmodel run` prices the same.",
)
@click.option("--force", is_flag=True, help="With --output: replace an existing file.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Request logs: leave invalid rows out and list them (exit status 1) instead of "
    "refusing the file.",
)
@click.option("--log-format", type=click.Choice(["csv", "jsonl", "otel"]), help="The log's format.")
@click.option("--on", "on", help="Price at the rates of this day (YYYY-MM-DD); default today.")
@prices_option
@store_option
@demo_option
@format_option
@friendly_errors
def assess_command(
    source: str,
    since: str | None,
    until: str | None,
    policy_file: Path | None,
    by: str | None,
    output: Path | None,
    force: bool,
    skip_invalid: bool,
    log_format: str | None,
    on: str | None,
    prices: Path | None,
    store: Path | None,
    demo: bool,
    fmt: str,
) -> None:
    """Which synchronous workloads can move to the Batches API, what it saves, and the plan."""
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.adapters.policy_files import default_policy, load_policy
    from costmodel.core.assess import assess, candidates_from_log, candidates_from_org

    if output is not None and os.path.lexists(output) and not force:
        raise CostModelError(f"{output}: already exists; give --force to replace it")
    policy = load_policy(policy_file) if policy_file else default_policy()
    catalogue = catalogue_for(None, prices)
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    rejected = 0
    if source == "org":
        if by not in (None, "workspace", "api_key"):
            raise click.UsageError("--by for the org report: workspace or api_key")
        with _org_store(store, demo) as opened:
            report, period = _read_org(opened, since, until)
        _demo_notice(period)
        candidates = candidates_from_org(
            report.usage,
            since=report.since,
            until=report.until,
            catalogue=catalogue,
            by=by or "workspace",
            source=(
                "the demo organisation report" if period.demo else "the organisation's usage report"
            ),
            business_hours=policy.business_hours,
        )
    else:
        if demo:
            raise click.UsageError("--demo reads the demo organisation report: not with a FILE")
        if by not in (None, "tag", "model"):
            raise click.UsageError("--by for a request log: tag or model")
        from costmodel.adapters.ingest.request_logs import LogReport, read_request_log

        log = LogReport()
        chunks = read_request_log(
            Path(source),
            format=log_format,
            catalogue=catalogue,
            skip_invalid=skip_invalid,
            report=log,
        )
        candidates = candidates_from_log(
            chunks,
            policy=policy,
            catalogue=catalogue,
            source=source,
            by=by or "tag",
            since=first,
            until=last,
        )
        rejected = log.rejected
        if rejected:
            for text in log.describe():
                click.echo(f"costmodel: {_one_line(text)}", err=True)
    result = assess(candidates, policy, catalogue, on=_parse_date(on, "--on") or _today(None))
    if output is not None:
        from costmodel.core.assess import proposed_scenario_yaml

        text = proposed_scenario_yaml(result, prices=str(prices) if prices else None)
        try:
            with open(output, "w" if force else "x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise CostModelError(f"{output}: already exists; give --force to replace it") from None
        except OSError as exc:
            raise CostModelError(f"{output}: cannot write the plan: {exc.strerror}") from None
        click.echo(f"costmodel: proposed plan written to {output}", err=True)
    _emit(result, fmt)
    if rejected:
        sys.exit(EXIT_ERROR)
