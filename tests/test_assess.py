"""The migration assessment: verdicts, deciding rules and golden figures computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from costmodel.adapters.catalogue_files import load_catalogue
from costmodel.adapters.ingest.request_logs import read_request_log
from costmodel.adapters.policy_files import parse_policy
from costmodel.adapters.scenario_files import parse_scenario
from costmodel.core.assess import (
    NothingToAssess,
    assess,
    candidates_from_log,
    candidates_from_org,
    proposed_scenario_yaml,
)
from costmodel.core.reconcile import cents
from costmodel.core.report import run_scenario

# Rates chosen for hand arithmetic; pinned here so catalogue updates never move the goldens.
CATALOGUE = load_catalogue(
    "test-catalogue.yaml",
    text="""
checked: 2026-11-01
rules: {batch: {multiplier: 0.5, discounts_web_search: false}}
models:
  model-a:
    name: Model A
    aliases: [model-a-20260101]
    prices:
      - from: 2026-01-01
        input_mtok: 3
        output_mtok: 15
        cache_write_5m_mtok: 3.75
        cache_write_1h_mtok: 6
        cache_read_mtok: 0.3
        web_search_per_1k: 10
        long_context: {above_prompt_tokens: 200000, input_mtok: 6, output_mtok: 22.5}
        source: test
  model-b:
    name: Model B
    prices:
      - {from: 2026-01-01, input_mtok: 1, output_mtok: 5, inference_geo: {us: 1.1}, source: test}
""",
)
ON = date(2026, 11, 15)
POLICY = parse_policy(
    """
latency_critical: {workspaces: [ws_live]}
hybrid:
  - {name: quarter, match: {workspaces: [ws_hybrid]}, share: 0.25}
