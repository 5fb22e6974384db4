"""Calibration: a scenario fitted from measured batch usage, one workload per job and model.

The fit is a :class:`~costmodel.core.scenario.Scenario` object, written by the scenario YAML
writer (:func:`~costmodel.core.scenario.scenario_to_yaml`), with the measured medians and 95th
percentiles added as comments beside the means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final, Protocol

from costmodel.core.catalogue import Catalogue
from costmodel.core.frames import frame_rows
from costmodel.errors import StoreError

if TYPE_CHECKING:
    from costmodel.adapters.store import Store
    from costmodel.core.scenario import Scenario

from costmodel.core.jobs import JobRule
from costmodel.core.scenario import Scenario, Volume, Workload, scenario_to_yaml

__all__ = ["Calibration", "calibrate", "calibration_yaml", "fit_scenario"]


# The scenario's per-request counts and the statistics columns they are fitted from.
_FITTED: Final = (
    ("input_tokens", "input"),
    ("output_tokens", "output"),
    ("cache_write_tokens", "cache_5m"),
    ("cache_write_1h_tokens", "cache_1h"),
    ("cache_read_tokens", "cache_read"),
    ("web_search_requests", "web_search"),
)
_ALWAYS_WRITTEN: Final = ("input_tokens", "output_tokens")


class _StatisticsRow(Protocol):
    """A row of ``Store.usage_statistics``: one job on one model (the ``<column>_mean``, ``_p50``
    and ``_p95`` fields of :data:`_FITTED` are read by name)."""

    workload: str
    model: str
    requests: int
    inference_geo: str


@dataclass(frozen=True)
class Calibration:
    """A fitted scenario and what it was fitted from."""

    scenario: Scenario
    first: date
    last: date
    # Per workload (in scenario order): succeeded requests, and {count key: (p50, p95)}.
    succeeded: tuple[int, ...]
    spread: tuple[dict[str, tuple[float, float]], ...]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def fit_scenario(
    store: Store,
    *,
    catalogue: Catalogue,
    job: str | None = None,
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    days_per_month: float = 30.0,
    name: str | None = None,
) -> Calibration:
    """A scenario fitted from stored usage, one workload per job and model.

    Monthly volume is the succeeded requests per day over the period the usage spans, times
    ``days_per_month``. Token counts are means per request (what the pricing engine needs),
    with their median and 95th percentile kept beside them. Every workload keeps the default
    batch share, 1.0: the usage was measured through the Batches API.
    """
    jobs = jobs or JobRule()
    # Snapshot ids and aliases of one model are one workload: group by the catalogue's id.
    names = {m: catalogue.resolve(m) for m in store.succeeded_models() if catalogue.knows(m)}
    stats = store.usage_statistics(jobs, since=since, until=until, job=job, model_names=names)
    if stats.empty:
        scope = f" for job {job!r}" if job else ""
        raise StoreError(f"no succeeded requests in the store{scope} to calibrate from")
    first, last, _ = store.usage_span(since, until)
    assert first is not None and last is not None
    days = (last - first).days + 1
    workloads: list[Workload] = []
    succeeded: list[int] = []
    spread: list[dict[str, tuple[float, float]]] = []
    models_per_job = stats.groupby("workload")["model"].transform("count")
    row: _StatisticsRow
    for row, models in zip(frame_rows(stats), models_per_job, strict=True):
        per_month = row.requests / days * days_per_month
        counts: dict[str, float] = {}
        shown: dict[str, tuple[float, float]] = {}
        for key, column in _FITTED:
            mean = float(getattr(row, f"{column}_mean"))
            if key not in _ALWAYS_WRITTEN and not mean:
                continue
            counts[key] = round(mean, 1)
            shown[key] = (getattr(row, f"{column}_p50"), getattr(row, f"{column}_p95"))
        workloads.append(
            Workload(
                # A job run on several models becomes one workload per model (names stay unique).
                name=str(row.workload if models == 1 else f"{row.workload} ({row.model})"),
                model=str(row.model),
                requests=Volume(round(per_month, 2), "month"),
                inference_geo="us" if row.inference_geo == "us" else "global",
                **counts,  # type: ignore[arg-type]
            )
        )
        succeeded.append(int(row.requests))
        spread.append(shown)
    scenario = Scenario(
        name=name or (f"Calibrated: {job}" if job else "Calibrated from batch usage"),
        workloads=tuple(workloads),
        days_per_month=days_per_month,
        source="calibrated from the usage store",
    )
    return Calibration(scenario, first, last, tuple(succeeded), tuple(spread))


def calibration_yaml(fit: Calibration) -> str:
    """The fitted scenario as a scenario file: the YAML writer's text, with the measured spread
    (and each workload's succeeded requests) as comments beside the figures they qualify."""
    days = fit.days
    header = [
        "# Calibrated by `costmodel usage calibrate` from measured batch usage,",
        f"# {fit.first} to {fit.last} ({days} day{'s' if days != 1 else ''}). Token counts are "
        "means per",
        "# request; the comments give the median (p50) and 95th percentile (p95) for what-ifs.",
    ]
    out = list(header)
    index = -1
    for line in scenario_to_yaml(fit.scenario).splitlines():
        # The writer's layout: each workload starts "- name:", its keys indented two spaces.
        if line.startswith("- name:"):
            index += 1
        key = line.strip().split(":", 1)[0]
        if index >= 0 and line.startswith("  ") and not line.startswith("   "):
            if key in fit.spread[index]:
                p50, p95 = fit.spread[index][key]
                line += f"   # p50 {_plain(p50)}, p95 {_plain(p95)}"
            elif key == "requests":
                line += f"   # {fit.succeeded[index]:,} succeeded in {days} days"
        out.append(line)
    return "\n".join(out) + "\n"


def calibrate(
    store: Store,
    *,
    catalogue: Catalogue,
    job: str | None = None,
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    days_per_month: float = 30.0,
    name: str | None = None,
) -> str:
    """A scenario file (YAML text) fitted from stored usage: :func:`fit_scenario` written by
    :func:`calibration_yaml`."""
    return calibration_yaml(
        fit_scenario(
            store,
            catalogue=catalogue,
            job=job,
            since=since,
            until=until,
            jobs=jobs,
            days_per_month=days_per_month,
            name=name,
        )
    )


def _plain(value: float) -> str:
    value = float(value)
    return (
        str(int(value))
        if value.is_integer()
        else f"{value:g}"
        if abs(value) < 1e6
        else f"{value:.2f}"
    )
