"""Assess a migration: which synchronous workloads can move to the Message Batches API. Pure.

Candidates are the synchronous usage (the ``standard`` and ``priority`` tiers) of a period, one
per workspace x model, API key x model (from the organisation's report), or workload tag x
model (from a request log), with their token sums. :func:`assess` runs each through a
:class:`~costmodel.core.policy.Policy` (the article's decision tree by default) and prices it:

- the verdict (move to batch, stay synchronous, or hybrid with the share that moves) and the
  rule that decided it;
- monthly spend now (everything synchronous), after (the verdict's share through the Batches
  API), and the savings, exact: integer token sums times :class:`~decimal.Decimal` rates,
  scaled from the period to a month (``days_per_month`` / days in the period), rounded to the
  cent only when shown;
- totals, and the gross-margin change where the policy has a business block.

:func:`proposed_scenario_yaml` writes the plan as a scenario file: one workload per candidate
with its measured monthly volume and mean tokens per kind, ``batch_share`` from the verdict and
``price_date`` the day it was priced at, so ``costmodel run`` gives the same figures.

Monthly figures are priced as a scenario prices them, from the candidate's mean request: the
long-context tier applies when the mean prompt is above the model's threshold. Usage in the
API's ``200k-1M`` context window is therefore a candidate of its own, so a mixed workload is
not priced at one blended band.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

import numpy as np
import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.layouts import Section, _margin_section
from costmodel.core.margin import MarginImpact, margin_impact
from costmodel.core.money import allocate_cents, quantize_cents
from costmodel.core.policy import BusinessHours, HybridRule, Policy
from costmodel.core.reconcile import LONG_CONTEXT_WINDOW, TokenCounts, cents, exact_cost
from costmodel.core.scenario import Business, Scenario, Volume, Workload, scenario_to_yaml
from costmodel.errors import CostModelError, UnknownModelError, UnpricedError

__all__ = [
    "SYNC_TIERS",
    "Assessment",
    "Candidates",
    "NothingToAssess",
    "WorkloadAssessment",
    "assess",
    "candidates_from_log",
    "candidates_from_org",
    "proposed_scenario",
    "proposed_scenario_yaml",
]

# The tiers a request is served synchronously at: what a migration could move.
SYNC_TIERS: Final = ("standard", "priority", "priority_on_demand")
_COUNTS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "web_search_requests",
)
_ORG_COUNTS: Final = {
    "input_tokens": "uncached_input_tokens",
    "output_tokens": "output_tokens",
    "cache_write_5m_tokens": "cache_creation_5m_input_tokens",
    "cache_write_1h_tokens": "cache_creation_1h_input_tokens",
    "cache_read_tokens": "cache_read_input_tokens",
    "web_search_requests": "web_search_requests",
}
# Request-level routing counts a log can give (NaN when the source cannot tell).
_ROUTING: Final = ("requests_latency_critical", "requests_cannot_wait", "requests_unknown_wait")
CANDIDATE_COLUMNS: Final = (
    "workload",
    "model",
    "workspace_id",
    "api_key_id",
    "tag",
    "context_window",
    "inference_geo",
    "requests",
    *_COUNTS,
    "priority_requests",
    *_ROUTING,
    "requests_off_hours",
)
_SHARE_PLACES: Final = 6  # a hybrid share is written (and priced) to six decimal places
VERDICTS: Final = ("batch", "hybrid", "sync")


class NothingToAssess(CostModelError):
    """The period has no synchronous usage: nothing could move to batch."""


@dataclass(frozen=True)
class Candidates:
    """Synchronous usage of a period, one row per workload (see :data:`CANDIDATE_COLUMNS`)."""

    frame: pd.DataFrame
    first_day: date
    last_day: date
    source: str
    by: str  # workspace | api_key | tag
    notes: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def _name(value: Any, missing: str) -> str:
    return (
        missing if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    )


def _resolved(catalogue: Catalogue, model: str) -> str:
    return catalogue.resolve(model) if catalogue.knows(model) else model


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def candidates_from_org(
    usage_rows: Iterable[Any],
    *,
    since: date,
    until: date,
    catalogue: Catalogue,
    by: str = "workspace",
    source: str = "the organisation's usage report",
    business_hours: BusinessHours | None = None,
) -> Candidates:
    """Candidates from the report's usage rows (:class:`costmodel.adapters.ingest.org.UsageRow`).

    ``by`` is ``workspace`` (workspace x model) or ``api_key`` (API key x model). Snapshot ids
    of one model are one candidate; the ``200k-1M`` context window is a candidate of its own.
    With ``business_hours`` and hourly rows (``bucket_width="1h"``), the requests outside
    business hours are counted, for hybrid rules with ``share: off_hours``; daily rows cannot
    tell, and those rules are then not applied.
    """
    off_hours: dict[Any, bool] = {}

    def outside(start: Any, end: Any) -> bool | None:
        if business_hours is None or start is None or end is None:
            return None
        if (end - start).total_seconds() > 3600:
            return None
        if start not in off_hours:
            off_hours[start] = bool(business_hours.outside(pd.Series([start]))[0])
        return off_hours[start]

    if by not in ("workspace", "api_key"):
        raise CostModelError(f"by: got {by!r}; expected workspace or api_key for the report")
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * 10)
    tiers: set[str] = set()
    for row in usage_rows:
        day = _get(row, "day") or _get(row, "starting_at").date()
        tier = _get(row, "service_tier")
        if tier:
            tiers.add(tier)
        if not (since <= day <= until) or tier not in SYNC_TIERS:
            continue
        model = _get(row, "model") or "(no model)"
        window = _get(row, "context_window")
        key = (
            _get(row, "workspace_id") if by == "workspace" else None,
            _get(row, "api_key_id") if by == "api_key" else None,
            _resolved(catalogue, model),
            LONG_CONTEXT_WINDOW if window == LONG_CONTEXT_WINDOW else None,
        )
        totals = sums[key]
        requests = int(_get(row, "requests") or 0)
        totals[0] += requests
        for i, column in enumerate(_COUNTS, 1):
            totals[i] += int(_get(row, _ORG_COUNTS[column]) or 0)
        if tier != "standard":
            totals[7] += requests
        off = outside(_get(row, "starting_at"), _get(row, "ending_at"))
        if off is None:
            totals[9] += 1  # a row whose hour is not known
        elif off:
            totals[8] += requests
    records = []
    for (workspace, api_key, model, window), t in sorted(sums.items(), key=lambda kv: str(kv[0])):
        owner = workspace if by == "workspace" else api_key
        label = f"{_name(owner, '(no ' + by.replace('_', ' ') + ')')} / {model}"
        records.append(
            {
                "workload": label + (f" ({window})" if window else ""),
                "model": model,
                "workspace_id": workspace,
                "api_key_id": api_key,
                "tag": None,
                "context_window": window,
                "inference_geo": "global",
                "requests": t[0],
                **{c: t[i] for i, c in enumerate(_COUNTS, 1)},
                "priority_requests": t[7],
                **dict.fromkeys(_ROUTING, np.nan),
                "requests_off_hours": np.nan if t[9] else t[8],
            }
        )
    notes = ["Inference geo is not split in this report: every request is priced at global rates."]
    other = sorted(tiers - set(SYNC_TIERS) - {"batch"})
    if other:
        notes.append(
            f"Usage in the {', '.join(other)} tier{'s' if len(other) > 1 else ''} is not "
            "synchronous standard or priority usage and is not assessed."
        )
    return Candidates(
        pd.DataFrame.from_records(records, columns=list(CANDIDATE_COLUMNS)),
        since,
        until,
        f"{source}, {since.isoformat()} to {until.isoformat()}",
        by,
        tuple(notes),
    )


_LONG: Final = "long context"
_LOG_KEYS: Final = ["tag", "model", "context_window", "inference_geo"]


def _threshold(catalogue: Catalogue, model_id: str) -> float:
    """The model's long-context threshold in its latest price entry (inf where it has none)."""
    if model_id not in catalogue.models:
        return math.inf
    tier = catalogue.models[model_id].prices[-1].long_context
    return math.inf if tier is None else float(tier.above_prompt_tokens)


