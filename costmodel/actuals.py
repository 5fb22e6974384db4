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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np
import pandas as pd
import yaml

from costmodel.catalogue import Catalogue, bundled_catalogue
from costmodel.errors import CostModelError, StoreError, located
from costmodel.money import allocate_cents, format_money, quantize_cents
from costmodel.pricing import long_context_notes, price_usage
from costmodel.report import SCHEMAS, ScenarioRun, Section, run_scenario
from costmodel.usage import COUNT_COLUMNS
from costmodel.usage_rows import RESULT_TYPES, JobRule, PriceBand
from costmodel.user_files import line_of, read_yaml, shown_key

if TYPE_CHECKING:
    from costmodel.scenario import Currency, Scenario
    from costmodel.store import Store

__all__ = [
    "BY",
    "ActualComparison",
    "JobRule",
    "PricedAggregates",
    "UsageSource",
    "UsageSummary",
    "calibrate",
    "compare_with_actual",
    "daily_costs",
    "daily_costs_rows",
    "load_job_map",
    "price_aggregates",
    "price_bands",
    "usage_summary",
    "usage_summary_rows",
]

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


# -- jobs -----------------------------------------------------------------------------------------
def load_job_map(path: str | Path, *, separator: str = "-") -> JobRule:
    """Read a job mapping file: job names to ``custom_id`` glob patterns.

    ::

        contract-review: ["contract-*", "cr-*"]
        claims: ["claim-*"]
    """
    # The shared reader: regular files only, 1 MB, aliases and nesting bounded, located errors.
    raw = read_yaml(path, kind="job mapping file")
    if not isinstance(raw, Mapping) or not raw:
        raise CostModelError(
            located(
                "not a job mapping; expected job names mapped to lists of custom_id patterns",
                file=path,
                line=line_of(raw) if isinstance(raw, Mapping) else None,
            )
        )
    patterns: list[tuple[str, str]] = []
    for job, globs in raw.items():
        globs = [globs] if isinstance(globs, str) else globs
        if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
            # The job is named only if it reads as a name: the file may be anything.
            raise CostModelError(
                located(
                    "expected a list of custom_id patterns",
                    file=path,
                    line=line_of(raw, job),
                    field=shown_key(job, quoted=False),
                )
            )
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
            frame[name] = [_UNPRICED if part is None else part for part in parts]
        totals = {"key": "Total", **self._money_totals()}
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
        from costmodel.store import job_sql

        return job_sql(jobs)
    raise CostModelError(f"--by: expected one of {', '.join(BY)}, got {by!r}")


