"""The organisation's report summarised: what ``costmodel org summary`` and the dashboard's
Organisation page show. Pure: rows in (:mod:`costmodel.adapters.ingest.org`'s, as the store reads them
back), a result out.

Per model, service tier, workspace, API key or day:

- requests and tokens by kind, from the usage rows;
- ``reported_usd`` and ``reported_list_usd``: the report's own ``amount`` and ``list_amount``
  (cost rows are not grouped by API key, so ``--by api_key`` has none: they show as null);
- ``catalogue_list_usd``: the catalogue's list cost of the same usage, exactly, at each day's
  rates and each row's service tier (the ``200k-1M`` context window at the long-context tier).
  Tiers with no public price (``priority``, ``flex``, any new one) are counted in
  ``unpriced_requests`` and left out of it, never priced at $0;
- ``sync_requests`` and ``sync_as_batch_usd``: the synchronous part (the ``standard`` and
  ``priority`` tiers) and what the same tokens would cost through the Batches API;
- ``batch_requests``: what already went through the Batches API.

Money is exact until shown; each column is rounded to the cent with the largest-remainder
method (:func:`~costmodel.core.money.allocate_cents`), so the rows add up to the total shown.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from costmodel.core.catalogue import Catalogue
from costmodel.core.money import CENTS_PER_DOLLAR, allocate_cents, quantize_cents
from costmodel.core.reconcile import LONG_CONTEXT_WINDOW, TokenCounts, exact_cost
from costmodel.errors import CostModelError, UnknownModelError, UnpricedError

__all__ = ["SUMMARY_BY", "OrgSummary", "OrgSummaryRow", "org_summary"]

SUMMARY_BY: Final = ("model", "tier", "workspace", "api_key", "day")
SYNC_TIERS: Final = ("standard", "priority", "priority_on_demand")
TOKEN_FIELDS: Final = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
    "web_search_requests",
)
MONEY_FIELDS: Final = (
    "reported_usd",
    "reported_list_usd",
    "catalogue_list_usd",
    "sync_as_batch_usd",
)
_MISSING: Final = {
    "model": "(no model)",
    "tier": "(no tier)",
    "workspace": "(default workspace)",
    "api_key": "(no API key)",
}
_LABELS: Final = {
    "uncached_input_tokens": "Input",
    "output_tokens": "Output",
    "cache_creation_5m_input_tokens": "Cache write 5m",
    "cache_creation_1h_input_tokens": "Cache write 1h",
    "cache_read_input_tokens": "Cache read",
    "web_search_requests": "Web searches",
    "reported_usd": "Reported",
    "reported_list_usd": "Reported list",
    "catalogue_list_usd": "Catalogue list",
    "sync_as_batch_usd": "Sync through batch",
}


@dataclass
class OrgSummaryRow:
    key: str
    requests: int = 0
    sync_requests: int = 0
    batch_requests: int = 0
    unpriced_requests: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOKEN_FIELDS, 0))
    # Exact dollars; None where the report has no cost rows for the key.
    reported_usd: Decimal | None = None
    reported_list_usd: Decimal | None = None
    # None where none of the key's usage has a public price (never a $0 that means unknown).
    catalogue_list_usd: Decimal | None = None
    sync_as_batch_usd: Decimal | None = None

    @property
    def priced(self) -> bool:
        return self.unpriced_requests == 0


@dataclass(frozen=True)
class OrgSummary:
    by: str
    rows: tuple[OrgSummaryRow, ...]
    first_day: date | None
    last_day: date | None
    data_refreshed_at: datetime | None = None
    demo: bool = False
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        label = "Demo data: generated organisation report, not your usage. " if self.demo else ""
        return f"{label}Organisation usage and cost by {self.by.replace('_', ' ')} (USD)"

    def totals(self) -> OrgSummaryRow:
        total = OrgSummaryRow("Total")
        for row in self.rows:
            total.requests += row.requests
            total.sync_requests += row.sync_requests
            total.batch_requests += row.batch_requests
            total.unpriced_requests += row.unpriced_requests
            for name in TOKEN_FIELDS:
                total.tokens[name] += row.tokens[name]
            for name in MONEY_FIELDS:
                value = getattr(row, name)
                if value is not None:
                    setattr(total, name, (getattr(total, name) or Decimal(0)) + value)
        return total

    def shown(self) -> list[dict[str, Any]]:
        """Rows then the total, money rounded so that each column foots (None stays None)."""
        total = self.totals()
        columns: dict[str, list[Decimal | None]] = {}
        for name in MONEY_FIELDS:
            values = [getattr(r, name) for r in self.rows]
            present = [i for i, v in enumerate(values) if v is not None]
            rounded = allocate_cents([values[i] for i in present]) if present else []
            column: list[Decimal | None] = [None] * len(values)
            for i, value in zip(present, rounded, strict=True):
                column[i] = value
            exact_total = getattr(total, name)
            column.append(
                None if exact_total is None or not present else quantize_cents(exact_total)
            )
            columns[name] = column
        out = []
        for i, row in enumerate((*self.rows, total)):
            out.append(
                {
                    "key": row.key,
                    "requests": row.requests,
                    "sync_requests": row.sync_requests,
                    "batch_requests": row.batch_requests,
                    "unpriced_requests": row.unpriced_requests,
                    **row.tokens,
                    **{name: columns[name][i] for name in MONEY_FIELDS},
                    "priced": row.priced,
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        from costmodel.core.contract import SCHEMAS

        def plain(record: dict[str, Any]) -> dict[str, Any]:
            return {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}

        shown = [plain(r) for r in self.shown()]
        totals = shown.pop()
        totals.pop("key")
        totals.pop("priced")
        return {
            "schema": SCHEMAS["org_summary"],
            "by": self.by,
            "currency": "USD",
            "demo": self.demo,
            "period": {
                "first_day": None if self.first_day is None else self.first_day.isoformat(),
                "last_day": None if self.last_day is None else self.last_day.isoformat(),
            },
            "data_refreshed_at": None
            if self.data_refreshed_at is None
            else self.data_refreshed_at.isoformat(),
            "rows": shown,
            "totals": totals,
            "notes": list(self.notes),
        }

    def csv_frame(self) -> Any:
        import pandas as pd

        shown = self.shown()
        records = [
            {
                "row": self.by if i < len(shown) - 1 else "total",
                **{k: _cell(v) for k, v in r.items()},
            }
            for i, r in enumerate(shown)
        ]
        for record in records[-1:]:
            record["key"] = ""  # the total's line is told by ``row``, not a label
        return pd.DataFrame(records)

    def sections(self) -> list[Any]:
        import pandas as pd

        from costmodel.core.layouts import Section

        records = []
        for r in self.shown():
            records.append(
                {
                    self.by.replace("_", " ").capitalize(): r["key"],
                    "Requests": r["requests"],
                    "Sync": r["sync_requests"],
                    "Batch": r["batch_requests"],
                    **{_LABELS[n]: r[n] for n in TOKEN_FIELDS},
                    **{_LABELS[n]: _cell(r[n]) for n in MONEY_FIELDS},
                    "Unpriced requests": r["unpriced_requests"],
                }
            )
        frame = pd.DataFrame(records)
        return [
            Section(
                self.title,
                frame,
                money=tuple(_LABELS[n] for n in MONEY_FIELDS),
                counts=(
                    "Requests",
                    "Sync",
                    "Batch",
                    *(_LABELS[n] for n in TOKEN_FIELDS),
                    "Unpriced requests",
                ),
            )
        ]


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return math.nan if value is None else value


def _get(row: Any, name: str) -> Any:
    return getattr(row, name, None)


def _key(row: Any, by: str, catalogue: Catalogue) -> str:
    if by == "day":
        day: date = row.day
        return day.isoformat()
    if by == "model":
        model = _get(row, "model")
        if model and catalogue.knows(model):
            return catalogue.resolve(model)
        return model or _MISSING["model"]
    name = {"tier": "service_tier", "workspace": "workspace_id", "api_key": "api_key_id"}[by]
    return _get(row, name) or _MISSING[by]


def _add_usage(
    out: OrgSummaryRow, usage: Any, catalogue: Catalogue, unpriced: dict[str, int]
) -> None:
    """One usage row of the report added to its summary row: requests, tokens, and its
    catalogue cost in its own tier and (for a synchronous tier) through the Batches API; what
    cannot be priced is counted in ``unpriced`` by reason."""
    requests = int(usage.requests or 0)
    tier = usage.service_tier or "(no tier)"
    out.requests += requests
    for name in TOKEN_FIELDS:
        out.tokens[name] += int(getattr(usage, name))
    counts = TokenCounts(
        usage.uncached_input_tokens,
        usage.output_tokens,
        usage.cache_creation_5m_input_tokens,
        usage.cache_creation_1h_input_tokens,
        usage.cache_read_input_tokens,
        usage.web_search_requests,
    )
    model = usage.model or _MISSING["model"]
    # The 200k-1M window is billed at the long-context tier where the model has one; a
    # model without one bills it at its standard rates (as :mod:`costmodel.core.reconcile`).
    long_context = usage.context_window == LONG_CONTEXT_WINDOW and _has_long_tier(
        catalogue, model, usage.day
    )
    if tier == "batch":
        out.batch_requests += requests
    try:
        cost = exact_cost(
            catalogue, model, usage.day, tier, counts, long_context=long_context
        ).total
        out.catalogue_list_usd = (out.catalogue_list_usd or Decimal(0)) + cost
    except (UnpricedError, UnknownModelError) as exc:
        out.unpriced_requests += requests
        unpriced[_reason(exc, model, tier)] += requests
    if tier in SYNC_TIERS:
        out.sync_requests += requests
        try:
            cost = exact_cost(
                catalogue, model, usage.day, "batch", counts, long_context=long_context
            ).total
            out.sync_as_batch_usd = (out.sync_as_batch_usd or Decimal(0)) + cost
        except (UnpricedError, UnknownModelError) as exc:
            unpriced[f"{_reason(exc, model, 'batch')} (its batch price)"] += requests


def org_summary(
    usage_rows: Iterable[Any],
    cost_rows: Iterable[Any],
    catalogue: Catalogue,
    *,
    by: str = "model",
    data_refreshed_at: datetime | None = None,
    demo: bool = False,
    geo_rows: Iterable[Any] = (),
) -> OrgSummary:
    """Summarise the report's rows by ``by`` (see the module docstring)."""
    if by not in SUMMARY_BY:
        raise CostModelError(f"by: got {by!r}; expected one of {', '.join(SUMMARY_BY)}")
    rows: dict[str, OrgSummaryRow] = {}
    geo_rows = list(geo_rows)
    days: set[date] = set()
    unpriced: dict[str, int] = defaultdict(int)

    def row_for(key: str) -> OrgSummaryRow:
        if key not in rows:
            rows[key] = OrgSummaryRow(key)
        return rows[key]

    for usage in usage_rows:
        days.add(usage.day)
        _add_usage(row_for(_key(usage, by, catalogue)), usage, catalogue, unpriced)
    geo_by_key = by != "api_key"
    for geo in geo_rows:
        if not geo_by_key or (geo.inference_geo or "") != "us":
            continue
        if geo.service_tier not in ("standard", "batch"):
            continue  # a tier with no public price has no catalogue cost to add to
        out = row_for(_key(geo, by, catalogue))
        if out.catalogue_list_usd is None:
            continue  # nothing of this key is priced: no surcharge to add to
        try:
            out.catalogue_list_usd += _us_surcharge(catalogue, geo)
        except (UnpricedError, UnknownModelError):
            continue  # the usage row already counted it as unpriced
    cost_by_key = by != "api_key"
    for cost in cost_rows:
        days.add(cost.day)
        if not cost_by_key:
            continue
        out = row_for(_key(cost, by, catalogue))
        out.reported_usd = (out.reported_usd or Decimal(0)) + (
            Decimal(cost.amount_cents) / CENTS_PER_DOLLAR
        )
        out.reported_list_usd = (out.reported_list_usd or Decimal(0)) + (
            Decimal(cost.list_amount_cents) / CENTS_PER_DOLLAR
        )
    geo_note = (
        "with the US-only surcharge from the report's inference-geo query"
        if geo_rows and geo_by_key
        else "at global rates (no inference-geo split for this grouping)"
    )
    notes = [
        "Catalogue list is the catalogue's price of the reported usage at each day's rates and "
        f"service tier, {geo_note}; Sync through batch is the standard and priority usage at "
        "Batches API rates, at global rates."
    ]
    if not cost_by_key:
        notes.append(
            "The cost report is not grouped by API key, so reported amounts are shown by "
            "model, tier, workspace or day only."
        )
    for reason, requests in sorted(unpriced.items()):
        notes.append(f"Unpriced ({requests:,} requests): {reason}.")
    ordered = sorted(rows.values(), key=lambda r: r.key)
    return OrgSummary(
        by,
        tuple(ordered),
        min(days) if days else None,
        max(days) if days else None,
        data_refreshed_at,
        demo,
        tuple(notes),
    )


