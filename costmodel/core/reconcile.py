"""Reconcile: what the organisation's report says it cost beside what the catalogue says. Pure.

The Usage and Cost Analytics API reports, per day, usage (token counts by kind) and cost
(``list_amount``, the pre-discount amount, and ``amount``, post-discount and pre-credit, both
in fractional cents). :func:`reconcile` sets, per day x model x service tier, three figures
side by side:

- ``catalogue_usd``: the catalogue's list cost of the reported usage, exact (integer token sums
  times :class:`~decimal.Decimal` rates), at the rates of that day;
- ``list_usd``: the report's ``list_amount``, in dollars;
- ``amount_usd``: the report's ``amount``; ``1 - amount / list`` is the effective discount.

A cell is flagged when catalogue and list differ by more than the tolerance (a share of the
list amount), when its model or tier has no public price (``priority``, ``flex`` and whatever
tier appears next: *unpriced*, never $0), or when a day has usage but no cost rows or the
reverse. Where it can, a flagged cell says where the difference comes from: the token kind
whose reported cost differs most from the catalogue's, a long-context tier (usage in the
``200k-1M`` context window, or a model whose threshold the API's two windows do not match),
or a US-only inference surcharge.

The same exact pricing, :func:`exact_cost`, is what :mod:`costmodel.core.assess` and the synthetic
report (:mod:`costmodel.adapters.synthetic_org`) use, so all three agree to the cent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from costmodel.core.catalogue import RATE_FIELDS, Catalogue, PriceEntry
from costmodel.core.money import CENTS_PER_DOLLAR, PERCENT, TOKENS_PER_MTOK, quantize_cents
from costmodel.errors import UnknownModelError, UnpricedError

__all__ = [
    "API_TOKEN_TYPES",
    "LONG_CONTEXT_WINDOW",
    "PRICED_TIERS",
    "BatchCheck",
    "ExactCost",
    "Reconciliation",
    "ReconciliationCell",
    "TokenCounts",
    "cents",
    "exact_cost",
    "reconcile",
    "reconciliation_rows",
]

# The API's token types (cost rows' ``token_type``) in the order of the catalogue's rate fields.
API_TOKEN_TYPES: Final = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens",
)
# Tiers with a public price: the Messages API's and the Batches API's. Every other tier the
# report shows (priority, priority_on_demand, flex, flex_discount, new ones) is contractual or
# unpublished, so its catalogue cost is unknown, not zero.
PRICED_TIERS: Final = ("standard", "batch")
LONG_CONTEXT_WINDOW: Final = "200k-1M"
# The API's context windows split at 200K prompt tokens; a model whose long-context threshold
# is elsewhere (Haiku 5.5: 100K) cannot be priced by window alone.
_WINDOW_THRESHOLD: Final = 200_000
_MTOK: Final = Decimal(TOKENS_PER_MTOK)


def cents(value: Decimal) -> Decimal:
    """Round dollars to the cent, half away from zero (0.125 -> 0.13), once, at the edge: the
    project's one rounding rule (:func:`costmodel.core.money.quantize_cents`)."""
    return quantize_cents(value)


@dataclass(frozen=True)
class TokenCounts:
    """Token counts by kind (the usage frame's names) and web searches; integers or exact."""

    input_tokens: int | Decimal = 0
    output_tokens: int | Decimal = 0
    cache_write_5m_tokens: int | Decimal = 0
    cache_write_1h_tokens: int | Decimal = 0
    cache_read_tokens: int | Decimal = 0
    web_search_requests: int | Decimal = 0

    def tokens(self) -> tuple[int | Decimal, ...]:
        """The five token kinds in the order of :data:`~costmodel.core.catalogue.RATE_FIELDS`."""
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_write_5m_tokens,
            self.cache_write_1h_tokens,
            self.cache_read_tokens,
        )

    @property
    def prompt_tokens(self) -> int | Decimal:
        """Uncached input plus cache writes plus cache reads: what long-context tiers count."""
        return (
            self.input_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
            + self.cache_read_tokens
        )

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int | Decimal, ...]:
        return (*self.tokens(), self.web_search_requests)


@dataclass(frozen=True)
class ExactCost:
    """List cost in USD (unrounded Decimals) by component, for one model, day and tier."""

    model_id: str
    entry: PriceEntry
    by_kind: Mapping[str, Decimal]  # RATE_FIELDS' kinds without ``_mtok``, plus web_search
    long_context: bool
    geo_multiplier: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.by_kind.values(), Decimal(0))