def usage_summary_rows(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue | None = None,
) -> UsageSummary:
    """:func:`usage_summary` priced request by request: the reference the aggregate path is
    tested against (the same figures to the cent), and the path before it.

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
        for tier, count in tiers.items():
            long_context[tier] = long_context.get(tier, 0.0) + count
        for model, count in missing.items():
            unpriced[model] = unpriced.get(model, 0) + count
        for pair, count in early.items():
            undated[pair] = undated.get(pair, 0) + count
        for column, per_key in sums.items():
            for key, amount in per_key.items():
                exact[column][key] = exact[column].get(key, Decimal(0)) + amount
    measured = (
        pd.concat(frames).groupby(level=0, sort=False).sum()
        if frames
        else pd.DataFrame(columns=[c for c in _ROW_FIELDS if c not in ("key", *_NOT_BILLED)])
    )

    counts = store.result_counts_by(key_sql, key_params, since=since, until=until)
    if by == "model":
        counts["key"] = counts["key"].map(lambda m: _resolve_or_keep(catalogue, m))
        counts = counts.groupby("key", dropna=False, sort=False).sum().reset_index()
    return _assemble(
        store,
        by=by,
        counts=counts,
        measured=measured,
        unpriced=unpriced,
        undated=undated,
        third_party=third_party,
        long_context=long_context,
        exact=exact,
        since=since,
        until=until,
        catalogue=catalogue,
    )


def _assemble(
    source: UsageSource,
    *,
    by: str,
    counts: pd.DataFrame,
    measured: pd.DataFrame,
    unpriced: dict[str, int],
    undated: dict[tuple[str, str], int],
    third_party: set[str],
    long_context: dict[tuple[str, int], float],
    exact: dict[str, dict[str, Decimal]],
    since: date | None,
    until: date | None,
    catalogue: Catalogue,
) -> UsageSummary:
    """The summary from requests counted per key (``counts``: key, the result types and
    requests) and succeeded usage measured per key (``measured``, indexed by key)."""
    counts["key"] = counts["key"].fillna(NOT_REPORTED)
    counts = counts.set_index("key")
    rows = counts.join(measured.drop(columns=["succeeded"], errors="ignore"), how="outer")
    for column in _ROW_FIELDS[1:]:
        if column not in rows:
            rows[column] = 0
        rows[column] = rows[column].fillna(0)
    rows["savings"] = rows["cost_if_sync"] - rows["cost_billed"]
    rows = rows.reset_index().rename(columns={"index": "key"})
    # Ordered by the exact amount (not its float), so both pricing paths give one order.
    billed = exact.get("cost_billed", {})
    rows = rows.assign(_order=[billed.get(key, Decimal(0)) for key in rows["key"]])
    rows = (
        rows.sort_values(
            "key" if by in ("day",) else "_order", ascending=by == "day", kind="stable"
        )
        .drop(columns=["_order"])
        .reset_index(drop=True)
    )

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
    span = source.usage_span(since, until)
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


def usage_summary(
    source: UsageSource,
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

    Priced from aggregates: the store (or a Parquet dataset, :mod:`costmodel.usage_dataset`)
    sums the integer counts per price key and key (:meth:`costmodel.store.Store.usage_aggregates`)
    and only those few rows are priced, exactly, so the time hardly grows with the requests.
    The figures are those of :func:`usage_summary_rows` to the cent.
    """
    if by not in BY:
        raise CostModelError(f"--by: expected one of {', '.join(BY)}, got {by!r}")
    catalogue = catalogue or bundled_catalogue()
    priced = price_aggregates(
        source,
        () if by == "model" else (by,),
        key=by,
        since=since,
        until=until,
        jobs=jobs,
        catalogue=catalogue,
    )
    return _assemble(
        source,
        by=by,
        counts=priced.counts,
        measured=priced.measured,
        unpriced=priced.unpriced,
        undated=priced.undated,
        third_party=priced.third_party,
        long_context=priced.long_context,
        exact=priced.exact,
        since=since,
        until=until,
        catalogue=catalogue,
    )


