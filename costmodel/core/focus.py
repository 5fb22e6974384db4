"""Usage as rows of the FinOps Open Cost and Usage Specification (FOCUS 1.2 and 1.3).

One row per day x model x token kind x price (the tier, the long-context band, the inference
geo and fast mode each have their own unit price) x job (batch results) or workspace (the
organisation report). Money is exact ``Decimal`` from end to end: nothing here is rounded, so
the rows add up to the exact total and that total, rounded once, is what ``usage summary`` and
``org summary`` show.

- ``source="batches"``: the stored Message Batches results, priced with the same engine as
  ``usage summary`` (:meth:`costmodel.core.pricing.PricedUsage.cost_lines`). ListCost is the
  catalogue's list price, ContractedCost, EffectiveCost and BilledCost the contracted price (the
  list price when no price file applies); the unit prices are the rates with every modifier
  folded in, so unit price x PricingQuantity equals the cost exactly. Usage the catalogue cannot
  price is left out and returned as a note, as the summary leaves it out of its totals.
- ``source="org"``: the organisation's report. BilledCost, EffectiveCost and ContractedCost are
  the report's ``amount`` and ListCost its ``list_amount``, per cost cell (day, model, tier,
  workspace, context window, token kind, summed over the inference geo), so they add up to
  ``org summary``'s *Reported* and *Reported list* exactly. The report gives amounts, not
  rates: the unit prices are those amounts divided by the quantity, to 18 decimal places (their
  product is within 1e-18 x PricingQuantity of the cost). A cost cell without usage is an
  ``Adjustment`` row with no quantity; usage without a cost cell is billed 0, and both are
  returned as notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any, Final

from costmodel.core.catalogue import Catalogue
from costmodel.errors import CostModelError

__all__ = [
    "COLUMNS",
    "FOCUS_VERSIONS",
    "FocusExport",
    "FocusRow",
    "check_version",
    "columns_for",
    "focus_from_batches",
    "focus_from_org",
    "month_bounds",
]

FOCUS_VERSIONS: Final = ("1.2", "1.3")
PROVIDER: Final = "Anthropic"
SERVICE_NAME: Final = "Claude API"
SERVICE_CATEGORY: Final = "AI and Machine Learning"
SERVICE_SUBCATEGORY: Final = "Generative AI"
# Decimal places kept in the files: every batch cost is exact well within this (tokens / 1e6 x
# a catalogue rate x the tier, geo, speed and contract factors); an amount that is not is
# refused rather than rounded.
SCALE: Final = 18
_QUANTUM: Final = Decimal(1).scaleb(-SCALE)

# Column order of the export. 1.3 adds ServiceProviderName and HostProviderName and keeps
# ProviderName and PublisherName (deprecated in 1.3, removed in 1.4).
_COMMON: Final = (
    "BilledCost",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedUnitPrice",
    "InvoiceIssuerName",
    "ListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceSubcategory",
    "ServiceName",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_ServiceTier",
)
COLUMNS: Final = {
    "1.2": _COMMON,
    "1.3": (*_COMMON[:24], "ServiceProviderName", "HostProviderName", *_COMMON[24:]),
}
MONEY_COLUMNS: Final = (
    "BilledCost",
    "ContractedCost",
    "EffectiveCost",
    "ListCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
)
QUANTITY_COLUMNS: Final = ("PricingQuantity", "ConsumedQuantity")
DATETIME_COLUMNS: Final = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)

# Token kinds: the pricing engine's components and the report's token types, as SKU meters.
_METERS: Final = {
    "input": "Input Tokens",
    "output": "Output Tokens",
    "cache_write_5m": "Cache Write Input Tokens (5 minutes)",
    "cache_write_1h": "Cache Write Input Tokens (1 hour)",
    "cache_read": "Cache Read Input Tokens",
    "web_search": "Web Searches",
}
# The report's token types (cost rows) and usage fields, by the engine's component names.
_ORG_TOKEN_TYPES: Final = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
    "cache_read_input_tokens": "cache_read",
}
_ORG_USAGE_FIELDS: Final = {
    "input": "uncached_input_tokens",
    "output": "output_tokens",
    "cache_write_5m": "cache_creation_5m_input_tokens",
    "cache_write_1h": "cache_creation_1h_input_tokens",
    "cache_read": "cache_read_input_tokens",
    "web_search": "web_search_requests",
}
_PER: Final = {"tokens": Decimal(1_000_000), "searches": Decimal(1_000)}


def check_version(version: str) -> str:
    """The FOCUS version if this tool writes it; otherwise a one-line error naming the known ones."""
    if version not in FOCUS_VERSIONS:
        raise CostModelError(
            f"--focus-version: FOCUS {version!r} is not one this tool writes; "
            f"known versions: {', '.join(FOCUS_VERSIONS)}"
        )
    return version


def columns_for(version: str) -> tuple[str, ...]:
    return tuple(COLUMNS[check_version(version)])


def month_bounds(day: date) -> tuple[date, date]:
    """The calendar month holding ``day``: its first day and the first day of the next."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


