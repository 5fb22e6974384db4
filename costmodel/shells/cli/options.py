"""What every costmodel command shares: the options, the error handling, dates, stores, output.

A command module takes its options from here (``format_option``, ``prices_option``,
``friendly_errors``, ...) and is registered on the group in :mod:`costmodel.shells.cli`.
The clock is read here and in the commands only: the library takes every day as an argument.
"""

from __future__ import annotations

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

from costmodel.core.times import as_day
from costmodel.errors import CostModelError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_OVER_BUDGET = 3

FORMATS = ("table", "json", "csv", "markdown")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Costs are float64 sums: beyond 2**53 cents (about 9e13) they are no longer exact to the cent,
# so a budget above this could never be compared honestly.
MAX_AMOUNT = Decimal(10) ** 13


class BoundedDecimal(click.ParamType[Decimal]):
    """A finite decimal from 0 to ``upper`` on the command line; anything else (``nan``,
    ``inf``, a negative number, a word) is a usage error naming what was expected.

    A subclass says how the number is written (``example``, ``bounds``: for the messages), may
    strip a unit from the text (:meth:`number_text`) and may scale the result (:meth:`value`).
    A ``Decimal`` (a default already converted) passes through as it is.
    """

    upper: Decimal
    example: str  # "an amount such as 250 or 99.50"
    bounds: str  # "a finite amount from 0 to 10,000,000,000,000"

    def number_text(self, text: str) -> str:
        return text

    def value(self, number: Decimal) -> Decimal:
        return number

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        text = str(value).strip()
        try:
            number = Decimal(self.number_text(text))
        except InvalidOperation:
            self.fail(f"expected {self.example}, got {text[:40]!r}", param, ctx)
        if not number.is_finite() or number < 0 or number > self.upper:
            self.fail(f"expected {self.bounds}, got {text[:40]!r}", param, ctx)
        return self.value(number)


class Amount(BoundedDecimal):
    """A money amount on the command line: a finite decimal from 0 to :data:`MAX_AMOUNT`."""

    name = "amount"
    upper = MAX_AMOUNT
    example = "an amount such as 250 or 99.50"
    bounds = f"a finite amount from 0 to {MAX_AMOUNT:,.0f}"


def _one_line(message: str) -> str:
    """A message as printed: credentials masked, and control characters escaped so it stays
    one line whatever a file name or a server put in it."""
    from costmodel.adapters.credentials import redact

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
        return as_day(value)
    except ValueError:
        raise click.BadParameter(
            f"expected a date as YYYY-MM-DD, got {value!r}", param_hint=name
        ) from None


def _pricing_day(on: str | None, scenario: Any = None) -> date:
    """The day to price at: ``--on``, else the scenario's ``price_date``, else today.

    The clock is read here, in the shell: the library takes the day as an argument.
    """
    given = _parse_date(on, "--on")
    if given is not None:
        return given
    if scenario is not None and scenario.price_date is not None:
        return scenario.price_date  # type: ignore[no-any-return]
    return date.today()


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
    from costmodel.core.scenario import Currency

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
    from costmodel.core.money import check_currency_code

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
    from costmodel.adapters.job_maps import load_job_map
    from costmodel.core.jobs import JobRule

    return load_job_map(jobs, separator=separator) if jobs else JobRule(separator=separator)


def _needs(extra: str) -> None:
    """Stop with the one-line "pip install 'costmodel[extra]'" when the extra is missing."""
    from costmodel.optional import require_extra

    require_extra(extra)


def _scenario_file(value: Path) -> Path:
    """A scenario argument: a path that exists, else the name of a bundled scenario."""
    from costmodel.adapters.bundled import resolve_scenario

    return resolve_scenario(value)


def _open_store(path: Path | None, *, read_only: bool = False, create: bool = True) -> Any:
    _needs("store")
    from costmodel.adapters.store import default_store_path, open_store

    target = path or default_store_path()
    if read_only and not Path(target).exists():
        raise CostModelError(
            f"{target}: no usage store yet; run `costmodel usage pull` or `costmodel usage import`"
        )
    if os.path.lexists(target):
        # A FIFO or a device given as --store would hang DuckDB's open: regular files only.
        from costmodel.adapters.user_files import check_regular_file
        from costmodel.errors import StoreError

        check_regular_file(target, kind="usage store (a DuckDB file)", error=StoreError)
    # create=False: the file appears with the first batch written, not before a failure.
    return open_store(target, read_only=read_only, create=create)


def _emit(result: Any, fmt: str) -> None:
    from costmodel.adapters.render import render

    click.echo(render(result, fmt), nl=False)