def candidates_from_log(
    chunks: Iterable[pd.DataFrame],
    *,
    policy: Policy,
    catalogue: Catalogue,
    source: str,
    by: str = "tag",
    since: date | None = None,
    until: date | None = None,
) -> Candidates:
    """Candidates from request-log chunks (:func:`costmodel.adapters.ingest.request_logs.read_request_log`).

    ``by`` is ``tag`` (tag x model; untagged requests are one workload per model) or
    ``model``. Each request's latency budget is classed against the policy (under
    ``latency_budget_below_ms``; shorter than ``batch_turnaround_hours``; none given) and its
    timestamp against ``business_hours``, so hybrid shares come from the requests themselves.
    Fast-mode requests cannot go through the Batches API and are left out (counted in a note).
    """
    if by not in ("tag", "model"):
        raise CostModelError(f"by: got {by!r}; expected tag or model for a request log")
    wait_ms = policy.batch_turnaround_hours * 3_600_000
    parts: list[pd.DataFrame] = []
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    fast = 0
    for chunk in chunks:
        if chunk.empty:
            continue
        days = chunk["date"]
        if since is not None or until is not None:
            keep = np.ones(len(chunk), dtype=bool)
            if since is not None:
                keep &= (days >= pd.Timestamp(since)).to_numpy()
            if until is not None:
                keep &= (days <= pd.Timestamp(until)).to_numpy()
            chunk = chunk[keep]
            if chunk.empty:
                continue
            days = chunk["date"]
        low, high = days.min(), days.max()
        first = low if first is None or low < first else first
        last = high if last is None or high > last else last
        is_fast = (chunk["speed"] == "fast").to_numpy()
        fast += int(is_fast.sum())
        sync = chunk[chunk["service_tier"].isin(SYNC_TIERS).to_numpy() & ~is_fast]
        if sync.empty:
            continue
        budget = sync["latency_budget_ms"].to_numpy(dtype="float64")
        models = [_resolved(catalogue, m) for m in sync["model"].tolist()]
        # Requests over their model's long-context threshold are a workload of their own, so
        # that each part's mean request falls in the band its requests were billed in.
        prompt = sum(
            sync[c].to_numpy(dtype="float64")
            for c in (
                "input_tokens",
                "cache_write_5m_tokens",
                "cache_write_1h_tokens",
                "cache_read_tokens",
            )
        )
        limit = np.array([_threshold(catalogue, m) for m in models], dtype="float64")
        frame = pd.DataFrame(
            {
                "tag": sync["tag"].to_numpy(dtype=object) if by == "tag" else None,
                "model": models,
                "context_window": np.where(prompt > limit, _LONG, ""),
                "inference_geo": np.where(sync["inference_geo"].to_numpy() == "us", "us", "global"),
                "requests": sync["requests"].to_numpy(),
                **{c: sync[c].to_numpy() for c in _COUNTS},
                "priority_requests": (sync["service_tier"] != "standard").to_numpy(dtype=float),
                "requests_latency_critical": (budget < policy.latency_budget_below_ms).astype(
                    float
                ),
                "requests_cannot_wait": (
                    (budget >= policy.latency_budget_below_ms) & (budget < wait_ms)
                ).astype(float),
                "requests_unknown_wait": np.isnan(budget).astype(float),
                "requests_off_hours": policy.business_hours.outside(sync["timestamp"]).astype(
                    float
                ),
            }
        )
        frame["tag"] = frame["tag"].fillna("(untagged)") if by == "tag" else "(all)"
        parts.append(frame.groupby(_LOG_KEYS, sort=False).sum().reset_index())
    if first is None or last is None:
        raise NothingToAssess(f"{source}: no requests in the period; nothing to assess")
    notes: list[str] = []
    if fast:
        notes.append(
            f"{fast:,} fast-mode requests are left out: fast mode is not available with the "
            "Message Batches API."
        )
    columns = list(CANDIDATE_COLUMNS)
    if not parts:
        empty = pd.DataFrame(columns=columns)
        return Candidates(empty, first.date(), last.date(), source, by, tuple(notes))
    summed = pd.concat(parts).groupby(_LOG_KEYS, sort=True).sum().reset_index()
    summed["workload"] = [
        (f"{t} / {m}" if by == "tag" else m)
        + (f" ({w})" if w else "")
        + (" (US)" if g == "us" else "")
        for t, m, w, g in zip(
            summed["tag"],
            summed["model"],
            summed["context_window"],
            summed["inference_geo"],
            strict=True,
        )
    ]
    summed["tag"] = summed["tag"] if by == "tag" else None
    summed["workspace_id"] = None
    summed["api_key_id"] = None
    summed["context_window"] = summed["context_window"].replace("", None)
    return Candidates(summed[columns], first.date(), last.date(), source, by, tuple(notes))


