"""Pull the organisation's usage and cost from the Usage and Cost Analytics API (beta).

The only new module that imports ``anthropic`` for the analytics endpoints (lazily, inside the
functions that talk to the API). It reads ``client.beta.organization.analytics.usage.list``
and ``.cost.list`` (GET ``/v1/organizations/analytics/usage`` and ``/cost``; the SDK adds the
``analytics-usage-cost-2026-08-24`` beta header itself) and hands back typed rows: exact
integers for token counts, :class:`~decimal.Decimal` fractional cents for amounts.

- **Credentials**: an Admin API key, or a key with the ``read:analytics`` scope, from
  ``ANTHROPIC_ADMIN_KEY`` only (:func:`admin_client`); it is passed to the SDK explicitly, so
  no other credential is picked up, and it is scrubbed from every message raised here.
- **Ranges**: the API answers at most 31 days a query, from 2026-01-01 on and within the last
  365 days. :func:`plan_windows` checks a range against those limits (``today`` is an
  argument: this part is pure) and splits it into queries of at most 31 whole days.
- **Paging**: every page is followed (``next_page`` while ``has_more``), page by page, so
  ``data_refreshed_at`` is read from each and progress can be shown.
- **Retries**: 429, 500 and 529 answers and dropped connections are retried by the SDK
  (``max_retries``, with its back-off); what still fails is an :class:`ApiError`.
- **Open sets**: a service tier, context window or cost type the SDK does not list is kept as
  the text the API sent (the SDK builds page items without validating them).

A pull either returns everything it asked for or raises: nothing partial comes back, so a
store that writes the result in one transaction is never left half-refreshed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from costmodel.adapters.credentials import redact, status_detail
from costmodel.core.times import as_utc, parse_moment
from costmodel.errors import ApiError, IngestError

__all__ = [
    "ADMIN_KEY_VARIABLE",
    "COST_GROUP_BY",
    "DIMENSIONS",
    "EARLIEST_DAY",
    "GEO_GROUP_BY",
    "LOOKBACK_DAYS",
    "MAX_WINDOW_DAYS",
    "USAGE_GROUP_BY",
    "CostRow",
    "OrgReport",
    "PageProgress",
    "UsageRow",
    "admin_client",
    "cost_row",
    "iter_cost",
    "iter_usage",
    "plan_windows",
    "pull_org_report",
    "usage_row",
]

ADMIN_KEY_VARIABLE: Final = "ANTHROPIC_ADMIN_KEY"
EARLIEST_DAY: Final = date(2026, 1, 1)  # the API has no data before this day
LOOKBACK_DAYS: Final = 365  # starting_at must be within the last 365 days
MAX_WINDOW_DAYS: Final = 31  # one query spans at most 31 days
PAGE_LIMIT: Final = 1000  # the most rows a page may hold
# The main usage query: five dimensions, the most a query may group by.
USAGE_GROUP_BY: Final = ("model", "service_tier", "workspace_id", "api_key_id", "context_window")
# The second usage query, for the geo surcharge and fast mode.
GEO_GROUP_BY: Final = ("model", "service_tier", "workspace_id", "inference_geo", "speed")
# cost_type and token_type do not count toward the five.
COST_GROUP_BY: Final = (
    "model",
    "service_tier",
    "workspace_id",
    "context_window",
    "inference_geo",
    "cost_type",
    "token_type",
)
# Every dimension a report row can be grouped by (a row's ``group`` names each, or null).
DIMENSIONS: Final = (
    "model",
    "service_tier",
    "workspace_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "speed",
)


# -- rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UsageRow:
    """One usage row: a time bucket and its dimension values (None where not grouped by)."""

    starting_at: datetime
    ending_at: datetime
    model: str | None
    service_tier: str | None
    workspace_id: str | None
    api_key_id: str | None
    context_window: str | None
    inference_geo: str | None
    speed: str | None
    uncached_input_tokens: int
    output_tokens: int
    cache_creation_5m_input_tokens: int
    cache_creation_1h_input_tokens: int
    cache_read_input_tokens: int
    web_search_requests: int
    requests: int | None

    @property
    def day(self) -> date:
        return self.starting_at.date()


@dataclass(frozen=True)
class CostRow:
    """One cost row; ``amount_cents`` and ``list_amount_cents`` are exact fractional cents."""

    starting_at: datetime
    ending_at: datetime
    model: str | None
    service_tier: str | None
    workspace_id: str | None
    api_key_id: str | None
    context_window: str | None
    inference_geo: str | None
    speed: str | None
    cost_type: str | None
    token_type: str | None
    amount_cents: Decimal
    list_amount_cents: Decimal
    currency: str
    requests: int | None

    @property
    def day(self) -> date:
        return self.starting_at.date()

    @property
    def amount_usd(self) -> Decimal:
        return self.amount_cents / 100

    @property
    def list_amount_usd(self) -> Decimal:
        return self.list_amount_cents / 100


def _field(item: Any, path: str) -> Any:
    value = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    return value


def _count(item: Any, path: str, where: str, *, optional: bool = False) -> int:
    value = _field(item, path)
    if value is None:
        if optional:
            return 0
        raise IngestError(f"{where}: {path}: missing; expected a count of 0 or more")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise IngestError(f"{where}: {path}: got {value!r}; expected a count of 0 or more")
    return value


def _cents(item: Any, path: str, where: str) -> Decimal:
    value = _field(item, path)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise IngestError(
            f"{where}: {path}: got {value!r}; expected an amount in fractional cents (a string)"
        )
    try:
        # A JSON number (not what the API sends) is read from its shortest text, never as
        # the float's binary value.
        amount = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise IngestError(f"{where}: {path}: got {value!r}; expected an amount in fractional cents")
    return amount


def _moment(item: Any, name: str, where: str) -> datetime:
    value = _field(item, name)
    if isinstance(value, str):
        try:
            value = parse_moment(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise IngestError(f"{where}: {name}: got {value!r}; expected an RFC 3339 timestamp")
    return as_utc(value)


def _dimensions(item: Any) -> dict[str, str | None]:
    group = _field(item, "group")
    out: dict[str, str | None] = {}
    for name in DIMENSIONS:
        value = _field(group, name) if group is not None else None
        out[name] = None if value is None else str(value)
    return out


def usage_row(item: Any, where: str = "usage row") -> UsageRow:
    """A :class:`UsageRow` from an SDK item or the JSON dict of one."""
    return UsageRow(
        starting_at=_moment(item, "starting_at", where),
        ending_at=_moment(item, "ending_at", where),
        **_dimensions(item),
        uncached_input_tokens=_count(item, "usage.uncached_input_tokens", where),
        output_tokens=_count(item, "usage.output_tokens", where),
        cache_creation_5m_input_tokens=_count(
            item, "usage.cache_creation.ephemeral_5m_input_tokens", where, optional=True
        ),
        cache_creation_1h_input_tokens=_count(
            item, "usage.cache_creation.ephemeral_1h_input_tokens", where, optional=True
        ),
        cache_read_input_tokens=_count(item, "usage.cache_read_input_tokens", where, optional=True),
        web_search_requests=_count(
            item, "usage.server_tool_use.web_search_requests", where, optional=True
        ),
        requests=(
            None
            if _field(item, "usage.requests") is None
            else _count(item, "usage.requests", where)
        ),
    )


def cost_row(item: Any, where: str = "cost row") -> CostRow:
    """A :class:`CostRow` from an SDK item or the JSON dict of one."""
    group = _field(item, "group")
    currency = _field(item, "cost.currency") or "USD"
    if currency != "USD":
        raise IngestError(f"{where}: cost.currency: got {currency!r}; expected USD")
    return CostRow(
        starting_at=_moment(item, "starting_at", where),
        ending_at=_moment(item, "ending_at", where),
        **_dimensions(item),
        cost_type=None if _field(group, "cost_type") is None else str(_field(group, "cost_type")),
        token_type=(
            None if _field(group, "token_type") is None else str(_field(group, "token_type"))
        ),
        amount_cents=_cents(item, "cost.amount", where),
        list_amount_cents=_cents(item, "cost.list_amount", where),
        currency=str(currency),
        requests=(
            None if _field(item, "cost.requests") is None else _count(item, "cost.requests", where)
        ),
    )


# -- ranges -------------------------------------------------------------------------------------
def plan_windows(
    since: date, until: date | None = None, *, today: date
) -> list[tuple[datetime, datetime]]:
    """Check a range of days (``until`` inclusive, default yesterday) against the API's limits
    and split it into queries of at most 31 days, each ``[start, end)`` at UTC midnight.

    >>> [(a.date().isoformat(), b.date().isoformat())
    ...  for a, b in plan_windows(date(2026, 10, 1), date(2026, 11, 15), today=date(2026, 12, 1))]
    [('2026-10-01', '2026-11-01'), ('2026-11-01', '2026-11-16')]
    """
    until = until if until is not None else today - timedelta(days=1)
    oldest = max(EARLIEST_DAY, today - timedelta(days=LOOKBACK_DAYS - 1))
    if until < since:
        raise ApiError(
            f"--until {until.isoformat()} is before --since {since.isoformat()}; "
            "expected a range of one day or more"
        )
    if until > today:
        raise ApiError(
            f"--until {until.isoformat()} is in the future (today is {today.isoformat()}); "
            "the report ends today"
        )
    if since < EARLIEST_DAY:
        raise ApiError(
            f"--since {since.isoformat()}: the Usage and Cost Analytics API has no data before "
            f"{EARLIEST_DAY.isoformat()}; expected {EARLIEST_DAY.isoformat()} or later"
        )
    if since < oldest:
        raise ApiError(
            f"--since {since.isoformat()}: the Usage and Cost Analytics API reaches back "
            f"{LOOKBACK_DAYS} days only; expected {oldest.isoformat()} or later"
        )
    windows: list[tuple[datetime, datetime]] = []
    start = since
    while start <= until:
        end = min(start + timedelta(days=MAX_WINDOW_DAYS), until + timedelta(days=1))
        windows.append((_midnight(start), _midnight(end)))
        start = end
    return windows


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# -- the client ---------------------------------------------------------------------------------
def admin_client(
    *,
    environ: Mapping[str, str] | None = None,
    max_retries: int | None = None,
    base_url: str | None = None,
) -> Any:
    """An ``anthropic.Anthropic`` authenticated with ``ANTHROPIC_ADMIN_KEY`` (and nothing else).

    ``ANTHROPIC_BASE_URL`` is honoured as the SDK honours it. Raises :class:`ApiError` when
    the variable is missing or empty; the key never appears in a message.
    """
    import anthropic

    env = os.environ if environ is None else environ
    key = (env.get(ADMIN_KEY_VARIABLE) or "").strip()
    if not key:
        raise ApiError(
            f"no admin key: set {ADMIN_KEY_VARIABLE} to an Admin API key or a key with the "
            "read:analytics scope"
        )
    options: dict[str, Any] = {"api_key": key}
    if max_retries is not None:
        options["max_retries"] = max_retries
    chosen = base_url or env.get("ANTHROPIC_BASE_URL")
    if chosen:
        options["base_url"] = chosen
    try:
        return anthropic.Anthropic(**options)
    except anthropic.AnthropicError as exc:
        raise ApiError(f"cannot set up the Anthropic client: {_scrub(str(exc), key)}") from None


def _scrub(text: str, *secrets: str | None) -> str:
    """``text`` with the given secrets, and every credential the project knows, masked."""
    return redact(text, secrets)


def _detail(exc: Any, secret: str | None) -> str:
    return status_detail(exc, lambda text: _scrub(text, secret))


@dataclass(frozen=True)
class PageProgress:
    """Handed to the progress callback after each page."""

    endpoint: str  # "usage" or "cost"
    window: int  # 1-based index of the query window
    windows: int
    pages: int  # pages read so far in this window
    rows: int  # rows read so far in this window


_Row = TypeVar("_Row")  # UsageRow or CostRow


def _pages(
    client: Any,
    endpoint: str,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    group_by: Sequence[str],
    bucket_width: str,
    workspace_ids: Sequence[str],
    progress: Callable[[PageProgress], None] | None,
    refreshed: list[datetime],
) -> Iterator[Any]:
    """Every item of every page of every window; raises :class:`ApiError` on failure."""
    from costmodel.optional import require

    anthropic = require("anthropic", extra="api")
    secret = getattr(client, "api_key", None)
    resource = getattr(client.beta.organization.analytics, endpoint)
    doing = f"reading the organisation's {endpoint} report"
    for number, (start, end) in enumerate(windows, 1):
        options: dict[str, Any] = {
            "starting_at": start,
            "ending_at": end,
            "time_bucket_width": bucket_width,
            "group_by": list(group_by),
            "limit": PAGE_LIMIT,
            "order_by": "time",
            "order": "asc",
        }
        if workspace_ids:
            options["workspace_ids"] = list(workspace_ids)
        pages = rows = 0
        try:
            first = resource.list(**options)
            for page in first.iter_pages():
                pages += 1
                if page.data_refreshed_at is not None:
                    refreshed.append(page.data_refreshed_at)
                for item in page.data or []:
                    rows += 1
                    yield item
                if progress is not None:
                    progress(PageProgress(endpoint, number, len(windows), pages, rows))
        except anthropic.AuthenticationError as exc:
            raise ApiError(
                f"the API refused the admin key ({_detail(exc, secret)}); check "
                f"{ADMIN_KEY_VARIABLE}"
            ) from None
        except anthropic.PermissionDeniedError as exc:
            raise ApiError(
                f"the key may not read the analytics report ({_detail(exc, secret)}); it needs "
                "to be an Admin API key or have the read:analytics scope"
            ) from None
        except anthropic.BadRequestError as exc:
            raise ApiError(
                f"the API refused the query for {start:%Y-%m-%d} to {end:%Y-%m-%d} "
                f"({_detail(exc, secret)})"
            ) from None
        except anthropic.APIStatusError as exc:
            raise ApiError(f"{doing} failed after retries: {_detail(exc, secret)}") from None
        except anthropic.APIConnectionError as exc:  # the SDK wraps transport failures
            raise ApiError(
                f"{doing} failed after retries: cannot reach {redact(str(client.base_url))} "
                f"({_scrub(type(exc).__name__ + ': ' + str(exc), secret)[:200]})"
            ) from None
        except TypeError as exc:  # the SDK's way of saying it has no credentials
            if "authentication" not in str(exc):
                raise
            raise ApiError(f"no admin key: set {ADMIN_KEY_VARIABLE}") from None


def _rows(
    client: Any,
    endpoint: str,
    parse: Callable[[Any, str], _Row],
    windows: Sequence[tuple[datetime, datetime]],
    *,
    group_by: Sequence[str],
    bucket_width: str,
    workspace_ids: Sequence[str],
    progress: Callable[[PageProgress], None] | None,
    refreshed: list[datetime] | None,
) -> Iterator[_Row]:
    """The endpoint's items, page after page, each parsed (and named "<endpoint> row N")."""
    items = _pages(
        client,
        endpoint,
        windows,
        group_by=group_by,
        bucket_width=bucket_width,
        workspace_ids=workspace_ids,
        progress=progress,
        refreshed=[] if refreshed is None else refreshed,
    )
    for i, item in enumerate(items, 1):
        yield parse(item, f"{endpoint} row {i}")


