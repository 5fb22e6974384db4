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

Money: rates are exact decimals in the catalogue. The vectorised arithmetic here runs in
float64 and gives the per-row figures and curves; every total people read comes from
:meth:`PricedUsage.cost_lines`, which sums integer token counts per price key (model, price
entry, long-context band, tier, geo, speed, component) and multiplies them by the catalogue's
``Decimal`` rates, so no float ever decides a cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Final

import numpy as np
import pandas as pd

from costmodel.catalogue import RATE_FIELDS, Catalogue, PriceEntry
from costmodel.errors import UnpricedError
from costmodel.usage import COUNT_COLUMNS, TOKEN_COLUMNS, equals, validate_usage

__all__ = [
    "COMPONENTS",
    "COST_COLUMNS",
    "LINE_COLUMNS",
    "PricedUsage",
    "price_usage",
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
        total: np.ndarray,
        contract_factor: np.ndarray | float,
        entries: Sequence[tuple[str, PriceEntry]],
        entry_of_row: np.ndarray,
        long_context: np.ndarray,
        third_party: tuple[str, ...],
        price_entries: tuple[tuple[str, PriceEntry], ...],
    ) -> None:
        self._index = index
        self._components = components
        self.cost = total  # list-price cost per row, all components
        self._contract_factor = contract_factor
        self._entries = entries
        self._entry_of_row = entry_of_row
        self._long_context = long_context
        self.third_party = third_party  # "model: field" pairs resting on third-party sources
        self.price_entries = price_entries  # every (model id, entry) the usage was priced with
        self._frame: pd.DataFrame | None = None
        self._exact: _ExactInputs | None = None

    def model_ids(self) -> pd.Categorical:
        """The catalogue id each row resolved to."""
        names = sorted({model_id for model_id, _ in self._entries})
        code_of_entry = np.array([names.index(model_id) for model_id, _ in self._entries])
        return pd.Categorical.from_codes(
            np.take(code_of_entry, self._entry_of_row), categories=names
        )

    @property
    def total(self) -> float:
        return float(self.cost.sum())

    @property
    def cost_contracted(self) -> np.ndarray:
        """Cost per row after a user's negotiated factors (the list cost without a contract)."""
        if isinstance(self._contract_factor, float):  # no contract: one factor for every row
            return self.cost if self._contract_factor == 1.0 else self.cost * self._contract_factor
        return self.cost * self._contract_factor

    @property
    def total_contracted(self) -> float:
        return float(self.cost_contracted.sum())

    def cost_lines(self, groups: Any = None) -> pd.DataFrame:
        """Exact cost lines: one per group, price key and component (see :data:`LINE_COLUMNS`).

        ``groups`` labels each row (a workload, a model, a day...; ``None``: one group). Each
        line's ``quantity`` is the exact sum of that component's count (tokens, or web
        searches) over the group's rows with that price key, times ``requests``; ``rate`` is
        the catalogue's ``Decimal`` rate with the modifiers folded in (USD per million tokens,
        or per 1,000 searches), and ``cost`` / ``cost_contracted`` are Decimal USD. Nothing
        here is rounded: round the sums you show, once.
        """
        exact = self._exact
        if exact is None or len(self._index) == 0:
            return pd.DataFrame(columns=list(LINE_COLUMNS))
        if groups is None:
            group_codes = np.zeros(len(self._index), dtype=np.int64)
            labels: list[Any] = [None]
        else:
            group_codes, uniques = pd.factorize(np.asarray(groups, dtype=object))
            labels = list(uniques)
            group_codes = group_codes.astype(np.int64)
        span = 16 * max(len(self._entries), 1)
        key = group_codes * span + exact.code
        requests = exact.usage["requests"].to_numpy(dtype="float64")
        keys = np.unique(key, return_inverse=True)
        rows: list[dict[str, Any]] = []
        with localcontext() as context:
            context.prec = 40  # far more digits than any bounded workload needs
            for j, (component, column) in enumerate(zip(COMPONENTS, COUNT_COLUMNS, strict=True)):
                counts = exact.usage[column].to_numpy(dtype="float64")
                for line_key, quantity in _exact_sums(counts, requests, key, keys).items():
                    group, code = divmod(line_key, span)
                    model_id, entry = self._entries[code // 16]
                    rate = _decimal_rate(entry, code, j, exact.batch_multiplier, exact.web_batch)
                    if rate is None:  # price_usage has refused usage of an unpublished rate
                        raise UnpricedError(f"{model_id} has no published {component} rate")
                    per = _PER_SEARCH if component == "web_search" else _PER_TOKEN
                    cost = quantity * rate / per
                    tier = "batch" if code & 4 else "standard"
                    rows.append(
                        {
                            "group": labels[group],
                            "model_id": model_id,
                            "price_from": entry.effective_from.isoformat(),
                            "long_context": bool(code & 8),
                            "tier": tier,
                            "inference_geo": "us" if code & 2 else "global",
                            "speed": "fast" if code & 1 else "standard",
                            "component": component,
                            "quantity": quantity,
                            "unit": "1k searches" if per == _PER_SEARCH else "MTok",
                            "rate": rate,
                            "cost": cost,
                            "cost_contracted": cost * exact.contract_factor(model_id, tier),
                        }
                    )
        return pd.DataFrame(rows, columns=list(LINE_COLUMNS))

    @property
    def costs(self) -> pd.DataFrame:
        if self._frame is None:
            frame = pd.DataFrame(self._components, index=self._index)
            frame["cost"] = self.cost
            frame["cost_contracted"] = self.cost_contracted
            frame["model_id"] = self.model_ids()
            frame["long_context"] = self._long_context
            self._frame = frame
        return self._frame


LINE_COLUMNS: Final = (
    "group",
    "model_id",
    "price_from",
    "long_context",
    "tier",
    "inference_geo",
    "speed",
    "component",
    "quantity",
    "unit",
    "rate",
    "cost",
    "cost_contracted",
)
_PER_TOKEN: Final = Decimal(1_000_000)
_PER_SEARCH: Final = Decimal(1_000)
# Above this many rows the exact sums run vectorised on int64; below it (a scenario's few
# rows, or counts that are not whole) they run per row in Decimal.
_EXACT_VECTOR_ROWS: Final = 4096


@dataclass(frozen=True)
class _ExactInputs:
    """What :meth:`PricedUsage.cost_lines` needs beyond the float pass: the counts and, per
    row, the combination code (entry * 16 + long_context * 8 + batch * 4 + us * 2 + fast)."""

    usage: pd.DataFrame
    code: np.ndarray
    batch_multiplier: Decimal
    web_batch: bool  # whether the batch discount applies to web search
    contract_factor: Any  # (model id, tier) -> Decimal


def _exact_sums(
    counts: np.ndarray, requests: np.ndarray, key: np.ndarray, keys: tuple[np.ndarray, np.ndarray]
) -> dict[int, Decimal]:
    """Exact ``sum(counts * requests)`` per key, only for keys with a non-zero sum.

    ``keys`` is ``np.unique(key, return_inverse=True)``, computed once for every component.
    """
    quantity = counts * requests
    total = float(quantity.sum())
    if total == 0:
        return {}
    unique, inverse = keys
    if (
        len(quantity) > _EXACT_VECTOR_ROWS
        and total < 2**53
        and bool((counts == np.floor(counts)).all() and (requests == np.floor(requests)).all())
    ):
        # Whole numbers whose every partial sum is below 2**53: float64 adds them exactly.
        sums = np.bincount(inverse, weights=quantity, minlength=len(unique))
        return {int(unique[i]): Decimal(int(sums[i])) for i in np.flatnonzero(sums)}
    used = quantity != 0
    out: dict[int, Decimal] = {}
    for x, y, line in zip(
        counts[used].tolist(), requests[used].tolist(), key[used].tolist(), strict=True
    ):
        product = Decimal(int(x)) if x.is_integer() else Decimal(repr(x))
        product *= Decimal(int(y)) if y.is_integer() else Decimal(repr(y))
        out[line] = out.get(line, Decimal(0)) + product
    return {line: value for line, value in out.items() if value}


def _decimal_rate(
    entry: PriceEntry, code: int, component: int, batch_multiplier: Decimal, web_batch: bool
) -> Decimal | None:
    """The exact rate of one combination code and component, the modifiers folded in as
    :func:`_effective_rates` folds them for the float pass (USD/MTok; web search per 1k)."""
    batch = bool(code & 4)
    if component == len(RATE_FIELDS):  # web search: a fee per use, no token modifiers
        fee = entry.web_search_per_1k
        if fee is None:
            return None
        return fee * batch_multiplier if batch and web_batch else fee
    rates = entry.long_context.rates if code & 8 and entry.long_context else entry.rates
    base = getattr(rates, RATE_FIELDS[component])
    if base is None:
        return None
    multiplier = batch_multiplier if batch else Decimal(1)
    if code & 2:
        multiplier *= Decimal(entry.inference_geo.get("us", 1))
    if code & 1:
        multiplier *= entry.fast_multiplier or Decimal(1)
    return base * multiplier


def _entry_index(
    usage: pd.DataFrame, catalogue: Catalogue, on: date | None, context: str
) -> tuple[np.ndarray, list[tuple[str, PriceEntry]]]:
    """Map each row to the price entry that holds for its model and day.

    Resolution is done once per distinct model name and, where rows carry dates, once per
    model with a sorted search over its price history: never once per row.
    """
    column = usage["model"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = list(column.cat.categories)
        codes = column.cat.codes.to_numpy()
    else:
        codes, uniques = pd.factorize(column)
        names = list(uniques)
    if (codes < 0).any():
        row = usage.index[int(np.flatnonzero(codes < 0)[0])]
        raise UnpricedError(f"{context}row {row!r}: model is missing")
    # Only names that occur: a filtered categorical column still lists the ones filtered out.
    occurring = np.flatnonzero(np.bincount(codes, minlength=len(names)))
    model_ids = {
        int(code): catalogue.resolve(str(names[code]), context=context.rstrip(": "))
        for code in occurring
    }

    entries: list[tuple[str, PriceEntry]] = []
    entry_of_row = np.empty(len(usage), dtype=np.int64)
    has_dates = "date" in usage.columns
    day_numbers = (
        usage["date"].to_numpy(dtype="datetime64[D]").astype(np.int64) if has_dates else None
    )
    default_day = on or date.today()
    entry_of_code = np.full(len(names), -1, dtype=np.int64)
    for code, model_id in model_ids.items():
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
            np.zeros(0),
            1.0,
            (),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=bool),
            (),
            (),
        )

    entry_of_row, entries = _entry_index(usage, catalogue, on, prefix)
    table = _rate_table(entries)
    is_batch = equals(usage["tier"], "batch")
    is_fast = equals(usage["speed"], "fast")
    is_us = equals(usage["inference_geo"], "us")
    no_fast_price = (
        is_fast & np.isnan(np.take(table["fast"], entry_of_row)) if is_fast.any() else is_fast
    )
    if no_fast_price.any():
        row = int(np.flatnonzero(no_fast_price)[0])
        model_id = entries[entry_of_row[row]][0]
        raise UnpricedError(f"{prefix}row {usage.index[row]!r}: {model_id} has no fast-mode price")

    effective = _effective_rates(table, float(catalogue.batch_multiplier))
    flagged_tokens = sorted(
        {RATE_FIELDS.index(f) for _, e in entries for f in e.third_party if f in RATE_FIELDS}
    )
    long_context, seen, costs, row_total, token_sums = _token_costs(
        usage, entry_of_row, table, effective, is_batch, is_us, is_fast, flagged_tokens
    )
    present = seen > 0

    components: dict[str, np.ndarray] = {}
    for j, (component, column) in enumerate(zip(COMPONENTS, TOKEN_COLUMNS, strict=False)):
        cost = costs[j]
        if np.isnan(effective[present, j]).any():
            # A rate nobody published: fine while no row uses it, an error once one does.
            tokens = usage[column].to_numpy(dtype="float64")
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
            row_total = None  # it summed the NaNs just cleared
        components[f"cost_{component}"] = cost
    if row_total is None:
        row_total = np.sum([components[f"cost_{c}"] for c in COMPONENTS[:-1]], axis=0)

    requests = usage["requests"].to_numpy(dtype="float64")
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
        row_total += web
        searched_entries = np.bincount(entry_of_row, weights=searches, minlength=len(entries))
    else:
        web = np.zeros(n)
        searched_entries = np.zeros(len(entries))
    components["cost_web_search"] = web

    used = np.unique(np.flatnonzero(present) // 16)
    priced = PricedUsage(
        index=usage.index,
        components=components,
        total=row_total,
        contract_factor=_contract_factors(catalogue, entries, entry_of_row, is_batch),
        entries=entries,
        entry_of_row=entry_of_row,
        long_context=long_context,
        third_party=_third_party_used(entries, present, token_sums, searched_entries),
        price_entries=tuple(entries[i] for i in used),
    )
    code = (entry_of_row.astype(np.int64) << 4) | (long_context.astype(np.int64) << 3)
    code |= (is_batch.astype(np.int64) << 2) | (is_us.astype(np.int64) << 1)
    code |= is_fast.astype(np.int64)
    priced._exact = _ExactInputs(
        usage=usage,
        code=code,
        batch_multiplier=catalogue.batch_multiplier,
        web_batch=bool(catalogue.batch_discounts_web_search),
        contract_factor=catalogue.contract_factor,
    )
    return priced


# Rows are priced in blocks this size so that each block's temporaries stay in the CPU cache:
# the arithmetic is trivial and memory traffic is the cost, so one pass per block over a few
# cached arrays beats a dozen passes over 80 MB arrays.
_BLOCK_ROWS: Final = 1 << 16


def _token_costs(
    usage: pd.DataFrame,
    entry_of_row: np.ndarray,
    table: dict[str, np.ndarray],
    effective: np.ndarray,
    is_batch: np.ndarray,
    is_us: np.ndarray,
    is_fast: np.ndarray,
    count_tokens: Sequence[int] = (),
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray, dict[int, np.ndarray]]:
    """Cost per row of each token kind and in total, the long-context flag per row, how many
    rows fall in each rate combination (see :func:`_effective_rates` for its code), and, for
    the token kinds in ``count_tokens``, how many tokens of that kind each combination holds."""
    n = len(usage)
    tokens = [usage[column].to_numpy(dtype="float64") for column in TOKEN_COLUMNS]
    requests = usage["requests"].to_numpy(dtype="float64")
    per_request = bool((requests != 1.0).any())
    thresholds = table["lc_threshold"]
    # USD per token (not per million), so a row's cost is one gather and one multiply.
    rates = [np.ascontiguousarray(effective[:, j]) / _MTOK for j in range(len(TOKEN_COLUMNS))]
    # The low four bits of the combination code, packed once into bytes (8x less to read).
    flags = (is_batch.view(np.int8) << 2) | (is_us.view(np.int8) << 1) | is_fast.view(np.int8)
    long_context = np.empty(n, dtype=bool)
    seen = np.zeros(len(effective), dtype=np.int64)
    costs = [np.empty(n) for _ in TOKEN_COLUMNS]
    total = np.empty(n)
    token_sums = {j: np.zeros(len(effective)) for j in count_tokens}
    for start in range(0, n, _BLOCK_ROWS):
        rows = slice(start, min(start + _BLOCK_ROWS, n))
        entry = entry_of_row[rows]
        block = [column[rows] for column in tokens]
        # the prompt: uncached input + both cache writes + cache reads (not output)
        prompt = block[0] + block[2]
        prompt += block[3]
        prompt += block[4]
        band = prompt > np.take(thresholds, entry)
        long_context[rows] = band
        combination = entry << 4
        combination |= flags[rows]
        combination |= band.view(np.int8) << 3
        in_block = np.bincount(combination, minlength=len(effective))
        seen += in_block
        out = [cost[rows] for cost in costs]
        for j in range(len(out)):
            # mode="clip": indices are valid by construction, and "raise" buffers the output
            np.take(rates[j], combination, out=out[j], mode="clip")
            out[j] *= block[j]
            if per_request:
                out[j] *= requests[rows]
        row_total = np.add(out[0], out[1], out=total[rows])
        for extra in out[2:]:
            row_total += extra
        for j, sums in token_sums.items():
            # Only whether a combination has any such tokens matters: once every combination
            # in this block is known to have some, counting them again changes no answer.
            if (sums[in_block > 0] == 0).any():
                sums += np.bincount(combination, weights=block[j], minlength=len(effective))
    return long_context, seen, costs, total, token_sums


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
    present: np.ndarray,
    token_sums: dict[int, np.ndarray],
    searched_entries: np.ndarray,
) -> tuple[str, ...]:
    """Which third-party-sourced rates this usage actually relied on, as "model: field".

    A flagged rate that no row used (say, a cache-read rate for usage with no cache reads) does
    not make the figure less certain, so it is not reported. Read from the per-combination
    statistics the pricing pass gathered, not from the rows again.
    """
    flagged: set[str] = set()
    for code in np.flatnonzero(present):
        index = int(code) // 16
        model_id, entry = entries[index]
        for field in entry.third_party:
            if field in RATE_FIELDS:
                used = bool(token_sums[RATE_FIELDS.index(field)][code] > 0)
            elif field == "long_context":
                used = bool(code & 8)
            elif field == "inference_geo":
                used = bool(code & 2)
            elif field == "fast_multiplier":
                used = bool(code & 1)
            else:  # web_search_per_1k
                used = bool(searched_entries[index] > 0)
            if used:
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
