"""Measured usage, priced: what stored batches cost, what they would have cost synchronously,
scenarios fitted from them, and a scenario's prediction beside them.

Everything here reads the store in chunks (:meth:`costmodel.store.Store.iter_usage_frames`), so
memory stays flat however many requests are stored, and prices with the same engine as the
scenarios. Figures here are measured: every result names the batches or period it covers.

A *job* groups requests by their ``custom_id``: by default the part before the last separator
(``contract-review-0042`` belongs to job ``contract-review``), or by a mapping file of job names
to glob patterns (see :func:`load_job_map`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import yaml

from costmodel.catalogue import Catalogue, bundled_catalogue
from costmodel.errors import CostModelError, StoreError
from costmodel.money import format_money, round_cents
from costmodel.pricing import long_context_notes, price_usage
from costmodel.report import ScenarioRun, Section, run_scenario

if TYPE_CHECKING:
    from costmodel.scenario import Scenario
    from costmodel.store import Store

__all__ = [
    "BY",
    "ActualComparison",
    "JobRule",
    "UsageSummary",
    "calibrate",
    "compare_with_actual",
    "daily_costs",
    "load_job_map",
    "usage_summary",
]

BY: Final = ("model", "batch", "job", "day")
NOT_REPORTED: Final = "(model not reported)"
_NOT_BILLED: Final = ("errored", "canceled", "expired")
_TOKEN_FIELDS: Final = {
    "input_tokens": ("input_tokens",),
    "output_tokens": ("output_tokens",),
    "cache_creation_input_tokens": ("cache_write_5m_tokens", "cache_write_1h_tokens"),
    "cache_read_input_tokens": ("cache_read_tokens",),
}
# Summary fields after the key, with the labels tables give them.
_COUNT_LABELS: Final = {
    "succeeded": "Succeeded",
    "errored": "Errored",
    "canceled": "Canceled",
    "expired": "Expired",
    "input_tokens": "Input tokens",
    "output_tokens": "Output tokens",
    "cache_creation_input_tokens": "Cache writes",
    "cache_read_input_tokens": "Cache reads",
}
_MONEY_LABELS: Final = {
    "cost_billed": "Billed (batch)",
    "cost_if_sync": "If sync",
    "savings": "Savings",
}
_ROW_FIELDS: Final = ("key", *_COUNT_LABELS, *_MONEY_LABELS)


# -- jobs -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobRule:
    """How a request's ``custom_id`` names its job: a mapping's globs first, then the separator."""

    separator: str = "-"
    patterns: tuple[tuple[str, str], ...] = ()  # (glob on custom_id, job name), first match wins

    def sql(self, column: str = "custom_id") -> tuple[str, list[Any]]:
        """A SQL expression for the job, with its parameters (the store evaluates it)."""
        params: list[Any] = []
        cases = []
        for glob, job in self.patterns:
            cases.append(f"WHEN {column} LIKE ? ESCAPE '\\' THEN ?")
            params.extend([_glob_to_like(glob), job])
        if self.separator:
            # Everything before the last separator; an id without one is its own job.
            fallback = (
                f"CASE WHEN strpos({column}, ?) > 0 "
                f"THEN left({column}, length({column}) - strpos(reverse({column}), reverse(?)) "
                f"- length(?) + 1) ELSE {column} END"
            )
            params.extend([self.separator, self.separator, self.separator])
        else:
            fallback = column
        if not cases:
            return fallback, params
        return f"CASE {' '.join(cases)} ELSE {fallback} END", params


def _glob_to_like(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def load_job_map(path: str | Path, *, separator: str = "-") -> JobRule:
    """Read a job mapping file: job names to ``custom_id`` glob patterns.

    ::

        contract-review: ["contract-*", "cr-*"]
        claims: ["claim-*"]
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CostModelError(f"{path}: no such job mapping file") from exc
    except yaml.YAMLError as exc:
        raise CostModelError(f"{path}: invalid YAML in the job mapping file") from exc
    if not isinstance(raw, Mapping) or not raw:
        raise CostModelError(f"{path}: expected job names mapped to lists of custom_id patterns")
    patterns: list[tuple[str, str]] = []
    for job, globs in raw.items():
        globs = [globs] if isinstance(globs, str) else globs
        if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
            raise CostModelError(f"{path}: {job}: expected a list of custom_id patterns")
        patterns.extend((glob, str(job)) for glob in globs)
    return JobRule(separator=separator, patterns=tuple(patterns))


