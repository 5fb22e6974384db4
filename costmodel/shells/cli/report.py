"""``costmodel report``: the monthly finance report as HTML, xlsx, markdown or JSON.

A thin shell: it reads the clock and the files, opens the stores, and hands
:func:`costmodel.adapters.finance_report.build_finance_report`'s result to a layout. Every figure is the
library's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from costmodel.errors import CostModelError

__all__ = ["report_command"]

REPORT_FORMATS: Final = ("html", "xlsx", "markdown", "json")
_SOURCES: Final = ("batches", "org", "all")
F = TypeVar("F", bound=Callable[..., Any])


# costmodel.shells.cli imports this module to register the command, so its helpers are taken when the
# command runs, not at import (``python -m costmodel`` would otherwise load cli.py twice and
# find this module half-initialised). The options below are costmodel.shells.cli's, word for word.
def _friendly(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from costmodel.shells.cli.options import friendly_errors

        return friendly_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _shared_options(func: F) -> F:
    func = click.option("--today", hidden=True, help="Today (YYYY-MM-DD), for tests.")(func)
    func = click.option(
        "--jobs",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A YAML file mapping job names to custom_id glob patterns.",
    )(func)
    func = click.option(
        "--job-separator",
        default="-",
        show_default=True,
        help="A job is the custom_id before the last separator ({job}-{n}).",
    )(func)
    func = click.option(
        "--store",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="COSTMODEL_STORE",
        help="The usage store (a DuckDB file). Default: $COSTMODEL_STORE, else "
        "~/.local/share/costmodel/usage.duckdb.",
    )(func)
    return func


def _write_output(output: Path, force: bool, write: Any) -> None:
    """Write through a temporary file beside ``output``; an existing file is replaced only
    with ``force``, and a failed write leaves nothing behind."""
    if output.is_dir():
        raise CostModelError(f"{output}: is a folder; give the report's file name")
    if os.path.lexists(output) and not force:
        raise CostModelError(f"{output}: already exists; give --force to replace it")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise CostModelError(f"{output}: no such folder {folder}")
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)
        if force:
            os.replace(temporary, output)
        else:
            os.link(temporary, output)  # refuses, atomically, a file that appeared meanwhile
            os.unlink(temporary)
    except FileExistsError:
        raise CostModelError(f"{output}: already exists; give --force to replace it") from None
    except OSError as exc:
        raise CostModelError(f"{output}: cannot write the report: {exc.strerror}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


@click.command(name="report")
@click.option("--month", help="The calendar month, YYYY-MM (default: last month).")
@click.option("--since", help="First usage day (YYYY-MM-DD), inclusive (with --until).")
@click.option("--until", help="The day after the period (YYYY-MM-DD), exclusive.")
@click.option(
    "--source",
    default="batches",
    show_default=True,
    help="batches (stored batch results), org (the organisation report) or all.",
)
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    help="A scenario (file or bundled name): its prediction beside the measured jobs.",
)
@click.option(
    "--business",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Revenue, other COGS and customers for the period (USD), for the gross margin.",
)
@click.option(
    "--options",
    "options_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A report options file (title, jobs, tolerance, business, scenario).",
)
@click.option(
    "--format",
    "fmt",
    required=True,
    help="html (one self-contained file), xlsx, markdown or json.",
)
@click.option("--output", required=True, type=click.Path(path_type=Path), help="The file to write.")
@click.option("--force", is_flag=True, help="Replace --output if it exists.")
@click.option(
    "--demo",
    is_flag=True,
    help="Report on the generated demo stores (batch results and organisation report).",
)
@_shared_options
@_friendly
def report_command(  # noqa: C901 (a click command: one branch per option it validates)
    month: str | None,
    since: str | None,
    until: str | None,
    source: str,
    scenario: Path | None,
    business: Path | None,
    options_file: Path | None,
    fmt: str,
    output: Path,
    force: bool,
    demo: bool,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
    today: str | None,
) -> None:
    """The month's spend for finance: billed, had it run synchronously, savings; by model, job,
    workspace and day; result types, caching, the scenario's prediction, reconciliation and
    gross margin. Every figure equals `usage summary` / `org summary`."""
    from costmodel.adapters.finance_report import (
        build_finance_report,
        load_business,
        load_report_options,
        report_period,
    )
    from costmodel.adapters.job_maps import load_job_map
    from costmodel.core.jobs import JobRule
    from costmodel.shells.cli.options import _needs, _open_store, _parse_date, _scenario_file
    from costmodel.shells.cli.org import _today

    if fmt not in REPORT_FORMATS:
        raise CostModelError(f"--format: expected one of {', '.join(REPORT_FORMATS)}, got {fmt!r}")
    if source not in _SOURCES:
        raise CostModelError(f"--source: expected one of {', '.join(_SOURCES)}, got {source!r}")
    if os.path.lexists(output) and not force:
        raise CostModelError(f"{output}: already exists; give --force to replace it")
    from costmodel.optional import require

    if fmt == "xlsx":
        require("xlsxwriter", extra="report")
    if fmt == "html":
        require("plotly", extra="report")
    _needs("store")  # before a store module (DuckDB) is imported
    clock = _today(today)
    first, after = _parse_date(since, "--since"), _parse_date(until, "--until")
    if demo and month is None and first is None and after is None:
        # The demo holds the 30 days before the day it is built: report those by default.
        from datetime import timedelta

        from costmodel.adapters.demo import DEMO_DAYS

        first, after = clock - timedelta(days=DEMO_DAYS), clock
    period = report_period(month=month, since=first, until=after, today=clock)
    options = load_report_options(options_file) if options_file else None
    business_block = load_business(business) if business else None
    if business_block is None and options is not None:
        business_block = options.business
    scenario_path = scenario or (options.scenario if options else None)
    loaded = None
    if scenario_path is not None:
        from costmodel.adapters.scenario_files import load_scenario

        loaded = load_scenario(_scenario_file(scenario_path))
        if business_block is None:
            business_block = loaded.business
    separator = job_separator
    if options is not None and options.job_separator is not None and job_separator == "-":
        separator = options.job_separator
    if jobs is not None:
        rule = load_job_map(jobs, separator=separator)
    else:
        rule = JobRule(separator=separator, patterns=options.jobs if options else ())
    from costmodel.adapters.catalogue_files import catalogue_for

    catalogue = catalogue_for(loaded, None)
    tolerance = options.tolerance if options and options.tolerance is not None else None
    from decimal import Decimal

    batch_path: Path | None = None
    org_path: Path | None = None
    if demo:
        if store is not None and os.environ.get("COSTMODEL_STORE") != str(store):
            raise click.UsageError("--demo reads the demo stores: give --demo or --store, not both")
        from costmodel.adapters.demo import ensure_demo_store
        from costmodel.adapters.org_demo import ensure_org_demo_store

        batch_path = ensure_demo_store(today=clock)
        org_path = ensure_org_demo_store(today=clock)
    if batch_path is None:
        from costmodel.adapters.store import default_store_path

        target = store or default_store_path()
        if not Path(target).exists():
            raise CostModelError(
                f"{target}: no usage store yet; run `costmodel usage pull` or `costmodel usage "
                "import` (or `costmodel org pull` for --source org), or try --demo"
            )
    with _open_store(batch_path or store, read_only=True) as opened:
        org_opened = _open_store(org_path, read_only=True) if org_path else None
        try:
            result = build_finance_report(
                opened,
                period,
                source=source,
                catalogue=catalogue,
                jobs=rule,
                org_store=org_opened or opened,
                scenario=loaded,
                business=business_block,
                tolerance=tolerance if tolerance is not None else Decimal("0.005"),
                title=options.title if options else None,
                demo=demo,
            )
        finally:
            if org_opened is not None:
                org_opened.close()
    data = result.to_dict()

    def write(path: Path) -> None:
        if fmt == "xlsx":
            from costmodel.adapters.report_xlsx import write_xlsx

            write_xlsx(data, path)
            return
        if fmt == "html":
            from costmodel.adapters.report_html import html_report

            text = html_report(data)
        elif fmt == "markdown":
            from costmodel.adapters.report_layouts import markdown_report

            text = markdown_report(data)
        else:
            from costmodel.adapters.render import to_json

            text = to_json(data)
        path.write_text(text, encoding="utf-8")

    _write_output(output, force, write)
    if result.empty:
        click.echo(f"costmodel: {data['empty_message']} The report says so.", err=True)
    if data["demo"]:
        click.echo("costmodel: demo data: generated usage, not yours", err=True)
    click.echo(f"costmodel: report for {period.label} written to {output}", err=True)
