"""The ``costmodel`` command: a thin shell over the library.

Each command builds one result object from :mod:`costmodel.report` and hands it to
:func:`costmodel.render.render`. Library errors (:class:`costmodel.errors.CostModelError`) become
one line on stderr and a non-zero exit; nothing here computes a figure of its own.

Heavy modules are imported inside the commands, so ``costmodel --help`` and the pricing path
start without loading pandas-free extras like streamlit, plotly or anthropic.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from costmodel.errors import CostModelError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_OVER_BUDGET = 3

FORMATS = ("table", "json", "csv", "markdown")


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"costmodel: error: {message}", err=True)
    sys.exit(code)


def friendly_errors(func: F) -> F:
    """Turn library errors into one clean line; keep tracebacks for real bugs behind a switch."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CostModelError as error:
            _fail(str(error), getattr(error, "exit_code", EXIT_ERROR))
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise  # click's own usage errors already print as one line with exit status 2
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(0)
        except Exception as error:  # a bug: say so in one line, traceback on request
            if os.environ.get("COSTMODEL_DEBUG"):
                raise
            _fail(
                f"internal error ({type(error).__name__}: {error}); "
                "set COSTMODEL_DEBUG=1 to see the traceback and please report it"
            )

    return wrapper  # type: ignore[return-value]


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
prices_option = click.option(
    "--prices",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your price file (negotiated discounts, private models) laid over the catalogue.",
)


def _parse_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"expected a date as YYYY-MM-DD, got {value!r}", param_hint=name
        ) from None


def currency_options(func: F) -> F:
    func = click.option("--fx-source", default="", help="Where the exchange rate comes from.")(func)
    func = click.option("--fx-date", help="The day the exchange rate is from (YYYY-MM-DD).")(func)
    func = click.option("--fx-rate", help="Units of --currency per 1 USD.")(func)
    func = click.option(
        "--currency", help="Show money in this currency (needs --fx-rate and --fx-date)."
    )(func)
    return func


def _currency(code: str | None, rate: str | None, on: str | None, source: str) -> Any:
    if code is None and rate is None:
        return None
    if not (code and rate and on):
        raise click.UsageError(
            "--currency needs --fx-rate and --fx-date, so the output can name the rate"
        )
    from costmodel.scenario import Currency

    try:
        per_usd = Decimal(rate)
    except InvalidOperation:
        raise click.BadParameter(
            f"expected a number, got {rate!r}", param_hint="--fx-rate"
        ) from None
    if not per_usd.is_finite() or per_usd <= 0:
        raise click.BadParameter("expected a positive number", param_hint="--fx-rate")
    fx_date = _parse_date(on, "--fx-date")
    assert fx_date is not None
    return Currency(code=code.upper(), per_usd=per_usd, as_of=fx_date, source=source)


store_option = click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="COSTMODEL_STORE",
    help="The usage store (a DuckDB file). Default: $COSTMODEL_STORE, else "
    "~/.local/share/costmodel/usage.duckdb.",
)


def jobs_options(func: F) -> F:
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
    return func


def period_options(func: F) -> F:
    func = click.option("--until", help="Last usage day (YYYY-MM-DD), exclusive.")(func)
    func = click.option("--since", help="First usage day (YYYY-MM-DD), inclusive.")(func)
    return func


def _job_rule(separator: str, jobs: Path | None) -> Any:
    from costmodel.actuals import JobRule, load_job_map

    return load_job_map(jobs, separator=separator) if jobs else JobRule(separator=separator)


def _needs(extra: str) -> None:
    """Stop with the one-line "pip install 'costmodel[extra]'" when the extra is missing."""
    from costmodel.optional import require_extra

    require_extra(extra)


def _scenario_file(value: Path) -> Path:
    """A scenario argument: a path that exists, else the name of a bundled scenario."""
    from costmodel.bundled import resolve_scenario

    return resolve_scenario(value)


def _open_store(path: Path | None, *, read_only: bool = False) -> Any:
    _needs("store")
    from costmodel.store import default_store_path, open_store

    target = path or default_store_path()
    if read_only and not Path(target).exists():
        raise CostModelError(
            f"{target}: no usage store yet; run `costmodel usage pull` or `costmodel usage import`"
        )
    return open_store(target, read_only=read_only)


def _emit(result: Any, fmt: str) -> None:
    from costmodel.render import render

    click.echo(render(result, fmt), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="costmodel")