def exact_cost(
    catalogue: Catalogue,
    model: str,
    day: date,
    tier: str,
    counts: TokenCounts,
    *,
    long_context: bool = False,
    inference_geo: str | None = "global",
) -> ExactCost:
    """The catalogue's list cost of ``counts`` (all of them, not per request), exactly.

    ``long_context`` bills every token at the model's long-context tier (raises
    :class:`UnpricedError` when the model has none: the caller decides the band).
    ``tier`` must be ``standard`` or ``batch``; any other tier raises :class:`UnpricedError`.
    Web searches are priced at the catalogue's fee (halved for batch only if
    ``rules.batch.discounts_web_search``), without the geo multiplier, as the engine does.

    >>> from costmodel.adapters.catalogue_files import bundled_catalogue
    >>> cost = exact_cost(bundled_catalogue(), "claude-3-5-sonnet", date(2026, 11, 1), "batch",
    ...                   TokenCounts(input_tokens=7_500_000, output_tokens=400_000))
    >>> cost.total
    Decimal('14.25')
    """
    if tier not in PRICED_TIERS:
        raise UnpricedError(
            f"{model} on {day.isoformat()}: the {tier!r} service tier has no public price"
        )
    model_id = catalogue.resolve(model)
    entry = catalogue.models[model_id].price_on(day)
    rates = entry.rates
    if long_context:
        if entry.long_context is None:
            raise UnpricedError(f"{model_id} has no long-context tier on {day.isoformat()}")
        rates = entry.long_context.rates
    multiplier = Decimal(1)
    if tier == "batch":
        multiplier *= catalogue.batch_multiplier
    geo = Decimal(1)
    if inference_geo not in (None, "", "global", "not_available"):
        geo = entry.inference_geo.get(str(inference_geo), Decimal(1))
    multiplier *= geo
    by_kind: dict[str, Decimal] = {}
    for rate_field, tokens in zip(RATE_FIELDS, counts.tokens(), strict=True):
        kind = rate_field.removesuffix("_mtok")
        rate = getattr(rates, rate_field)
        if not tokens:
            by_kind[kind] = Decimal(0)
            continue
        if rate is None:
            band = " at its long-context tier" if long_context else ""
            raise UnpricedError(f"{model_id} has no published {kind} rate{band}")
        by_kind[kind] = Decimal(tokens) * rate * multiplier / _MTOK
    searches = counts.web_search_requests
    if searches:
        if entry.web_search_per_1k is None:
            raise UnpricedError(f"{model_id} has no published web search fee")
        fee = entry.web_search_per_1k / 1000
        if tier == "batch" and catalogue.batch_discounts_web_search:
            fee *= catalogue.batch_multiplier
        by_kind["web_search"] = Decimal(searches) * fee
    else:
        by_kind["web_search"] = Decimal(0)
    return ExactCost(model_id, entry, by_kind, long_context, geo)


# -- reconciliation -----------------------------------------------------------------------------
@dataclass
class ReconciliationCell:
    """One day x model x tier: catalogue cost beside the report's list amount and amount."""

    day: date
    model: str  # as the report names it
    tier: str
    requests: int = 0
    counts: TokenCounts = field(default_factory=TokenCounts)
    catalogue_usd: Decimal | None = None  # None: unpriced (see ``unpriced``)
    list_usd: Decimal | None = None  # None: the report has no cost rows for this cell
    amount_usd: Decimal | None = None
    has_usage: bool = False
    unpriced: str = ""  # why the catalogue cannot price it
    hints: list[str] = field(default_factory=list)
    beyond_tolerance: bool = False
    # The report's list amount per token kind (cost_type tokens), and web search, in USD.
    list_by_kind: dict[str, Decimal] = field(default_factory=dict)
    catalogue_by_kind: dict[str, Decimal] = field(default_factory=dict)

    @property
    def difference_usd(self) -> Decimal | None:
        """Report's list amount minus the catalogue's cost (positive: billed above list)."""
        if self.catalogue_usd is None or self.list_usd is None:
            return None
        return self.list_usd - self.catalogue_usd

    @property
    def difference_pct(self) -> Decimal | None:
        diff = self.difference_usd
        if diff is None:
            return None
        base = self.list_usd or self.catalogue_usd
        if not base:
            return Decimal(0) if not diff else None
        return diff / base * PERCENT

    @property
    def effective_discount_pct(self) -> Decimal | None:
        """``1 - amount / list_amount`` in percent: the discount the organisation gets."""
        if self.list_usd is None or self.amount_usd is None or not self.list_usd:
            return None
        return (1 - self.amount_usd / self.list_usd) * PERCENT

    @property
    def flags(self) -> list[str]:
        out: list[str] = []
        if self.beyond_tolerance:
            out.append("beyond tolerance")
        if self.unpriced:
            out.append("unpriced")
        if self.has_usage and self.list_usd is None:
            out.append("usage without cost rows")
        if not self.has_usage and self.list_usd is not None:
            out.append("cost without usage rows")
        return out