class UsageSource(Protocol):
    """Where summaries read measured usage: the store, or a Parquet dataset read in place."""

    def usage_aggregates(
        self,
        by: Sequence[str] = (),
        *,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
        jobs: JobRule | None = None,
        bands: Sequence[PriceBand] = (),
        models: Sequence[str] | None = None,
    ) -> pd.DataFrame: ...

    def succeeded_models(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> list[str]: ...

    def usage_span(
        self,
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> tuple[date | None, date | None, int]: ...


def price_bands(catalogue: Catalogue, names: Sequence[str], *, first: int = 0) -> list[PriceBand]:
    """The price bands of the model names that the catalogue can price: one per price entry,
    from its first day to the next entry's (the entry the pricing engine picks for a day),
    numbered from ``first``."""
    bands: list[PriceBand] = []
    for name in names:
        if not (catalogue.knows(name) and catalogue.model(name).prices):
            continue
        prices = catalogue.model(name).prices
        for index, entry in enumerate(prices):
            tier = entry.long_context
            bands.append(
                PriceBand(
                    number=first + len(bands),
                    name=name,
                    valid_from=entry.effective_from,
                    valid_to=prices[index + 1].effective_from if index + 1 < len(prices) else None,
                    long_context_above=tier.above_prompt_tokens if tier else None,
                )
            )
    return bands


@dataclass(frozen=True)
class PricedAggregates:
    """Measured usage priced from aggregates (see :func:`price_aggregates`)."""

    counts: pd.DataFrame  # key, the result types, requests (every request, counted)
    measured: pd.DataFrame  # by key: token fields, cost_billed, cost_if_sync, unpriced_requests
    exact: dict[str, dict[Any, Decimal]]  # {"cost_billed"|"cost_if_sync": {key: Decimal USD}}
    unpriced: dict[str, int]  # succeeded requests of a model the catalogue cannot price
    undated: dict[tuple[str, str], int]  # (model, batch): used before the model's first price
    third_party: set[str]
    long_context: dict[tuple[str, int], float]  # requests at a long-context tier, per tier
    keys: tuple[Any, ...] = ()  # the keys of the succeeded usage, in the order first seen


# Float64 adds whole numbers exactly below this; token sums go through the float pass.
_EXACT_FLOAT: Final = 2**53


def price_aggregates(
    source: UsageSource,
    by: Sequence[str],
    *,
    key: str | tuple[str, ...],
    since: date | None,
    until: date | None,
    jobs: JobRule | None,
    catalogue: Catalogue,
) -> PricedAggregates:
    """Sum the source's requests per price key and ``by`` in its engine, then price the sums.

    ``key`` names each result row: ``model`` (the catalogue's id; a name it cannot price
    keeps its own), or one of the ``by`` groupings; a tuple of them keys rows by tuples
    (then ``counts`` and ``measured`` are not grouped: read ``exact`` and ``keys``). Integer sums times the catalogue's
    ``Decimal`` rates (:meth:`costmodel.pricing.PricedUsage.cost_lines`); nothing rounded.
    """
    # Bands for every name the catalogue lists (no scan of the usage to find them); a name
    # it resolves otherwise (say, a partner platform's id) gets its bands on a second pass.
    listed = [name for model_id, m in catalogue.models.items() for name in (model_id, *m.aliases)]
    bands = price_bands(catalogue, listed)
    agg = source.usage_aggregates(by, since=since, until=until, jobs=jobs, bands=bands)
    banded = {band.name for band in bands}
    others = sorted(
        {
            str(name)
            for name in agg.loc[
                (agg["result_type"] == "succeeded") & agg["band"].isna(), "model"
            ].dropna()
            if str(name) not in banded
            and catalogue.knows(str(name))
            and catalogue.model(str(name)).prices
        }
    )
    if others:
        bands = [*bands, *price_bands(catalogue, others, first=len(bands))]
        agg = source.usage_aggregates(by, since=since, until=until, jobs=jobs, bands=bands)
    band_of = {band.number: band for band in bands}
    model_of_name = {band.name: catalogue.resolve(band.name) for band in bands}

    names = (key,) if isinstance(key, str) else key

    def one_key(row: Any, name: str) -> Any:
        if name == "model":
            if row.band is not pd.NA and row.band is not None:
                return model_of_name[row.model]
            return row.model
        return getattr(row, name)

    def key_of(row: Any) -> Any:
        found = tuple(one_key(row, name) for name in names)
        return found[0] if isinstance(key, str) else found

    def count_key(row: Any) -> Any:
        assert isinstance(key, str)
        return _resolve_or_keep(catalogue, row.model) if key == "model" else getattr(row, key)

    # Counted: every request, by result type (a request without a key: "not reported").
    count_keys = (
        [count_key(row) for row in agg.itertuples(index=False)]
        if isinstance(key, str)
        else [None] * len(agg)
    )
    counted = pd.DataFrame(
        {
            "key": [NOT_REPORTED if _missing(k) else k for k in count_keys],
            **{
                kind: np.where(agg["result_type"] == kind, agg["requests"], 0).astype(np.int64)
                for kind in RESULT_TYPES
            },
        }
    )
    counted = counted.groupby("key", sort=False).sum().reset_index()
    counted["requests"] = counted[list(RESULT_TYPES)].sum(axis=1)

    succeeded = agg[agg["result_type"] == "succeeded"].reset_index(drop=True)
    keys = np.empty(len(succeeded), dtype=object)
    for i, row in enumerate(succeeded.itertuples(index=False)):
        keys[i] = key_of(row)
    in_band = succeeded["band"].notna().to_numpy(dtype=bool)
    unpriced: dict[str, int] = {}
    undated: dict[tuple[str, str], int] = {}
    outside: Any = succeeded[~in_band]
    early: set[str] = set()
    for row in outside.itertuples(index=False):
        name = str(row.model)
        if catalogue.knows(name) and catalogue.model(name).prices:
            early.add(name)  # used before its first price: named by batch, below
        else:
            unpriced[name] = unpriced.get(name, 0) + int(row.requests)
    if early:
        # Rare, and only for these models: which batches used them before their first price.
        per_batch: Any = source.usage_aggregates(
            ("batch",), since=since, until=until, jobs=jobs, bands=bands, models=sorted(early)
        )
        per_batch = per_batch[(per_batch["result_type"] == "succeeded") & per_batch["band"].isna()]
        for row in per_batch.itertuples(index=False):
            pair = (str(row.model), str(row.batch))
            undated[pair] = undated.get(pair, 0) + int(row.requests)

    fields = {
        name: np.sum([succeeded[c].to_numpy(dtype=np.int64) for c in columns], axis=0)
        if len(succeeded)
        else np.zeros(0, dtype=np.int64)
        for name, columns in _TOKEN_FIELDS.items()
    }
    measured = pd.DataFrame({"key": keys, **fields})
    measured["unpriced_requests"] = np.where(in_band, 0, succeeded["requests"]).astype(np.int64)

    priced_rows = succeeded[in_band].reset_index(drop=True)
    priced_keys = keys[in_band]
    exact: dict[str, dict[Any, Decimal]] = {"cost_billed": {}, "cost_if_sync": {}}
    third_party: set[str] = set()
    long_context: dict[tuple[str, int], float] = {}
    if len(priced_rows):
        counts_matrix = priced_rows[list(COUNT_COLUMNS)].to_numpy(dtype=np.int64)
        if (counts_matrix >= _EXACT_FLOAT).any():
            raise CostModelError(
                "usage summary: a token sum is too large to price exactly "
                f"(over {_EXACT_FLOAT:,} in one group); narrow the period with --since/--until"
            )
        frame = pd.DataFrame(
            {
                "model": priced_rows["model"].astype(str),
                "requests": np.ones(len(priced_rows)),
                **{c: priced_rows[c].to_numpy(dtype="float64") for c in COUNT_COLUMNS},
                "tier": "batch",
                "inference_geo": priced_rows["inference_geo"].astype(str),
                "speed": priced_rows["speed"].astype(str),
                # The band's first day: the day the pricing engine picks this entry for.
                "date": pd.to_datetime([band_of[int(b)].valid_from for b in priced_rows["band"]]),
            }
        )
        flags = priced_rows["long_context"].to_numpy(dtype=bool)
        longest = priced_rows["longest_prompt"].to_numpy(dtype="float64")
        billed = price_usage(
            frame, catalogue, validate=False, long_context=flags, longest_prompt=longest
        )
        sync = price_usage(
            frame.assign(tier="standard"),
            catalogue,
            validate=False,
            long_context=flags,
            longest_prompt=longest,
        )
        third_party = set(billed.third_party) | set(sync.third_party)
        for column, result in (("cost_billed", billed), ("cost_if_sync", sync)):
            lines = result.cost_lines(priced_keys)
            per_key = exact[column]
            for group, amount in zip(lines["group"], lines["cost_contracted"], strict=True):
                per_key[group] = per_key.get(group, Decimal(0)) + amount
            for group in pd.unique(priced_keys):
                per_key.setdefault(group, Decimal(0))
        # Requests at a long-context tier: the band as billed (fast mode may waive it).
        billed_band = billed.costs["long_context"].to_numpy(dtype=bool)
        tiered: Any = priced_rows
        for row, at_tier in zip(tiered.itertuples(index=False), billed_band, strict=True):
            if at_tier:
                band = band_of[int(row.band)]
                assert band.long_context_above is not None
                tier_key = (model_of_name[band.name], band.long_context_above)
                long_context[tier_key] = long_context.get(tier_key, 0.0) + float(row.requests)
    if not isinstance(key, str):
        return PricedAggregates(
            counts=counted,
            measured=measured,
            exact=exact,
            unpriced=unpriced,
            undated=undated,
            third_party=third_party,
            long_context=long_context,
            keys=tuple(dict.fromkeys(keys.tolist())),
        )
    measured = measured.groupby("key", sort=False).sum()
    # One float per key from its exact sum (not a sum of floats).
    measured["cost_billed"] = [
        float(exact["cost_billed"].get(k, Decimal(0))) for k in measured.index
    ]
    measured["cost_if_sync"] = [
        float(exact["cost_if_sync"].get(k, Decimal(0))) for k in measured.index
    ]
    return PricedAggregates(
        counts=counted,
        measured=measured,
        exact=exact,
        unpriced=unpriced,
        undated=undated,
        third_party=third_party,
        long_context=long_context,
        keys=tuple(measured.index),
    )


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


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
        pairs = pd.DataFrame({"model": models[too_early], "batch": chunk["batch_id"][too_early]})
        # observed pairs only: categorical columns also list the batches of other rows
        early = {
            (str(m), str(b)): int(n) for (m, b), n in pairs.value_counts().to_dict().items() if n
        }
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
    source: UsageSource,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """Billed and if-sync cost per day and model (or job): columns day, key, cost_billed,
    cost_if_sync (floats of the exact sums; 0 for usage that could not be priced)."""
    if by not in ("model", "job"):
        raise CostModelError(f"daily costs group by model or job, not {by!r}")
    catalogue = catalogue or bundled_catalogue()
    priced = price_aggregates(
        source,
        ("day",) if by == "model" else ("day", "job"),
        key=("day", by),
        since=since,
        until=until,
        jobs=jobs,
        catalogue=catalogue,
    )
    columns = ["day", "key", "cost_billed", "cost_if_sync"]
    rows = [
        {
            "day": date.fromisoformat(str(day)),
            "key": str(name),
            "cost_billed": float(priced.exact["cost_billed"].get((day, name), Decimal(0))),
            "cost_if_sync": float(priced.exact["cost_if_sync"].get((day, name), Decimal(0))),
        }
        for day, name in priced.keys
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.groupby(["day", "key"], sort=True).sum().reset_index()


def daily_costs_rows(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """:func:`daily_costs` priced request by request (the reference; float sums per row)."""
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
    from costmodel.store import job_sql

    key_sql, key_params = job_sql(jobs)
    catalogue = catalogue or bundled_catalogue()
    # Snapshot ids and aliases of one model are one workload: group by the catalogue's id.
    raw_models = store.succeeded_models()
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
def _float_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


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

    def csv_frame(self) -> pd.DataFrame:
        """Modelled against measured, line by line, then a ``total`` row (contract names)."""
        data = self.to_dict()
        rows = [{"row": "line", **line} for line in data["lines"]]
        rows.append({"row": "total", "workload": "", "status": "", **data["totals"]})
        columns = ["row", *(data["lines"][0] if data["lines"] else ())]
        return pd.DataFrame(rows, columns=list(dict.fromkeys(columns)))

    def _shown(self) -> dict[str, tuple[list[Decimal | None], Decimal]]:
        """Modelled and measured as shown (each column foots); difference = measured - modelled.
        An unpriced line has no measured figure (None) and is no part of the measured total."""
        out: dict[str, tuple[list[Decimal | None], Decimal]] = {}
        for column in ("cost_modelled", "cost_actual"):
            exact = self.lines.get(f"exact_{column.removeprefix('cost_')}")
            parts: list[Decimal | None] = [
                e
                if isinstance(e, Decimal)
                else None
                if math.isnan(float(v))
                else Decimal(repr(float(v)))
                for v, e in zip(
                    self.lines[column],
                    exact if exact is not None else [None] * len(self.lines),
                    strict=True,
                )
            ]
            priced = [p for p in parts if p is not None]
            total = quantize_cents(sum(priced, Decimal(0)))
            rounded = iter(allocate_cents(priced, total))
            out[column] = ([None if p is None else next(rounded) for p in parts], total)
        modelled, actual = out["cost_modelled"], out["cost_actual"]
        out["difference"] = (
            [
                None if a is None or m is None else a - m
                for a, m in zip(actual[0], modelled[0], strict=True)
            ],
            actual[1] - modelled[1],
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        shown = self._shown()
        return {
            "schema": SCHEMAS["actual"],
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
                    "cost_modelled": _float_or_none(shown["cost_modelled"][0][i]),
                    "cost_actual": _float_or_none(shown["cost_actual"][0][i]),
                    "difference": _float_or_none(shown["difference"][0][i]),
                    "difference_pct": None
                    if math.isnan(row.difference_pct)
                    else round(row.difference_pct, 2),
                }
                for i, row in enumerate(self.lines.itertuples(index=False))
            ],
            "totals": {
                "cost_modelled": float(shown["cost_modelled"][1]),
                "cost_actual": float(shown["cost_actual"][1]),
                "difference": float(shown["difference"][1]),
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
        shown = self._shown()
        for column in ("cost_modelled", "cost_actual", "difference"):
            frame[column] = ["unpriced" if v is None else v for v in shown[column][0]]
        modelled, actual = shown["cost_modelled"][1], shown["cost_actual"][1]
        total = {
            "workload": "Total",
            "status": "",
            "requests_modelled": frame["requests_modelled"].sum(),
            "requests_actual": frame["requests_actual"].sum(),
            "cost_modelled": modelled,
            "cost_actual": actual,
            "difference": actual - modelled,
            "difference_pct": float(100 * (actual - modelled) / modelled) if modelled else math.nan,
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
    fx: Currency | None = None,
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
    run = run_scenario(scenario, catalogue, fx=fx)
    summary = usage_summary(
        store, by="job", since=since, until=until, jobs=jobs, catalogue=catalogue
    )
    rate = float(run.per_usd)
    measured = summary.rows.set_index("key")
    days = (until - since).days
    scale = days / scenario.days_per_month
    lines = []
    exact_scale = Decimal(days) / Decimal(repr(float(scenario.days_per_month)))
    billed = summary.exact.get("cost_billed", {})
    for index, workload in enumerate(run.workloads.itertuples(index=False)):
        # Exact amounts (Decimal) so that the shown figures are rounded once, from the exact.
        exact_modelled = (
            run.exact["cost_batch"].iloc[index] * exact_scale if run.exact is not None else None
        )
        modelled = float(workload.cost_batch) * scale
        requests_modelled = float(workload.requests) * scale
        exact_actual = None
        if workload.name in measured.index and workload.name not in billed:
            # Every request of the job is unpriced (a model the catalogue cannot price):
            # "unpriced", never $0, and left out of the measured total (a note says so).
            row = measured.loc[workload.name]
            actual, requests_actual, status = math.nan, int(row["succeeded"]), "unpriced"
        elif workload.name in measured.index:
            row = measured.loc[workload.name]
            actual = float(row["cost_billed"]) * rate
            exact_actual = billed[workload.name] * run.per_usd
            requests_actual = int(row["succeeded"])
            status = "measured"
        else:
            actual, requests_actual, status = 0.0, 0, "no usage found"
            exact_actual = Decimal(0)
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
                "exact_modelled": exact_modelled,
                "exact_actual": exact_actual,
            }
        )
    names = set(run.workloads["name"])
    unmodelled = [
        f"{key} ({int(row['succeeded']):,} requests, {format_money(float(row['cost_billed']) * rate, run.currency)})"
        for key, row in measured.iterrows()
        if key not in names and row["succeeded"]
    ]
    unpriced_notes = [n for n in summary.notes if n.startswith("Unpriced")]
    notes = (
        *run.notes,
        *unpriced_notes,
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
