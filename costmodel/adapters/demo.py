"""The demo store: a month of generated batch usage, so a first-time user sees a populated view.

The data is synthetic and labelled so everywhere it is shown. It is written in the real results
format (:mod:`costmodel.adapters.synthetic`) and imported through the same path as a user's files, so
the demo exercises the real parser and store. Its jobs are named after workloads of the bundled
scenarios (``claim-classification`` in claims-triage, ``contract-summary`` in
document-summarisation), so the dashboard can set their predictions beside the "actuals".
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from costmodel.adapters.store import open_store

if TYPE_CHECKING:
    from costmodel.adapters.synthetic import BatchTimes

__all__ = ["DEMO_JOBS", "DEMO_LABEL", "default_demo_path", "ensure_demo_store"]

DEMO_LABEL: Final = "Demo data: generated batch results, not your usage"
DEMO_VERSION: Final = "2"  # 2: batch times over the day (turnaround, expiries) for Operations
DEMO_DAYS: Final = 30


@dataclass(frozen=True)
class DemoJob:
    name: str
    per_day: int
    model: str
    input_tokens: float
    output_tokens: float
    submitted: tuple[int, int] = (1, 2)  # the UTC hours a batch is created in, [from, to)


# Volumes and sizes near the bundled scenarios' assumptions, so modelled and measured are close
# but not identical (measured usage never is).
DEMO_JOBS: Final = (
    DemoJob("claim-classification", 1_700, "claude-3-5-sonnet-20241022", 2_050, 140, (8, 19)),
    DemoJob("contract-summary", 480, "claude-3-5-sonnet-20241022", 15_400, 790, (0, 24)),
    DemoJob("nightly-analytics", 2_000, "claude-haiku-4-5-20251001", 3_500, 300, (20, 24)),
)


# Errors as a healthy pipeline sees them (mostly the caller's own invalid requests), and as a
# batch caught in the peak does (the API overloaded). Repeats weight the draw.
_CALM_ERRORS: Final = ("invalid_request_error",) * 6 + ("api_error", "overloaded_error")
_BUSY_ERRORS: Final = ("overloaded_error",) * 5 + ("api_error", "invalid_request_error")
_CANCELED_BATCH: Final = (12, 1)  # (days back, job number): the month's one canceled batch


def _outcomes(times: BatchTimes, *, canceled: bool) -> dict[str, Any]:
    """Result shares for a demo batch: requests expire only in a batch that ran out of time,
    are canceled only in a canceled batch, and err more at peak."""
    slow = times.ended_at - times.created_at >= timedelta(hours=12)
    return {
        "errored": 0.012 if slow else 0.004,
        "expired": 0.1 if times.expired else 0.0,
        "canceled": 0.3 if canceled else 0.0,
        "error_types": _BUSY_ERRORS if slow else _CALM_ERRORS,
    }


def default_demo_path() -> Path:
    """``$COSTMODEL_DEMO_STORE``, else ``$XDG_CACHE_HOME/costmodel/demo-usage.duckdb``."""
    configured = os.environ.get("COSTMODEL_DEMO_STORE")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "costmodel" / "demo-usage.duckdb"


def ensure_demo_store(path: Path | str | None = None, *, today: date | None = None) -> Path:
    """Build the demo store at ``path`` unless one of this version is already there.

    One batch per job per day for the :data:`DEMO_DAYS` days before ``today`` (default: the
    day it is built), created at an hour of the job's window and ended as
    :func:`costmodel.adapters.synthetic.batch_times` says (a batch that ran out its 24 hours has a
    tenth of its requests expired). About 125,000 requests; a few seconds the first time.
    """
    import random

    from costmodel.adapters.ingest.files import read_results
    from costmodel.adapters.synthetic import Profile, batch_times, write_results

    target = Path(path) if path is not None else default_demo_path()
    marker = target.with_suffix(target.suffix + ".version")
    if target.exists() and marker.exists() and marker.read_text().strip() == DEMO_VERSION:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target, target.with_suffix(target.suffix + ".wal"), marker):
        stale.unlink(missing_ok=True)
    end = today or datetime.now(UTC).date()
    building = target.with_suffix(".building")
    building.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch, open_store(building) as store:
        for offset in range(DEMO_DAYS, 0, -1):
            day = end - timedelta(days=offset)
            for number, job in enumerate(DEMO_JOBS):
                seed = offset * 10 + number
                rng = random.Random(seed)
                created = datetime(day.year, day.month, day.day, rng.randrange(*job.submitted))
                created += timedelta(minutes=rng.randrange(60))
                times = batch_times(created, seed)
                batch_id = f"msgbatch_demo{day:%Y%m%d}{number}"
                results = Path(scratch) / f"{batch_id}_results.jsonl"
                write_results(
                    results,
                    job.per_day,
                    seed=seed,
                    job=job.name,
                    **_outcomes(times, canceled=(offset, number) == _CANCELED_BATCH),
                    text_words=3,
                    models=((job.model, 1.0, True, False),),
                    profile=Profile(job.input_tokens, job.output_tokens),
                )
                source = read_results(
                    results,
                    batch_id=batch_id,
                    created_at=times.created_at,
                    ended_at=times.ended_at,
                    expires_at=times.expires_at,
                    name="demo",
                )
                store.write_batch(source.batch_meta(), source)
                results.unlink()
    building.replace(target)
    marker.write_text(DEMO_VERSION)
    return target
