"""Measured usage, priced: what stored batches cost, and what they would have cost synchronously.

Everything here reads the store it is handed in chunks
(:meth:`costmodel.adapters.store.Store.iter_usage_frames`), so memory stays flat however many
requests are stored, and prices with the same engine as the scenarios. Figures here are
measured: every result names the batches or period it covers. Requests are grouped by model,
batch, job (:class:`~costmodel.core.jobs.JobRule`) or day. Fitting a scenario to them is
:mod:`costmodel.core.calibration`; a scenario beside them, :mod:`costmodel.core.comparison`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

import numpy as np
import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.contract import SCHEMAS
from costmodel.core.frames import object_column, with_total
from costmodel.core.layouts import Section
from costmodel.core.money import allocate_cents, quantize_cents
from costmodel.core.pricing import long_context_notes, price_usage
from costmodel.errors import CostModelError

if TYPE_CHECKING:
    from costmodel.adapters.store import Store

from costmodel.core.jobs import JobRule

__all__ = ["BY", "NOT_REPORTED", "UsageSummary", "daily_costs", "usage_summary"]

BY: Final = ("model", "batch", "job", "day")
NOT_REPORTED: Final = "(model not reported)"
_NOT_BILLED: Final = ("errored", "canceled", "expired")
_TOKEN_FIELDS: Final = {
    "input_tokens": ("input_tokens",),
    "output_tokens": ("output_tokens",),
    "cache_creation_input_tokens": ("cache_write_5m_tokens", "cache_write_1h_tokens"),
    "cache_read_input_tokens": ("cache_read_tokens",),
    "ephemeral_5m_input_tokens": ("cache_write_5m_tokens",),
    "ephemeral_1h_input_tokens": ("cache_write_1h_tokens",),
    "web_search_requests": ("web_search_requests",),
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
    "ephemeral_5m_input_tokens": "5m writes",
    "ephemeral_1h_input_tokens": "1h writes",
    "web_search_requests": "Web searches",
}
_MONEY_LABELS: Final = {
    "cost_billed": "Billed (batch)",
    "cost_if_sync": "If sync",
    "savings": "Savings",
}
_ROW_FIELDS: Final = ("key", *_COUNT_LABELS, *_MONEY_LABELS)
_UNPRICED: Final = "unpriced"


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
    # Exact Decimal USD per key: {"cost_billed": {key: Decimal}, "cost_if_sync": {...}};
    # a key absent from both has no priced usage (its row is unpriced).
    exact: dict[str, dict[str, Decimal]] = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        return f"Usage by {self.by}"

    def _priced(self, key: Any) -> bool:
        """False for a key whose succeeded usage could not be priced at all."""
        if not self.exact or any(key in sums for sums in self.exact.values()):
            return True
        if "unpriced_requests" not in self.rows:
            return True
        return not bool(self.rows.loc[self.rows["key"] == key, "unpriced_requests"].sum())

    def shown(self, column: str) -> tuple[list[Decimal | None], Decimal]:
        """A cost column as shown: priced rows rounded so they add up to the total (the exact
        sum of priced usage, rounded once); None for an unpriced row."""
        keys = list(self.rows["key"])
        sums = self.exact.get(column)
        exact = [
            (sums.get(k, Decimal(0)) if sums is not None else Decimal(repr(float(v))))
            for k, v in zip(keys, self.rows[column], strict=True)
        ]
        priced = [self._priced(k) for k in keys]
        total = quantize_cents(
            sum((e for e, p in zip(exact, priced, strict=True) if p), Decimal(0))
        )
        parts = iter(allocate_cents([e for e, p in zip(exact, priced, strict=True) if p], total))
        return [next(parts) if p else None for p in priced], total

    def _money(self) -> dict[str, tuple[list[Decimal | None], Decimal]]:
        billed, sync = self.shown("cost_billed"), self.shown("cost_if_sync")
        savings = [
            None if b is None or s is None else s - b
            for b, s in zip(billed[0], sync[0], strict=True)
        ]
        return {
            "cost_billed": billed,
            "cost_if_sync": sync,
            "savings": (savings, sync[1] - billed[1]),
        }

    def totals(self) -> dict[str, Any]:
        totals: dict[str, Any] = {}
        money = self._money()
        for name in _ROW_FIELDS[1:]:
            if name in money:
                totals[name] = float(money[name][1])
                continue
            values = self.rows[name] if name in self.rows else pd.Series(dtype=float)
            totals[name] = int(values.sum())
        return totals

    def _money_totals(self) -> dict[str, Any]:
        totals = self.totals()
        for name, (_, total) in self._money().items():
            totals[name] = total
        return totals

    def to_dict(self) -> dict[str, Any]:
        def clean(name: str, value: Any) -> Any:
            if name.startswith(("cost", "sav")):
                return None if value is None else float(value)
            if name == "key":
                return str(value)
            return int(value)

        money = self._money()
        records = []
        for index, row in enumerate(self.rows.to_dict(orient="records")):
            record = {
                name: clean(name, money[name][0][index] if name in money else row[name])
                for name in _ROW_FIELDS
            }
            record["priced"] = record["cost_billed"] is not None
            records.append(record)
        totals = self.totals()
        return {
            "schema": SCHEMAS["usage_summary"],
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
            "rows": records,
            "totals": {name: clean(name, value) for name, value in totals.items()},
            "aliases": {"cache_creation_input_tokens": "5m + 1h writes (one version: kept)"},
            "notes": list(self.notes),
        }

    def csv_frame(self) -> pd.DataFrame:
        data = self.to_dict()
        return pd.DataFrame(data["rows"], columns=[*_ROW_FIELDS, "priced"])

    def sections(self) -> list[Section]:
        frame = self.rows[list(_ROW_FIELDS)].copy().astype({c: object for c in _MONEY_LABELS})
        for name, (parts, _) in self._money().items():
            frame[name] = object_column(
                frame, (_UNPRICED if part is None else part for part in parts)
            )
        totals = {"key": "Total", **self._money_totals()}
        frame = with_total(frame, totals)
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


_K = TypeVar("_K")
_N = TypeVar("_N", int, float, Decimal)


def _accumulate(total: dict[_K, _N], more: Mapping[_K, _N]) -> None:
    """Add ``more``'s counts (or amounts) into ``total``, key by key."""
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