@dataclass(frozen=True)
class BatchCheck:
    """The store's batch results for a day and model beside the report's ``batch`` tier."""

    day: date
    model: str
    store_usd: Decimal
    report_catalogue_usd: Decimal | None
    report_list_usd: Decimal | None
    beyond_tolerance: bool


@dataclass(frozen=True)
class Reconciliation:
    cells: tuple[ReconciliationCell, ...]
    tolerance: Decimal  # a share of the list amount, e.g. 0.005
    batch_checks: tuple[BatchCheck, ...] = ()

    @property
    def flagged(self) -> list[ReconciliationCell]:
        return [cell for cell in self.cells if cell.flags]

    @property
    def exit_code(self) -> int:
        """3 when anything is beyond tolerance, for CI gates; else 0.

        A day with usage but no cost rows (or the reverse) is a difference of its whole amount,
        so it counts as beyond tolerance. An unpriced cell is flagged but cannot be beyond
        anything: there is no catalogue figure to compare.
        """
        beyond = any(
            c.beyond_tolerance
            or "usage without cost rows" in c.flags
            or "cost without usage rows" in c.flags
            for c in self.cells
        )
        return 3 if beyond or any(b.beyond_tolerance for b in self.batch_checks) else 0

    @property
    def title(self) -> str:
        return "Reconciliation: the catalogue against the organisation's report"

    @property
    def notes(self) -> tuple[str, ...]:
        notes = [
            f"Catalogue cost is list price of the reported usage at the rates of each day; a cell "
            f"is beyond tolerance when it differs from the reported list amount by more than "
            f"{(self.tolerance * PERCENT).normalize():f}% of it."
        ]
        unpriced = sorted({c.unpriced for c in self.cells if c.unpriced})
        notes += [f"Unpriced: {reason}." for reason in unpriced]
        return tuple(notes)

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return float(value) if isinstance(value, Decimal) else value

        from costmodel.core.contract import SCHEMAS

        totals = self.totals()
        return {
            "schema": SCHEMAS["reconcile"],
            "currency": "USD",
            "tolerance_pct": float(self.tolerance * PERCENT),
            "exit_code": self.exit_code,
            "cells": [
                {key: plain(value) for key, value in row.items()}
                for row in reconciliation_rows(self)
            ],
            "totals": {key: None if v is None else float(cents(v)) for key, v in totals.items()},
            "batch_checks": [
                {
                    "day": b.day.isoformat(),
                    "model": b.model,
                    "store_usd": float(cents(b.store_usd)),
                    "report_list_usd": None
                    if b.report_list_usd is None
                    else float(cents(b.report_list_usd)),
                    "beyond_tolerance": b.beyond_tolerance,
                }
                for b in self.batch_checks
            ],
            "notes": list(self.notes),
        }

    def sections(self) -> list[Any]:
        import pandas as pd

        from costmodel.core.layouts import Section

        frame = pd.DataFrame(
            [
                {
                    "Day": row["day"],
                    "Model": row["model"],
                    "Tier": row["tier"],
                    "Requests": row["requests"],
                    "Catalogue": _plain_money(row["catalogue_usd"]),
                    "Reported list": _plain_money(row["list_usd"]),
                    "Reported amount": _plain_money(row["amount_usd"]),
                    "Difference": _plain_money(row["difference_usd"]),
                    "Discount": _plain_money(row["effective_discount_pct"]),
                    "Flags": ", ".join(row["flags"]),
                    "Why": "; ".join(row["hints"]),
                }
                for row in reconciliation_rows(self)
            ]
        )
        sections = [
            Section(
                self.title,
                frame,
                money=("Catalogue", "Reported list", "Reported amount", "Difference"),
                percent=("Discount",),
                counts=("Requests",),
            )
        ]
        if self.batch_checks:
            checks = pd.DataFrame(
                [
                    {
                        "Day": b.day.isoformat(),
                        "Model": b.model,
                        "Store (batch results)": float(b.store_usd),
                        "Report (batch tier)": _plain_money(b.report_list_usd),
                        "Flags": "beyond tolerance" if b.beyond_tolerance else "",
                    }
                    for b in self.batch_checks
                ]
            )
            sections.append(
                Section(
                    "Batch results in the store against the report's batch tier",
                    checks,
                    money=("Store (batch results)", "Report (batch tier)"),
                )
            )
        return sections

    def totals(self) -> dict[str, Decimal | None]:
        """Sums over the priced cells that have both figures, plus every reported amount."""
        both = [c for c in self.cells if c.catalogue_usd is not None and c.list_usd is not None]
        return {
            "catalogue_usd": sum((c.catalogue_usd or Decimal(0) for c in both), Decimal(0)),
            "list_usd_compared": sum((c.list_usd or Decimal(0) for c in both), Decimal(0)),
            "list_usd": sum((c.list_usd or Decimal(0) for c in self.cells), Decimal(0)),
            "amount_usd": sum((c.amount_usd or Decimal(0) for c in self.cells), Decimal(0)),
        }


