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
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from costmodel.catalogue import RATE_FIELDS, Catalogue, PriceEntry
from costmodel.errors import UnpricedError
from costmodel.usage import TOKEN_COLUMNS, equals, prompt_tokens, validate_usage

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


class PricedUsage:
    """Costs per usage row (USD, for all of the row's ``requests``) and what they rest on.

    ``costs`` is a frame with one column per component (``cost_input`` ... ``cost_web_search``),
    ``cost`` (their list-price sum), ``cost_contracted`` (after a user's negotiated factors),
    ``model_id`` (what each row resolved to) and ``long_context`` (whether the row was billed at
    that tier). It is built on first use: totals come straight from the arrays.
    """

    def __init__(
        self,
        index: pd.Index,
        components: dict[str, np.ndarray],
        contract_factor: np.ndarray | float,
        model_id: pd.Categorical,
        long_context: np.ndarray,
        third_party: tuple[str, ...],
        price_entries: tuple[tuple[str, PriceEntry], ...],
    ) -> None:
        self._index = index
        self._components = components
        self._contract_factor = contract_factor
        self._model_id = model_id
        self._long_context = long_context
        self.third_party = third_party  # "model: field" pairs resting on third-party sources
        self.price_entries = price_entries  # every (model id, entry) the usage was priced with
        self._cost: np.ndarray | None = None
        self._frame: pd.DataFrame | None = None

    @property
    def cost(self) -> np.ndarray:
        """List-price cost per row."""
        if self._cost is None:
            total = np.zeros(len(self._index))
            for column in COST_COLUMNS:
                total += self._components[column]
            self._cost = total
        return self._cost

    @property
    def total(self) -> float:
        return float(self.cost.sum())

    @property
    def total_contracted(self) -> float:
        return float((self.cost * self._contract_factor).sum())

    @property
    def costs(self) -> pd.DataFrame:
        if self._frame is None:
            frame = pd.DataFrame(self._components, index=self._index)
            frame["cost"] = self.cost
            frame["cost_contracted"] = self.cost * self._contract_factor
            frame["model_id"] = self._model_id
            frame["long_context"] = self._long_context
            self._frame = frame
        return self._frame