@dataclass(frozen=True)
class FocusRow:
    """One charge: a day's usage of one SKU price (model, token kind, tier, band) by one job
    or workspace. Money in USD, exact; ``pricing_quantity`` is None only for an adjustment."""

    day: date
    model: str
    kind: str  # input, output, cache_write_5m, cache_write_1h, cache_read, web_search
    tier: str
    price_key: str  # what else sets the unit price: "price-from 2025-09-29", "long-context"...
    consumed: int | None  # tokens or searches
    list_cost: Decimal
    contracted_cost: Decimal
    billed_cost: Decimal
    list_unit_price: Decimal | None
    contracted_unit_price: Decimal | None
    workspace: str | None = None
    job: str | None = None
    category: str = "Usage"

    @property
    def unit(self) -> str:
        return "searches" if self.kind == "web_search" else "tokens"

    @property
    def pricing_quantity(self) -> Decimal | None:
        if self.consumed is None:
            return None
        return Decimal(self.consumed) / _PER[self.unit]

    @property
    def sku_id(self) -> str:
        return f"anthropic/{self.model}/{self.kind}/{self.tier}"

    @property
    def sku_price_id(self) -> str:
        return f"{self.sku_id}/{self.price_key}"


@dataclass(frozen=True)
class FocusExport:
    """The rows of one export and what they leave out or assume (notes for stderr)."""

    rows: tuple[FocusRow, ...]
    source: str
    since: date | None
    until: date | None  # exclusive
    notes: tuple[str, ...] = ()

    def total(self, column: str = "BilledCost") -> Decimal:
        """The exact sum of a money column over the rows."""
        name = {
            "BilledCost": "billed_cost",
            "EffectiveCost": "billed_cost",
            "ContractedCost": "contracted_cost",
            "ListCost": "list_cost",
        }[column]
        return sum((getattr(row, name) for row in self.rows), Decimal(0))

    def records(
        self,
        version: str,
        *,
        billing_account_id: str,
        billing_account_name: str,
        currency: str = "USD",
    ) -> Iterator[dict[str, Any]]:
        """The rows as FOCUS records: Decimals for money and quantities, aware UTC datetimes."""
        columns = columns_for(version)
        for row in self.rows:
            period_start, period_end = month_bounds(row.day)
            quantity = row.pricing_quantity
            meter = _METERS.get(row.kind, row.kind)
            record: dict[str, Any] = {
                "BilledCost": _exact(row.billed_cost, "BilledCost"),
                "ContractedCost": _exact(row.contracted_cost, "ContractedCost"),
                "EffectiveCost": _exact(row.billed_cost, "EffectiveCost"),
                "ListCost": _exact(row.list_cost, "ListCost"),
                "BillingAccountId": billing_account_id,
                "BillingAccountName": billing_account_name,
                "BillingCurrency": currency,
                "BillingPeriodStart": _midnight(period_start),
                "BillingPeriodEnd": _midnight(period_end),
                "ChargePeriodStart": _midnight(row.day),
                "ChargePeriodEnd": _midnight(row.day + timedelta(days=1)),
                "ChargeCategory": row.category,
                "ChargeClass": None,
                "ChargeDescription": _description(row, meter),
                "ChargeFrequency": "Usage-Based",
                "ConsumedQuantity": None if row.consumed is None else Decimal(row.consumed),
                "ConsumedUnit": None if row.consumed is None else row.unit.capitalize(),
                "ContractedUnitPrice": _unit_price(row.contracted_unit_price),
                "InvoiceIssuerName": PROVIDER,
                "ListUnitPrice": _unit_price(row.list_unit_price),
                "PricingQuantity": quantity,
                "PricingUnit": None
                if quantity is None
                else ("1000 Searches" if row.unit == "searches" else "1000000 Tokens"),
                "ProviderName": PROVIDER,
                "PublisherName": PROVIDER,
                "ServiceProviderName": PROVIDER,
                "HostProviderName": PROVIDER,
                "ServiceCategory": SERVICE_CATEGORY,
                "ServiceSubcategory": SERVICE_SUBCATEGORY,
                "ServiceName": SERVICE_NAME,
                "SkuId": row.sku_id,
                "SkuMeter": meter,
                "SkuPriceDetails": json.dumps(
                    {"x_Model": row.model, "x_TokenKind": row.kind, "x_ServiceTier": row.tier},
                    sort_keys=True,
                ),
                "SkuPriceId": row.sku_price_id,
                "SubAccountId": row.workspace,
                "SubAccountName": row.workspace,
                "Tags": None if row.job is None else json.dumps({"job": row.job}),
                "x_ServiceTier": row.tier,
            }
            yield {name: record[name] for name in columns}


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _description(row: FocusRow, meter: str) -> str:
    text = f"{row.model} {meter.lower()}, {row.tier} tier"
    if row.category == "Adjustment":
        text += " (cost reported without usage)"
    return text


