"""The pricing engine: a usage frame and a catalogue in, cost by component out. Pure; no I/O.

How the modifiers stack, in the order Anthropic bills them:

1. **Tier of rates.** A model's published rates for the day of the usage. Where the model has a
   long-context tier and the request's prompt (uncached input + cache writes + cache reads)
   exceeds its threshold, *every* token of the request, output included, is billed at the
   tier's rates. Cache rates are per model as published, never derived from fixed ratios.
2. **Multipliers on every token rate** (cache rates included): the Batch API's discount
   (``rules.batch.multiplier``, 0.5), the data-residency multiplier for ``inference_geo``
   where the model has one, and the fast-mode multiplier. Fast mode and batch never combine.
3. **Server tools** are a fee per use on top of tokens (web search: per 1,000 searches); the
   batch discount is applied to it only if the catalogue says so.
4. **Contract.** A user's negotiated factor per (model, tier) turns list cost into contracted
   cost.

Money: rates are exact decimals in the catalogue; the vectorised arithmetic here runs in
float64, whose error over millions of requests stays far below a cent (the tests check the
total against a ``decimal.Decimal`` reference). Round only for display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from costmodel.catalogue import RATE_FIELDS, Catalogue, PriceEntry
from costmodel.errors import UnpricedError
from costmodel.usage import TOKEN_COLUMNS, prompt_tokens, validate_usage

__all__ = [
    "COMPONENTS",
    "COST_COLUMNS",
    "PricedUsage",
    "price_usage",
    "total_cost",
]

# Cost components, one per token kind plus server tools. The token kinds pair with RATE_FIELDS.
COMPONENTS: Final = (
    "input",
    "output",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
    "web_search",
)
COST_COLUMNS: Final = tuple(f"cost_{name}" for name in COMPONENTS)
_MTOK: Final = 1_000_000.0


@dataclass(frozen=True)
class PricedUsage:
    """Costs per usage row (USD, for all of the row's ``requests``) and what they rest on.

    ``costs`` has one column per component (``cost_input`` ... ``cost_web_search``), ``cost``
    (their list-price sum), ``cost_contracted`` (after a user's negotiated factors), the model id
    each row resolved to, and ``long_context`` (whether the row was billed at that tier).
    """

    costs: pd.DataFrame
    third_party: tuple[str, ...]  # "model: field" pairs whose price rests on third-party sources
    price_entries: tuple[tuple[str, PriceEntry], ...]  # every (model id, entry) used

    @property
    def total(self) -> float:
        return float(self.costs["cost"].sum())

    @property
    def total_contracted(self) -> float:
        return float(self.costs["cost_contracted"].sum())


def _entry_index(
    usage: pd.DataFrame, catalogue: Catalogue, on: date | None, context: str
) -> tuple[np.ndarray, list[tuple[str, PriceEntry]]]:
    """Map each row to the price entry that holds for its model and day.

    Resolution is done once per distinct model name and, where rows carry dates, once per
    model with a sorted search over its price history: never once per row.
    """
    models = usage["model"].astype("category")
    names = list(models.cat.categories)
    codes = models.cat.codes.to_numpy()
    if (codes < 0).any():
        row = usage.index[int(np.flatnonzero(codes < 0)[0])]
        raise UnpricedError(f"{context}row {row!r}: model is missing")
    model_ids = [catalogue.resolve(str(name), context=context.rstrip(": ")) for name in names]

    entries: list[tuple[str, PriceEntry]] = []
    entry_of_row = np.empty(len(usage), dtype=np.int64)
    has_dates = "date" in usage.columns
    day_numbers = (
        usage["date"].to_numpy(dtype="datetime64[D]").astype(np.int64) if has_dates else None
    )
    default_day = on or date.today()
    for code, model_id in enumerate(model_ids):
        rows = np.flatnonzero(codes == code) if len(model_ids) > 1 else np.arange(len(usage))
        model = catalogue.models[model_id]
        base = len(entries)
        entries.extend((model_id, entry) for entry in model.prices)
        starts = np.array(
            [np.datetime64(entry.effective_from, "D").astype(np.int64) for entry in model.prices]
        )
        if day_numbers is None:
            entry = model.price_on(default_day)  # raises UnpricedError for a day before any price
            entry_of_row[rows] = base + model.prices.index(entry)
            continue
        days = day_numbers[rows]
        position = np.searchsorted(starts, days, side="right") - 1
        if (position < 0).any():
            first_bad = rows[int(np.flatnonzero(position < 0)[0])]
            bad_day = usage["date"].iloc[first_bad]
            model.price_on(pd.Timestamp(bad_day).date())  # raises with a clear message
        entry_of_row[rows] = base + position
    return entry_of_row, entries


def _rate_table(entries: Sequence[tuple[str, PriceEntry]]) -> dict[str, np.ndarray]:
    """Rates of every entry as float arrays; NaN where no rate was published."""

    def as_float(value: object) -> float:
        return np.nan if value is None else float(value)  # type: ignore[arg-type]

    table: dict[str, np.ndarray] = {}
    for field in RATE_FIELDS:
        table[field] = np.array([as_float(getattr(e.rates, field)) for _, e in entries])
        table[f"lc_{field}"] = np.array(
            [
                as_float(getattr(e.long_context.rates, field)) if e.long_context else np.nan
                for _, e in entries
            ]
        )
    table["lc_threshold"] = np.array(
        [
            float(e.long_context.above_prompt_tokens) if e.long_context else np.inf
            for _, e in entries
        ]
    )
    table["geo_us"] = np.array([float(e.inference_geo.get("us", 1)) for _, e in entries])
    table["fast"] = np.array(
        [np.nan if e.fast_multiplier is None else float(e.fast_multiplier) for _, e in entries]
    )
    table["web_search_per_1k"] = np.array([as_float(e.web_search_per_1k) for _, e in entries])
    return table


def _geo_multiplier(usage: pd.DataFrame, per_row_us: np.ndarray) -> np.ndarray:
    geo = usage["inference_geo"].astype(str).to_numpy()
    is_us = geo == "us"
    return np.where(is_us, per_row_us, 1.0)


def price_usage(
    usage: pd.DataFrame,
    catalogue: Catalogue,
    *,
    on: date | None = None,
    context: str = "",
    validate: bool = True,
) -> PricedUsage:
    """Price every row of a usage frame (see :mod:`costmodel.usage`).

    ``on`` is the pricing day for rows without a ``date`` column (default: today). ``context``
    prefixes error messages (for example the scenario file and workload).

    >>> from costmodel.catalogue import bundled_catalogue
    >>> from costmodel.usage import usage_frame
    >>> frame = usage_frame([{"model": "claude-3-5-sonnet", "requests": 500,
    ...                       "input_tokens": 15_000, "output_tokens": 800, "tier": "batch"}])
    >>> round(price_usage(frame, bundled_catalogue()).total, 2)
    14.25
    """
    if validate:
        validate_usage(usage)
    prefix = f"{context}: " if context else ""
    n = len(usage)
    if n == 0:
        empty = pd.DataFrame({c: np.zeros(0) for c in (*COST_COLUMNS, "cost", "cost_contracted")})
        return PricedUsage(empty, (), ())

    entry_of_row, entries = _entry_index(usage, catalogue, on, prefix)
    table = _rate_table(entries)
    tokens = {column: usage[column].to_numpy(dtype="float64") for column in TOKEN_COLUMNS}
    requests = usage["requests"].to_numpy(dtype="float64")

    threshold = table["lc_threshold"][entry_of_row]
    long_context = prompt_tokens(usage) > threshold

    tier = usage["tier"].astype(str).to_numpy()
    is_batch = tier == "batch"
    speed = usage["speed"].astype(str).to_numpy()
    is_fast = speed == "fast"
    fast = table["fast"][entry_of_row]
    if (is_fast & np.isnan(fast)).any():
        row = int(np.flatnonzero(is_fast & np.isnan(fast))[0])
        model_id = entries[entry_of_row[row]][0]
        raise UnpricedError(f"{prefix}row {usage.index[row]!r}: {model_id} has no fast-mode price")
    multiplier = (
        np.where(is_batch, float(catalogue.batch_multiplier), 1.0)
        * _geo_multiplier(usage, table["geo_us"][entry_of_row])
        * np.where(is_fast, fast, 1.0)
    )

    costs: dict[str, np.ndarray] = {}
    unpriced: list[str] = []
    for component, column, field in zip(COMPONENTS, TOKEN_COLUMNS, RATE_FIELDS, strict=False):
        rate = np.where(
            long_context, table[f"lc_{field}"][entry_of_row], table[field][entry_of_row]
        )
        quantity = tokens[column] * requests
        cost = np.where(quantity == 0, 0.0, quantity * rate * multiplier / _MTOK)
        missing = np.isnan(cost)
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            model_id = entries[entry_of_row[row]][0]
            band = " at its long-context tier" if long_context[row] else ""
            unpriced.append(f"{model_id} has no published {field.removesuffix('_mtok')} rate{band}")
        costs[f"cost_{component}"] = cost

    searches = usage["web_search_requests"].to_numpy(dtype="float64") * requests
    search_rate = table["web_search_per_1k"][entry_of_row] / 1000.0
    search_multiplier = (
        np.where(is_batch, float(catalogue.batch_multiplier), 1.0)
        if catalogue.batch_discounts_web_search
        else 1.0
    )
    web = np.where(searches == 0, 0.0, searches * search_rate * search_multiplier)
    if np.isnan(web).any():
        row = int(np.flatnonzero(np.isnan(web))[0])
        unpriced.append(f"{entries[entry_of_row[row]][0]} has no published web search fee")
    costs["cost_web_search"] = web
    if unpriced:
        raise UnpricedError(f"{prefix}cannot price this usage: {unpriced[0]}")

    frame = pd.DataFrame(costs, index=usage.index)
    frame["cost"] = frame[list(COST_COLUMNS)].sum(axis=1)
    frame["cost_contracted"] = frame["cost"].to_numpy() * _contract_factors(
        catalogue, entries, entry_of_row, tier
    )
    model_ids = sorted({model_id for model_id, _ in entries})
    model_code_of_entry = np.array([model_ids.index(model_id) for model_id, _ in entries])
    frame["model_id"] = pd.Categorical.from_codes(
        model_code_of_entry[entry_of_row], categories=model_ids
    )
    frame["long_context"] = long_context

    used_entries = tuple(entries[i] for i in np.unique(entry_of_row))
    third_party = _third_party_used(
        entries, entry_of_row, frame, long_context, is_fast, usage["inference_geo"]
    )
    return PricedUsage(frame, third_party, used_entries)


def _third_party_used(
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    costs: pd.DataFrame,
    long_context: np.ndarray,
    is_fast: np.ndarray,
    inference_geo: pd.Series,
) -> tuple[str, ...]:
    """Which third-party-sourced rates this usage actually relied on, as "model: field".

    A flagged rate that no row used (say, a cache-read rate for usage with no cache reads) does
    not make the figure less certain, so it is not reported.
    """
    flagged: set[str] = set()
    by_field: dict[str, np.ndarray] = {
        field: costs[f"cost_{component}"].to_numpy() > 0
        for component, field in zip(COMPONENTS, RATE_FIELDS, strict=False)
    }
    by_field["web_search_per_1k"] = costs["cost_web_search"].to_numpy() > 0
    by_field["long_context"] = long_context
    by_field["fast_multiplier"] = is_fast
    by_field["inference_geo"] = inference_geo.astype(str).to_numpy() == "us"
    for index, (model_id, entry) in enumerate(entries):
        if not entry.third_party:
            continue
        rows = entry_of_row == index
        for field in entry.third_party:
            if (by_field[field] & rows).any():
                flagged.add(f"{model_id}: {field}")
    return tuple(sorted(flagged))


def _contract_factors(
    catalogue: Catalogue,
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    tier: np.ndarray,
) -> np.ndarray | float:
    if catalogue.contract is None:
        return 1.0
    standard = np.array([float(catalogue.contract_factor(m, "standard")) for m, _ in entries])
    batch = np.array([float(catalogue.contract_factor(m, "batch")) for m, _ in entries])
    return np.where(tier == "batch", batch[entry_of_row], standard[entry_of_row])


def total_cost(usage: pd.DataFrame, catalogue: Catalogue, *, on: date | None = None) -> float:
    """Convenience: the list-price total of a usage frame, in USD."""
    return price_usage(usage, catalogue, on=on).total