# -- the assessment ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkloadAssessment:
    workload: str
    model: str  # the catalogue id (or the name as reported when the catalogue has none)
    workspace_id: str | None
    api_key_id: str | None
    tag: str | None
    inference_geo: str
    requests: int  # in the period
    requests_per_day: Decimal
    monthly_requests: Decimal
    mean_tokens: Mapping[str, Decimal]  # per request, by usage-frame column
    verdict: str  # batch | hybrid | sync
    batch_share: Decimal
    rule: str
    now_usd: Decimal | None  # monthly, everything synchronous; None when unpriced
    after_usd: Decimal | None  # monthly, the verdict's share through the Batches API
    unpriced: str = ""
    notes: tuple[str, ...] = ()

    @property
    def savings_usd(self) -> Decimal | None:
        if self.now_usd is None or self.after_usd is None:
            return None
        return self.now_usd - self.after_usd


@dataclass(frozen=True)
class Assessment:
    workloads: tuple[WorkloadAssessment, ...]
    candidates: Candidates
    policy: Policy
    price_date: date
    days_per_month: float
    contract: str | None = None
    notes: tuple[str, ...] = ()

    def _sum(self, name: str) -> Decimal:
        return sum(
            (getattr(w, name) for w in self.workloads if getattr(w, name) is not None), Decimal(0)
        )

    @property
    def now_usd(self) -> Decimal:
        return self._sum("now_usd")

    @property
    def after_usd(self) -> Decimal:
        return self._sum("after_usd")

    @property
    def savings_usd(self) -> Decimal:
        return self.now_usd - self.after_usd

    @property
    def margin(self) -> MarginImpact | None:
        b = self.policy.business
        if b is None:
            return None
        return margin_impact(
            b.revenue, b.other_cogs, float(self.now_usd), float(self.after_usd), b.customers
        )

    def _shown_margin(self) -> dict[str, Decimal]:
        """The margin table's amounts as shown, so it foots: inference is the shown monthly
        spend, COGS = other COGS + inference, gross profit = revenue - COGS."""
        business = self.policy.business
        assert business is not None
        revenue = quantize_cents(Decimal(str(business.revenue)))
        other = quantize_cents(Decimal(str(business.other_cogs)))
        out = {"revenue": revenue, "other_cogs": other}
        for plan, spend in (("sync", self.now_usd), ("batch", self.after_usd)):
            inference = quantize_cents(spend)
            out[f"inference_{plan}"] = inference
            out[f"cogs_{plan}"] = other + inference
            out[f"gross_profit_{plan}"] = revenue - other - inference
        return out

    def _shown(self) -> tuple[list[dict[str, Decimal | None]], dict[str, Decimal]]:
        """The figures every output shows, footing as `costmodel run`'s do: each total is the
        exact sum rounded once, the workloads' parts are rounded so they add up to it (largest
        remainder), and savings are the shown spend now minus the shown spend after."""
        priced = [i for i, w in enumerate(self.workloads) if w.now_usd is not None]
        rows: list[dict[str, Decimal | None]] = [
            {"now_usd": None, "after_usd": None, "savings_usd": None} for _ in self.workloads
        ]
        totals: dict[str, Decimal] = {}
        for column in ("now_usd", "after_usd"):
            exact = [getattr(self.workloads[i], column) for i in priced]
            total = quantize_cents(sum(exact, Decimal(0)))
            for i, part in zip(priced, allocate_cents(exact, total), strict=True):
                rows[i][column] = part
            totals[column] = total
        for i in priced:
            rows[i]["savings_usd"] = rows[i]["now_usd"] - rows[i]["after_usd"]  # type: ignore[operator]
        totals["savings_usd"] = totals["now_usd"] - totals["after_usd"]
        return rows, totals

    @property
    def title(self) -> str:
        return f"Migration assessment: {self.candidates.source}"

    def sections(self) -> list[Section]:
        """The workloads and their totals (and the margin), for the table/CSV/markdown renderers."""

        def money(value: Decimal | None) -> float:
            return math.nan if value is None else float(cents(value))

        shown, totals = self._shown()
        rows = [
            {
                "Workload": w.workload,
                "Model": w.model,
                "Verdict": w.verdict,
                "Batch share": float(w.batch_share) * 100,
                "Requests a day": float(w.requests_per_day),
                "Now": money(figures["now_usd"]),
                "After": money(figures["after_usd"]),
                "Savings": money(figures["savings_usd"]),
                "Rule": w.unpriced or w.rule,
            }
            for w, figures in zip(self.workloads, shown, strict=True)
        ]
        rows.append(
            {
                "Workload": "Total",
                "Model": "",
                "Verdict": "",
                "Batch share": math.nan,
                "Requests a day": float(sum(w.requests_per_day for w in self.workloads)),
                "Now": money(totals["now_usd"]),
                "After": money(totals["after_usd"]),
                "Savings": money(totals["savings_usd"]),
                "Rule": "",
            }
        )
        sections = [
            Section(
                f"{self.title}: monthly spend (USD)",
                pd.DataFrame(rows),
                money=("Now", "After", "Savings"),
                percent=("Batch share",),
                counts=("Requests a day",),
            )
        ]
        if self.margin is not None:
            sections.append(_margin_section(self.margin, "USD", self._shown_margin()))
        return sections

    def to_dict(self) -> dict[str, Any]:
        """Plain data, money rounded to the cent (half away from zero), shares as numbers."""

        def money(value: Decimal | None) -> float | None:
            return None if value is None else float(cents(value))

        from costmodel.core.contract import SCHEMAS

        shown, totals = self._shown()
        margin = self.margin
        return {
            "schema": SCHEMAS["assess"],
            "source": self.candidates.source,
            "by": self.candidates.by,
            "period": {
                "first_day": self.candidates.first_day.isoformat(),
                "last_day": self.candidates.last_day.isoformat(),
                "days": self.candidates.days,
            },
            "policy": self.policy.source,
            "price_date": self.price_date.isoformat(),
            "currency": "USD",
            "contract": self.contract,
            "workloads": [
                {
                    "workload": w.workload,
                    "model": w.model,
                    "verdict": w.verdict,
                    "batch_share": float(w.batch_share),
                    "rule": w.rule,
                    "requests": w.requests,
                    "requests_per_day": float(w.requests_per_day),
                    "monthly_requests": float(w.monthly_requests),
                    "now_usd": money(figures["now_usd"]),
                    "after_usd": money(figures["after_usd"]),
                    "savings_usd": money(figures["savings_usd"]),
                    "unpriced": w.unpriced or None,
                    "notes": list(w.notes),
                }
                for w, figures in zip(self.workloads, shown, strict=True)
            ],
            "totals": {
                "now_usd": money(totals["now_usd"]),
                "after_usd": money(totals["after_usd"]),
                "savings_usd": money(totals["savings_usd"]),
                "moving": sum(1 for w in self.workloads if w.verdict != "sync"),
            },
            "margin": None
            if margin is None
            else {
                "gross_margin_now_pct": margin.gross_margin_sync_pct,
                "gross_margin_after_pct": margin.gross_margin_batch_pct,
                "delta_pp": margin.delta_pp,
                "annual_savings": money(self.savings_usd * 12),
            },
            "notes": list(self.notes),
        }