def _exact(value: Decimal, what: str) -> Decimal:
    """``value`` at the file's scale; an amount finer than that is refused, never rounded."""
    quantized = value.quantize(_QUANTUM)
    if quantized != value:
        raise CostModelError(
            f"{what}: {value} has more than {SCALE} decimal places; it cannot be written exactly"
        )
    return quantized


def _unit_price(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_QUANTUM)


# -- batch results --------------------------------------------------------------------------------
_SEP: Final = "\x1f"  # joins day and job into one group label for cost_lines


def focus_from_batches(
    store: Any,
    catalogue: Catalogue,
    *,
    since: date | None = None,
    until: date | None = None,
    jobs: Any = None,
) -> FocusExport:
    """FOCUS rows of the stored batch results used from ``since`` to ``until`` (exclusive).

    Priced as :func:`costmodel.core.measured.usage_summary` prices them (same engine, same
    catalogue), per day and job; usage the catalogue cannot price is left out, with a note.
    """
    import numpy as np

    from costmodel.core.jobs import JobRule
    from costmodel.core.pricing import price_usage

    rule = jobs if jobs is not None else JobRule()
    sums: dict[tuple[Any, ...], list[Any]] = {}
    unpriced: dict[str, int] = {}
    with localcontext() as context:
        context.prec = 60
        for chunk in store.iter_usage_frames(since, until, jobs=rule):
            if chunk.empty:
                continue
            models = chunk["model"].astype(str)
            known = np.array(
                [_priced_on(catalogue, m, d) for m, d in zip(models, chunk["date"], strict=True)],
                dtype=bool,
            )
            for model in models[~known]:
                unpriced[model] = unpriced.get(model, 0) + 1
            priced = chunk.loc[known]
            if priced.empty:
                continue
            groups = [
                f"{day.isoformat()}{_SEP}{job}"
                for day, job in zip(_days(priced["date"]), priced["key"].astype(str), strict=True)
            ]
            lines = price_usage(priced, catalogue, validate=False).cost_lines(groups)
            for line in lines.itertuples(index=False):
                if line.component not in _METERS:
                    continue  # code execution: measured usage has no container-hours
                day_text, job = str(line.group).split(_SEP, 1)
                key = (
                    date.fromisoformat(day_text),
                    job,
                    line.model_id,
                    line.component,
                    line.tier,
                    _price_key(line),
                )
                entry = sums.setdefault(key, [Decimal(0), Decimal(0), Decimal(0), line.rate])
                entry[0] += Decimal(str(line.quantity))
                entry[1] += line.cost
                entry[2] += line.cost_contracted
        rows = []
        for (day, job, model, kind, tier, price_key), (quantity, cost, contracted, rate) in sorted(
            sums.items()
        ):
            if quantity == 0:
                continue  # no tokens of this kind: no charge, no row
            factor = contracted / cost if cost else Decimal(1)
            consumed = int(quantity)
            rows.append(
                FocusRow(
                    day=day,
                    model=model,
                    kind=kind,
                    tier=tier,
                    price_key=price_key,
                    consumed=consumed,
                    list_cost=cost,
                    contracted_cost=contracted,
                    billed_cost=contracted,
                    list_unit_price=rate,
                    contracted_unit_price=rate * factor,
                    job=job,
                )
            )
    notes = []
    if unpriced:
        listed = ", ".join(f"{m} ({n:,} requests)" for m, n in sorted(unpriced.items()))
        notes.append(f"left out, as usage summary leaves them out of its totals: {listed}")
    return FocusExport(tuple(rows), "batches", since, until, tuple(notes))


