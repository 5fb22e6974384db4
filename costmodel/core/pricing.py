"""The pricing engine: a usage frame and a catalogue in, cost by component out. Pure; no I/O.

How the modifiers stack, in the order Anthropic bills them:

1. **Tier of rates.** A model's published rates for the day of the usage. Where the model has a
   long-context tier and the request's prompt (uncached input + cache writes + cache reads)
   exceeds its threshold, *every* token of the request, output included, is billed at the
   tier's rates (and a note names the tier). Where the API refuses such a prompt on that day
   (``max_prompt_tokens``), the usage is an error. Cache rates are per model as published,
   never derived from fixed ratios.
2. **Multipliers on every token rate** (cache rates included): the Batch API's discount
   (``rules.batch.multiplier``), the data-residency multiplier for ``inference_geo: us``
   (an error on a model that has none: the API rejects the parameter there), and the
   fast-mode multiplier. Fast mode and batch never combine; where fast mode was removed the
   entry says whether fast requests bill at standard rates or are rejected (an error); where
   fast mode waives the long-context tier, fast rows use the standard rates times the multiplier.
3. **Server tools** are a fee per use on top of tokens (web search: per 1,000 searches); the
   batch discount is applied to it only if the catalogue says so. Code execution is billed
   per container-hour past the catalogue's monthly free allowance, free on rows that also use
   web search or web fetch; usage that reports code-execution requests without container-hours
   is noted as unpriced for it, never charged $0 silently.
4. **Contract.** A user's negotiated factor per (model, tier) turns list cost into contracted
   cost.

Names written for a partner platform (Bedrock, Vertex AI) are refused for models whose
regional endpoints carry the partner premium, unless the endpoint is global: the catalogue
holds Claude API prices, not the platforms' regional ones.

Money: rates are exact decimals in the catalogue. The vectorised arithmetic here runs in
float64 and gives the per-row figures and curves; every total people read comes from
:meth:`PricedUsage.cost_lines`, which sums integer token counts per price key (model, price
entry, long-context band, tier, geo, speed, component) and multiplies them by the catalogue's
``Decimal`` rates, so no float ever decides a cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any, Final

import numpy as np
import pandas as pd

from costmodel.core.catalogue import RATE_FIELDS, Catalogue, PriceEntry
from costmodel.core.money import TOKENS_PER_MTOK
from costmodel.core.usage import COUNT_COLUMNS, TOKEN_COLUMNS, equals, validate_usage
from costmodel.errors import PricingError, UnpricedError

__all__ = [
    "COMPONENTS",
    "COST_COLUMNS",
    "LINE_COLUMNS",
    "PricedUsage",
    "long_context_notes",
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
    "code_execution",
)
COST_COLUMNS: Final = tuple(f"cost_{name}" for name in COMPONENTS)
_MTOK: Final = float(TOKENS_PER_MTOK)


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
        notes: tuple[str, ...] = (),
        unpriced_code_execution_requests: float = 0.0,
        long_context_requests: dict[tuple[str, int], float] | None = None,
    ) -> None:
        self._index = index
        self._components = components
        self.cost: np.ndarray = total  # list-price cost per row, all components
        self._contract_factor = contract_factor
        self._entries = entries
        self._entry_of_row = entry_of_row
        self._long_context = long_context
        self.third_party = third_party  # "model: field" pairs resting on third-party sources
        self.price_entries = price_entries  # every (model id, entry) the usage was priced with
        # What the figures rest on that a reader must be told: tiers applied, fast mode billed
        # at standard rates, code execution left unpriced, partner ids at Claude API rates.
        self.notes = notes
        # Requests that used code execution with no container-hours to price it by.
        self.unpriced_code_execution_requests = unpriced_code_execution_requests
        # Requests billed at a long-context tier, per (model id, threshold): for callers that
        # price usage in chunks and note the sum (see long_context_notes).
        self.long_context_requests = long_context_requests or {}
        self._frame: pd.DataFrame | None = None
        self._exact: _ExactInputs | None = None

    def model_ids(self) -> pd.Categorical[str]:
        """The catalogue id each row resolved to."""
        names = sorted({model_id for model_id, _ in self._entries})
        code_of_entry = np.array([names.index(model_id) for model_id, _ in self._entries])
        return pd.Categorical.from_codes(
            np.take(code_of_entry, self._entry_of_row), categories=pd.Index(names)
        )

    @property
    def total(self) -> float:
        return float(self.cost.sum())

    @property
    def cost_contracted(self) -> np.ndarray:
        """Cost per row after a user's negotiated factors (the list cost without a contract)."""
        # No contract: one factor, 1.0, for every row.
        if isinstance(self._contract_factor, float) and self._contract_factor == 1.0:
            return self.cost
        contracted: np.ndarray = self.cost * self._contract_factor
        return contracted

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
            counted = zip(COMPONENTS[: len(COUNT_COLUMNS)], COUNT_COLUMNS, strict=True)
            for j, (component, column) in enumerate(counted):
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
            rows.extend(self._code_execution_lines(key, keys, labels, span, requests))
        return pd.DataFrame(rows, columns=list(LINE_COLUMNS))

    def _code_execution_lines(
        self,
        key: np.ndarray,
        keys: tuple[np.ndarray, np.ndarray],
        labels: list[Any],
        span: int,
        requests: np.ndarray,
    ) -> list[dict[str, Any]]:
        """Exact code-execution lines: the charged container-hours (past the monthly free
        allowance, shared in proportion to each line's billable hours) times the hourly rate."""
        exact = self._exact
        if exact is None or exact.code_hours is None or exact.code_rule is None:
            return []
        billable = _exact_sums(exact.code_hours, requests, key, keys)
        total = sum(billable.values(), Decimal(0))
        charged = max(Decimal(0), total - exact.code_rule.free_hours_per_month)
        if not charged:
            return []
        rate = exact.code_rule.per_container_hour
        out: list[dict[str, Any]] = []
        for line_key, hours in billable.items():
            group, code = divmod(line_key, span)
            model_id, entry = self._entries[code // 16]
            quantity = hours * charged / total
            tier = "batch" if code & 4 else "standard"
            cost = quantity * rate
            out.append(
                {
                    "group": labels[group],
                    "model_id": model_id,
                    "price_from": entry.effective_from.isoformat(),
                    "long_context": bool(code & 8),
                    "tier": tier,
                    "inference_geo": "us" if code & 2 else "global",
                    "speed": "fast" if code & 1 else "standard",
                    "component": "code_execution",
                    "quantity": quantity,
                    "unit": "container-hour",
                    "rate": rate,
                    "cost": cost,
                    "cost_contracted": cost * exact.contract_factor(model_id, tier),
                }
            )
        return out

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
_PER_TOKEN: Final = Decimal(TOKENS_PER_MTOK)
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
    # Code execution: billable container-hours per request (0 where web search or fetch makes
    # it free) and the catalogue's rule; None when no row is charged.
    code_hours: np.ndarray | None = None
    code_rule: Any = None


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
    base: Decimal | None = getattr(rates, RATE_FIELDS[component])
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
    default_day = on
    if day_numbers is None and default_day is None:
        raise PricingError(
            f"{context}no pricing day: the usage has no date column and no day was given (on=)"
        )
    entry_of_code = np.full(len(names), -1, dtype=np.int64)
    for code, model_id in model_ids.items():
        model = catalogue.models[model_id]
        base = len(entries)
        entries.extend((model_id, entry) for entry in model.prices)
        if day_numbers is None:
            assert default_day is not None  # checked above, before any row is priced
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
    table["fast_waives_lc"] = np.array([e.fast_waives_long_context for _, e in entries])
    return table


def price_usage(
    usage: pd.DataFrame,
    catalogue: Catalogue,
    *,
    on: date | None = None,
    context: str = "",
    validate: bool = True,
    long_context: np.ndarray | None = None,
    longest_prompt: np.ndarray | None = None,
) -> PricedUsage:
    """Price every row of a usage frame (see :mod:`costmodel.core.usage`).

    ``on`` is the pricing day for rows without a ``date`` column (required then: the core never
    reads the clock). ``context``
    prefixes error messages (for example the scenario file and workload).

    Aggregated usage (each row the token sums of many requests, ``requests`` 1): a row's
    prompt is no request's prompt, so the caller says per row whether its requests are over
    the long-context threshold (``long_context``, decided per request where they were summed)
    and the longest single prompt among them (``longest_prompt``, held against the model's
    prompt limit). Pricing is linear in tokens once the tier is known, so the sums price
    exactly as the requests would one by one.

    >>> from datetime import date
    >>> from costmodel.adapters.catalogue_files import bundled_catalogue
    >>> from costmodel.core.usage import usage_frame
    >>> frame = usage_frame([{"model": "claude-3-5-sonnet", "requests": 500,
    ...                       "input_tokens": 15_000, "output_tokens": 800, "tier": "batch"}])
    >>> round(price_usage(frame, bundled_catalogue(), on=date(2026, 12, 1)).total, 2)
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
    notes = list(_partner_notes(usage, catalogue, prefix))
    table = _rate_table(entries)
    is_batch = equals(usage["tier"], "batch")
    is_fast = equals(usage["speed"], "fast")
    is_us = equals(usage["inference_geo"], "us")
    _refuse_unsupported_geo(usage, entries, entry_of_row, is_us, prefix)
    _refuse_refused_prompts(usage, entries, entry_of_row, prefix, longest_prompt)
    if is_fast.any():
        is_fast, fast_notes = _fast_mode_rules(usage, entries, entry_of_row, is_fast, prefix)
        notes.extend(fast_notes)
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
    row_total: np.ndarray | None
    long_context, seen, costs, row_total, token_sums = _token_costs(
        usage,
        entry_of_row,
        table,
        effective,
        is_batch,
        is_us,
        is_fast,
        flagged_tokens,
        given_band=long_context,
    )
    present = seen > 0
    if is_fast.any() and table["fast_waives_lc"].any():
        # billed at the fast multiplier over standard rates: not at the long-context tier
        long_context = long_context & ~(is_fast & table["fast_waives_lc"][entry_of_row])
    long_context_requests = _long_context_requests(
        usage, entries, entry_of_row, long_context, seen, table["fast_waives_lc"]
    )
    notes.extend(long_context_notes(long_context_requests))

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
        token_components = COMPONENTS[: len(TOKEN_COLUMNS)]
        row_total = np.sum([components[f"cost_{c}"] for c in token_components], axis=0)

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
        searched_entries: np.ndarray = np.bincount(
            entry_of_row, weights=searches, minlength=len(entries)
        )
    else:
        web = np.zeros(n)
        searched_entries = np.zeros(len(entries))
    components["cost_web_search"] = web
    code_execution, code_notes, unpriced_code, code_hours = _code_execution_costs(
        usage, catalogue, prefix
    )
    components["cost_code_execution"] = code_execution
    row_total += code_execution
    notes.extend(code_notes)

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
        notes=tuple(dict.fromkeys(notes)),
        unpriced_code_execution_requests=unpriced_code,
        long_context_requests=long_context_requests,
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
        code_hours=code_hours,
        code_rule=catalogue.code_execution,
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
    given_band: np.ndarray | None = None,
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
        if given_band is not None:  # aggregated rows: decided per request by the caller
            band = np.asarray(given_band[rows], dtype=bool) & np.isfinite(
                np.take(thresholds, entry)
            )
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
            if long_context and fast:
                # where fast mode has no long-context charge, its multiplier is on standard rates
                base = np.where(table["fast_waives_lc"], table[field], base)
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
    factors: np.ndarray = np.where(is_batch, batch[entry_of_row], standard[entry_of_row])
    return factors


# -- rules that refuse usage the API would not have served, and notes on what was applied -----
def _refuse_unsupported_geo(
    usage: pd.DataFrame,
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    is_us: np.ndarray,
    prefix: str,
) -> None:
    """US-only inference on a model without a ``us`` multiplier: the API answers HTTP 400."""
    if not is_us.any():
        return
    no_us = np.array(["us" not in entry.inference_geo for _, entry in entries])
    bad = is_us & no_us[entry_of_row]
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        model_id = entries[entry_of_row[row]][0]
        raise PricingError(
            f"{prefix}{_where(usage, row)}: {model_id} does not offer US-only inference "
            "(inference_geo: us): Anthropic's API rejects the parameter with HTTP 400 on models "
            "before Claude 4.6; use inference_geo: global for this model"
        )


def _where(usage: pd.DataFrame, row: int) -> str:
    """The row as its source names it: a scenario's workload, else the frame's row label."""
    if "workload" in usage.columns:
        return f"workload {usage['workload'].iloc[row]!r}"
    return f"row {usage.index[row]!r}"


def _refuse_refused_prompts(
    usage: pd.DataFrame,
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    prefix: str,
    longest: np.ndarray | None = None,
) -> None:
    """A prompt longer than the model accepted on that day cannot have been served or billed.

    ``longest``: the longest prompt of each (aggregated) row, when a row is not one prompt."""
    limits = np.array(
        [np.inf if e.max_prompt_tokens is None else float(e.max_prompt_tokens) for _, e in entries]
    )
    if np.isinf(limits).all():
        return
    # whole-frame passes: cheaper than gathering the rows of the limited entries
    if longest is not None:
        prompt = np.asarray(longest, dtype="float64")
    else:
        prompt = usage["input_tokens"].to_numpy(dtype="float64").copy()
        for kind in ("cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens"):
            prompt += usage[kind].to_numpy(dtype="float64")
    bad = prompt > np.take(limits, entry_of_row, mode="clip")
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        row_prompt = float(prompt[row])
        model_id, entry = entries[entry_of_row[row]]
        raise PricingError(
            f"{prefix}{_where(usage, row)}: {model_id} refuses prompts over "
            f"{entry.max_prompt_tokens:,} tokens from {entry.effective_from.isoformat()} "
            f"(this one has {row_prompt:,.0f}: uncached input + cache writes + cache reads), "
            f"so no long-context tier can price it. {entry.note}".rstrip()
        )


def _fast_mode_rules(
    usage: pd.DataFrame,
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    is_fast: np.ndarray,
    prefix: str,
) -> tuple[np.ndarray, list[str]]:
    """Fast rows where fast mode was removed: an error where the API rejects them, otherwise
    billed at standard rates (returned as no longer fast), with a note saying so."""
    rejected = np.array([entry.fast_mode == "rejected" for _, entry in entries])
    bad = is_fast & rejected[entry_of_row]
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        model_id, entry = entries[entry_of_row[row]]
        span = f"from {entry.effective_from.isoformat()}"
        if entry.effective_to is not None:
            span += f" to {(entry.effective_to - timedelta(days=1)).isoformat()}"
        raise PricingError(
            f"{prefix}{_where(usage, row)}: {model_id} does not accept fast mode on usage "
            f"{span}: the API rejects requests with speed 'fast'. {entry.note}".rstrip()
        )
    standard = np.array([entry.fast_mode == "standard_rates" for _, entry in entries])
    at_standard = is_fast & standard[entry_of_row]
    if not at_standard.any():
        return is_fast, []
    requests = usage["requests"].to_numpy(dtype="float64")
    per_entry = np.bincount(
        entry_of_row[at_standard], weights=requests[at_standard], minlength=len(entries)
    )
    notes = [
        f"{entries[i][0]}: {_requests(per_entry[i])} in fast mode billed at standard rates. "
        f"{entries[i][1].note}".rstrip()
        for i in np.flatnonzero(per_entry > 0).tolist()
    ]
    return is_fast & ~at_standard, notes


def _long_context_requests(
    usage: pd.DataFrame,
    entries: Sequence[tuple[str, PriceEntry]],
    entry_of_row: np.ndarray,
    long_context: np.ndarray,
    seen: np.ndarray,
    fast_waives_lc: np.ndarray,
) -> dict[tuple[str, int], float]:
    """Requests billed at a long-context tier, per model and threshold.

    ``seen`` counts rows per rate combination (see :func:`_effective_rates`); where every row
    is one request (measured usage, millions of rows) the counts come from it, not the rows.
    """
    codes = np.arange(len(seen))
    in_tier = ((codes >> 3) & 1).astype(bool) & (seen > 0)
    in_tier &= ~((codes & 1).astype(bool) & fast_waives_lc[codes // 16])
    if not in_tier.any():
        return {}
    requests = usage["requests"].to_numpy(dtype="float64")
    if (requests == 1.0).all():
        per_entry = np.bincount(codes[in_tier] // 16, weights=seen[in_tier], minlength=len(entries))
    else:
        per_entry = np.bincount(
            entry_of_row[long_context], weights=requests[long_context], minlength=len(entries)
        )
    counts: dict[tuple[str, int], float] = {}
    for i in np.flatnonzero(per_entry > 0).tolist():
        model_id, entry = entries[i]
        assert entry.long_context is not None  # only such entries put rows in the tier
        key = (model_id, entry.long_context.above_prompt_tokens)
        counts[key] = counts.get(key, 0.0) + float(per_entry[i])
    return counts


def long_context_notes(counts: dict[tuple[str, int], float]) -> list[str]:
    """One note per model and threshold whose long-context tier priced any request."""
    return [
        f"{model_id}: {_requests(count)} with a prompt over {threshold:,} tokens billed at "
        "its long-context tier (every token of such a request, output included, at the "
        "long-context rates)."
        for (model_id, threshold), count in sorted(counts.items())
    ]


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.2g}"


def _requests(value: float) -> str:
    return f"{_count(value)} request{'' if value == 1 else 's'}"


def _occurring_names(column: pd.Series, catalogue: Catalogue) -> list[str]:
    """Names in the column written for a partner platform (a categorical's unused ones left out)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [str(name) for name in column.cat.categories]
        if not any(catalogue.partner_endpoint(name) for name in categories):
            return []  # the usual case: no partner ids at all, so no pass over the rows
        codes = column.cat.codes.to_numpy()
        seen = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(column.cat.categories)))
        return [str(column.cat.categories[i]) for i in seen.tolist()]
    return [str(name) for name in pd.unique(column.dropna())]


