"""The organisation pull: the real SDK against a loopback Usage and Cost Analytics API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costmodel.adapters.ingest.org import (
    GEO_GROUP_BY,
    USAGE_GROUP_BY,
    admin_client,
    cost_row,
    iter_cost,
    iter_usage,
    plan_windows,
    pull_org_report,
)
from costmodel.adapters.synthetic_org import OrgFact, generate_org_report
from costmodel.errors import ApiError, IngestError
from tests.fake_analytics_api import TEST_ADMIN_KEY, FakeAnalyticsAPI

TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def facts() -> list[OrgFact]:
    return generate_org_report(since=date(2026, 10, 1), days=61, seed=11, requests_per_day=200)


@pytest.fixture
def api(facts: list[OrgFact]):
    with FakeAnalyticsAPI(facts=list(facts), page_cap=37) as server:
        yield server


def client_for(api: FakeAnalyticsAPI, **options):
    return admin_client(
        environ={"ANTHROPIC_ADMIN_KEY": api.api_key}, base_url=api.base_url, **options
    )


def _expected_usage(facts, since: date, until: date) -> Counter:
    total: Counter = Counter()
    for f in facts:
        if since <= f.day <= until:
            total["requests"] += f.requests
            total["input"] += f.uncached_input_tokens
            total["output"] += f.output_tokens
            total["cache_read"] += f.cache_read_input_tokens
            total["cache_5m"] += f.cache_creation_5m_input_tokens
            total["web"] += f.web_search_requests
    return total


def _sums(rows) -> Counter:
    total: Counter = Counter()
    for r in rows:
        total["requests"] += r.requests or 0
        total["input"] += r.uncached_input_tokens
        total["output"] += r.output_tokens
        total["cache_read"] += r.cache_read_input_tokens
        total["cache_5m"] += r.cache_creation_5m_input_tokens
        total["web"] += r.web_search_requests
    return total


# -- ranges (pure) ------------------------------------------------------------------------------
def test_a_long_range_is_split_into_queries_of_at_most_31_days() -> None:
    windows = plan_windows(date(2026, 3, 1), date(2026, 6, 30), today=TODAY)
    assert [(a.date(), b.date()) for a, b in windows] == [
        (date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2026, 5, 2)),
        (date(2026, 5, 2), date(2026, 6, 2)),
        (date(2026, 6, 2), date(2026, 7, 1)),
    ]
    assert all((b - a).days <= 31 for a, b in windows)
    assert all(a.tzinfo is UTC for a, _ in windows)
    # Contiguous: every day once.
    assert all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))


def test_one_day_and_the_default_until() -> None:
    assert plan_windows(date(2026, 11, 30), date(2026, 11, 30), today=TODAY) == [
        (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    ]
    # Without --until the report runs to yesterday, the last whole day.
    assert plan_windows(date(2026, 11, 1), today=TODAY)[-1][1] == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until", "today", "words"),
    [
        (date(2025, 12, 31), date(2026, 1, 5), date(2026, 6, 1), "no data before 2026-01-01"),
        (date(2026, 1, 10), date(2026, 2, 1), date(2027, 3, 1), "365 days"),
        (date(2026, 11, 5), date(2026, 11, 1), TODAY, "before --since"),
        (date(2026, 11, 5), date(2026, 12, 3), TODAY, "in the future"),
    ],
)
def test_ranges_outside_the_api_limits_are_explained(since, until, today, words) -> None:
    with pytest.raises(ApiError, match=words):
        plan_windows(since, until, today=today)


def test_the_oldest_day_allowed_is_accepted() -> None:
    # 365 days including today: 2027-03-01 reaches back to 2026-03-02.
    plan_windows(date(2026, 3, 2), date(2026, 3, 3), today=date(2027, 3, 1))
    with pytest.raises(ApiError, match=r"2026-03-02 or later"):
        plan_windows(date(2026, 3, 1), date(2026, 3, 3), today=date(2027, 3, 1))


# -- the pull -----------------------------------------------------------------------------------
def test_pull_follows_every_page_and_splits_the_range(api, facts) -> None:
    seen = []
    report = pull_org_report(
        client_for(api), date(2026, 10, 1), date(2026, 11, 30), today=TODAY, progress=seen.append
    )
    assert len(report.windows) == 2  # 61 days
    assert _sums(report.usage) == _expected_usage(facts, date(2026, 10, 1), date(2026, 11, 30))
    assert _sums(report.geo_usage) == _sums(report.usage)
    usage_calls = api.requests_to("/analytics/usage")
    assert any("page" in c.query for c in usage_calls)  # paged, not one big answer
    first = usage_calls[0].query
    assert first["group_by[]"] == list(USAGE_GROUP_BY)
    assert first["time_bucket_width"] == ["1d"]
    assert first["starting_at"][0].startswith("2026-10-01T00:00:00")
    geo_calls = [c for c in usage_calls if "inference_geo" in c.query.get("group_by[]", [])]
    assert geo_calls and geo_calls[0].query["group_by[]"] == list(GEO_GROUP_BY)
    assert all(c.headers["anthropic-beta"].startswith("analytics-usage-cost") for c in api.log)
    assert all(c.headers["authorization"] == f"Bearer {TEST_ADMIN_KEY}" for c in api.log)
    assert {p.endpoint for p in seen} == {"usage", "cost"} and max(p.pages for p in seen) > 1
    assert report.data_refreshed_at == datetime(2026, 12, 1, 6, tzinfo=UTC)
    # Every day appears once per dimension combination: no page was read twice.
    keys = Counter(
        (r.day, r.model, r.service_tier, r.workspace_id, r.api_key_id, r.context_window)
        for r in report.usage
    )
    assert max(keys.values()) == 1


def test_cost_amounts_are_exact_fractional_cents(api, facts) -> None:
    report = pull_org_report(
        client_for(api), date(2026, 11, 1), date(2026, 11, 7), today=TODAY, with_geo=False
    )
    expected_list = sum(
        (
            c[0]
            for f in facts
            if date(2026, 11, 1) <= f.day <= date(2026, 11, 7)
            for c in f.cost_cents.values()
        ),
        Decimal(0),
    )
    got = sum((r.list_amount_cents for r in report.cost), Decimal(0))
    assert got == expected_list  # exact, not approximately
    assert all(isinstance(r.amount_cents, Decimal) for r in report.cost)
    assert any(r.amount_cents != r.amount_cents.to_integral_value() for r in report.cost)
    assert {r.token_type for r in report.cost if r.cost_type == "tokens"} >= {
        "uncached_input_tokens",
        "output_tokens",
    }
    assert all(r.requests is None for r in report.cost)  # grouped by token_type


def test_unknown_tiers_and_windows_are_kept_as_the_api_sends_them() -> None:
    odd = OrgFact(
        day=date(2026, 11, 3),
        model="claude-sonnet-4-5",
        service_tier="flex_overnight",
        workspace_id="wrkspc_x",
        api_key_id=None,
        context_window="1M-2M",
        inference_geo="eu",
        speed="standard",
        requests=3,
        uncached_input_tokens=30,
        output_tokens=9,
        cost_cents={"uncached_input_tokens": (Decimal("0.009"), Decimal("0.0081"))},
    )
    with FakeAnalyticsAPI(facts=[odd]) as api:
        report = pull_org_report(client_for(api), date(2026, 11, 3), date(2026, 11, 3), today=TODAY)
    assert [r.service_tier for r in report.usage] == ["flex_overnight"]
    assert report.usage[0].context_window == "1M-2M"
    assert report.usage[0].api_key_id is None
    assert report.geo_usage[0].inference_geo == "eu"
    assert report.tiers == ["flex_overnight"]
    assert report.cost[0].list_amount_cents == Decimal("0.009")


@pytest.mark.parametrize("status", [429, 500, 529])
def test_overload_and_rate_limits_are_retried(api, facts, status) -> None:
    api.fail("/analytics/usage", status, times=2)
    rows = list(
        iter_usage(
            client_for(api, max_retries=2),
            plan_windows(date(2026, 11, 1), date(2026, 11, 2), today=TODAY),
        )
    )
    assert _sums(rows) == _expected_usage(facts, date(2026, 11, 1), date(2026, 11, 2))
    assert [c.status for c in api.requests_to("/analytics/usage")][:3] == [status, status, 200]


def test_retries_run_out_with_one_clear_line(api) -> None:
    api.fail("/analytics/cost", 529, times=5)
    with pytest.raises(
        ApiError, match=r"failed after retries: HTTP 529 overloaded_error"
    ) as caught:
        list(
            iter_cost(
                client_for(api, max_retries=1),
                plan_windows(date(2026, 11, 1), date(2026, 11, 1), today=TODAY),
            )
        )
    assert TEST_ADMIN_KEY not in str(caught.value)


def test_a_connection_dropped_mid_page_is_retried(api, facts) -> None:
    api.drop("/analytics/usage", page=1)  # a later page, after the first was read
    windows = plan_windows(date(2026, 11, 1), date(2026, 11, 10), today=TODAY)
    rows = list(iter_usage(client_for(api), windows))
    assert _sums(rows) == _expected_usage(facts, date(2026, 11, 1), date(2026, 11, 10))


def test_a_pull_that_dies_returns_nothing(api) -> None:
    api.drop("/analytics/cost", times=10, page=1)
    with pytest.raises(ApiError, match="cannot reach"):
        pull_org_report(
            client_for(api, max_retries=1), date(2026, 11, 1), date(2026, 11, 20), today=TODAY
        )


def test_a_400_for_a_range_the_api_refuses_is_one_line() -> None:
    # A caller whose clock is behind the API's slips past the local check: the API's 400
    # comes back as one line naming the range, not a traceback.
    with FakeAnalyticsAPI(now=datetime(2027, 3, 1, tzinfo=UTC)) as api:
        windows = plan_windows(date(2026, 1, 5), date(2026, 1, 6), today=date(2026, 6, 1))
        with pytest.raises(
            ApiError, match=r"refused the query for 2026-01-05 to 2026-01-07.*365 days"
        ):
            list(iter_usage(client_for(api), windows))
        assert api.log[-1].status == 400 and len(api.log) == 1  # a 400 is not retried


def test_missing_and_refused_keys() -> None:
    with pytest.raises(ApiError, match="no admin key: set ANTHROPIC_ADMIN_KEY"):
        admin_client(environ={"ANTHROPIC_API_KEY": "sk-ant-api03-not-this-one"})
    with FakeAnalyticsAPI() as api:
        wrong = "sk-ant-admin01-wrong-key-do-not-print"
        client = admin_client(environ={"ANTHROPIC_ADMIN_KEY": wrong}, base_url=api.base_url)
        with pytest.raises(ApiError, match="refused the admin key") as caught:
            list(
                iter_usage(client, plan_windows(date(2026, 11, 1), date(2026, 11, 1), today=TODAY))
            )
    assert wrong not in str(caught.value)


def test_workspace_filter_is_sent_and_honoured(api, facts) -> None:
    report = pull_org_report(
        client_for(api),
        date(2026, 11, 1),
        date(2026, 11, 3),
        today=TODAY,
        workspace_ids=["wrkspc_01BackOffice"],
    )
    assert {r.workspace_id for r in report.usage} == {"wrkspc_01BackOffice"}
    assert api.requests_to("/analytics/usage")[0].query["workspace_ids[]"] == [
        "wrkspc_01BackOffice"
    ]


def test_rows_not_in_the_documented_shape_are_refused() -> None:
    base = {
        "starting_at": "2026-11-01T00:00:00Z",
        "ending_at": "2026-11-02T00:00:00Z",
        "group": {"model": "claude-sonnet-4-5"},
        "cost": {"amount": "12.5", "list_amount": "not-a-number", "currency": "USD"},
    }
    with pytest.raises(IngestError, match=r"cost\.list_amount"):
        cost_row(base)
    assert cost_row(
        {**base, "cost": {**base["cost"], "list_amount": "12.50"}}
    ).list_amount_cents == Decimal("12.50")


@given(
    since=st.dates(date(2026, 1, 1), date(2026, 11, 30)),
    length=st.integers(0, 400),
)
def test_windows_cover_every_day_once_and_never_exceed_31_days(since: date, length: int) -> None:
    until = min(since + timedelta(days=length), TODAY)
    windows = plan_windows(since, until, today=TODAY)
    assert windows[0][0].date() == since and windows[-1][1].date() == until + timedelta(days=1)
    assert all(0 < (end - start).days <= 31 for start, end in windows)
    assert all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))