def _share(value: float | Decimal) -> Decimal:
    return Decimal(repr(round(float(value), _SHARE_PLACES)))


def _percent(value: Decimal | float) -> str:
    return f"{float(value) * 100:.1f}%"


def _decide(  # noqa: C901 - the policy's decision tree, one branch per rule in the documented order
    row: Mapping[str, Any], policy: Policy, per_day: Decimal
) -> tuple[str, Decimal, str, list[str]]:
    """(verdict, batch share, deciding rule, notes) for one candidate: the decision tree."""
    workspace, api_key, tag = row["workspace_id"], row["api_key_id"], row["tag"]
    notes: list[str] = []
    named = policy.latency_critical.match(workspace, api_key, tag)
    if named:
        return "sync", Decimal(0), f"latency_critical: {named} is latency-critical", notes
    minimum = policy.minimum_requests_per_day
    if per_day < Decimal(repr(minimum)):
        return (
            "sync",
            Decimal(0),
            f"minimum_volume: {float(per_day):,.1f} requests a day, below {minimum:g}",
            notes,
        )
    turnaround = policy.batch_turnaround_hours
    tolerance = policy.tolerance_for(workspace, api_key, tag)
    if tolerance is not None and tolerance.hours < turnaround:
        return (
            "sync",
            Decimal(0),
            f"wait.tolerable_hours: {tolerance.kind.replace('_', ' ')} {tolerance.value} can wait "
            f"{tolerance.hours:g} h, less than the {turnaround:g} h a batch may take",
            notes,
        )
    requests = float(row["requests"])
    for rule in policy.hybrid:
        if not (rule.selector.empty or rule.selector.match(workspace, api_key, tag)):
            continue
        decided = _hybrid(rule, row, requests)
        if decided is None:
            notes.append(
                f"hybrid rule {rule.name!r} (off hours) needs request times, which this source "
                "does not have: not applied"
            )
            continue
        return decided[0], decided[1], decided[2], notes
    critical, cannot, unknown = (float(row[c]) for c in _ROUTING)
    if not math.isnan(critical):
        if unknown and (tolerance is not None or policy.when_unknown == "can_wait"):
            held_unknown = 0.0
        else:
            held_unknown = unknown
        movable = requests - critical - cannot - held_unknown
        parts = []
        if critical:
            parts.append(
                f"{_percent(critical / requests)} under {policy.latency_budget_below_ms:g} ms"
            )
        if cannot:
            parts.append(f"{_percent(cannot / requests)} cannot wait {turnaround:g} h")
        if held_unknown:
            parts.append(f"{_percent(held_unknown / requests)} with no budget (wait.when_unknown)")
        if movable <= 0:
            return "sync", Decimal(0), "latency budgets: " + "; ".join(parts), notes
        if movable < requests:
            share = _share(movable / requests)
            return (
                "hybrid",
                share,
                f"latency budgets: {_percent(share)} can wait; " + "; ".join(parts),
                notes,
            )
    elif tolerance is None and policy.when_unknown == "stay_sync":
        return (
            "sync",
            Decimal(0),
            "wait.when_unknown: stay_sync (nothing says this workload can wait)",
            notes,
        )
    if tolerance is not None:
        waits = f"can wait {tolerance.hours:g} h"
    elif not math.isnan(critical) and not unknown:
        waits = f"every request's latency budget allows {turnaround:g} h"
    else:
        waits = "no latency requirement stated (wait.when_unknown: can_wait)"
    return (
        "batch",
        Decimal(1),
        f"moves: not latency-critical, {float(per_day):,.1f} requests a day (at least "
        f"{minimum:g}), {waits}",
        notes,
    )