def _partner_notes(usage: pd.DataFrame, catalogue: Catalogue, prefix: str) -> list[str]:
    """Refuse partner-platform ids whose regional premium the catalogue cannot price; note the
    partner ids priced at Claude API rates."""
    notes = []
    for name in _occurring_names(usage["model"], catalogue):
        endpoint = catalogue.partner_endpoint(name)
        if endpoint is None:
            continue
        model = catalogue.model(name)
        if endpoint.endpoint == "global" or not model.partner_regional_premium:
            why = (
                "global endpoints carry no regional premium"
                if endpoint.endpoint == "global"
                else "the partner regional premium applies only from Claude 4.5 on"
            )
            notes.append(
                f"{name!r} ({endpoint.platform}) is priced at Claude API list rates ({why}); "
                f"{endpoint.platform} publishes its own prices."
            )
            continue
        multiplier = catalogue.partner_regional_multiplier
        premium = (
            f"{(multiplier - 1) * 100:.0f}% more than global ones"
            if multiplier is not None
            else "a premium over global ones"
        )
        if endpoint.endpoint == "regional":
            where = f"a geographic or in-region (not global) endpoint of {endpoint.platform}"
            bare = name.split(".", 1)[1] if not name.startswith("anthropic.") else name
            hint = "global." + bare
        else:
            where = (
                f"{endpoint.platform} without saying whether a global or regional endpoint "
                "served it"
            )
            hint = model.id
        raise UnpricedError(
            f"{prefix}{name!r} names {model.id} on {where}: regional endpoints cost {premium} "
            "for this model, and this catalogue holds Claude API prices only. Name it "
            f"{hint!r} for global-endpoint usage, or add {name!r} as a model in a price file "
            "(--prices) at the platform's rates."
        )
    return notes