business: {revenue: 100000, other_cogs: 10000}
""",
    "acme-policy.yaml",
)


def row(day: int, workspace: str, model: str, requests: int, inp: int, out: int, **extra):
    return {
        "day": date(2026, 11, day),
        "model": model,
        "service_tier": extra.pop("tier", "standard"),
        "workspace_id": workspace,
        "api_key_id": None,
        "context_window": extra.pop("window", "0-200k"),
        "requests": requests,
        "uncached_input_tokens": inp,
        "output_tokens": out,
        **extra,
    }


ORG_ROWS = [
    row(1, "ws_live", "model-a", 5000, 10_000_000, 1_000_000),
    # ws_batchable: 3,000 requests over two rows, one on the priority tier, one snapshot id
    row(2, "ws_batchable", "model-a", 2500, 5_000_000, 500_000, cache_read_input_tokens=2_000_000),
    row(3, "ws_batchable", "model-a-20260101", 500, 1_000_000, 100_000, tier="priority"),
    row(4, "ws_small", "model-b", 500, 1_000_000, 100_000),
    row(5, "ws_hybrid", "model-b", 2000, 4_000_000, 400_000),
    row(6, "ws_long", "model-a", 1000, 250_000_000, 200_000, window="200k-1M"),
    row(7, "ws_batchable", "model-a", 9999, 9_999_999, 9_999, tier="batch"),  # already batch
    row(8, "ws_batchable", "model-a", 70, 700, 70, tier="flex"),  # no public price: not assessed
    row(9, "ws_x", "model-zzz", 400, 1, 1),
    row(11, "ws_live", "model-a", 1, 1, 1),  # outside the period
]


def org_assessment():
    candidates = candidates_from_org(
        ORG_ROWS, since=date(2026, 11, 1), until=date(2026, 11, 10), catalogue=CATALOGUE
    )
    return assess(candidates, POLICY, CATALOGUE, on=ON)


def test_org_verdicts_rules_and_figures_by_hand() -> None:
    result = org_assessment()
    by = {w.workload: w for w in result.workloads}
    assert sorted(by) == [
        "ws_batchable / model-a",
        "ws_hybrid / model-b",
        "ws_live / model-a",
        "ws_long / model-a (200k-1M)",
        "ws_small / model-b",
        "ws_x / model-zzz",
    ]
    # 10 days scaled to a 30-day month: x3.
    live = by["ws_live / model-a"]
    assert (live.verdict, live.batch_share) == ("sync", 0)
    assert live.rule == "latency_critical: workspace ws_live is latency-critical"
    assert live.now_usd == live.after_usd == Decimal("135")  # (10M*3 + 1M*15)/1e6 * 3

    batchable = by["ws_batchable / model-a"]
    assert batchable.requests == 3000 and batchable.verdict == "batch"
    assert batchable.rule.startswith("moves: not latency-critical, 300.0 requests a day")
    # (6M*3 + 0.6M*15 + 2M*0.3)/1e6 = 27.6 a period; 82.80 a month; half of it through batch
    assert (batchable.now_usd, batchable.after_usd, batchable.savings_usd) == (
        Decimal("82.8"),
        Decimal("41.4"),
        Decimal("41.4"),
    )
    assert "priority-tier requests priced at standard" in batchable.notes[0]

    small = by["ws_small / model-b"]
    assert (
        small.verdict == "sync" and small.rule == "minimum_volume: 50.0 requests a day, below 100"
    )
    assert small.now_usd == Decimal("4.5")

    hybrid = by["ws_hybrid / model-b"]
    assert (hybrid.verdict, hybrid.batch_share) == ("hybrid", Decimal("0.25"))
    assert hybrid.rule == "hybrid[0] 'quarter': a share of 25.0%"
    assert (hybrid.now_usd, hybrid.after_usd) == (Decimal("18"), Decimal("15.75"))

    long = by["ws_long / model-a (200k-1M)"]
    # 250K prompt tokens a request: every token at the long-context rates (6 / 22.5).
    assert long.now_usd == Decimal("4513.5") and long.after_usd == Decimal("2256.75")

    unknown = by["ws_x / model-zzz"]
    assert unknown.now_usd is None and "unknown model 'model-zzz'" in unknown.unpriced

    assert result.now_usd == Decimal("4753.8")
    assert result.after_usd == Decimal("2453.4")
    assert result.savings_usd == Decimal("2300.4")
    assert result.margin is not None and result.margin.delta_pp == pytest.approx(2.3004)
    notes = " ".join(result.notes)
    assert "flex tier is not synchronous" in notes and "could not be priced" in notes
    data = result.to_dict()
    assert data["totals"] == {
        "now_usd": 4753.8,
        "after_usd": 2453.4,
        "savings_usd": 2300.4,
        "moving": 3,
    }


def _same_to_the_cent(engine: float, unrounded: float, exact: Decimal) -> bool:
    """The scenario engine's figure is the assessment's, to the cent.

    The engine sums in float64 today; a figure that is exactly half a cent (14.175) can land
    on either side of it there, so such a tie is checked unrounded instead (and must agree to
    a billionth of a dollar). Every other figure must be equal once rounded.
    """
    if abs(Decimal(repr(unrounded)) - exact) > Decimal("1e-9"):
        return False
    tie = (exact * 1000) % 10 == 5 and exact == exact.quantize(Decimal("0.001"))
    return tie or engine == float(cents(exact))


def _assert_scenario_matches(result, tmp_path: Path) -> None:
    text = proposed_scenario_yaml(result)
    path = tmp_path / "proposed.yaml"
    path.write_text(text)
    scenario = parse_scenario(path.read_text(), str(path), catalogue=CATALOGUE)
    run = run_scenario(scenario, CATALOGUE)
    priced = [w for w in result.workloads if not w.unpriced]
    assert [w.name for w in scenario.workloads] == [w.workload for w in priced]
    lines = run.to_dict()["workloads"]
    for w, line, raw in zip(priced, lines, run.workloads.itertuples(), strict=True):
        assert _same_to_the_cent(line["cost_sync"], raw.cost_sync, w.now_usd), w.workload
        assert _same_to_the_cent(line["cost_batch"], raw.cost_batch, w.after_usd), w.workload
        assert line["batch_share"] == float(w.batch_share)
    totals = run.to_dict()["totals"]
    assert _same_to_the_cent(totals["cost_sync"], run.cost_sync, result.now_usd)
    assert _same_to_the_cent(totals["cost_batch"], run.cost_batch, result.after_usd)
    if result.margin is not None:
        assert run.margin.delta_pp == pytest.approx(result.margin.delta_pp, abs=1e-9)


def test_ties_are_told_apart_from_differences() -> None:
    assert _same_to_the_cent(14.17, 14.174999999999999, Decimal("14.175"))
    assert not _same_to_the_cent(14.17, 14.174999999999999, Decimal("14.176"))
    assert not _same_to_the_cent(14.17, 14.17, Decimal("14.18"))


def test_the_proposed_scenario_gives_the_same_figures_to_the_cent(tmp_path: Path) -> None:
    result = org_assessment()
    _assert_scenario_matches(result, tmp_path)
    text = proposed_scenario_yaml(result)
    assert "price_date: 2026-11-15" in text
    assert "# - ws_x / model-zzz: sync" in text and "left out: " in text


def _log(tmp_path: Path) -> Path:
    lines = ["timestamp,model,input_tokens,output_tokens,tag,latency_budget_ms,service_tier"]
    # Monday 2026-11-02. chat: 50 of 200 requests must answer within 500 ms.
    lines += ["2026-11-02T10:00:00Z,model-a,1000,100,chat,500,standard"] * 50
    lines += ["2026-11-02T10:00:00Z,model-a,1000,100,chat,86400000,standard"] * 150
    # support: 30 of 120 requests at 03:00 UTC, outside business hours.
    lines += ["2026-11-02T03:00:00Z,model-a,1000,100,support,,standard"] * 30
    lines += ["2026-11-02T11:00:00Z,model-a,1000,100,support,,standard"] * 90
    # reports: no budget, no rule: the default policy lets it wait.
    lines += ["2026-11-02T12:00:00Z,model-b,2000,200,reports,,standard"] * 100
    # ops: budgets of one minute: not latency-critical, but cannot wait 24 h.
    lines += ["2026-11-02T12:00:00Z,model-b,2000,200,ops,60000,standard"] * 100
    lines += ["2026-11-02T12:00:00Z,model-b,2000,200,reports,,batch"] * 500  # not a candidate
    path = tmp_path / "requests.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_request_log_candidates_use_each_request_budget_and_time(tmp_path: Path) -> None:
    policy = parse_policy(
        "hybrid:\n  - {name: after hours, match: {tags: [support]}, share: off_hours}\n"
    )
    log = _log(tmp_path)
    candidates = candidates_from_log(
        read_request_log(log, catalogue=CATALOGUE, chunk_rows=97),
        policy=policy,
        catalogue=CATALOGUE,
        source=str(log),
    )
    assert candidates.days == 1
    result = assess(candidates, policy, CATALOGUE, on=ON)
    by = {w.workload: w for w in result.workloads}
    chat = by["chat / model-a"]
    assert (chat.verdict, chat.batch_share) == ("hybrid", Decimal("0.75"))
    assert chat.rule == "latency budgets: 75.0% can wait; 25.0% under 1000 ms"
    # 200 requests x (1000*3 + 100*15)/1e6 = $0.90 a day, $27.00 a month; a quarter stays sync.
    assert chat.now_usd == Decimal("27") and chat.after_usd == Decimal("16.875")
    support = by["support / model-a"]
    assert (support.verdict, support.batch_share) == ("hybrid", Decimal("0.25"))
    assert support.rule == "hybrid[0] 'after hours': 25.0% of requests outside business hours"
    reports = by["reports / model-b"]
    assert reports.verdict == "batch" and reports.requests == 100
    assert reports.now_usd == Decimal("9")  # 100 x (2000*1 + 200*5)/1e6 x 30
    ops = by["ops / model-b"]
    assert ops.verdict == "sync" and ops.rule == "latency budgets: 100.0% cannot wait 24 h"
    _assert_scenario_matches(result, tmp_path)


def test_named_waits_and_unknown_waits() -> None:
    rows = [row(1, "ws_a", "model-b", 3000, 1000, 100), row(1, "ws_b", "model-b", 3000, 1000, 100)]
    candidates = candidates_from_org(
        rows, since=date(2026, 11, 1), until=date(2026, 11, 1), catalogue=CATALOGUE
    )
    policy = parse_policy(
        "wait:\n  when_unknown: stay_sync\n  tolerable_hours: [{workspace: ws_a, hours: 2}]\n"
    )
    by = {w.workspace_id: w for w in assess(candidates, policy, CATALOGUE, on=ON).workloads}
    assert by["ws_a"].rule == (
        "wait.tolerable_hours: workspace ws_a can wait 2 h, less than the 24 h a batch may take"
    )
    assert by["ws_b"].rule == "wait.when_unknown: stay_sync (nothing says this workload can wait)"
    assert {w.verdict for w in by.values()} == {"sync"}


def test_by_api_key_and_the_us_geo(tmp_path: Path) -> None:
    rows = [
        {**row(1, "ws", "model-b", 300, 3_000_000, 0), "api_key_id": "apikey_1"},
        {**row(1, "ws", "model-b", 300, 3_000_000, 0), "api_key_id": None},
    ]
    candidates = candidates_from_org(
        rows, since=date(2026, 11, 1), until=date(2026, 11, 1), catalogue=CATALOGUE, by="api_key"
    )
    assert sorted(candidates.frame["workload"]) == ["(no api key) / model-b", "apikey_1 / model-b"]
    log = tmp_path / "geo.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-02T12:00:00Z", "model": "model-b", "input_tokens": 1000000,'
        ' "output_tokens": 0, "inference_geo": "us"}\n' * 100
    )
    result = assess(
        candidates_from_log(
            read_request_log(log, catalogue=CATALOGUE),
            policy=POLICY,
            catalogue=CATALOGUE,
            source="geo.jsonl",
        ),
        POLICY,
        CATALOGUE,
        on=ON,
    )
    (only,) = result.workloads
    assert only.workload == "(untagged) / model-b (US)"
    assert only.now_usd == Decimal("3300")  # 100M tokens x $1 x 1.1 x 30
    _assert_scenario_matches(result, tmp_path)


def test_a_period_with_no_synchronous_usage_says_so() -> None:
    rows = [row(1, "ws", "model-a", 10, 10, 10, tier="batch")]
    candidates = candidates_from_org(
        rows, since=date(2026, 11, 1), until=date(2026, 11, 30), catalogue=CATALOGUE
    )
    with pytest.raises(
        NothingToAssess, match=r"no synchronous \(standard or priority tier\) usage"
    ):
        assess(candidates, POLICY, CATALOGUE, on=ON)


def test_a_log_whose_every_budget_allows_a_batch_moves_whole(tmp_path: Path) -> None:
    log = tmp_path / "nightly.csv"
    log.write_text(
        "timestamp,model,input_tokens,output_tokens,tag,latency_budget_ms\n"
        + "2026-11-02T01:00:00Z,model-b,100,10,nightly,90000000\n" * 150
    )
    policy = parse_policy("name: p\n")
    candidates = candidates_from_log(
        read_request_log(log, catalogue=CATALOGUE), policy=policy, catalogue=CATALOGUE, source="n"
    )
    (only,) = assess(candidates, policy, CATALOGUE, on=ON).workloads
    assert (only.verdict, only.batch_share) == ("batch", 1)
    assert only.rule.endswith("every request's latency budget allows 24 h")


def test_long_context_requests_in_a_log_are_a_workload_of_their_own(tmp_path: Path) -> None:
    log = tmp_path / "mixed.csv"
    log.write_text(
        "timestamp,model,input_tokens,output_tokens,cache_read_input_tokens,tag\n"
        + "2026-11-02T01:00:00Z,model-a,1000,100,0,docs\n" * 100
        + "2026-11-02T01:00:00Z,model-a,150000,1000,60000,docs\n" * 100  # 210K prompt
    )
    policy = parse_policy("name: p\n")
    candidates = candidates_from_log(
        read_request_log(log, catalogue=CATALOGUE), policy=policy, catalogue=CATALOGUE, source="m"
    )
    result = assess(candidates, policy, CATALOGUE, on=ON)
    by = {w.workload: w for w in result.workloads}
    assert sorted(by) == ["docs / model-a", "docs / model-a (long context)"]
    # 100 x (1000*3 + 100*15)/1e6 x 30 = 13.50; the long part at 6 / 22.5 and no cache-read
    # long rate published here, so it is left unpriced rather than billed at $0.
    assert by["docs / model-a"].now_usd == Decimal("13.5")
    assert (
        "no published cache_read rate at its long-context tier"
        in by["docs / model-a (long context)"].unpriced
    )
    _assert_scenario_matches(result, tmp_path)


def test_the_assessment_renders_in_every_format() -> None:
    import json

    from costmodel.adapters.render import render

    result = org_assessment()
    table = render(result, "table", width=200)
    assert "ws_batchable / model-a" in table and "$4,753.80" in table and "$2,300.40" in table
    assert "latency_critical: workspace ws_live" in table
    data = json.loads(render(result, "json"))
    assert data["totals"]["savings_usd"] == 2300.4
    assert "Workload,Model,Verdict" in render(result, "csv")
    assert "| ws_live / model-a |" in render(result, "markdown")


def test_hourly_report_rows_give_the_off_hours_share() -> None:
    from datetime import UTC, datetime, timedelta

    policy = parse_policy("hybrid:\n  - {name: nights, share: off_hours}\n")

    def hourly(hour: int, requests: int) -> dict:
        start = datetime(2026, 11, 2, hour, tzinfo=UTC)  # a Monday
        return {
            **row(2, "ws", "model-b", requests, requests * 1000, 0),
            "starting_at": start,
            "ending_at": start + timedelta(hours=1),
        }

    rows = [hourly(3, 100), hourly(10, 250), hourly(20, 50)]  # 150 of 400 outside 09-18
    for business_hours, expected in (
        (policy.business_hours, ("hybrid", Decimal("0.375"))),
        (None, ("batch", 1)),
    ):
        candidates = candidates_from_org(
            rows,
            since=date(2026, 11, 2),
            until=date(2026, 11, 2),
            catalogue=CATALOGUE,
            business_hours=business_hours,
        )
        (only,) = assess(candidates, policy, CATALOGUE, on=ON).workloads
        assert (only.verdict, only.batch_share) == expected
    # Without hours the rule cannot apply, and the assessment says so.
    assert "needs request times" in only.notes[0]
