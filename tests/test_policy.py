"""Migration policy files: the default decision tree, validation all at once, business hours."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pandas as pd
import pytest

from costmodel.adapters.policy_files import default_policy, load_policy, parse_policy
from costmodel.core.policy import PolicyError
from costmodel.errors import ScenarioError


def test_the_default_policy_is_the_article_decision_tree() -> None:
    policy = default_policy()
    assert policy.latency_budget_below_ms == 1000
    assert policy.minimum_requests_per_day == 100
    assert policy.batch_turnaround_hours == 24
    assert policy.when_unknown == "can_wait"
    assert policy.latency_critical.empty and policy.hybrid == ()
    assert policy.business_hours.start == time(9) and policy.business_hours.end == time(18)
    assert policy.days_per_month == 30 and policy.business is None


FULL = """\
name: Acme
latency_critical:
  workspaces: [wrkspc_live]
  tags: [autocomplete]
  latency_budget_below_ms: 500
minimum_volume: {requests_per_day: 250}
wait:
  batch_turnaround_hours: 12
  tolerable_hours:
    - {tag: reports, hours: 48}
    - {workspace: wrkspc_ops, hours: 2}
  when_unknown: stay_sync
hybrid:
  - {name: after hours, match: {tags: [support]}, share: off_hours}
  - {name: a third, share: 0.33}
business_hours: {start: 08:30, end: "17:00", days: [mon, tue, wed, thu], timezone: Europe/Paris}
business: {revenue: 50000, other_cogs: 5000, customers: 40}
"""


def test_every_key_is_read() -> None:
    policy = parse_policy(FULL, "acme.yaml")
    assert policy.name == "Acme"
    assert policy.latency_critical.match("wrkspc_live", None, None) == "workspace wrkspc_live"
    assert policy.latency_critical.match(None, None, "autocomplete") == "tag autocomplete"
    assert policy.latency_critical.match("wrkspc_other", "k", "t") is None
    assert policy.latency_budget_below_ms == 500 and policy.minimum_requests_per_day == 250
    assert policy.batch_turnaround_hours == 12 and policy.when_unknown == "stay_sync"
    assert policy.tolerance_for("wrkspc_ops", None, None).hours == 2
    assert policy.tolerance_for(None, None, "reports").hours == 48
    assert [(r.name, r.share, r.off_hours) for r in policy.hybrid] == [
        ("after hours", None, True),
        ("a third", 0.33, False),
    ]
    assert policy.hybrid[1].selector.empty
    assert policy.business_hours.start == time(8, 30)  # unquoted 08:30 is not a base-60 number
    assert policy.business.revenue == 50000 and policy.business.customers == 40


def test_a_misspelt_key_is_refused_like_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("minimum_volume:\n  request_per_day: 50\nwiat: {}\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    problems = caught.value.problems
    assert problems[0] == (
        f"{path}:2: minimum_volume.request_per_day: unknown key 'request_per_day'; did you mean "
        "'requests_per_day'? expected one of requests_per_day"
    )
    assert problems[1].startswith(f"{path}:3: wiat: unknown key 'wiat'; did you mean 'wait'?")
    assert isinstance(caught.value, ScenarioError)  # the CLI handles it as it does scenarios


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hybrid:\n  - {share: 1.5}\n",
            "<string>:2: hybrid[0].share: got 1.5; expected a share from 0 to 1",
        ),
        ("wait: {when_unknown: maybe}\n", "<string>:1: wait.when_unknown: got 'maybe'"),
        ("business_hours: {timezone: Mars/Olympus}\n", "unknown time zone 'Mars/Olympus'"),
        (
            "business_hours: {start: noon}\n",
            "business_hours.start: got 'noon'; expected a time of day",
        ),
        ("business_hours: {days: [mon, fry]}\n", "business_hours.days: got 'fry'"),
        (
            "wait:\n  tolerable_hours:\n    - {tag: a, workspace: b, hours: 3}\n",
            "exactly one of workspace",
        ),
        ("minimum_volume: {requests_per_day: -4}\n", "minimum_volume.requests_per_day: got -4"),
        (
            "latency_critical: {tags: live-chat}\n",
            "latency_critical.tags: got 'live-chat'; expected a list",
        ),
        ("", "<string>:1: empty file"),
        ("name: [unclosed\n", "invalid YAML"),
    ],
)
def test_bad_values_are_located(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=None) as caught:
        parse_policy(text)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(
            "minimum_volume: {requests_per_day: x}\nwait: {batch_turnaround_hours: 0}\nhybrid: 3\n"
        )
    assert len(caught.value.problems) == 3
    assert "and 2 more problems" in str(caught.value)


def test_business_hours_in_the_policy_time_zone() -> None:
    hours = parse_policy(FULL).business_hours  # Mon-Thu 08:30-17:00 Paris (UTC+1 in November)
    stamps = pd.Series(
        pd.to_datetime(
            [
                "2026-11-02T07:29:00Z",  # Monday 08:29 Paris: before opening
                "2026-11-02T07:30:00Z",  # Monday 08:30: open
                "2026-11-05T15:59:00Z",  # Thursday 16:59: open
                "2026-11-05T16:00:00Z",  # Thursday 17:00: closed
                "2026-11-06T10:00:00Z",  # Friday: not a business day here
            ],
            utc=True,
        )
    )
    assert hours.outside(stamps).tolist() == [True, False, False, True, True]
    overnight = parse_policy("business_hours: {start: '22:00', end: '06:00', days: [mon]}\n")
    night = pd.Series(pd.to_datetime(["2026-11-02T23:00:00Z", "2026-11-02T12:00:00Z"], utc=True))
    assert overnight.business_hours.outside(night).tolist() == [False, True]
