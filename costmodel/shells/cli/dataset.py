"""``costmodel usage export``, and the Parquet-dataset side of ``usage import`` and
``usage summary --dataset`` (see :mod:`costmodel.adapters.usage_dataset`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["dataset_source", "import_dataset_records", "make_export"]


def make_export(
    store_option: Callable[[Any], Any],
    friendly_errors: Callable[[Any], Any],
    open_store: Callable[..., Any],
) -> click.Command:
    """The ``usage export`` command, built with the CLI's shared ``--store`` option, error
    handling and store opener (passed in, so this module never imports :mod:`costmodel.shells.cli`,
    which registers it: ``python -m costmodel`` runs that module as ``__main__``)."""

    @click.command()
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["parquet"]),
        default="parquet",
        show_default=True,
        help="The dataset's format.",
    )
    @click.option("--force", is_flag=True, help="Replace what a non-empty DIRECTORY holds.")
    @store_option
    @friendly_errors
    def export(directory: Path, fmt: str, force: bool, store: Path | None) -> None:
        """Write the stored requests as a Parquet dataset partitioned by usage day.

        DIRECTORY/usage_date=YYYY-MM-DD/*.parquet, one column per stored request field. A
        non-empty DIRECTORY is refused unless --force. `usage import DIRECTORY` reads it
        back; `usage summary --dataset DIRECTORY` summarises it in place.
        """
        with open_store(store, read_only=True) as opened:
            written = opened.export_parquet(directory, force=force)
        click.echo(
            f"{directory}: {written:,} requests written as Parquet, partitioned by usage_date"
        )

    command: click.Command = export
    return command


def import_dataset_records(
    opened: Any, path: Path, *, replace: bool, table: bool
) -> list[dict[str, Any]]:
    """Import one Parquet dataset (a folder, a glob or a URL) for ``usage import``: one
    record per batch, in the shape of a results file's."""
    from costmodel.adapters.usage_dataset import import_dataset

    records: list[dict[str, Any]] = []
    for written in import_dataset(opened, path, replace=replace):
        records.append(
            {
                "file": str(path),
                "batch_id": written.batch_id,
                "requests": written.rows,
                **{kind: int(n) for kind, n in written.counts.items()},
                "rejected_lines": 0,
                "unchanged": bool(written.unchanged),
            }
        )
        if table:
            counts = ", ".join(f"{n:,} {kind}" for kind, n in written.counts.items() if n)
            already = "; already stored, unchanged" if written.unchanged else ""
            click.echo(
                f"{path}: batch {written.batch_id}: {written.rows:,} requests "
                f"({counts or 'none'}){already}"
            )
    return records


def dataset_source(path: Path) -> Any:
    """A Parquet dataset opened for summaries (``--dataset``)."""
    from costmodel.adapters.usage_dataset import ParquetDataset

    return ParquetDataset(path)