def _plain_money(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)


def _get(row: Any, name: str, default: Any = None) -> Any:
    return row.get(name, default) if isinstance(row, Mapping) else getattr(row, name, default)


def _day(row: Any) -> date:
    moment = _get(row, "day") or _get(row, "starting_at")
    day: date = moment.date() if hasattr(moment, "date") and callable(moment.date) else moment
    return day


def _usage_counts(row: Any) -> TokenCounts:
    return TokenCounts(
        input_tokens=int(_get(row, "uncached_input_tokens", 0)),
        output_tokens=int(_get(row, "output_tokens", 0)),
        cache_write_5m_tokens=int(_get(row, "cache_creation_5m_input_tokens", 0)),
        cache_write_1h_tokens=int(_get(row, "cache_creation_1h_input_tokens", 0)),
        cache_read_tokens=int(_get(row, "cache_read_input_tokens", 0)),
        web_search_requests=int(_get(row, "web_search_requests", 0)),
    )


def reconcile(
    usage_rows: Iterable[Any],
    cost_rows: Iterable[Any],
    catalogue: Catalogue,
    *,
    tolerance: Decimal = Decimal("0.005"),
    geo_rows: Iterable[Any] = (),
    store_batch_usd: Mapping[tuple[date, str], Decimal] | None = None,
) -> Reconciliation:
    """Set the catalogue's cost of the reported usage beside the reported amounts, per cell.

    ``usage_rows`` and ``cost_rows`` are the rows :mod:`costmodel.adapters.ingest.org` reads (or
    mappings with the same names): usage grouped by at least model and service tier (and by
    ``context_window``, which decides the long-context band), cost grouped by model, tier,
    ``cost_type`` and ``token_type``. ``geo_rows`` (usage grouped by ``inference_geo``) add
    the US-only surcharge to the catalogue's cost; without them every token is priced at
    global rates and a difference the size of a surcharge is pointed out.
    ``store_batch_usd`` maps (day, catalogue model id) to the list cost of the batch results
    in the store, checked against the report's ``batch`` tier.
    """
    cells: dict[tuple[date, str, str], ReconciliationCell] = {}
    windows: dict[tuple[date, str, str], set[str]] = defaultdict(set)
    band_counts: dict[tuple[date, str, str, bool], TokenCounts] = defaultdict(TokenCounts)

    def cell(day: date, model: str, tier: str) -> ReconciliationCell:
        key = (day, model, tier)
        if key not in cells:
            cells[key] = ReconciliationCell(day=day, model=model, tier=tier)
        return cells[key]

    for row in usage_rows:
        model = _get(row, "model") or "(no model)"
        tier = _get(row, "service_tier") or "(no tier)"
        day = _day(row)
        c = cell(day, model, tier)
        counts = _usage_counts(row)
        c.counts = c.counts + counts
        c.requests += int(_get(row, "requests") or 0)
        c.has_usage = True
        window = _get(row, "context_window") or ""
        windows[(day, model, tier)].add(window)
        band_counts[(day, model, tier, window == LONG_CONTEXT_WINDOW)] += counts

    for row in cost_rows:
        model = _get(row, "model") or "(no model)"
        tier = _get(row, "service_tier") or "(no tier)"
        c = cell(_day(row), model, tier)
        listed = Decimal(_get(row, "list_amount_cents")) / CENTS_PER_DOLLAR
        amount = Decimal(_get(row, "amount_cents")) / CENTS_PER_DOLLAR
        c.list_usd = (c.list_usd or Decimal(0)) + listed
        c.amount_usd = (c.amount_usd or Decimal(0)) + amount
        kind = _kind_of(_get(row, "cost_type"), _get(row, "token_type"))
        c.list_by_kind[kind] = c.list_by_kind.get(kind, Decimal(0)) + listed

    us_counts: dict[tuple[date, str, str], TokenCounts] = defaultdict(TokenCounts)
    geo_rows = list(geo_rows)
    for row in geo_rows:
        if (_get(row, "inference_geo") or "") == "us":
            key = (
                _day(row),
                _get(row, "model") or "(no model)",
                _get(row, "service_tier") or "(no tier)",
            )
            us_counts[key] += _usage_counts(row)

    for key, c in sorted(cells.items()):
        if c.has_usage:
            _price_cell(c, key, catalogue, windows[key], band_counts, us_counts.get(key))
        if c.catalogue_usd is not None and c.list_usd is not None:
            base = abs(c.list_usd)
            diff = abs(c.list_usd - c.catalogue_usd)
            # Half a cent always passes: the report rounds nothing, but rows may be in cents.
            c.beyond_tolerance = diff > max(base * tolerance, Decimal("0.005"))
            if c.beyond_tolerance:
                c.hints.extend(_explain(c, catalogue, bool(geo_rows), windows[key]))

    checks: list[BatchCheck] = []
    for (day, model_id), store_usd in sorted((store_batch_usd or {}).items()):
        matching = [
            c
            for c in cells.values()
            if c.day == day
            and c.tier == "batch"
            and catalogue.knows(c.model)
            and catalogue.resolve(c.model) == model_id
        ]
        cat = (
            sum((c.catalogue_usd or Decimal(0) for c in matching), Decimal(0)) if matching else None
        )
        listed_usd = (
            sum((c.list_usd or Decimal(0) for c in matching), Decimal(0)) if matching else None
        )
        reference = listed_usd if listed_usd is not None else Decimal(0)
        beyond = abs(reference - store_usd) > max(abs(reference) * tolerance, Decimal("0.005"))
        checks.append(BatchCheck(day, model_id, store_usd, cat, listed_usd, beyond))
    return Reconciliation(tuple(cells[k] for k in sorted(cells)), tolerance, tuple(checks))