def main() -> None:
    """What your Claude inference costs, synchronously and through the Message Batches API,
    and what moving work to batch does to your gross margin."""


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@prices_option
@click.option("--on", "on", help="Price at the rates of this day (YYYY-MM-DD); default today.")
@click.option(
    "--actual",
    is_flag=True,
    help="Set the modelled batch plan beside measured usage in the store for the same jobs "
    "(workload name = job) and period.",
)
@click.option(
    "--since",
    help="With --actual: first day of the period (default: the 30 days up to the last day "
    "with usage).",
)
@click.option("--until", help="With --actual: the day after the period (exclusive).")
@store_option
@jobs_options
@currency_options
@format_option
@friendly_errors
def run(
    scenario: Path,
    prices: Path | None,
    on: str | None,
    actual: bool,
    since: str | None,
    until: str | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
    currency: str | None,
    fx_rate: str | None,
    fx_date: str | None,
    fx_source: str,
    fmt: str,
) -> None:
    """Monthly cost of a scenario, sync against the batch plan, and its margin impact.

    SCENARIO is a scenario file, or the name of a bundled one (`costmodel scenarios`).
    """
    from costmodel.report import catalogue_for, run_scenario
    from costmodel.scenario import load_scenario

    loaded = load_scenario(_scenario_file(scenario))
    catalogue = catalogue_for(loaded, prices)
    fx = _currency(currency, fx_rate, fx_date, fx_source)
    if not actual:
        _emit(run_scenario(loaded, catalogue, on=_parse_date(on, "--on"), fx=fx), fmt)
        return
    from costmodel.actuals import compare_with_actual

    _needs("store")
    if fx is not None:
        loaded = dataclasses.replace(loaded, currency=fx)
    with _open_store(store, read_only=True) as opened:
        result = compare_with_actual(
            loaded,
            opened,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until"),
            jobs=_job_rule(job_separator, jobs),
            catalogue=catalogue,
        )
    _emit(result, fmt)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@prices_option
@click.option("--on", "on", help="Price at the rates of this day (YYYY-MM-DD); default today.")
@currency_options
@format_option
@friendly_errors
def compare(
    scenarios: tuple[Path, ...],
    prices: Path | None,
    on: str | None,
    currency: str | None,
    fx_rate: str | None,
    fx_date: str | None,
    fx_source: str,
    fmt: str,
) -> None:
    """Several scenarios side by side (files, or names of bundled scenarios)."""
    from costmodel.report import catalogue_for, compare_runs, run_scenario
    from costmodel.scenario import load_scenario

    fx = _currency(currency, fx_rate, fx_date, fx_source)
    runs = []
    for path in scenarios:
        loaded = load_scenario(_scenario_file(path))
        runs.append(
            run_scenario(loaded, catalogue_for(loaded, prices), on=_parse_date(on, "--on"), fx=fx)
        )
    _emit(compare_runs(runs), fmt)


@main.command()
@click.argument("baseline", type=click.Path(path_type=Path))
@click.argument("proposed", type=click.Path(path_type=Path))
@click.option(
    "--plan",
    type=click.Choice(["batch", "sync"]),
    default="batch",
    show_default=True,
    help="Which plan's cost to compare: the batch plan (with each workload's "
    "batch_share) or everything synchronous.",
)
@click.option(
    "--fail-above",
    type=float,
    metavar="AMOUNT",
    help="Exit with status 3 when the monthly cost rises by more than AMOUNT.",
)
@prices_option
@click.option("--on", "on", help="Price at the rates of this day (YYYY-MM-DD); default today.")
@format_option
@friendly_errors
def diff(
    baseline: Path,
    proposed: Path,
    plan: str,
    fail_above: float | None,
    prices: Path | None,
    on: str | None,
    fmt: str,
) -> None:
    """What PROPOSED changes against BASELINE: monthly cost and margin, line by line.

    Each is a scenario file, or the name of a bundled scenario.
    """
    from costmodel.report import catalogue_for, diff_runs, run_scenario
    from costmodel.scenario import load_scenario

    day = _parse_date(on, "--on")
    runs = []
    for path in (baseline, proposed):
        loaded = load_scenario(_scenario_file(path))
        runs.append(run_scenario(loaded, catalogue_for(loaded, prices), on=day))
    result = diff_runs(runs[0], runs[1], plan=plan)
    _emit(result, fmt)
    if fail_above is not None and result.change > fail_above:
        from costmodel.money import format_money

        click.echo(
            f"costmodel: monthly cost rises by {format_money(result.change, runs[0].currency)}, "
            f"above the budget of {format_money(fail_above, runs[0].currency)}",
            err=True,
        )
        sys.exit(EXIT_OVER_BUDGET)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option