def iter_usage(
    client: Any,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    group_by: Sequence[str] = USAGE_GROUP_BY,
    bucket_width: str = "1d",
    workspace_ids: Sequence[str] = (),
    progress: Callable[[PageProgress], None] | None = None,
    refreshed: list[datetime] | None = None,
) -> Iterator[UsageRow]:
    """Usage rows of every window (see :func:`plan_windows`), page after page."""
    return _rows(
        client,
        "usage",
        usage_row,
        windows,
        group_by=group_by,
        bucket_width=bucket_width,
        workspace_ids=workspace_ids,
        progress=progress,
        refreshed=refreshed,
    )


def iter_cost(
    client: Any,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    group_by: Sequence[str] = COST_GROUP_BY,
    bucket_width: str = "1d",
    workspace_ids: Sequence[str] = (),
    progress: Callable[[PageProgress], None] | None = None,
    refreshed: list[datetime] | None = None,
) -> Iterator[CostRow]:
    """Cost rows of every window, amounts exact."""
    return _rows(
        client,
        "cost",
        cost_row,
        windows,
        group_by=group_by,
        bucket_width=bucket_width,
        workspace_ids=workspace_ids,
        progress=progress,
        refreshed=refreshed,
    )


@dataclass
class OrgReport:
    """Everything one pull read, for one store transaction that replaces those days."""

    since: date
    until: date  # inclusive
    windows: list[tuple[datetime, datetime]]
    usage: list[UsageRow] = field(default_factory=list)
    geo_usage: list[UsageRow] = field(default_factory=list)
    cost: list[CostRow] = field(default_factory=list)
    # The oldest data_refreshed_at any page gave: the report is at least this fresh.
    data_refreshed_at: datetime | None = None
    workspace_ids: tuple[str, ...] = ()

    @property
    def tiers(self) -> list[str]:
        """Every service tier the report shows, known or not (an open set)."""
        rows: list[UsageRow | CostRow] = [*self.usage, *self.cost]
        return sorted({r.service_tier for r in rows if r.service_tier})

    def describe(self) -> str:
        days = (self.until - self.since).days + 1
        fresh = (
            f"; data refreshed at {self.data_refreshed_at:%Y-%m-%d %H:%M} UTC"
            if self.data_refreshed_at
            else ""
        )
        return (
            f"{self.since.isoformat()} to {self.until.isoformat()} ({days} days, "
            f"{len(self.windows)} quer{'y' if len(self.windows) == 1 else 'ies'} per report): "
            f"{len(self.usage)} usage rows, {len(self.geo_usage)} geo rows, "
            f"{len(self.cost)} cost rows{fresh}"
        )


def pull_org_report(
    client: Any,
    since: date,
    until: date | None = None,
    *,
    today: date,
    workspace_ids: Sequence[str] = (),
    with_geo: bool = True,
    progress: Callable[[PageProgress], None] | None = None,
) -> OrgReport:
    """Read daily usage (and the geo/speed split) and cost for ``since`` to ``until``.

    Returns only once every page of every query has been read; any failure raises
    :class:`ApiError` (or :class:`IngestError` for a row that is not in the documented shape),
    so the caller's store is never refreshed with part of a period.
    """
    windows = plan_windows(since, until, today=today)
    refreshed: list[datetime] = []
    common: dict[str, Any] = {
        "workspace_ids": workspace_ids,
        "progress": progress,
        "refreshed": refreshed,
    }
    report = OrgReport(
        since=since,
        until=(windows[-1][1] - timedelta(days=1)).date(),
        windows=windows,
        workspace_ids=tuple(workspace_ids),
    )
    report.usage = list(iter_usage(client, windows, **common))
    if with_geo:
        report.geo_usage = list(iter_usage(client, windows, group_by=GEO_GROUP_BY, **common))
    report.cost = list(iter_cost(client, windows, **common))
    report.data_refreshed_at = min(refreshed) if refreshed else None
    return report
