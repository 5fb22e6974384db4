"""A synthetic organisation report in the Usage and Cost Analytics API's wire format.

For the loopback API the tests run the SDK against, and for the dashboard's demo data. The
report is held as *facts*: one per day and combination of every dimension the pull groups by
(model, service tier, workspace, API key, context window, inference geo, speed), each with its
token counts and its cost per token type in fractional cents. :func:`usage_rows` and
:func:`cost_rows` aggregate the facts as the API does for a query (``group_by[]``, a time
bucket, filters) into the JSON rows it sends, so any query the pull makes has an answer that
adds up to the same totals.

List amounts are the catalogue's list prices computed exactly (:func:`costmodel.core.reconcile.exact_cost`);
``amount`` is the list amount less a seeded discount, kept in fractional cents. Tiers with no
public price get the standard list price, as a stand-in. Everything is seeded.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.ingest.org import DIMENSIONS
from costmodel.core.catalogue import Catalogue
from costmodel.core.reconcile import API_TOKEN_TYPES, TokenCounts, exact_cost

if TYPE_CHECKING:
    from costmodel.adapters.ingest.org import OrgReport

__all__ = [
    "COST_DIMENSIONS",
    "USAGE_DIMENSIONS",
    "OrgFact",
    "cost_rows",
    "demo_org_report",
    "fact_cost",
    "generate_org_report",
    "iso",
    "usage_rows",
]

USAGE_DIMENSIONS: Final = DIMENSIONS
COST_DIMENSIONS: Final = (*USAGE_DIMENSIONS, "cost_type", "token_type")
_COUNT_FIELDS: Final = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cache_read_input_tokens",
)

# (workspace, api keys, models with their share, tier mix): a support product, an analytics
# pipeline that already batches part of its work, and a back office.
_WORKSPACES: Final = (
    (
        "wrkspc_01SupportLiveChat",
        ("apikey_01chatweb", "apikey_01chatmobile"),
        (("claude-sonnet-4-5-20250929", 0.7), ("claude-haiku-4-5-20251001", 0.3)),
        (("standard", 0.9), ("priority", 0.1)),
    ),
    (
        "wrkspc_01Analytics",
        ("apikey_01nightly", "apikey_01enrich"),
        (("claude-sonnet-4-5-20250929", 0.5), ("claude-opus-4-6", 0.5)),
        (("standard", 0.6), ("batch", 0.4)),
    ),
    (
        "wrkspc_01BackOffice",
        ("apikey_01invoices",),
        (("claude-haiku-4-5-20251001", 1.0),),
        (("standard", 1.0),),
    ),
)


@dataclass(frozen=True)
class OrgFact:
    """One day x every dimension: counts, and cost per token type in fractional cents."""

    day: date
    model: str | None
    service_tier: str | None
    workspace_id: str | None
    api_key_id: str | None
    context_window: str | None
    inference_geo: str | None
    speed: str | None
    requests: int
    uncached_input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    web_search_requests: int = 0
    # token_type (the API's names) or "web_search" -> (list_amount, amount) in fractional cents
    cost_cents: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def dimension(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _buckets(start: datetime, end: datetime, width: str | None) -> list[tuple[datetime, datetime]]:
    if width is None:
        return [(start, end)]
    step = {"1d": timedelta(days=1), "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}[width]
    out, moment = [], start
    while moment < end:
        out.append((moment, min(moment + step, end)))
        moment += step
    return out


def _selected(
    facts: Iterable[OrgFact], start: datetime, end: datetime, filters: Mapping[str, Sequence[str]]
) -> list[OrgFact]:
    out = []
    for fact in facts:
        moment = _midnight(fact.day)
        if not (start <= moment < end):
            continue
        if all(not allowed or fact.dimension(name) in allowed for name, allowed in filters.items()):
            out.append(fact)
    return out


def _group(dims: Sequence[str], fact: OrgFact) -> dict[str, Any]:
    group: dict[str, Any] = dict.fromkeys(USAGE_DIMENSIONS)
    for name in dims:
        if name in USAGE_DIMENSIONS:
            group[name] = fact.dimension(name)
    return group


def usage_rows(
    facts: Iterable[OrgFact],
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[str] = (),
    bucket: str | None = "1d",
    filters: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """The usage endpoint's rows for a query, in time order (daily facts; ``1d`` buckets)."""
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * 7)
    groups: dict[tuple[Any, ...], tuple[datetime, datetime, dict[str, Any]]] = {}
    for bucket_start, bucket_end in _buckets(start, end, bucket):
        for fact in _selected(facts, bucket_start, bucket_end, filters or {}):
            group = _group(group_by, fact)
            key = (bucket_start, *group.values())
            groups[key] = (bucket_start, bucket_end, group)
            totals = sums[key]
            for i, name in enumerate(_COUNT_FIELDS):
                totals[i] += getattr(fact, name)
            totals[5] += fact.web_search_requests
            totals[6] += fact.requests
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], *(str(v) for v in k[1:]))):
        bucket_start, bucket_end, group = groups[key]
        t = sums[key]
        rows.append(
            {
                "starting_at": iso(bucket_start),
                "ending_at": iso(bucket_end),
                "group": group,
                "usage": {
                    "uncached_input_tokens": t[0],
                    "output_tokens": t[1],
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": t[2],
                        "ephemeral_1h_input_tokens": t[3],
                    },
                    "cache_read_input_tokens": t[4],
                    "server_tool_use": {"web_search_requests": t[5]},
                    "total_tokens": sum(t[:5]),
                    "requests": t[6],
                },
            }
        )
    return rows


