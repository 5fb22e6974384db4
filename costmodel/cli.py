"""The ``costmodel`` command: a thin shell over the library.

Each command builds one result object from :mod:`costmodel.report` and hands it to
:func:`costmodel.render.render`. Library errors (:class:`costmodel.errors.CostModelError`) become
one line on stderr and a non-zero exit; nothing here computes a figure of its own.

Heavy modules are imported inside the commands, so ``costmodel --help`` and the pricing path
start without loading pandas-free extras like streamlit, plotly or anthropic.
"""

from __future__ import annotations

import math
import os
import re
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
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Costs are float64 sums: beyond 2**53 cents (about 9e13) they are no longer exact to the cent,
# so a budget above this could never be compared honestly.
MAX_AMOUNT = Decimal(10) ** 13


class Amount(click.ParamType):
    """A money amount on the command line: a finite decimal from 0 to :data:`MAX_AMOUNT`."""

    name = "amount"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        text = str(value).strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.fail(f"expected an amount such as 250 or 99.50, got {text[:40]!r}", param, ctx)
        if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            self.fail(
                f"expected a finite amount from 0 to {MAX_AMOUNT:,.0f}, got {text[:40]!r}",
                param,
                ctx,
            )
        return amount


def _one_line(message: str) -> str:
    """A message as printed: credentials masked, and control characters escaped so it stays
    one line whatever a file name or a server put in it."""
    from costmodel.credentials import redact

    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", redact(message))


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"costmodel: error: {_one_line(message)}", err=True)
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
    if not per_usd.is_finite() or per_usd <= 0 or per_usd > 1_000_000:
        raise click.BadParameter(
            f"got {rate}; expected a number above 0 and at most 1,000,000 (1e6)",
            param_hint="--fx-rate",
        )
    from costmodel.money import check_currency_code

    problem = check_currency_code(code)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--currency")
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


def _open_store(path: Path | None, *, read_only: bool = False, create: bool = True) -> Any:
    _needs("store")
    from costmodel.store import default_store_path, open_store

    target = path or default_store_path()
    if read_only and not Path(target).exists():
        raise CostModelError(
            f"{target}: no usage store yet; run `costmodel usage pull` or `costmodel usage import`"
        )
    if os.path.lexists(target):
        # A FIFO or a device given as --store would hang DuckDB's open: regular files only.
        from costmodel.errors import StoreError
        from costmodel.user_files import check_regular_file

        check_regular_file(target, kind="usage store (a DuckDB file)", error=StoreError)
    # create=False: the file appears with the first batch written, not before a failure.
    return open_store(target, read_only=read_only, create=create)


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
@click.option(
    "--simulate",
    "simulate",
    metavar="N",
    help="Simulate N months over the uncertain inputs: P10, P50, P90 and mean.",
)
@click.option("--seed", default="0", show_default=True, help="With --simulate: the random seed.")
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
    simulate: str | None = None,
    seed: str = "0",
) -> None:
    """Monthly cost of a scenario, sync against the batch plan, and its margin impact.

    SCENARIO is a scenario file, or the name of a bundled one (`costmodel scenarios`).
    """
    from costmodel.report import catalogue_for, run_scenario
    from costmodel.scenario import load_scenario

    loaded = load_scenario(_scenario_file(scenario))
    catalogue = catalogue_for(loaded, prices)
    fx = _currency(currency, fx_rate, fx_date, fx_source)
    draws, seed_number = _draws(simulate, seed)
    loaded, inputs = _store_inputs(loaded, store, job_separator, jobs, seed_number)
    if draws is not None:
        if actual:
            raise CostModelError("--simulate: not with --actual (they answer different questions)")
        from costmodel.simulate import simulate_scenario

        result = simulate_scenario(
            loaded,
            catalogue,
            draws=draws,
            seed=seed_number,
            on=_parse_date(on, "--on") or loaded.price_date or date.today(),
            inputs=inputs,
            fx=fx,
        )
        _emit(result, fmt)
        return
    if not actual:
        _emit(run_scenario(loaded, catalogue, on=_parse_date(on, "--on"), fx=fx), fmt)
        return
    from costmodel.actuals import compare_with_actual

    _needs("store")
    with _open_store(store, read_only=True) as opened:
        result = compare_with_actual(
            loaded,
            opened,
            fx=fx,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until"),
            jobs=_job_rule(job_separator, jobs),
            catalogue=catalogue,
        )
    _emit(result, fmt)


def _whole(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip().replace("_", ""))
    except ValueError:
        raise CostModelError(f"{name}: got {value!r}; expected a whole number") from None