def _kind_of(cost_type: str | None, token_type: str | None) -> str:
    if token_type in API_TOKEN_TYPES:
        return RATE_FIELDS[API_TOKEN_TYPES.index(token_type)].removesuffix("_mtok")
    if cost_type and cost_type != "tokens":
        return cost_type
    return token_type or "tokens"


def _price_cell(
    c: ReconciliationCell,
    key: tuple[date, str, str],
    catalogue: Catalogue,
    cell_windows: set[str],
    band_counts: Mapping[tuple[date, str, str, bool], TokenCounts],
    us: TokenCounts | None,
) -> None:
    if c.tier not in PRICED_TIERS:
        c.unpriced = f"the {c.tier!r} service tier has no public price"
        return
    try:
        model_id = catalogue.resolve(c.model)
        entry = catalogue.models[model_id].price_on(c.day)
    except (UnknownModelError, UnpricedError) as exc:
        c.unpriced = str(exc)
        return
    total = Decimal(0)
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    try:
        for long_band in (False, True):
            counts = band_counts.get((*key, long_band))
            if counts is None:
                continue
            # The 200k-1M window is billed at the long-context tier where the model has one
            # at 200K; a model without one bills the whole window at its standard rates.
            band = long_band and entry.long_context is not None
            priced = exact_cost(catalogue, c.model, c.day, c.tier, counts, long_context=band)
            for kind, value in priced.by_kind.items():
                by_kind[kind] += value
            total += priced.total
        geo = entry.inference_geo.get("us")
        if us is not None and geo is not None:
            # The US-only surcharge on the US share of the tokens, priced in the standard
            # band: the geo query does not split by context window.
            extra = exact_cost(catalogue, c.model, c.day, c.tier, us)
            for kind, value in extra.by_kind.items():
                if kind != "web_search":
                    by_kind[kind] += value * (geo - 1)
                    total += value * (geo - 1)
    except UnpricedError as exc:
        c.unpriced = str(exc)
        return
    c.catalogue_usd = total
    c.catalogue_by_kind = dict(by_kind)
    threshold = entry.long_context.above_prompt_tokens if entry.long_context else None
    if threshold is not None and threshold != _WINDOW_THRESHOLD:
        c.hints.append(
            f"{model_id}'s long-context tier starts above {threshold:,} prompt tokens, which the "
            "report's context windows (0-200k, 200k-1M) do not show: requests between the two "
            "are priced at the standard tier here"
        )
    if LONG_CONTEXT_WINDOW in cell_windows and entry.long_context is None:
        c.hints.append(
            f"usage in the {LONG_CONTEXT_WINDOW} context window, priced at {model_id}'s "
            "standard rates (the catalogue has no long-context tier for it)"
        )


