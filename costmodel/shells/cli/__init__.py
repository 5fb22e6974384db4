"""The ``costmodel`` command: a thin shell over the library.

Each command builds one result object from the library and hands it to
:func:`costmodel.adapters.render.render`. Library errors (:class:`costmodel.errors.CostModelError`)
become one line on stderr and a non-zero exit; nothing here computes a figure of its own. The
commands live by group in this package (:mod:`.scenarios`, :mod:`.usage`, :mod:`.org`,
:mod:`.prices`, :mod:`.dashboard`) and share :mod:`.options`.

Heavy modules are imported inside the commands, so ``costmodel --help`` and the pricing path
start without loading pandas-free extras like streamlit, plotly or anthropic.
"""

from __future__ import annotations

import click

from costmodel.shells.cli.dashboard import DASHBOARD_FLAGS, dashboard
from costmodel.shells.cli.options import (
    EXIT_ERROR,
    EXIT_OVER_BUDGET,
    FORMATS,
    MAX_AMOUNT,
    Amount,
    currency_options,
    format_option,
    friendly_errors,
    jobs_options,
    period_options,
    prices_option,
    store_option,
)
from costmodel.shells.cli.org import assess_command, org, reconcile_command
from costmodel.shells.cli.prices import prices
from costmodel.shells.cli.scenarios import compare, diff, forecast, run, scenarios_, validate
from costmodel.shells.cli.usage import usage

__all__ = [
    "DASHBOARD_FLAGS",
    "EXIT_ERROR",
    "EXIT_OVER_BUDGET",
    "FORMATS",
    "MAX_AMOUNT",
    "Amount",
    "currency_options",
    "format_option",
    "friendly_errors",
    "jobs_options",
    "main",
    "period_options",
    "prices_option",
    "store_option",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="costmodel")
def main() -> None:
    """What your Claude inference costs, synchronously and through the Message Batches API,
    and what moving work to batch does to your gross margin."""


for command in (run, forecast, compare, diff, validate, scenarios_, prices, usage, dashboard, org):
    main.add_command(command)
main.add_command(reconcile_command)
main.add_command(assess_command)


def _add_commands() -> None:
    # The finance commands live in their own modules; imported here so `costmodel --help` lists them.
    from costmodel.shells.cli.budget import budget
    from costmodel.shells.cli.export import export
    from costmodel.shells.cli.ops import register as register_ops
    from costmodel.shells.cli.report import report_command

    main.add_command(export)
    main.add_command(budget)
    main.add_command(report_command)
    register_ops(usage)


_add_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