def _has_long_tier(catalogue: Catalogue, model: str, day: date) -> bool:
    if not catalogue.knows(model):
        return False
    try:
        entry = catalogue.models[catalogue.resolve(model)].price_on(day)
    except UnpricedError:
        return False
    return entry.long_context is not None


def _us_surcharge(catalogue: Catalogue, geo: Any) -> Decimal:
    """What the US-only multiplier adds to a geo row's tokens (standard band: the geo query
    does not split by context window), as :mod:`costmodel.core.reconcile` prices it."""
    model = geo.model or _MISSING["model"]
    counts = TokenCounts(
        geo.uncached_input_tokens,
        geo.output_tokens,
        geo.cache_creation_5m_input_tokens,
        geo.cache_creation_1h_input_tokens,
        geo.cache_read_input_tokens,
        0,  # web searches carry no geo multiplier
    )
    tier = geo.service_tier
    us = exact_cost(catalogue, model, geo.day, tier, counts, inference_geo="us").total
    plain = exact_cost(catalogue, model, geo.day, tier, counts).total
    return us - plain


def _reason(exc: Exception, model: str, tier: str) -> str:
    from costmodel.core.reconcile import PRICED_TIERS

    if tier not in PRICED_TIERS:
        return f"the {tier!r} service tier has no public price"
    if isinstance(exc, UnknownModelError):
        return f"{model} is not in the catalogue"
    # One note per cause, not per day: the day is left out of the message.
    return re.sub(r" on \d{4}-\d{2}-\d{2}", "", str(exc))


def summary_rows_for_chart(summary: OrgSummary) -> Sequence[dict[str, Any]]:
    """The shown rows without the total, for the dashboard's charts."""
    return summary.shown()[:-1]


def request_mix(summary: OrgSummary) -> dict[str, int]:
    """Requests by how they were served: synchronously (standard, priority), through the
    Batches API, and any other tier (flex, new ones), for the sync-against-batch chart."""
    total = summary.totals()
    return {
        "Synchronous": total.sync_requests,
        "Batch": total.batch_requests,
        "Other tiers": total.requests - total.sync_requests - total.batch_requests,
    }