def _explain(
    c: ReconciliationCell, catalogue: Catalogue, geo_known: bool, windows: set[str]
) -> list[str]:
    """Where a difference beyond tolerance comes from, as far as the figures tell."""
    hints: list[str] = []
    diff = c.difference_usd or Decimal(0)
    if c.list_by_kind:
        kinds = set(c.list_by_kind) | set(c.catalogue_by_kind)
        gaps = {
            kind: c.list_by_kind.get(kind, Decimal(0)) - c.catalogue_by_kind.get(kind, Decimal(0))
            for kind in kinds
        }
        worst = max(sorted(gaps), key=lambda kind: abs(gaps[kind]))
        if gaps[worst]:
            hints.append(
                f"most of the difference is in {worst.replace('_', ' ')}: reported "
                f"${cents(c.list_by_kind.get(worst, Decimal(0)))}, catalogue "
                f"${cents(c.catalogue_by_kind.get(worst, Decimal(0)))}"
            )
    if c.catalogue_usd and not geo_known and catalogue.knows(c.model):
        entry = catalogue.models[catalogue.resolve(c.model)].price_on(c.day)
        geo = entry.inference_geo.get("us")
        token_cost = c.catalogue_usd - c.catalogue_by_kind.get("web_search", Decimal(0))
        if geo is not None and diff > 0 and diff <= token_cost * (geo - 1) * Decimal("1.001"):
            share = diff / (token_cost * (geo - 1)) * 100
            hints.append(
                f"the size of a US-only inference surcharge ({geo}x) on about "
                f"{share.quantize(Decimal(1))}% of the tokens: pull the inference_geo split"
            )
    if diff > 0 and not (windows - {""}) and catalogue.knows(c.model):
        entry = catalogue.models[catalogue.resolve(c.model)].price_on(c.day)
        if entry.long_context is not None:
            hints.append(
                "the usage is not split by context window: requests above "
                f"{entry.long_context.above_prompt_tokens:,} prompt tokens are billed at the "
                "long-context tier, priced here at the standard one"
            )
    return hints


def reconciliation_rows(result: Reconciliation) -> Sequence[dict[str, Any]]:
    """One plain dict per cell, money rounded to the cent: for renderers and exports."""
    rows = []
    for c in result.cells:
        rows.append(
            {
                "day": c.day.isoformat(),
                "model": c.model,
                "tier": c.tier,
                "requests": c.requests,
                "catalogue_usd": None if c.catalogue_usd is None else cents(c.catalogue_usd),
                "list_usd": None if c.list_usd is None else cents(c.list_usd),
                "amount_usd": None if c.amount_usd is None else cents(c.amount_usd),
                "difference_usd": None if c.difference_usd is None else cents(c.difference_usd),
                "effective_discount_pct": c.effective_discount_pct,
                "flags": c.flags,
                "unpriced": c.unpriced,
                "hints": list(c.hints),
            }
        )
    return rows
