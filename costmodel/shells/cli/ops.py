"""``costmodel usage ops``: batch operations (success rate, turnaround, expiries, errors by
type, tokens per request) from the usage store; see :mod:`costmodel.core.ops`.

Registered by :func:`register` from :mod:`costmodel.shells.cli`, with that module's shared options.
The options come from the module that defines the group it is given, so the command joins the
right ``usage`` group also under ``python -m costmodel`` (where that module is
``__main__`` and a plain import of :mod:`costmodel.shells.cli` would be a second copy).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["register"]

Decorator = Callable[[Callable[..., None]], Callable[..., None]]


def register(usage: click.Group) -> None:
    """Add ``ops`` to the ``usage`` group of the costmodel command."""
    assert usage.callback is not None
    shell: Any = sys.modules[usage.callback.__module__]
    # The shared options, outermost first, as they would be stacked above the function.
    shared: list[Decorator] = [
        shell.period_options,
        shell.store_option,
        shell.jobs_options,
        shell.format_option,
        shell.friendly_errors,
    ]

    def ops(
        by: str,
        since: str | None,
        until: str | None,
        store: Path | None,
        job_separator: str,
        jobs: Path | None,
        fmt: str,
    ) -> None:
        """Batch operations: requests by result type, success rate (flagged below 99%),
        turnaround from creation to end (p50, p95, max), expired share, errors by type and
        tokens per succeeded request.

        Batches imported without --created-at and --ended-at count with turnaround unknown.
        """
        from costmodel.core.ops import operations_summary

        with shell._open_store(store, read_only=True) as opened:
            result = operations_summary(
                opened,
                by=by,
                since=shell._parse_date(since, "--since"),
                until=shell._parse_date(until, "--until"),
                jobs=shell._job_rule(job_separator, jobs),
            )
        shell._emit(result, fmt)

    command: Callable[..., None] = ops
    for decorate in reversed(shared):
        command = decorate(command)
    by_option = click.option(
        "--by",
        type=click.Choice(["day", "job", "batch", "hour"]),
        default="day",
        show_default=True,
        help="What each row stands for (hour: of submission, UTC).",
    )
    usage.add_command(click.command(name="ops")(by_option(command)))