def usage_summary(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue,
) -> UsageSummary:
    """What the stored batches cost (batch rates) against the same tokens sent synchronously.

    Token counts and costs cover succeeded requests; errored, canceled and expired requests are
    counted by type and never billed. Keys for ``by="model"`` are catalogue ids (snapshot ids
    resolve to their model); a model the catalogue does not know is counted as unpriced, and
    named in a note, never priced at $0.
    """
    jobs = jobs or JobRule()
    key_sql, key_params = _key_sql(by, jobs)
    frames: list[pd.DataFrame] = []
    unpriced: dict[str, int] = {}
    undated: dict[tuple[str, str], int] = {}  # (model, batch) priced before its first price
    third_party: set[str] = set()
    exact: dict[str, dict[str, Decimal]] = {"cost_billed": {}, "cost_if_sync": {}}
    long_context: dict[tuple[str, int], float] = {}  # requests billed at a long-context tier
    for chunk in store.iter_usage_frames(since, until, key_sql=key_sql, key_params=key_params):
        if chunk.empty:
            continue
        rows, missing, flags, sums, early, tiers = _price_chunk(chunk, catalogue, by)
        # summed per chunk, so what is kept grows with the keys, not with the requests
        frames.append(rows.drop(columns=["day"]).assign(succeeded=1).groupby("key").sum())
        third_party |= flags
        _accumulate(long_context, tiers)
        _accumulate(unpriced, missing)
        _accumulate(undated, early)
        for column, per_key in sums.items():
            _accumulate(exact[column], per_key)
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
        f"({float(catalogue.batch_multiplier * 100):g}% of the standard rates), compared with the "
        "same tokens sent synchronously. Token counts and costs cover succeeded requests; "
        "errored, canceled and expired requests are not billed."
    ]
    if unpriced:
        listed = ", ".join(
            f"{model} ({count:,} requests)" for model, count in sorted(unpriced.items())
        )
        notes.append(
            f"Unpriced, not in the totals: {listed}: unknown to the catalogue or without a "
            "published price."
        )
    if undated:
        listed = ", ".join(
            f"{model} in batch {batch} ({count:,} requests)"
            for (model, batch), count in sorted(undated.items())
        )
        notes.append(
            f"Unpriced, not in the totals: {listed}: used before the model's first price in "
            "the catalogue."
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
        exact=exact,
    )