# -- the summary ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UsageSummary:
    """Requests by result type, tokens by kind and cost, grouped by model, batch, job or day."""

    by: str
    rows: pd.DataFrame  # columns _ROW_FIELDS (+ "unpriced" when some usage could not be priced)
    since: date | None
    until: date | None
    first_day: date | None
    last_day: date | None
    batches: int
    contract: str | None
    notes: tuple[str, ...] = ()
    currency: str = "USD"

    @property
    def title(self) -> str:
        return f"Usage by {self.by}"

    def totals(self) -> dict[str, Any]:
        totals: dict[str, Any] = {}
        for name in _ROW_FIELDS[1:]:
            values = self.rows[name] if name in self.rows else pd.Series(dtype=float)
            totals[name] = (
                float(values.sum()) if name.startswith(("cost", "sav")) else int(values.sum())
            )
        return totals

    def to_dict(self) -> dict[str, Any]:
        def clean(name: str, value: Any) -> Any:
            if name.startswith(("cost", "sav")):
                return round_cents(float(value))
            if name == "key":
                return str(value)
            return int(value)

        totals = self.totals()
        return {
            "by": self.by,
            "currency": self.currency,
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "first_day": self.first_day.isoformat() if self.first_day else None,
                "last_day": self.last_day.isoformat() if self.last_day else None,
            },
            "batches": self.batches,
            "contract": self.contract,
            "rows": [
                {name: clean(name, row[name]) for name in _ROW_FIELDS}
                for row in self.rows.to_dict(orient="records")
            ],
            "totals": {name: clean(name, value) for name, value in totals.items()},
            "notes": list(self.notes),
        }

    def csv_frame(self) -> pd.DataFrame:
        data = self.to_dict()
        return pd.DataFrame(data["rows"], columns=list(_ROW_FIELDS))

    def sections(self) -> list[Section]:
        frame = self.rows[list(_ROW_FIELDS)].copy()
        totals = {"key": "Total", **self.totals()}
        frame = pd.concat([frame, pd.DataFrame([totals])], ignore_index=True)
        frame.columns = [self.by.capitalize(), *_COUNT_LABELS.values(), *_MONEY_LABELS.values()]
        period = _describe_period(self.first_day, self.last_day)
        return [
            Section(
                f"Measured batch usage by {self.by}, {period} ({self.currency})",
                frame,
                money=tuple(_MONEY_LABELS.values()),
                counts=tuple(_COUNT_LABELS.values()),
            )
        ]