def _entry_index(
    usage: pd.DataFrame, catalogue: Catalogue, on: date | None, context: str
) -> tuple[np.ndarray, list[tuple[str, PriceEntry]]]:
    """Map each row to the price entry that holds for its model and day.

    Resolution is done once per distinct model name and, where rows carry dates, once per
    model with a sorted search over its price history: never once per row.
    """
    # Only names that occur: a filtered categorical column still lists the ones filtered out.
    models = usage["model"].astype("category").cat.remove_unused_categories()
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
    entry_of_code = np.empty(len(model_ids), dtype=np.int64)
    for code, model_id in enumerate(model_ids):
        model = catalogue.models[model_id]
        base = len(entries)
        entries.extend((model_id, entry) for entry in model.prices)
        if day_numbers is None:
            entry = model.price_on(default_day)  # raises UnpricedError for a day before any price
            entry_of_code[code] = base + model.prices.index(entry)
            continue
        starts = np.array(
            [np.datetime64(entry.effective_from, "D").astype(np.int64) for entry in model.prices]
        )
        rows = np.flatnonzero(codes == code)
        days = day_numbers[rows]
        position = np.searchsorted(starts, days, side="right") - 1
        if (position < 0).any():
            first_bad = rows[int(np.flatnonzero(position < 0)[0])]
            bad_day = usage["date"].iloc[first_bad]
            model.price_on(pd.Timestamp(bad_day).date())  # raises with a clear message
        entry_of_row[rows] = base + position
    if day_numbers is None:
        entry_of_row = np.take(entry_of_code, codes.astype(np.int64))
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
        return PricedUsage(
            usage.index,
            {column: np.zeros(0) for column in COST_COLUMNS},
            1.0,
            pd.Categorical([]),
            np.zeros(0, dtype=bool),
            (),
            (),
        )

    entry_of_row, entries = _entry_index(usage, catalogue, on, prefix)
    table = _rate_table(entries)
    long_context = prompt_tokens(usage) > np.take(table["lc_threshold"], entry_of_row)
    is_batch = equals(usage["tier"], "batch")
    is_fast = equals(usage["speed"], "fast")
    is_us = equals(usage["inference_geo"], "us")
    no_fast_price = is_fast & np.isnan(np.take(table["fast"], entry_of_row))
    if no_fast_price.any():
        row = int(np.flatnonzero(no_fast_price)[0])
        model_id = entries[entry_of_row[row]][0]
        raise UnpricedError(f"{prefix}row {usage.index[row]!r}: {model_id} has no fast-mode price")

    # Every row falls in one of a few combinations of (price entry, long-context band, tier,
    # geo, speed). Folding the modifiers into one small rate table per combination leaves a
    # single gather and two multiplications per token kind over the big arrays.
    combination = (
        entry_of_row * 16
        + long_context.astype(np.int64) * 8
        + is_batch.astype(np.int64) * 4
        + is_us.astype(np.int64) * 2
        + is_fast.astype(np.int64)
    )
    effective = _effective_rates(table, float(catalogue.batch_multiplier))
    present = np.bincount(combination, minlength=len(effective)) > 0
    requests = usage["requests"].to_numpy(dtype="float64")
    per_row = requests / _MTOK if (requests != 1.0).any() else 1.0 / _MTOK

    components: dict[str, np.ndarray] = {}
    for j, (component, column) in enumerate(zip(COMPONENTS, TOKEN_COLUMNS, strict=False)):
        tokens = usage[column].to_numpy(dtype="float64")
        rates = effective[:, j]
        cost = tokens * np.take(np.ascontiguousarray(rates), combination)
        cost *= per_row
        if np.isnan(rates[present]).any():
            # A rate nobody published: fine while no row uses it, an error once one does.
            missing = np.isnan(cost) & (tokens > 0)
            if missing.any():
                row = int(np.flatnonzero(missing)[0])
                model_id = entries[entry_of_row[row]][0]
                band = " at its long-context tier" if long_context[row] else ""
                field = RATE_FIELDS[j].removesuffix("_mtok")
                raise UnpricedError(
                    f"{prefix}cannot price this usage: {model_id} has no published {field} "
                    f"rate{band}"
                )
            cost[np.isnan(cost)] = 0.0
        components[f"cost_{component}"] = cost

    searches = usage["web_search_requests"].to_numpy(dtype="float64")
    if searches.any():
        search_rate = np.take(table["web_search_per_1k"], entry_of_row) / 1000.0
        if catalogue.batch_discounts_web_search:
            search_rate = search_rate * np.where(is_batch, float(catalogue.batch_multiplier), 1.0)
        web = searches * requests * search_rate
        missing = np.isnan(web) & (searches > 0)
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise UnpricedError(
                f"{prefix}cannot price this usage: {entries[entry_of_row[row]][0]} has no "
                "published web search fee"
            )
        web[np.isnan(web)] = 0.0
    else:
        web = np.zeros(n)
    components["cost_web_search"] = web

    model_ids = sorted({model_id for model_id, _ in entries})
    model_code_of_entry = np.array([model_ids.index(model_id) for model_id, _ in entries])
    used = np.unique(np.flatnonzero(present) // 16)
    return PricedUsage(
        index=usage.index,
        components=components,
        contract_factor=_contract_factors(catalogue, entries, entry_of_row, is_batch),
        model_id=pd.Categorical.from_codes(model_code_of_entry[entry_of_row], categories=model_ids),
        long_context=long_context,
        third_party=_third_party_used(
            entries, entry_of_row, components, long_context, is_fast, is_us
        ),
        price_entries=tuple(entries[i] for i in used),
    )


def _effective_rates(table: dict[str, np.ndarray], batch_multiplier: float) -> np.ndarray:
    """Rates (USD/MTok) per combination code, modifiers folded in: shape (entries * 16, 5).

    The code is ``entry * 16 + long_context * 8 + batch * 4 + us * 2 + fast``.
    """
    n_entries = len(table["lc_threshold"])
    rates = np.full((n_entries * 16, len(RATE_FIELDS)), np.nan)
    for code in range(16):
        long_context, batch, us, fast = (code >> 3) & 1, (code >> 2) & 1, (code >> 1) & 1, code & 1
        multiplier = (
            (batch_multiplier if batch else 1.0)
            * (table["geo_us"] if us else np.ones(n_entries))
            * (table["fast"] if fast else np.ones(n_entries))
        )
        for j, field in enumerate(RATE_FIELDS):
            base = table[f"lc_{field}"] if long_context else table[field]
            rates[code::16, j] = base * multiplier
    return rates


def _third_party_used(
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    components: dict[str, np.ndarray],
    long_context: np.ndarray,
    is_fast: np.ndarray,
    is_us: np.ndarray,
) -> tuple[str, ...]:
    """Which third-party-sourced rates this usage actually relied on, as "model: field".

    A flagged rate that no row used (say, a cache-read rate for usage with no cache reads) does
    not make the figure less certain, so it is not reported.
    """
    flagged: set[str] = set()
    by_field: dict[str, np.ndarray] = {
        field: components[f"cost_{component}"] > 0
        for component, field in zip(COMPONENTS, RATE_FIELDS, strict=False)
    }
    by_field["web_search_per_1k"] = components["cost_web_search"] > 0
    by_field["long_context"] = long_context
    by_field["fast_multiplier"] = is_fast
    by_field["inference_geo"] = is_us
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
    is_batch: np.ndarray,
) -> np.ndarray | float:
    if catalogue.contract is None:
        return 1.0
    standard = np.array([float(catalogue.contract_factor(m, "standard")) for m, _ in entries])
    batch = np.array([float(catalogue.contract_factor(m, "batch")) for m, _ in entries])
    return np.where(is_batch, batch[entry_of_row], standard[entry_of_row])


def total_cost(usage: pd.DataFrame, catalogue: Catalogue, *, on: date | None = None) -> float:
    """Convenience: the list-price total of a usage frame, in USD."""
    return price_usage(usage, catalogue, on=on).total