def _hybrid(
    rule: HybridRule, row: Mapping[str, Any], requests: float
) -> tuple[str, Decimal, str] | None:
    if rule.off_hours:
        off = float(row["requests_off_hours"])
        if math.isnan(off):
            return None
        share = _share(off / requests if requests else 0)
        reason = f"{_percent(share)} of requests outside business hours"
    else:
        share = _share(rule.share or 0)
        reason = f"a share of {_percent(share)}"
    verdict = "sync" if share == 0 else "batch" if share == 1 else "hybrid"
    return verdict, share, f"hybrid[{rule.index}] {rule.name!r}: {reason}"


def assess(candidates: Candidates, policy: Policy, catalogue: Catalogue, *, on: date) -> Assessment:
    """Decide and price every candidate at the rates of ``on`` (see the module docstring).

    Raises :class:`NothingToAssess` when the period has no synchronous usage.
    """
    frame = candidates.frame
    if frame.empty or float(frame["requests"].sum()) == 0:
        raise NothingToAssess(
            f"{candidates.source}: no synchronous (standard or priority tier) usage from "
            f"{candidates.first_day.isoformat()} to {candidates.last_day.isoformat()}; nothing "
            "could move to the Batches API"
        )
    days = Decimal(candidates.days)
    dpm = Decimal(repr(float(policy.days_per_month)))
    scale = dpm / days
    results: list[WorkloadAssessment] = []
    priority_total = 0
    row: dict[str, Any]  # the frame's column names are strings (Candidates.frame)
    for row in frame.to_dict("records"):  # type: ignore[assignment]  # stubs key by Hashable
        requests = int(row["requests"])
        if requests == 0:
            continue
        per_day = Decimal(requests) / days
        verdict, share, rule, notes = _decide(row, policy, per_day)
        sums = {c: int(row[c]) for c in _COUNTS}
        counts = TokenCounts(**sums)
        means = {c: Decimal(v) / requests for c, v in sums.items()}
        geo = "us" if row["inference_geo"] == "us" else "global"
        now = after = None
        unpriced = ""
        if int(row["priority_requests"] or 0):
            priority_total += int(row["priority_requests"])
            notes.append(
                f"{int(row['priority_requests']):,} priority-tier requests priced at standard "
                "list rates (Priority Tier has no public price)"
            )
        try:
            model_id = catalogue.resolve(row["model"])
            entry = catalogue.models[model_id].price_on(on)
            threshold = entry.long_context.above_prompt_tokens if entry.long_context else None
            # As a scenario prices it: the mean request's prompt decides the band.
            band = threshold is not None and counts.prompt_tokens > threshold * requests
            if (
                threshold is not None
                and threshold != 200_000
                and candidates.by in ("workspace", "api_key")
            ):
                notes.append(
                    f"{model_id}'s long-context tier starts above {threshold:,} prompt tokens, "
                    "which the report's context windows do not show: the mean request decides "
                    "the band"
                )
            sync_usd = exact_cost(
                catalogue, model_id, on, "standard", counts, long_context=band, inference_geo=geo
            ).total * catalogue.contract_factor(model_id, "standard")
            batch_usd = exact_cost(
                catalogue, model_id, on, "batch", counts, long_context=band, inference_geo=geo
            ).total * catalogue.contract_factor(model_id, "batch")
            now = sync_usd * scale
            after = (share * batch_usd + (1 - share) * sync_usd) * scale
        except (UnknownModelError, UnpricedError) as exc:
            model_id = row["model"]
            unpriced = str(exc)
        results.append(
            WorkloadAssessment(
                workload=row["workload"],
                model=model_id,
                workspace_id=row["workspace_id"],
                api_key_id=row["api_key_id"],
                tag=row["tag"],
                inference_geo=geo,
                requests=requests,
                requests_per_day=per_day,
                monthly_requests=Decimal(requests) * scale,
                mean_tokens=means,
                verdict=verdict,
                batch_share=share,
                rule=rule,
                now_usd=now,
                after_usd=after,
                unpriced=unpriced,
                notes=tuple(notes),
            )
        )
    notes = [
        f"Measured usage from {candidates.source} ({candidates.days} days), scaled to a month of "
        f"{policy.days_per_month:g} days; priced at the catalogue's rates of {on.isoformat()}.",
        *candidates.notes,
    ]
    unpriced_workloads = [w for w in results if w.unpriced]
    if unpriced_workloads:
        count = len(unpriced_workloads)
        notes.append(
            f"{count} workload{'s' if count > 1 else ''} could not be priced and "
            "are left out of the totals: "
            + "; ".join(f"{w.workload}: {w.unpriced}" for w in unpriced_workloads)
        )
    if priority_total:
        notes.append(
            f"{priority_total:,} priority-tier requests are priced at standard list rates: "
            "Priority Tier prices are contractual, not published."
        )
    if policy.business is not None:
        notes.append(
            "The gross margin counts only the synchronous usage assessed as inference cost."
        )
    if catalogue.contract is not None:
        notes.append(f"Costs are contracted prices ({catalogue.contract.name}).")
    return Assessment(
        workloads=tuple(results),
        candidates=candidates,
        policy=policy,
        price_date=on,
        days_per_month=policy.days_per_month,
        contract=catalogue.contract.name if catalogue.contract else None,
        notes=tuple(notes),
    )


