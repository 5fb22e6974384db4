"""``costmodel usage``: measured usage from completed batches: pull, import, summary, calibrate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from costmodel.shells.cli.options import (
    EXIT_ERROR,
    FORMATS,
    _emit,
    _job_rule,
    _needs,
    _one_line,
    _open_store,
    _parse_date,
    format_option,
    friendly_errors,
    jobs_options,
    period_options,
    prices_option,
    store_option,
)

__all__ = ["calibrate", "import_", "pull", "summary", "usage"]


@click.group()
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
    from costmodel.adapters.ingest.batches import pull as pull_batches

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
        from costmodel.core.contract import SCHEMAS
        from costmodel.core.results import Records

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
    "--expires-at",
    help="When the batch would expire (YYYY-MM-DD or ISO time; the API's expires_at).",
)
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
    expires_at: str | None,
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
    from costmodel.adapters.ingest.files import read_results

    if batch_id and len(files) > 1:
        raise click.UsageError("--batch-id names one batch: give one file with it")
    rejected_any = False
    records: list[dict[str, Any]] = []
    with _open_store(store, create=False) as opened:
        for path in files:
            from costmodel.adapters.usage_dataset import is_dataset

            if is_dataset(path):  # a Parquet dataset (usage export): one record per batch
                from costmodel.shells.cli.dataset import import_dataset_records

                records += import_dataset_records(
                    opened, path, replace=replace, table=fmt == "table"
                )
                continue
            source = read_results(
                path,
                batch_id=batch_id,
                created_at=created_at,
                ended_at=ended_at,
                expires_at=expires_at,
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
        from costmodel.core.contract import SCHEMAS
        from costmodel.core.results import Records

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
    from costmodel.adapters.catalogue_files import catalogue_for
    from costmodel.core.measured import usage_summary

    if dataset:
        from costmodel.shells.cli.dataset import dataset_source

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
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.core.calibration import calibrate as fit

    with _open_store(store, read_only=True) as opened:
        text = fit(
            opened,
            catalogue=bundled_catalogue(),
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

    from costmodel.core.contract import SCHEMAS
    from costmodel.core.results import Records

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


def _add_export() -> None:
    from costmodel.shells.cli.dataset import make_export

    usage.add_command(make_export(store_option, friendly_errors, _open_store), name="export")


_add_export()