def _priced_on(catalogue: Catalogue, model: str, day: Any) -> bool:
    if not catalogue.knows(model):
        return False
    prices = catalogue.model(model).prices
    return bool(prices) and _as_date(day) >= prices[0].effective_from


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _days(values: Iterable[Any]) -> list[date]:
    return [_as_date(v) for v in values]


def _price_key(line: Any) -> str:
    parts = [f"from-{line.price_from}"]
    if line.long_context:
        parts.append("long-context")
    if line.inference_geo != "global":
        parts.append(f"geo-{line.inference_geo}")
    if line.speed != "standard":
        parts.append(f"speed-{line.speed}")
    return "/".join(parts)


# -- the organisation report ----------------------------------------------------------------------
def focus_from_org(
    usage_rows: Iterable[Any], cost_rows: Iterable[Any], catalogue: Catalogue
) -> FocusExport:
    """FOCUS rows of the organisation report's rows (as :func:`costmodel.adapters.org_store.read_report`
    gives them): the report's own amounts, per cost cell (see the module docstring)."""
    from costmodel.core.reconcile import LONG_CONTEXT_WINDOW

    def cell_of(row: Any, kind: str) -> tuple[Any, ...]:
        model = row.model or "(no model)"
        if model and catalogue.knows(model):
            model = catalogue.resolve(model)
        band = "long-context" if row.context_window == LONG_CONTEXT_WINDOW else "standard-context"
        return (row.day, model, kind, row.service_tier or "(no tier)", band, row.workspace_id)

    consumed: dict[tuple[Any, ...], int] = {}
    for usage in usage_rows:
        for kind, name in _ORG_USAGE_FIELDS.items():
            tokens = int(getattr(usage, name) or 0)
            if tokens:
                cell = cell_of(usage, kind)
                consumed[cell] = consumed.get(cell, 0) + tokens
    money: dict[tuple[Any, ...], tuple[Decimal, Decimal]] = {}
    for cost in cost_rows:
        kind = _org_kind(cost.cost_type, cost.token_type)
        cell = cell_of(cost, kind)
        amount, listed = money.get(cell, (Decimal(0), Decimal(0)))
        money[cell] = (amount + cost.amount_cents / 100, listed + cost.list_amount_cents / 100)
    rows = []
    without_cost = 0
    without_usage = 0
    for cell in sorted(set(consumed) | set(money), key=_sort_key):
        day, model, kind, tier, band, workspace = cell
        amount, listed = money.get(cell, (Decimal(0), Decimal(0)))
        count: int | None = consumed.get(cell)
        if cell not in money:
            without_cost += 1
        if count is None:
            without_usage += 1
        quantity = None if count is None else Decimal(count) / _PER[_unit_of(kind)]
        rows.append(
            FocusRow(
                day=day,
                model=model,
                kind=kind,
                tier=tier,
                price_key=band,
                consumed=count,
                list_cost=listed,
                contracted_cost=amount,
                billed_cost=amount,
                list_unit_price=None if quantity is None else _divide(listed, quantity),
                contracted_unit_price=None if quantity is None else _divide(amount, quantity),
                workspace=workspace,
                category="Usage" if count is not None else "Adjustment",
            )
        )
    notes = []
    if without_cost:
        notes.append(
            f"{without_cost:,} usage cells have no cost rows in the report: written with a "
            "BilledCost of 0, as the report bills them"
        )
    if without_usage:
        notes.append(
            f"{without_usage:,} cost cells have no usage rows in the report: written as "
            "Adjustment rows without a quantity"
        )
    return FocusExport(tuple(rows), "org", None, None, tuple(notes))


def _org_kind(cost_type: str | None, token_type: str | None) -> str:
    if token_type in _ORG_TOKEN_TYPES:
        return _ORG_TOKEN_TYPES[token_type]
    if cost_type and cost_type != "tokens":
        return cost_type  # web_search, or a cost type the report adds later
    return token_type or "tokens"


def _unit_of(kind: str) -> str:
    return "searches" if kind == "web_search" else "tokens"


def _sort_key(cell: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple("" if part is None else part for part in cell)


def _divide(amount: Decimal, quantity: Decimal) -> Decimal:
    if quantity == 0:
        return Decimal(0)
    with localcontext() as context:
        context.prec = 60
        return (amount / quantity).quantize(_QUANTUM)


def rows_by_version(
    export: FocusExport, versions: Sequence[str], **kwargs: Any
) -> Mapping[str, list[dict[str, Any]]]:
    """The records of ``export`` for several versions (tests compare them)."""
    return {v: list(export.records(v, **kwargs)) for v in versions}