def _optional_counts(usage: pd.DataFrame, column: str, prefix: str) -> np.ndarray:
    values = pd.to_numeric(usage[column], errors="coerce").to_numpy(dtype="float64")
    values = np.where(pd.isna(usage[column]).to_numpy(), 0.0, values)
    bad = ~(values >= 0) | np.isinf(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise PricingError(
            f"{prefix}{column}: expected a count of 0 or more in row {usage.index[row]!r}, "
            f"got {usage[column].iloc[row]!r}"
        )
    return values


def _code_execution_costs(
    usage: pd.DataFrame, catalogue: Catalogue, prefix: str
) -> tuple[np.ndarray, list[str], float, np.ndarray | None]:
    """Code execution's time charge per row, the notes it needs, the requests that used it
    with no container-hours to price it by, and the billable container-hours per request (for
    the exact lines; None when nothing is charged).

    ``code_execution_hours`` (optional column) is container-hours per request. The monthly free
    allowance is taken against this usage alone, as one month of one organisation's usage;
    rows that also use web search or web fetch run it free.
    """
    n = len(usage)
    cost = np.zeros(n)
    has_hours = "code_execution_hours" in usage.columns
    has_calls = "code_execution_requests" in usage.columns
    if not (has_hours or has_calls):
        return cost, [], 0.0, None
    notes: list[str] = []
    requests = usage["requests"].to_numpy(dtype="float64")
    with_web = usage["web_search_requests"].to_numpy(dtype="float64") > 0
    if "web_fetch_requests" in usage.columns:
        with_web |= _optional_counts(usage, "web_fetch_requests", prefix) > 0
    hours_per_request = (
        _optional_counts(usage, "code_execution_hours", prefix) if has_hours else np.zeros(n)
    )
    hours = hours_per_request * requests
    billable = np.where(with_web, 0.0, hours)
    billable_per_request = np.where(with_web, 0.0, hours_per_request)
    total = float(billable.sum())
    rule = catalogue.code_execution
    if total > 0:
        if rule is None:
            raise UnpricedError(
                f"{prefix}cannot price code execution: the catalogue has no code-execution rate"
            )
        free = float(rule.free_hours_per_month)
        charged = max(0.0, total - free)
        cost = billable / total * charged * float(rule.per_container_hour)
        notes.append(
            f"Code execution: {total:,.1f} container-hours without web search or web fetch; the "
            f"first {free:,.0f} a month are free (taken against this usage alone), then USD "
            f"{rule.per_container_hour} per container-hour."
        )
    if float((hours * with_web).sum()) > 0:
        notes.append(
            "Code execution alongside web search or web fetch is free: those container-hours "
            "are not charged."
        )
    unpriced = 0.0
    if has_calls:
        calls = _optional_counts(usage, "code_execution_requests", prefix)
        missing = (calls > 0) & (hours_per_request == 0) & ~with_web
        unpriced = float(requests[missing].sum())
        if unpriced:
            notes.append(
                f"Unpriced code execution: {_requests(unpriced)} used code execution, "
                "but usage data carries no container-hours (it is billed per container-hour "
                "past a monthly free allowance), so its charge is not in these totals."
            )
    return cost, notes, unpriced, (billable_per_request if total > 0 else None)
