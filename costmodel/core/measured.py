"""Measured usage, priced: what stored batches cost, and what they would have cost synchronously.

Summaries group in the store (:meth:`costmodel.adapters.store.Store.usage_aggregates`: integer
token sums per price key) and price the few aggregate rows exactly, so memory and time stay
flat however many requests are stored (the row-by-row path is kept as the reference), and prices with the same engine as the scenarios. Figures here are
measured: every result names the batches or period it covers. Requests are grouped by model,
batch, job (:class:`~costmodel.core.jobs.JobRule`) or day. Fitting a scenario to them is
:mod:`costmodel.core.calibration`; a scenario beside them, :mod:`costmodel.core.comparison`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

import numpy as np
import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.contract import SCHEMAS
from costmodel.core.frames import object_column, with_total
from costmodel.core.layouts import Section
from costmodel.core.money import allocate_cents, quantize_cents
from costmodel.core.pricing import long_context_notes, price_usage
from costmodel.core.usage import COUNT_COLUMNS
from costmodel.core.usage_rows import RESULT_TYPES, PriceBand
from costmodel.errors import CostModelError

if TYPE_CHECKING:
    from costmodel.adapters.store import Store

from costmodel.core.jobs import JobRule

__all__ = [
    "BY",
    "NOT_REPORTED",
    "PricedAggregates",
    "UsageSource",
    "UsageSummary",
    "daily_costs",
    "daily_costs_rows",
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


_K = TypeVar("_K")
_N = TypeVar("_N", int, float, Decimal)


def _accumulate(total: dict[_K, _N], more: Mapping[_K, _N]) -> None:
    """Add ``more``'s counts (or amounts) into ``total``, key by key."""
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


def usage_summary_rows(
    store: Store,
    *,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
    catalogue: Catalogue,
) -> UsageSummary:
    """:func:`usage_summary` priced request by request: the reference the aggregate path is
    tested against (the same figures to the cent), and the path before it.

    Token counts and costs cover succeeded requests; errored, canceled and expired requests are
    counted by type and never billed. Keys for ``by="model"`` are catalogue ids (snapshot ids
    resolve to their model); a model the catalogue does not know is counted as unpriced, and
    named in a note, never priced at $0.
    """
    jobs = jobs or JobRule()
    if by not in BY:
        raise CostModelError(f"--by: expected one of {', '.join(BY)}, got {by!r}")
    frames: list[pd.DataFrame] = []
    unpriced: dict[str, int] = {}
    undated: dict[tuple[str, str], int] = {}  # (model, batch) priced before its first price
    third_party: set[str] = set()
    exact: dict[str, dict[str, Decimal]] = {"cost_billed": {}, "cost_if_sync": {}}
    long_context: dict[tuple[str, int], float] = {}  # requests billed at a long-context tier
    for chunk in store.iter_usage_frames(since, until, by=by, jobs=jobs):
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

    counts = store.result_counts_by(by, jobs, since=since, until=until)
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
    order: list[Any] = [billed.get(key, Decimal(0)) for key in rows["key"]]
    rows = rows.assign(_order=order)
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
    catalogue: Catalogue,
) -> UsageSummary:
    """What the stored batches cost (batch rates) against the same tokens sent synchronously.

    Token counts and costs cover succeeded requests; errored, canceled and expired requests are
    counted by type and never billed. Keys for ``by="model"`` are catalogue ids (snapshot ids
    resolve to their model); a model the catalogue does not know is counted as unpriced, and
    named in a note, never priced at $0.

    Priced from aggregates: the store (or a Parquet dataset, :mod:`costmodel.adapters.usage_dataset`)
    sums the integer counts per price key and key (:meth:`costmodel.adapters.store.Store.usage_aggregates`)
    and only those few rows are priced, exactly, so the time hardly grows with the requests.
    The figures are those of :func:`usage_summary_rows` to the cent.
    """
    if by not in BY:
        raise CostModelError(f"--by: expected one of {', '.join(BY)}, got {by!r}")
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


def price_aggregates(  # noqa: C901 (one pass over the aggregate rows: each branch is a kind of row the store hands back)
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
    ``Decimal`` rates (:meth:`costmodel.core.pricing.PricedUsage.cost_lines`); nothing rounded.
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
        counted: dict[Any, int] = pairs.value_counts().to_dict()
        early = {(str(pair[0]), str(pair[1])): int(n) for pair, n in counted.items() if n}
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
    catalogue: Catalogue,
) -> pd.DataFrame:
    """Billed and if-sync cost per day and model (or job): columns day, key, cost_billed,
    cost_if_sync (floats of the exact sums; 0 for usage that could not be priced)."""
    if by not in ("model", "job"):
        raise CostModelError(f"daily costs group by model or job, not {by!r}")
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
    catalogue: Catalogue,
) -> pd.DataFrame:
    """:func:`daily_costs` priced request by request (the reference; float sums per row)."""
    if by not in ("model", "job"):
        raise CostModelError(f"daily costs group by model or job, not {by!r}")
    columns = ["day", "key", "cost_billed", "cost_if_sync"]
    frames = [
        _price_chunk(chunk, catalogue, by)[0][columns].groupby(["day", "key"]).sum()
        for chunk in store.iter_usage_frames(since, until, by=by, jobs=jobs or JobRule())
        if not chunk.empty
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames).groupby(["day", "key"], sort=True).sum().reset_index()
