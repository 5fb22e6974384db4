"""``costmodel prices``: the catalogue's rates, or one model's price history."""

from __future__ import annotations

from pathlib import Path

import click

from costmodel.shells.cli.options import (
    _emit,
    _pricing_day,
    format_option,
    friendly_errors,
    prices_option,
)

__all__ = ["prices"]


@click.command()
@click.argument("model", required=False)
@click.option("--on", "on", help="The rates in force on this day (YYYY-MM-DD); default today.")
@prices_option
@format_option
@friendly_errors
def prices(model: str | None, on: str | None, prices: Path | None, fmt: str) -> None:
    """The price catalogue: every model's rates, as-of date and source (or one MODEL's history)."""
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.core.report import price_list

    _emit(price_list(catalogue_for(None, prices), model=model, on=_pricing_day(on)), fmt)