def _describe_period(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return "no usage"
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _key_sql(by: str, jobs: JobRule) -> tuple[str, list[Any]]:
    if by == "model":
        return "model", []
    if by == "batch":
        return "batch_id", []
    if by == "day":
        return "CAST(usage_date AS VARCHAR)", []
    if by == "job":
        return jobs.sql()
    raise CostModelError(f"--by: expected one of {', '.join(BY)}, got {by!r}")


def usage_summary(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue | None = None,
) -> UsageSummary:
    """What the stored batches cost (batch rates) against the same tokens sent synchronously.

    Token counts and costs cover succeeded requests; errored, canceled and expired requests are
    counted by type and never billed. Keys for ``by="model"`` are catalogue ids (snapshot ids
    resolve to their model); a model the catalogue does not know is counted as unpriced, and
    named in a note, never priced at $0.
    """
    catalogue = catalogue or bundled_catalogue()
    jobs = jobs or JobRule()
    key_sql, key_params = _key_sql(by, jobs)
    frames: list[pd.DataFrame] = []
    unpriced: dict[str, int] = {}
    third_party: set[str] = set()
    long_context: dict[tuple[str, int], float] = {}  # requests billed at a long-context tier
    for chunk in store.iter_usage_frames(since, until, key_sql=key_sql, key_params=key_params):
        if chunk.empty:
            continue
        rows, missing, flags, tiers = _price_chunk(chunk, catalogue, by)
        # summed per chunk, so what is kept grows with the keys, not with the requests
        frames.append(rows.drop(columns=["day"]).assign(succeeded=1).groupby("key").sum())
        third_party |= flags
        for tier, count in tiers.items():
            long_context[tier] = long_context.get(tier, 0.0) + count
        for model, count in missing.items():
            unpriced[model] = unpriced.get(model, 0) + count
    measured = (
        pd.concat(frames).groupby(level=0, sort=False).sum()
        if frames
        else pd.DataFrame(columns=[c for c in _ROW_FIELDS if c not in ("key", *_NOT_BILLED)])
    )

    counts = store.result_counts_by(key_sql, key_params, since=since, until=until)
    if by == "model":
        counts["key"] = counts["key"].map(lambda m: _resolve_or_keep(catalogue, m))
        counts = counts.groupby("key", dropna=False, sort=False).sum().reset_index()
    counts["key"] = counts["key"].fillna(NOT_REPORTED)
    counts = counts.set_index("key")
    rows = counts.join(measured.drop(columns=["succeeded"], errors="ignore"), how="outer")
    for column in _ROW_FIELDS[1:]:
        if column not in rows:
            rows[column] = 0
        rows[column] = rows[column].fillna(0)
    rows["savings"] = rows["cost_if_sync"] - rows["cost_billed"]
    rows = rows.reset_index().rename(columns={"index": "key"})
    rows = rows.sort_values(
        "key" if by in ("day",) else "cost_billed", ascending=by == "day", kind="stable"
    ).reset_index(drop=True)

    notes = [
        "Measured from stored Message Batches results; billed at batch rates "
        f"({catalogue.batch_multiplier * 100:.0f}% of the standard rates), compared with the same tokens sent synchronously. Token counts and "
        "costs cover succeeded requests; errored, canceled and expired requests are not billed."
    ]
    if unpriced:
        listed = ", ".join(
            f"{model} ({count:,} requests)" for model, count in sorted(unpriced.items())
        )
        notes.append(
            f"Unpriced, not in the totals: {listed}: unknown to the catalogue or without a "
            "published price."
        )
    if third_party:
        notes.append(
            "Rests on prices from third-party sources only: " + "; ".join(sorted(third_party)) + "."
        )
    notes.extend(long_context_notes(long_context))
    if catalogue.contract is not None:
        notes.append(f"Costs are contracted prices from {catalogue.contract.source}.")
    span = store.usage_span(since, until)
    stale = catalogue.stale_note(span[1]) if span[1] is not None else None
    if stale:
        notes.append(stale)
    return UsageSummary(
        by=by,
        rows=rows,
        since=since,
        until=until,
        first_day=span[0],
        last_day=span[1],
        batches=span[2],
        contract=catalogue.contract.name if catalogue.contract else None,
        notes=tuple(notes),
    )


def _resolve_or_keep(catalogue: Catalogue, model: Any) -> Any:
    if model is None or (isinstance(model, float) and math.isnan(model)):
        return None
    return catalogue.resolve(model) if catalogue.knows(model) else model


def _price_chunk(
    chunk: pd.DataFrame, catalogue: Catalogue, by: str
) -> tuple[pd.DataFrame, dict[str, int], set[str], dict[tuple[str, int], float]]:
    """Price one chunk of succeeded requests at batch rates and at standard rates.

    Returns one row per request (key, day, tokens by kind, cost_billed, cost_if_sync), the
    requests of models the catalogue does not know (counted, with their tokens, at no cost;
    the caller says so), the third-party rates the prices rested on, and the requests billed
    at a long-context tier per (model id, threshold).
    """
    models = chunk["model"].astype(str)
    # a model the catalogue knows but has no price for (unpriced) is counted like an unknown one
    known = models.map(
        {
            name: catalogue.knows(name) and bool(catalogue.model(name).prices)
            for name in models.unique()
        }
    ).to_numpy(dtype=bool)
    missing = models[~known].value_counts().to_dict()
    priced = chunk.loc[known]
    billed = price_usage(priced, catalogue, validate=False)
    sync = price_usage(priced.assign(tier="standard"), catalogue, validate=False)
    cost_billed = np.zeros(len(chunk))
    cost_if_sync = np.zeros(len(chunk))
    cost_billed[known] = billed.cost_contracted
    cost_if_sync[known] = sync.cost_contracted
    if by == "model":
        # the catalogue's id for priced rows; an unknown model keeps the name it was given
        key = models.to_numpy(dtype=object)
        key[known] = np.asarray(billed.model_ids()).astype(object)
    else:
        key = chunk["key"].astype(str).to_numpy()
    rows = pd.DataFrame(
        {
            "key": key,
            "day": pd.to_datetime(chunk["date"]).dt.date.to_numpy(),
            **{
                name: chunk[list(columns)].to_numpy(dtype="float64").sum(axis=1)
                for name, columns in _TOKEN_FIELDS.items()
            },
            "cost_billed": cost_billed,
            "cost_if_sync": cost_if_sync,
        }
    )
    flags = set(billed.third_party) | set(sync.third_party)
    missing_counts = {str(k): int(v) for k, v in missing.items()}
    return rows, missing_counts, flags, billed.long_context_requests


def daily_costs(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """Billed and if-sync cost per day and model (or job): columns day, key, cost_billed, cost_if_sync."""
    if by not in ("model", "job"):
        raise CostModelError(f"daily costs group by model or job, not {by!r}")
    catalogue = catalogue or bundled_catalogue()
    key_sql, key_params = _key_sql(by, jobs or JobRule())
    columns = ["day", "key", "cost_billed", "cost_if_sync"]
    frames = [
        _price_chunk(chunk, catalogue, by)[0][columns].groupby(["day", "key"]).sum()
        for chunk in store.iter_usage_frames(since, until, key_sql=key_sql, key_params=key_params)
        if not chunk.empty
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames).groupby(["day", "key"], sort=True).sum().reset_index()


# -- calibrate ------------------------------------------------------------------------------------
def calibrate(
    store: Store,
    *,
    job: str | None = None,
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    days_per_month: float = 30.0,
    name: str | None = None,
    catalogue: Catalogue | None = None,
) -> str:
    """A scenario file (YAML text) fitted from stored usage, one workload per job and model.

    Monthly volume is the succeeded requests per day over the period the usage spans, times
    ``days_per_month``. Token counts are means per request (what the pricing engine needs);
    the median and 95th percentile are written beside them as comments. Every workload keeps
    batch_share 1.0: the usage was measured through the Batches API.
    """
    jobs = jobs or JobRule()
    key_sql, key_params = jobs.sql()
    catalogue = catalogue or bundled_catalogue()
    # Snapshot ids and aliases of one model are one workload: group by the catalogue's id.
    raw_models = store.query("SELECT DISTINCT model FROM requests WHERE result_type = 'succeeded'")[
        "model"
    ].tolist()
    resolved = [(m, catalogue.resolve(m) if catalogue.knows(m) else m) for m in raw_models]
    model_sql = (
        "CASE model " + " ".join("WHEN ? THEN ?" for _ in resolved) + " END"
        if resolved
        else "model"
    )
    model_params = [value for pair in resolved for value in pair]
    stats = store.usage_statistics(
        key_sql,
        key_params,
        since=since,
        until=until,
        job=job,
        model_sql=model_sql,
        model_params=model_params,
    )
    if stats.empty:
        scope = f" for job {job!r}" if job else ""
        raise StoreError(f"no succeeded requests in the store{scope} to calibrate from")
    first, last, _ = store.usage_span(since, until)
    assert first is not None and last is not None
    days = (last - first).days + 1
    title = name or (f"Calibrated: {job}" if job else "Calibrated from batch usage")
    lines = [
        "# Calibrated by `costmodel usage calibrate` from measured batch usage,",
        f"# {first} to {last} ({days} day{'s' if days != 1 else ''}). Token counts are means per",
        "# request; the comments give the median (p50) and 95th percentile (p95) for what-ifs.",
        f"name: {_yaml_scalar(title)}",
        f"days_per_month: {_plain(days_per_month)}",
        "workloads:",
    ]
    models_per_job = stats.groupby("workload")["model"].transform("count")
    for row, models in zip(stats.itertuples(index=False), models_per_job, strict=True):
        per_month = row.requests / days * days_per_month
        # A job run on several models becomes one workload per model (names stay unique).
        workload = row.workload if models == 1 else f"{row.workload} ({row.model})"
        lines += [
            f"  - name: {_yaml_scalar(workload)}",
            f"    model: {_yaml_scalar(row.model)}",
            f"    requests: {{count: {_plain(round(per_month, 2))}, per: month}}   "
            f"# {row.requests:,} succeeded in {days} days",
        ]
        for key, column in (
            ("input_tokens", "input"),
            ("output_tokens", "output"),
            ("cache_write_tokens", "cache_5m"),
            ("cache_write_1h_tokens", "cache_1h"),
            ("cache_read_tokens", "cache_read"),
            ("web_search_requests", "web_search"),
        ):
            mean = getattr(row, f"{column}_mean")
            if key not in ("input_tokens", "output_tokens") and not mean:
                continue
            p50, p95 = getattr(row, f"{column}_p50"), getattr(row, f"{column}_p95")
            lines.append(
                f"    {key}: {_plain(round(mean, 1))}   # p50 {_plain(p50)}, p95 {_plain(p95)}"
            )
        if row.inference_geo == "us":
            lines.append("    inference_geo: us")
        lines.append("    batch_share: 1.0")
    return "\n".join(lines) + "\n"


def _plain(value: float) -> str:
    value = float(value)
    return (
        str(int(value))
        if value.is_integer()
        else f"{value:g}"
        if abs(value) < 1e6
        else f"{value:.2f}"
    )


def _yaml_scalar(value: Any) -> str:
    """One YAML scalar, quoted only where YAML needs it (no document-end marker)."""
    text = yaml.safe_dump(str(value), default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").strip()


# -- scenario against actuals ---------------------------------------------------------------------
@dataclass(frozen=True)
class ActualComparison:
    """A scenario's batch plan beside measured usage for the same jobs and period."""

    run: ScenarioRun
    lines: pd.DataFrame
    first_day: date
    last_day: date
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.run.scenario.name}: modelled against measured"

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.run.scenario.name,
            "source": self.run.scenario.source,
            "currency": self.run.currency,
            "period": {
                "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(),
                "days": self.days,
            },
            "lines": [
                {
                    "workload": row.workload,
                    "status": row.status,
                    "requests_modelled": round(float(row.requests_modelled), 2),
                    "requests_actual": int(row.requests_actual),
                    "cost_modelled": round_cents(row.cost_modelled),
                    "cost_actual": round_cents(row.cost_actual),
                    "difference": round_cents(row.difference),
                    "difference_pct": None
                    if math.isnan(row.difference_pct)
                    else round(row.difference_pct, 2),
                }
                for row in self.lines.itertuples(index=False)
            ],
            "totals": {
                "cost_modelled": round_cents(float(self.lines["cost_modelled"].sum())),
                "cost_actual": round_cents(float(self.lines["cost_actual"].sum())),
                "difference": round_cents(float(self.lines["difference"].sum())),
            },
            "modelled": self.run.to_dict(),
            "notes": list(self.notes),
        }

    def sections(self) -> list[Section]:
        frame = self.lines[
            [
                "workload",
                "status",
                "requests_modelled",
                "requests_actual",
                "cost_modelled",
                "cost_actual",
                "difference",
                "difference_pct",
            ]
        ].copy()
        modelled, actual = frame["cost_modelled"].sum(), frame["cost_actual"].sum()
        total = {
            "workload": "Total",
            "status": "",
            "requests_modelled": frame["requests_modelled"].sum(),
            "requests_actual": frame["requests_actual"].sum(),
            "cost_modelled": modelled,
            "cost_actual": actual,
            "difference": actual - modelled,
            "difference_pct": 100 * (actual - modelled) / modelled if modelled else math.nan,
        }
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
        frame.columns = [
            "Workload",
            "Status",
            "Requests modelled",
            "Requests measured",
            "Modelled (batch plan)",
            "Measured (billed)",
            "Difference",
            "Difference %",
        ]
        return [
            *self.run.sections(),
            Section(
                f"Modelled against measured, {self.first_day} to {self.last_day} "
                f"({self.days} days, {self.run.currency})",
                frame,
                money=("Modelled (batch plan)", "Measured (billed)", "Difference"),
                percent=("Difference %",),
                counts=("Requests modelled", "Requests measured"),
            ),
        ]


def compare_with_actual(
    scenario: Scenario,
    store: Store,
    *,
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue | None = None,
) -> ActualComparison:
    """The scenario's batch plan for the period beside what the store measured for its jobs.

    Workloads are matched to jobs by name. The period is ``since``..``until`` (``until``
    exclusive); by default the 30 days up to the last day with usage. The monthly model is
    scaled to the period's length (days / ``days_per_month``).
    """
    catalogue = catalogue or bundled_catalogue()
    if since is None or until is None:
        _, last, _ = store.usage_span(None, None)
        if last is None:
            raise StoreError("the store holds no usage to compare with; pull or import some first")
        until = until or last + timedelta(days=1)
        since = since or until - timedelta(days=30)
    run = run_scenario(scenario, catalogue)
    summary = usage_summary(
        store, by="job", since=since, until=until, jobs=jobs, catalogue=catalogue
    )
    rate = float(scenario.currency.per_usd) if scenario.currency else 1.0
    measured = summary.rows.set_index("key")
    days = (until - since).days
    scale = days / scenario.days_per_month
    lines = []
    for workload in run.workloads.itertuples(index=False):
        modelled = float(workload.cost_batch) * scale
        requests_modelled = float(workload.requests) * scale
        if workload.name in measured.index:
            row = measured.loc[workload.name]
            actual = float(row["cost_billed"]) * rate
            requests_actual = int(row["succeeded"])
            status = "measured"
        else:
            actual, requests_actual, status = 0.0, 0, "no usage found"
        lines.append(
            {
                "workload": workload.name,
                "status": status,
                "requests_modelled": requests_modelled,
                "requests_actual": requests_actual,
                "cost_modelled": modelled,
                "cost_actual": actual,
                "difference": actual - modelled,
                "difference_pct": 100 * (actual - modelled) / modelled if modelled else math.nan,
            }
        )
    names = set(run.workloads["name"])
    unmodelled = [
        f"{key} ({int(row['succeeded']):,} requests, {format_money(float(row['cost_billed']) * rate, run.currency)})"
        for key, row in measured.iterrows()
        if key not in names and row["succeeded"]
    ]
    notes = (
        *run.notes,
        f"Measured: {summary.batches} batch(es) in the store, usage from {since} to "
        f"{until - timedelta(days=1)}; the monthly model is scaled to those {days} days. "
        "Workloads are matched to jobs (custom_id prefixes) by name.",
        *([f"Measured but not in this scenario: {'; '.join(unmodelled)}."] if unmodelled else []),
    )
    return ActualComparison(
        run=run,
        lines=pd.DataFrame(lines),
        first_day=since,
        last_day=until - timedelta(days=1),
        notes=tuple(notes),
    )