# -- the proposed plan as a scenario ------------------------------------------------------------
def _float(value: Decimal) -> float:
    return float(value)


def proposed_scenario(
    assessment: Assessment, *, name: str | None = None, prices: str | None = None
) -> Scenario:
    """The plan as a :class:`~costmodel.core.scenario.Scenario`: one workload per priced candidate.

    ``prices`` names the price file the assessment's catalogue was built with, if any, so the
    scenario is priced under the same contract.
    """
    workloads = []
    for w in assessment.workloads:
        if w.unpriced:
            continue
        m = w.mean_tokens
        workloads.append(
            Workload(
                name=w.workload,
                model=w.model,
                requests=Volume(_float(w.monthly_requests), "month"),
                input_tokens=_float(m["input_tokens"]),
                output_tokens=_float(m["output_tokens"]),
                cache_write_tokens=_float(m["cache_write_5m_tokens"]),
                cache_write_1h_tokens=_float(m["cache_write_1h_tokens"]),
                cache_read_tokens=_float(m["cache_read_tokens"]),
                web_search_requests=_float(m["web_search_requests"]),
                batch_share=float(w.batch_share),
                inference_geo=w.inference_geo,
            )
        )
    b = assessment.policy.business
    return Scenario(
        name=name or f"Proposed migration ({assessment.candidates.source})",
        workloads=tuple(workloads),
        days_per_month=assessment.days_per_month,
        business=None if b is None else Business(b.revenue, b.other_cogs, b.customers),
        description=(
            f"Written by `costmodel assess` from {assessment.candidates.source} under the policy "
            f"{assessment.policy.source}."
        ),
        prices=prices,
        price_date=assessment.price_date,
    )


def proposed_scenario_yaml(
    assessment: Assessment, *, name: str | None = None, prices: str | None = None
) -> str:
    """The plan as scenario YAML, each workload's verdict and deciding rule as a comment."""
    body = scenario_to_yaml(proposed_scenario(assessment, name=name, prices=prices))
    header = [
        "# Proposed migration, written by `costmodel assess`.",
        f"# Measured: {assessment.candidates.source} ({assessment.candidates.days} days).",
        f"# Priced at the catalogue's rates of {assessment.price_date.isoformat()}.",
    ]
    for w in assessment.workloads:
        share = f"{float(w.batch_share):g}"
        header.append(f"# - {w.workload}: {w.verdict} (batch_share {share}); {w.rule}")
        if w.unpriced:
            header.append(f"#   left out: {w.unpriced}")
    return "\n".join(header) + "\n" + body