def _resolve_or_keep(catalogue: Catalogue, model: Any) -> Any:
    if model is None or (isinstance(model, float) and math.isnan(model)):
        return None
    return catalogue.resolve(model) if catalogue.knows(model) else model


def _price_chunk(
    chunk: pd.DataFrame, catalogue: Catalogue, by: str
) -> tuple[
    pd.DataFrame,
    dict[str, int],
    set[str],
    dict[str, dict[str, Decimal]],
    dict[tuple[str, str], int],
    dict[tuple[str, int], float],
]:
    """Price one chunk of succeeded requests at batch rates and at standard rates.

    Returns one row per request (key, day, tokens by kind, cost_billed, cost_if_sync), the
    requests of models the catalogue does not know (counted, with their tokens, at no cost;
    the caller says so), the third-party rates the prices rested on, the exact Decimal cost
    per key (``cost_billed`` and ``cost_if_sync``), the requests used before their model's
    first price, by (model, batch): unpriced, like an unknown model, never $0, and the requests
    billed at a long-context tier per (model id, threshold).
    """
    models = chunk["model"].astype(str)
    # Once per distinct model name, then spread to the rows by code: never once per row. A
    # model the catalogue knows but has no price for (unpriced) is counted like an unknown one.
    codes, names = pd.factorize(models)
    known_of = np.array(
        [catalogue.knows(str(name)) and bool(catalogue.model(str(name)).prices) for name in names],
        dtype=bool,
    )
    known = known_of[codes]
    missing = models[~known].value_counts().to_dict()
    first_of = np.array(
        [
            catalogue.models[catalogue.resolve(str(name))].prices[0].effective_from
            if is_known
            else date.min
            for name, is_known in zip(names, known_of, strict=True)
        ],
        dtype="datetime64[D]",
    )
    days = chunk["date"].to_numpy(dtype="datetime64[D]")
    too_early = known & (days < first_of[codes])
    early: dict[tuple[str, str], int] = {}
    if too_early.any():
        early = dict(
            Counter(
                zip(
                    map(str, models[too_early]), map(str, chunk["batch_id"][too_early]), strict=True
                )
            )
        )
        known = known & ~too_early
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
            "unpriced_requests": (~known).astype(np.int64),
        }
    )
    flags = set(billed.third_party) | set(sync.third_party)
    sums: dict[str, dict[str, Decimal]] = {}
    for column, result in (("cost_billed", billed), ("cost_if_sync", sync)):
        lines = result.cost_lines(key[known])
        per_key: dict[str, Decimal] = {}
        for group, amount in zip(lines["group"], lines["cost_contracted"], strict=True):
            per_key[group] = per_key.get(group, Decimal(0)) + amount
        sums[column] = per_key
    # A key whose usage is all unpriced has no sum; a priced one with no tokens has 0.
    priced_keys = pd.unique(key[known])
    for column in sums:
        for group in priced_keys:
            sums[column].setdefault(group, Decimal(0))
    missing_counts = {str(k): int(v) for k, v in missing.items()}
    return rows, missing_counts, flags, sums, early, billed.long_context_requests


def daily_costs(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """Billed and if-sync cost per day and model (or job): columns day, key, cost_billed, cost_if_sync."""
    if by not in ("model", "job"):
        raise CostModelError(f"daily costs group by model or job, not {by!r}")
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