@friendly_errors
def validate(scenarios: tuple[Path, ...], fmt: str) -> None:
    """Check scenario files without running them; every problem is listed.

    A name of a bundled scenario stands for its file when no such file exists.
    """
    from costmodel.bundled import resolve_scenario
    from costmodel.errors import ScenarioError
    from costmodel.report import validate_files

    files = []
    for path in scenarios:
        try:
            files.append(resolve_scenario(path))
        except ScenarioError:
            files.append(path)  # reported below, with the other files' problems
    result = validate_files(files)
    if fmt != "table":
        _emit(result, fmt)
    else:
        for item in result.files:
            if item.ok:
                count = item.workloads
                click.echo(f"{item.file}: ok ({count} workload{'s' if count != 1 else ''})")
            for problem in item.problems:
                click.echo(f"costmodel: error: {problem}", err=True)
    if not result.ok:
        sys.exit(EXIT_ERROR)


@main.command()
@click.argument("model", required=False)
@click.option("--on", "on", help="The rates in force on this day (YYYY-MM-DD); default today.")
@prices_option
@format_option
@friendly_errors
def prices(model: str | None, on: str | None, prices: Path | None, fmt: str) -> None:
    """The price catalogue: every model's rates, as-of date and source (or one MODEL's history)."""
    from costmodel.report import catalogue_for, price_list

    _emit(price_list(catalogue_for(None, prices), model=model, on=_parse_date(on, "--on")), fmt)


@main.group()
def usage() -> None:
    """Measured usage from completed Message Batches: pull, import, summarise, calibrate."""


@usage.command()
@click.option("--since", help="Only batches created on or after this day (YYYY-MM-DD).")
@click.option("--workspace", "workspace_id", help="The workspace to list batches in.")
@click.option(
    "--max-retries",
    type=click.IntRange(0, 20),
    default=None,
    help="Retries of 429/500/529 answers, with back-off (the SDK's; default 2).",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Progress bars on stderr (shown only on a terminal).",
)
@store_option
@friendly_errors
def pull(
    since: str | None,
    workspace_id: str | None,
    max_retries: int | None,
    progress: bool,
    store: Path | None,
) -> None:
    """Store the usage of every ended batch not yet stored (key: ANTHROPIC_API_KEY).

    Batches still in progress are skipped and picked up by a later pull. A batch whose results
    are gone (kept 29 days) or whose download fails is reported and the pull carries on; the
    exit status is then 1.
    """
    _needs("api")
    from costmodel.ingest.batches import pull as pull_batches

    with _open_store(store) as opened:
        report = pull_batches(
            opened,
            since=_parse_date(since, "--since"),
            workspace_id=workspace_id,
            max_retries=max_retries,
            progress=progress,
        )
    for line in report.describe():
        click.echo(line, err=not report.ok and line.startswith(("failed", "unavailable")))
    if not report.ok:
        sys.exit(report.exit_code)


@usage.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--batch-id",
    help="The batch the file holds (default: from a msgbatch_... file "
    "name, else the file name). Only with one file.",
)
@click.option(
    "--created-at",
    help="When the batch was created (YYYY-MM-DD or ISO time): the "
    "day its usage is priced on. Default: the import day.",
)
@click.option("--ended-at", help="When the batch ended (YYYY-MM-DD or ISO time).")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid lines and report the rejected ones, instead of refusing "
    "a file with any invalid line.",
)
@store_option
@friendly_errors
def import_(
    files: tuple[Path, ...],
    batch_id: str | None,
    created_at: str | None,
    ended_at: str | None,
    skip_invalid: bool,
    store: Path | None,
) -> None:
    """Import saved batch results files (.jsonl, as `results` streams them)."""
    _needs("store")
    from costmodel.ingest.files import read_results

    if batch_id and len(files) > 1:
        raise click.UsageError("--batch-id names one batch: give one file with it")
    rejected_any = False
    with _open_store(store) as opened:
        for path in files:
            source = read_results(
                path,
                batch_id=batch_id,
                created_at=created_at,
                ended_at=ended_at,
                skip_invalid=skip_invalid,
            )
            written = opened.write_batch(source.batch_meta(), source)
            counts = ", ".join(f"{n:,} {kind}" for kind, n in written.counts.items() if n)
            click.echo(
                f"{path}: batch {written.batch_id}: {written.rows:,} requests ({counts or 'none'})"
            )
            validation = source.validation
            if validation.rejected_count:
                rejected_any = True
                click.echo(
                    f"{path}: {validation.rejected_count:,} invalid line(s) skipped: "
                    f"{validation.describe()}",
                    err=True,
                )
    if rejected_any:
        sys.exit(EXIT_ERROR)