def _amount_text(value: Decimal) -> str:
    # Fractional cents as the API writes them: a plain decimal string, never an exponent.
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def cost_rows(
    facts: Iterable[OrgFact],
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[str] = (),
    bucket: str | None = "1d",
    filters: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """The cost endpoint's rows for a query: amounts as fractional-cent strings."""
    by_token = "token_type" in group_by
    by_type = "cost_type" in group_by
    sums: dict[tuple[Any, ...], list[Any]] = {}
    groups: dict[tuple[Any, ...], tuple[datetime, datetime, dict[str, Any]]] = {}
    for bucket_start, bucket_end in _buckets(start, end, bucket):
        for fact in _selected(facts, bucket_start, bucket_end, filters or {}):
            base = _group(group_by, fact)
            for component, (listed, amount) in fact.cost_cents.items():
                cost_type = "web_search" if component == "web_search" else "tokens"
                group = {**base, "cost_type": None, "token_type": None}
                if by_token and cost_type == "tokens":
                    group["cost_type"], group["token_type"] = "tokens", component
                elif by_type or by_token:
                    group["cost_type"] = cost_type
                key = (bucket_start, *(str(v) for v in group.values()))
                groups[key] = (bucket_start, bucket_end, group)
                totals = sums.setdefault(key, [Decimal(0), Decimal(0), 0, set()])
                totals[0] += listed
                totals[1] += amount
                if id(fact) not in totals[3]:
                    totals[3].add(id(fact))
                    totals[2] += fact.requests
    rows = []
    for key in sorted(groups):
        bucket_start, bucket_end, group = groups[key]
        listed, amount, requests, _ = sums[key]
        rows.append(
            {
                "starting_at": iso(bucket_start),
                "ending_at": iso(bucket_end),
                "group": group,
                "cost": {
                    "amount": _amount_text(amount),
                    "list_amount": _amount_text(listed),
                    "currency": "USD",
                    # Not attributable per component, as the API says.
                    "requests": None if (by_token or by_type) else requests,
                },
            }
        )
    return rows


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def fact_cost(
    catalogue: Catalogue,
    day: date,
    model: str,
    tier: str,
    counts: TokenCounts,
    *,
    long_context: bool,
    inference_geo: str,
    discount: Decimal,
) -> dict[str, tuple[Decimal, Decimal]]:
    """List amount and amount per token type, in cents, at the catalogue's list prices."""
    priced_tier = tier if tier in ("standard", "batch") else "standard"
    entry = catalogue.models[catalogue.resolve(model)].price_on(day)
    band = long_context and entry.long_context is not None
    cost = exact_cost(
        catalogue, model, day, priced_tier, counts, long_context=band, inference_geo=inference_geo
    )
    out: dict[str, tuple[Decimal, Decimal]] = {}
    kinds = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    for kind, token_type in zip(kinds, API_TOKEN_TYPES, strict=True):
        listed = cost.by_kind[kind] * 100
        if listed:
            out[token_type] = (listed, listed * (1 - discount))
    if cost.by_kind["web_search"]:
        listed = cost.by_kind["web_search"] * 100
        out["web_search"] = (listed, listed * (1 - discount))
    return out


def generate_org_report(
    *,
    since: date,
    days: int,
    seed: int = 7,
    catalogue: Catalogue | None = None,
    discount: Decimal = Decimal("0.1"),
    requests_per_day: int = 400,
) -> list[OrgFact]:
    """A seeded month (or any span) of an organisation's usage and cost, as facts.

    Three workspaces with their API keys and models; mostly synchronous traffic, some priority,
    some already batched; a little long-context and US-only usage on the models that have
    those rates; cache reads and writes; a few web searches.
    """
    catalogue = catalogue or bundled_catalogue()
    rng = random.Random(seed)
    facts: list[OrgFact] = []
    for offset in range(days):
        day = since + timedelta(days=offset)
        weekend = day.weekday() >= 5
        for workspace, keys, models, tiers in _WORKSPACES:
            for key in keys:
                cells: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0] * 7)
                n = int(requests_per_day * (0.4 if weekend else 1.0) * rng.uniform(0.7, 1.3))
                for _ in range(max(1, n // 20)):  # requests arrive in groups of 20
                    model = _pick(rng, models)
                    tier = _pick(rng, tiers)
                    entry = catalogue.models[catalogue.resolve(model)].price_on(day)
                    long = entry.long_context is not None and rng.random() < 0.05
                    geo = "us" if entry.inference_geo.get("us") and rng.random() < 0.2 else "global"
                    window = "200k-1M" if long else "0-200k"
                    prompt = rng.randint(210_000, 400_000) if long else rng.randint(800, 12_000)
                    cached = rng.random() < 0.5
                    read = int(prompt * 0.6) if cached else 0
                    write = int(prompt * 0.1) if cached else 0
                    totals = cells[(model, tier, window, geo)]
                    totals[0] += 20 * (prompt - read - write)
                    totals[1] += 20 * rng.randint(100, 1_500)
                    totals[2] += 20 * write
                    totals[4] += 20 * read
                    totals[5] += 20 if (entry.web_search_per_1k and rng.random() < 0.05) else 0
                    totals[6] += 20
                for (model, tier, window, geo), t in sorted(cells.items()):
                    counts = TokenCounts(t[0], t[1], t[2], t[3], t[4], t[5])
                    facts.append(
                        OrgFact(
                            day=day,
                            model=model,
                            service_tier=tier,
                            workspace_id=workspace,
                            api_key_id=key,
                            context_window=window,
                            inference_geo=geo,
                            speed="standard",
                            requests=t[6],
                            uncached_input_tokens=t[0],
                            output_tokens=t[1],
                            cache_creation_5m_input_tokens=t[2],
                            cache_creation_1h_input_tokens=t[3],
                            cache_read_input_tokens=t[4],
                            web_search_requests=t[5],
                            cost_cents=fact_cost(
                                catalogue,
                                day,
                                model,
                                tier,
                                counts,
                                long_context=window == "200k-1M",
                                inference_geo=geo,
                                discount=discount,
                            ),
                        )
                    )
    return facts


def demo_org_report(
    facts: Sequence[OrgFact], *, since: date, until: date, refreshed_at: datetime | None = None
) -> OrgReport:
    """The report a pull of ``since`` to ``until`` would return, without a server: the same
    queries (:data:`~costmodel.adapters.ingest.org.USAGE_GROUP_BY` and the others, daily buckets, 31-day
    windows) answered from ``facts`` and read by the same row parsers. For the demo store."""
    from costmodel.adapters.ingest.org import (
        COST_GROUP_BY,
        GEO_GROUP_BY,
        USAGE_GROUP_BY,
        OrgReport,
        cost_row,
        plan_windows,
        usage_row,
    )

    # The pull's own checks, with the last day of the data as "today".
    windows = plan_windows(since, until, today=until + timedelta(days=1))
    report = OrgReport(since=since, until=until, windows=windows, data_refreshed_at=refreshed_at)
    for start, end in windows:
        report.usage += [
            usage_row(r) for r in usage_rows(facts, start=start, end=end, group_by=USAGE_GROUP_BY)
        ]
        report.geo_usage += [
            usage_row(r) for r in usage_rows(facts, start=start, end=end, group_by=GEO_GROUP_BY)
        ]
        report.cost += [
            cost_row(r) for r in cost_rows(facts, start=start, end=end, group_by=COST_GROUP_BY)
        ]
    return report