def _draws(simulate: str | None, seed: str) -> tuple[int | None, int]:
    """``--simulate`` and ``--seed`` checked, each error one line naming the option."""
    from costmodel.simulate import check_draws

    draws = _whole(simulate, "--simulate")
    seed_number = _whole(seed, "--seed")
    assert seed_number is not None
    if draws is None:
        check_draws(1, seed_number)
        return None, seed_number
    return check_draws(draws, seed_number)


def _store_inputs(
    loaded: Any, store: Path | None, job_separator: str, jobs: Path | None, seed: int
) -> tuple[Any, Any]:
    """What the store measured for a scenario's from_store counts and deadlines (if any)."""
    from costmodel.uncertainty import StoreInputs, needs_store, read_store_inputs, with_store_means

    if not needs_store(loaded):
        return loaded, StoreInputs()
    with _open_store(store, read_only=True) as opened:
        inputs = read_store_inputs(loaded, opened, _job_rule(job_separator, jobs), seed=seed)
    return with_store_means(loaded, inputs), inputs


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--months", default="12", show_default=True, help="How many months to forecast.")
@click.option(
    "--from",
    "from_month",
    metavar="YYYY-MM",
    help="The first month (default: the month after --on, else after today).",
)
@click.option("--simulate", "simulate", metavar="N", help="Bands from N simulated paths.")
@click.option("--seed", default="0", show_default=True, help="With --simulate: the random seed.")
@click.option("--on", "on", help="The day the default first month follows (YYYY-MM-DD).")
@prices_option
@store_option
@jobs_options
@currency_options
@format_option
@friendly_errors
def forecast(
    scenario: Path,
    months: str,
    from_month: str | None,
    simulate: str | None,
    seed: str,
    on: str | None,
    prices: Path | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
    currency: str | None,
    fx_rate: str | None,
    fx_date: str | None,
    fx_source: str,
    fmt: str,
) -> None:
    """Month by month: cost both ways, savings and margin, with growth, price changes on their
    dates, retirements flagged and, with --simulate, bands."""
    from costmodel.forecast import forecast_scenario, next_month
    from costmodel.report import catalogue_for
    from costmodel.scenario import load_scenario

    count = _whole(months, "--months")
    draws, seed_number = _draws(simulate, seed)
    if from_month is not None:
        try:
            first = date.fromisoformat(f"{from_month.strip()}-01")
        except ValueError:
            raise CostModelError(
                f"--from: got {from_month!r}; expected a month as YYYY-MM"
            ) from None
    loaded = load_scenario(scenario)
    if from_month is None:
        first = next_month(_parse_date(on, "--on") or loaded.price_date or date.today())
    catalogue = catalogue_for(loaded, prices)
    fx = _currency(currency, fx_rate, fx_date, fx_source)
    loaded, inputs = _store_inputs(loaded, store, job_separator, jobs, seed_number)
    result = forecast_scenario(
        loaded,
        catalogue,
        months=count if count is not None else 12,
        first_month=first,
        draws=draws,
        seed=seed_number,
        inputs=inputs,
        fx=fx,
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
    type=Amount(),
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
    fail_above: Decimal | None,
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
    if fail_above is None:
        return
    from costmodel.money import format_money, round_cents

    if not math.isfinite(result.change):  # fail closed: an unknown rise is not within budget
        _fail("cannot check --fail-above: the change in monthly cost is not a finite number")
    if Decimal(repr(round_cents(result.change))) > fail_above:
        click.echo(
            f"costmodel: monthly cost rises by {format_money(result.change, runs[0].currency)}, "
            f"above the budget of {format_money(float(fail_above), runs[0].currency)}",
            err=True,
        )
        sys.exit(EXIT_OVER_BUDGET)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option
@friendly_errors
def validate(scenarios: tuple[Path, ...], fmt: str) -> None:
    """Check scenario (and migration policy) files without running them; every problem is
    listed. A name of a bundled scenario stands for its file when no such file exists.
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
            if item.ok and item.kind == "policy":
                click.echo(f"{item.file}: ok (migration policy)")
            elif item.ok:
                count = item.workloads
                click.echo(f"{item.file}: ok ({count} workload{'s' if count != 1 else ''})")
            for problem in item.problems:
                click.echo(f"costmodel: error: {_one_line(problem)}", err=True)
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
@click.option(
    "--retry-gone",
    is_flag=True,
    help="Try again batches an earlier pull found without results, however old.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Let pulled results replace a batch stored from a file under the same id.",
)
@store_option
@format_option
@friendly_errors
def pull(
    since: str | None,
    workspace_id: str | None,
    max_retries: int | None,
    progress: bool,
    retry_gone: bool,
    replace: bool,
    store: Path | None,
    fmt: str,
) -> None:
    """Store the usage of every ended batch not yet stored (key: ANTHROPIC_API_KEY).

    Batches still in progress are skipped and picked up by a later pull. A batch whose results
    are gone or whose download fails is reported and the pull carries on; the exit status is
    then 1. Results are kept 29 days after a batch is created: later pulls try a batch found
    without results again inside that window and count it in one line after it.
    """
    _needs("api")
    from costmodel.ingest.batches import pull as pull_batches

    with _open_store(store, create=False) as opened:
        report = pull_batches(
            opened,
            since=_parse_date(since, "--since"),
            workspace_id=workspace_id,
            max_retries=max_retries,
            progress=progress,
            retry_gone=retry_gone,
            replace=replace,
        )
    if fmt == "table":
        for line in report.describe():
            click.echo(
                _one_line(line), err=not report.ok and line.startswith(("failed", "unavailable"))
            )
    else:
        from costmodel.report import SCHEMAS, Records

        outcomes = [
            *(
                {"batch_id": o.batch_id, "outcome": "pulled", "requests": o.rows, "reason": ""}
                for o in report.pulled
            ),
            *(
                {"batch_id": b, "outcome": "already_stored", "requests": 0, "reason": ""}
                for b in report.already_stored
            ),
            *(
                {"batch_id": b, "outcome": "in_progress", "requests": 0, "reason": ""}
                for b in report.in_progress
            ),
            *(
                {
                    "batch_id": o.batch_id,
                    "outcome": "unavailable",
                    "requests": 0,
                    "reason": o.reason,
                }
                for o in report.unavailable
            ),
            *(
                {"batch_id": o.batch_id, "outcome": "failed", "requests": 0, "reason": o.reason}
                for o in report.failed
            ),
        ]
        _emit(
            Records(
                SCHEMAS["pull"],
                "Batches pulled",
                "batches",
                tuple(outcomes),
                {"listed": report.listed, "ok": report.ok},
                tuple(report.describe()[:1]),
            ),
            fmt,
        )
    if not report.ok:
        sys.exit(report.exit_code)


@usage.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--batch-id",
    help="The batch the file holds (default: the msgbatch_... id in the file "
    "name; any other name needs --batch-id). Only with one file.",
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
@click.option(
    "--replace",
    is_flag=True,
    help="Replace a batch already stored under the same id with this file's requests "
    "(without it, different requests under a stored id are refused).",
)
@store_option
@format_option
@friendly_errors
def import_(
    files: tuple[Path, ...],
    batch_id: str | None,
    created_at: str | None,
    ended_at: str | None,
    skip_invalid: bool,
    replace: bool,
    store: Path | None,
    fmt: str,
) -> None:
    """Import saved batch results files (.jsonl, as `results` streams them), or Parquet
    datasets as `usage export` writes them (a folder, a *.parquet glob, or a URL).

    A batch is stored once: importing the same requests again changes nothing; different
    requests under a batch id already stored are refused unless --replace; the same requests
    under another id are refused (they would be counted twice); an empty file is refused.
    """
    _needs("store")
    from costmodel.ingest.files import read_results

    if batch_id and len(files) > 1:
        raise click.UsageError("--batch-id names one batch: give one file with it")
    rejected_any = False
    records: list[dict[str, Any]] = []
    with _open_store(store, create=False) as opened:
        for path in files:
            from costmodel.usage_dataset import is_dataset

            if is_dataset(path):  # a Parquet dataset (usage export): one record per batch
                from costmodel.cli_dataset import import_dataset_records

                records += import_dataset_records(
                    opened, path, replace=replace, table=fmt == "table"
                )
                continue
            source = read_results(
                path,
                batch_id=batch_id,
                created_at=created_at,
                ended_at=ended_at,
                skip_invalid=skip_invalid,
            )
            written = opened.write_batch(source.batch_meta(), source, replace=replace)
            counts = ", ".join(f"{n:,} {kind}" for kind, n in written.counts.items() if n)
            already = "; already stored, unchanged" if written.unchanged else ""
            validation = source.validation
            records.append(
                {
                    "file": str(path),
                    "batch_id": written.batch_id,
                    "requests": written.rows,
                    **{kind: int(n) for kind, n in written.counts.items()},
                    "rejected_lines": int(validation.rejected_count),
                    "unchanged": bool(written.unchanged),
                }
            )
            if fmt == "table":
                click.echo(
                    f"{path}: batch {written.batch_id}: {written.rows:,} requests "
                    f"({counts or 'none'}){already}"
                )
            if validation.rejected_count:
                rejected_any = True
                click.echo(
                    f"{path}: {validation.rejected_count:,} invalid line(s) skipped: "
                    f"{validation.describe()}",
                    err=True,
                )
    if fmt != "table":
        from costmodel.report import SCHEMAS, Records

        _emit(Records(SCHEMAS["import"], "Batches imported", "batches", tuple(records)), fmt)
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
@click.option(
    "--dataset",
    help="Summarise a Parquet dataset (`usage export`: a folder, a glob or a URL) in place, "
    "instead of the store.",
)
@jobs_options
@format_option
@friendly_errors
def summary(
    by: str,
    since: str | None,
    until: str | None,
    prices: Path | None,
    store: Path | None,
    dataset: str | None,
    job_separator: str,
    jobs: Path | None,
    fmt: str,
) -> None:
    """Requests by result type, tokens by kind, what it was billed and what sync would cost."""
    from costmodel.actuals import usage_summary
    from costmodel.report import catalogue_for

    if dataset:
        from costmodel.cli_dataset import dataset_source

        source = dataset_source(Path(dataset))
    else:
        source = _open_store(store, read_only=True)
    with source as opened:
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("yaml", *FORMATS)),
    default="yaml",
    show_default=True,
    help="Output format: the scenario file (yaml), or its workloads (table, json, csv, markdown).",
)
@friendly_errors
def calibrate(
    job: str | None,
    since: str | None,
    until: str | None,
    name: str | None,
    store: Path | None,
    job_separator: str,
    jobs: Path | None,
    fmt: str,
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
    if fmt == "yaml":
        click.echo(text, nl=False)
        return
    import yaml

    from costmodel.report import SCHEMAS, Records

    fitted = yaml.safe_load(text)
    workloads = []
    for w in fitted["workloads"]:
        requests = w.pop("requests")
        workloads.append(
            {
                "name": w.pop("name"),
                "model": w.pop("model"),
                "requests_per_month": requests["count"],
                **w,
            }
        )
    _emit(
        Records(
            SCHEMAS["calibrate"],
            fitted["name"],
            "workloads",
            tuple(workloads),
            {"scenario": fitted["name"], "days_per_month": fitted["days_per_month"], "yaml": text},
        ),
        fmt,
    )


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
    "--client.showErrorDetails=none",
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
        from costmodel.org_demo import ensure_org_demo_store

        return _open_store(ensure_org_demo_store(), read_only=True)
    return _open_store(store, read_only=True)


def _read_org(opened: Any, since: str | None, until: str | None) -> tuple[Any, Any]:
    from costmodel.org_store import read_report

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
        from costmodel.org_demo import ORG_DEMO_LABEL

        click.echo(f"costmodel: {ORG_DEMO_LABEL}", err=True)


@main.group()
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
    from costmodel.ingest.org import admin_client, pull_org_report
    from costmodel.org_store import write_org_report

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
    from costmodel.report import SCHEMAS, Records

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

    from costmodel.org_demo import (
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
    from costmodel.catalogue import bundled_catalogue
    from costmodel.org_summary import org_summary

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


class Tolerance(click.ParamType):
    """A tolerance in percent of the reported list amount: ``0.5%`` (the sign is optional)."""

    name = "percent"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        text = str(value).strip()
        try:
            percent = Decimal(text.removesuffix("%").strip())
        except InvalidOperation:
            self.fail(f"expected a percentage such as 0.5%, got {text[:40]!r}", param, ctx)
        if not percent.is_finite() or percent < 0 or percent > 100:
            self.fail(f"expected a percentage from 0% to 100%, got {text[:40]!r}", param, ctx)
        return percent / 100


@main.command(name="reconcile")
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

    from costmodel.actuals import daily_costs
    from costmodel.catalogue import bundled_catalogue
    from costmodel.reconcile import reconcile

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
        (date.fromisoformat(str(row.day)[:10]), str(row.key)): Decimal(repr(float(row.cost_billed)))
        for row in batches.itertuples()
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
            f"costmodel: {flagged:,} cell(s) beyond the tolerance of {(tolerance * 100).normalize():f}%",
            err=True,
        )
        sys.exit(result.exit_code)


@main.command(name="assess")
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
    from costmodel.assess import assess, candidates_from_log, candidates_from_org
    from costmodel.policy import default_policy, load_policy
    from costmodel.report import catalogue_for

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
        from costmodel.ingest.request_logs import LogReport, read_request_log

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
        from costmodel.assess import proposed_scenario_yaml

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


from costmodel.cli_dataset import make_export  # noqa: E402 (built from the shared options)

usage.add_command(make_export(store_option, friendly_errors, _open_store), name="export")

if __name__ == "__main__":  # pragma: no cover
    main()