@usage.command()
@click.option(
    "--by",
    type=click.Choice(["model", "batch", "job", "day"]),
    default="model",
    show_default=True,
    help="What each row stands for.",
)
@period_options
@prices_option
@store_option
@jobs_options
@format_option
@friendly_errors
def summary(
    by: str,
    since: str | None,
    until: str | None,
    prices: Path | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
    fmt: str,
) -> None:
    """Requests by result type, tokens by kind, what it was billed and what sync would cost."""
    from costmodel.actuals import usage_summary
    from costmodel.report import catalogue_for

    with _open_store(store, read_only=True) as opened:
        result = usage_summary(
            opened,
            by=by,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until"),
            jobs=_job_rule(job_separator, jobs),
            catalogue=catalogue_for(None, prices),
        )
    _emit(result, fmt)


@usage.command()
@click.option("--job", help="Only this job (default: one workload per job and model).")
@period_options
@click.option("--name", help="The scenario's name.")
@store_option
@jobs_options
@friendly_errors
def calibrate(
    job: str | None,
    since: str | None,
    until: str | None,
    name: str | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
) -> None:
    """Print a scenario fitted from stored usage (redirect it to a .yaml file)."""
    from costmodel.actuals import calibrate as fit

    with _open_store(store, read_only=True) as opened:
        text = fit(
            opened,
            job=job,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until"),
            jobs=_job_rule(job_separator, jobs),
            name=name,
        )
    click.echo(text, nl=False)


@main.command(name="scenarios")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@friendly_errors
def scenarios_(fmt: str) -> None:
    """The bundled scenarios: name, title and file. Give a name to run, compare or diff."""
    import json

    from costmodel.bundled import bundled_scenarios

    found = [(s.name, s.title, str(s.path)) for s in bundled_scenarios()]
    if fmt == "json":
        rows = [{"name": name, "title": title, "file": file} for name, title, file in found]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max((len(name) for name, _, _ in found), default=4)
    title_width = max((len(title) for _, title, _ in found), default=5)
    click.echo(f"{'Name':<{width}}  {'Title':<{title_width}}  File")
    for name, title, file in found:
        click.echo(f"{name:<{width}}  {title:<{title_width}}  {file}")


# The same settings as .streamlit/config.toml, which Streamlit reads only from the folder it is
# started in: the packaged app runs from anywhere, so they are passed on its command line.
DASHBOARD_FLAGS: tuple[str, ...] = (
    "--server.address=127.0.0.1",
    "--server.headless=true",
    "--server.maxUploadSize=1",
    "--browser.gatherUsageStats=false",
    "--browser.serverAddress=localhost",
    "--theme.base=light",
    "--theme.primaryColor=#0f9d77",
    "--client.toolbarMode=minimal",
)


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.argument("streamlit_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- STREAMLIT_ARGS]")
@friendly_errors
def dashboard(port: int, streamlit_args: tuple[str, ...]) -> None:
    """Open the dashboard on http://127.0.0.1:PORT (localhost only; no API key needed).

    Builds the demo usage store once, as scripts/dashboard.sh does, then runs the app that
    ships in the package. Arguments after -- go to `streamlit run` (they cannot change the
    address, the port or the upload limit).
    """
    _needs("dashboard")
    from importlib import resources

    from costmodel.demo import ensure_demo_store

    click.echo(f"demo usage store: {ensure_demo_store()}", err=True)
    app = Path(str(resources.files("costmodel") / "dashboard_app.py"))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        *streamlit_args,
        # Last, so they win over the same options among the user's: localhost only, always.
        *DASHBOARD_FLAGS,
        f"--server.port={port}",
    ]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)  # Streamlit owns the process from here, signals and all


if __name__ == "__main__":  # pragma: no cover
    main()
