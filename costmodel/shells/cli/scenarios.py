"""The scenario commands: run, forecast, compare, diff, validate and the bundled scenarios."""

from __future__ import annotations

import math
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from costmodel.errors import CostModelError
from costmodel.shells.cli.options import (
    EXIT_ERROR,
    EXIT_OVER_BUDGET,
    Amount,
    _currency,
    _emit,
    _fail,
    _job_rule,
    _needs,
    _one_line,
    _open_store,
    _parse_date,
    _pricing_day,
    _scenario_file,
    currency_options,
    format_option,
    friendly_errors,
    jobs_options,
    prices_option,
    store_option,
)

__all__ = ["compare", "diff", "forecast", "run", "scenarios_", "validate"]


@click.command()
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
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.report import run_scenario

    loaded = load_scenario(_scenario_file(scenario))
    catalogue = catalogue_for(loaded, prices)
    fx = _currency(currency, fx_rate, fx_date, fx_source)
    draws, seed_number = _draws(simulate, seed)
    loaded, inputs = _store_inputs(loaded, store, job_separator, jobs, seed_number)
    if draws is not None:
        if actual:
            raise CostModelError("--simulate: not with --actual (they answer different questions)")
        from costmodel.core.simulate import simulate_scenario

        result = simulate_scenario(
            loaded,
            catalogue,
            draws=draws,
            seed=seed_number,
            on=_pricing_day(on, loaded),
            inputs=inputs,
            fx=fx,
        )
        _emit(result, fmt)
        return
    if not actual:
        _emit(run_scenario(loaded, catalogue, on=_pricing_day(on, loaded), fx=fx), fmt)
        return
    from costmodel.core.comparison import compare_with_actual

    _needs("store")
    with _open_store(store, read_only=True) as opened:
        comparison = compare_with_actual(
            loaded,
            opened,
            fx=fx,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until"),
            jobs=_job_rule(job_separator, jobs),
            catalogue=catalogue,
            on=_pricing_day(on, loaded),
        )
    _emit(comparison, fmt)


def _whole(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip().replace("_", ""))
    except ValueError:
        raise CostModelError(f"{name}: got {value!r}; expected a whole number") from None


def _draws(simulate: str | None, seed: str) -> tuple[int | None, int]:
    """``--simulate`` and ``--seed`` checked, each error one line naming the option."""
    from costmodel.core.simulate import check_draws

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
    from costmodel.core.uncertainty import (
        StoreInputs,
        needs_store,
        read_store_inputs,
        with_store_means,
    )

    if not needs_store(loaded):
        return loaded, StoreInputs()
    with _open_store(store, read_only=True) as opened:
        inputs = read_store_inputs(loaded, opened, _job_rule(job_separator, jobs), seed=seed)
    return with_store_means(loaded, inputs), inputs


@click.command()
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
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.forecast import forecast_scenario, next_month

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
        first = next_month(_pricing_day(on, loaded))
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


@click.command()
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
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.report import compare_runs, run_scenario

    fx = _currency(currency, fx_rate, fx_date, fx_source)
    runs = []
    for path in scenarios:
        loaded = load_scenario(_scenario_file(path))
        runs.append(
            run_scenario(loaded, catalogue_for(loaded, prices), on=_pricing_day(on, loaded), fx=fx)
        )
    _emit(compare_runs(runs), fmt)


@click.command()
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
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.report import diff_runs, run_scenario

    day = _parse_date(on, "--on")
    runs = []
    for path in (baseline, proposed):
        loaded = load_scenario(_scenario_file(path))
        runs.append(
            run_scenario(
                loaded, catalogue_for(loaded, prices), on=day or _pricing_day(None, loaded)
            )
        )
    result = diff_runs(runs[0], runs[1], plan=plan)
    _emit(result, fmt)
    if fail_above is None:
        return
    from costmodel.core.money import format_money, round_cents

    if not math.isfinite(result.change):  # fail closed: an unknown rise is not within budget
        _fail("cannot check --fail-above: the change in monthly cost is not a finite number")
    if Decimal(repr(round_cents(result.change))) > fail_above:
        click.echo(
            f"costmodel: monthly cost rises by {format_money(result.change, runs[0].currency)}, "
            f"above the budget of {format_money(float(fail_above), runs[0].currency)}",
            err=True,
        )
        sys.exit(EXIT_OVER_BUDGET)


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option
@friendly_errors
def validate(scenarios: tuple[Path, ...], fmt: str) -> None:
    """Check scenario (and migration policy) files without running them; every problem is
    listed. A name of a bundled scenario stands for its file when no such file exists.
    """
    from costmodel.adapters.bundled import resolve_scenario
    from costmodel.adapters.scenario_files import validate_files
    from costmodel.errors import ScenarioError

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


@click.command(name="scenarios")
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

    from costmodel.adapters.bundled import bundled_scenarios

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
