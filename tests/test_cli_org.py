"""`costmodel org pull/summary/demo`, `reconcile` and `assess` end to end: the CLI, the real
``anthropic`` SDK against the loopback Analytics API, and a real DuckDB store."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from costmodel.adapters.org_store import read_cost, read_usage
from costmodel.adapters.store import open_store
from costmodel.adapters.synthetic_org import OrgFact, generate_org_report
from costmodel.shells.cli import main
from tests.fake_analytics_api import TEST_ADMIN_KEY, FakeAnalyticsAPI

TODAY = "2026-12-01"  # the fake API's "now"
SINCE = date(2026, 9, 1)
UNTIL = date(2026, 11, 30)  # 91 days: three queries per report


@pytest.fixture(scope="module")
def facts() -> list[OrgFact]:
    return generate_org_report(since=SINCE, days=91, seed=3, requests_per_day=120)


@pytest.fixture
def api(facts: list[OrgFact]):
    with FakeAnalyticsAPI(facts=list(facts), page_cap=400) as server:
        yield server


def invoke(*args: str, api: FakeAnalyticsAPI | None = None, key: str | None = None):
    env = {"COLUMNS": "220", "COSTMODEL_STORE": None, "ANTHROPIC_API_KEY": None}
    if api is not None:
        env["ANTHROPIC_ADMIN_KEY"] = key if key is not None else api.api_key
        env["ANTHROPIC_BASE_URL"] = api.base_url
    else:
        env["ANTHROPIC_ADMIN_KEY"] = key
    result = CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def pull(api: FakeAnalyticsAPI, store: Path, *extra: str, since=SINCE, until=UNTIL):
    return invoke(
        "org",
        "pull",
        "--since",
        since.isoformat(),
        "--until",
        until.isoformat(),
        "--store",
        str(store),
        "--today",
        TODAY,
        *extra,
        api=api,
    )


def stored_totals(store: Path) -> tuple[int, Decimal, Decimal, int]:
    with open_store(store, read_only=True) as opened:
        usage = read_usage(opened)
        cost = read_cost(opened)
    return (
        sum(r.requests or 0 for r in usage),
        sum((r.amount_cents for r in cost), Decimal(0)),
        sum((r.list_amount_cents for r in cost), Decimal(0)),
        len(usage) + len(cost),
    )


def fact_totals(facts: list[OrgFact], since: date = SINCE, until: date = UNTIL):
    chosen = [f for f in facts if since <= f.day <= until]
    return (
        sum(f.requests for f in chosen),
        sum((a for f in chosen for _, a in f.cost_cents.values()), Decimal(0)),
        sum((listed for f in chosen for listed, _ in f.cost_cents.values()), Decimal(0)),
    )


# -- org pull ---------------------------------------------------------------------------------
def test_pull_follows_every_page_of_every_31_day_query_and_stores_exact_amounts(
    api: FakeAnalyticsAPI, facts, tmp_path: Path
) -> None:
    store = tmp_path / "org.duckdb"
    api.page_cap = 40  # many pages a query
    code, out, err = pull(api, store, "--progress")
    assert code == 0, err
    assert "3 queries per report" in out and str(store) in out
    assert "usage: query 3/3" in err and "cost: query 1/3" in err  # progress on stderr
    for endpoint in ("/usage", "/cost"):
        calls = api.requests_to(endpoint)
        windows = {(c.query["starting_at"][0], c.query["ending_at"][0]) for c in calls}
        assert len(windows) == 3
        for start, end in windows:
            span = date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])
            assert span <= timedelta(days=31)
        assert any("page" in c.query for c in calls)  # pages beyond the first were read
        assert all(
            c.headers.get("anthropic-beta") == "analytics-usage-cost-2026-08-24" for c in calls
        )
    requests, amount, listed, _ = stored_totals(store)
    assert (requests, amount, listed) == fact_totals(facts)
    assert TEST_ADMIN_KEY not in out + err


def test_a_re_pull_replaces_its_days_and_never_double_counts(
    api: FakeAnalyticsAPI, facts, tmp_path: Path
) -> None:
    store = tmp_path / "org.duckdb"
    assert pull(api, store)[0] == 0
    before = stored_totals(store)
    code, out, err = pull(
        api, store, "--format", "json", since=date(2026, 10, 10), until=date(2026, 10, 20)
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "costmodel.org_pull/1"
    assert data["pulls"][0]["replaced_rows"] > 0
    assert stored_totals(store) == before
    assert stored_totals(store)[:3] == fact_totals(facts)


def test_a_pull_that_dies_leaves_the_store_as_it_was(
    api: FakeAnalyticsAPI, facts, tmp_path: Path
) -> None:
    store = tmp_path / "org.duckdb"
    assert pull(api, store)[0] == 0
    before = stored_totals(store)
    # The last query of the cost report keeps failing after the usage has all been read.
    api.fail("/cost", 500, times=50)
    code, _out, err = pull(api, store, "--max-retries", "0")
    assert code == 1
    assert err.startswith("costmodel: error:") and err.count("\n") == 1
    assert TEST_ADMIN_KEY not in err
    assert stored_totals(store) == before
    # A connection dropped mid-page is retried by the SDK, and the pull completes.
    fresh = FakeAnalyticsAPI(facts=list(facts), page_cap=40)
    with fresh:
        fresh.drop("/usage", page=1)
        code, _, err = pull(fresh, store)
    assert code == 0, err
    assert stored_totals(store) == before


def test_pull_needs_the_admin_key_and_says_so_in_one_line(tmp_path: Path) -> None:
    code, _out, err = invoke("org", "pull", "--since", "2026-11-01", "--store", str(tmp_path / "s"))
    assert code == 1 and "ANTHROPIC_ADMIN_KEY" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_pull_with_a_refused_key_is_one_line_and_never_shows_it(
    api: FakeAnalyticsAPI, tmp_path: Path
) -> None:
    secret = "sk-ant-admin01-wrong-wrong-wrong-XYZ"
    code, out, err = invoke(
        "org", "pull", "--since", "2026-11-01", "--store", str(tmp_path / "s.duckdb"),
        "--today", TODAY, api=api, key=secret,
    )  # fmt: skip
    assert code == 1 and err.count("\n") == 1 and secret not in out + err


def test_a_range_outside_the_api_limits_is_explained_before_any_request(
    api: FakeAnalyticsAPI, tmp_path: Path
) -> None:
    code, _, err = pull(api, tmp_path / "s.duckdb", since=date(2025, 12, 1))
    assert code == 1 and "2026-01-01" in err
    assert api.log == []


def test_pull_by_workspace_replaces_only_that_workspace(
    api: FakeAnalyticsAPI, facts, tmp_path: Path
) -> None:
    store = tmp_path / "org.duckdb"
    assert pull(api, store)[0] == 0
    before = stored_totals(store)
    workspace = next(f.workspace_id for f in facts if f.workspace_id)
    code, _, err = pull(api, store, "--workspace", workspace, since=date(2026, 11, 1))
    assert code == 0, err
    filtered = [c for c in api.requests_to("/usage") if "workspace_ids[]" in c.query]
    assert filtered and all(c.query["workspace_ids[]"] == [workspace] for c in filtered)
    # Only that workspace's rows of those days were replaced: the others are all still there.
    assert stored_totals(store) == before


# -- summary ------------------------------------------------------------------------------------
@pytest.fixture
def pulled(api: FakeAnalyticsAPI, tmp_path: Path) -> Path:
    store = tmp_path / "org.duckdb"
    code, _, err = pull(api, store)
    assert code == 0, err
    return store


@pytest.mark.parametrize("by", ["model", "tier", "workspace", "api_key", "day"])
def test_summary_foots_in_every_grouping(pulled: Path, facts, by: str) -> None:
    code, out, err = invoke(
        "org", "summary", "--by", by, "--store", str(pulled), "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "costmodel.org_summary/1" and data["by"] == by
    assert data["totals"]["requests"] == fact_totals(facts)[0]
    for column in ("reported_usd", "reported_list_usd", "catalogue_list_usd", "sync_as_batch_usd"):
        values = [r[column] for r in data["rows"] if r[column] is not None]
        total = data["totals"][column]
        if by == "api_key" and column.startswith("reported"):
            assert values == [] and total is None  # the cost report has no API key
            continue
        assert round(sum(Decimal(repr(v)) for v in values), 2) == Decimal(repr(total))
    if by != "api_key":
        assert Decimal(repr(data["totals"]["reported_usd"])) == round(
            fact_totals(facts)[1] / 100, 2
        )


def test_summary_by_tier_shows_unpriced_tiers_as_unpriced_never_zero(pulled: Path) -> None:
    _code, out, _err = invoke(
        "org", "summary", "--by", "tier", "--store", str(pulled), "--format", "json"
    )
    rows = {r["key"]: r for r in json.loads(out)["rows"]}
    assert rows["priority"]["catalogue_list_usd"] is None
    assert rows["priority"]["priced"] is False
    assert rows["standard"]["catalogue_list_usd"] > 0 and rows["batch"]["batch_requests"] > 0
    assert any("priority" in note for note in json.loads(out)["notes"])
    # The synthetic report's list amounts are the catalogue's exact list prices (US-only
    # surcharge and long-context tier included): the summary must find the same figures.
    for tier in ("standard", "batch"):
        assert rows[tier]["catalogue_list_usd"] == rows[tier]["reported_list_usd"]
    reconciled = json.loads(invoke("reconcile", "--store", str(pulled), "--format", "json")[1])
    totals = json.loads(out)["totals"]
    assert totals["catalogue_list_usd"] == reconciled["totals"]["catalogue_usd"]


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_summary_renders_every_format(pulled: Path, fmt: str) -> None:
    code, out, err = invoke("org", "summary", "--store", str(pulled), "--format", fmt)
    assert code == 0, err
    assert "claude" in out
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert rows[-1]["row"] == "total" and "catalogue_list_usd" in rows[0]


def test_summary_without_a_report_says_how_to_get_one(tmp_path: Path) -> None:
    store = tmp_path / "empty.duckdb"
    open_store(store).close()
    code, _, err = invoke("org", "summary", "--store", str(store))
    assert code == 1 and "costmodel org pull" in err and "--demo" in err


# -- reconcile ----------------------------------------------------------------------------------
def test_reconcile_passes_on_an_honest_report(pulled: Path) -> None:
    code, out, _err = invoke("reconcile", "--store", str(pulled), "--format", "json")
    data = json.loads(out)
    assert data["schema"] == "costmodel.reconcile/1"
    assert code == 0 and data["exit_code"] == 0, [c for c in data["cells"] if c["flags"]][:3]


def test_reconcile_exits_3_on_a_tampered_cost_row(facts, tmp_path: Path) -> None:
    # One day's output-token list amount for one standard-tier model doubled upstream.
    target = next(
        i
        for i, f in enumerate(facts)
        if f.service_tier == "standard" and f.day == date(2026, 10, 14) and f.requests > 0
    )
    fact = facts[target]
    listed, amount = fact.cost_cents["output_tokens"]
    tampered = list(facts)
    tampered[target] = dataclasses.replace(
        fact, cost_cents={**fact.cost_cents, "output_tokens": (listed * 2 + 500, amount * 2)}
    )
    store = tmp_path / "org.duckdb"
    with FakeAnalyticsAPI(facts=tampered, page_cap=200) as server:
        assert pull(server, store)[0] == 0
    code, out, err = invoke("reconcile", "--store", str(pulled_store := store))
    assert code == 3
    assert "beyond tolerance" in out and "2026-10-14" in out
    assert "beyond the tolerance of 0.5%" in err
    data = json.loads(invoke("reconcile", "--store", str(pulled_store), "--format", "json")[1])
    flagged = [c for c in data["cells"] if "beyond tolerance" in c["flags"]]
    assert [(c["day"], c["tier"]) for c in flagged] == [("2026-10-14", "standard")]
    assert "output" in " ".join(flagged[0]["hints"])
    # A wide tolerance lets it through.
    assert invoke("reconcile", "--store", str(store), "--tolerance", "100%")[0] == 0


def test_reconcile_tolerance_must_be_a_percentage(pulled: Path) -> None:
    code, _, err = invoke("reconcile", "--store", str(pulled), "--tolerance", "lots")
    assert code == 2 and "percentage" in err


# -- assess -------------------------------------------------------------------------------------
def _run_json(path: Path, on: str) -> dict:
    code, out, err = invoke("run", str(path), "--on", on, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _assert_plan_matches(assessment: dict, plan: Path) -> None:
    run = _run_json(plan, assessment["price_date"])
    priced = [w for w in assessment["workloads"] if not w["unpriced"]]
    assert [w["name"] for w in run["workloads"]] == [w["workload"] for w in priced]
    for w, line in zip(priced, run["workloads"], strict=True):
        assert (line["cost_sync"], line["cost_batch"]) == (w["now_usd"], w["after_usd"]), w
    assert run["totals"]["cost_sync"] == assessment["totals"]["now_usd"]
    assert run["totals"]["cost_batch"] == assessment["totals"]["after_usd"]


def test_assess_the_org_store_and_its_plan_runs_to_the_same_cents(pulled: Path, tmp_path) -> None:
    plan = tmp_path / "proposed.yaml"
    code, out, err = invoke(
        "assess", "--store", str(pulled), "--output", str(plan), "--on", "2026-12-01",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "costmodel.assess/1"
    assert {w["verdict"] for w in data["workloads"]} >= {"batch"}
    assert data["totals"]["savings_usd"] > 0
    _assert_plan_matches(data, plan)
    # --output never replaces a file without --force.
    again = invoke("assess", "--store", str(pulled), "--output", str(plan))
    assert again[0] == 1 and "--force" in again[2]
    assert invoke("assess", "--store", str(pulled), "--output", str(plan), "--force")[0] == 0


def test_assess_by_api_key_over_part_of_the_period(pulled: Path) -> None:
    code, out, err = invoke(
        "assess", "--store", str(pulled), "--by", "api_key", "--since", "2026-11-01",
        "--until", "2026-11-30", "--on", "2026-12-01", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == {"first_day": "2026-11-01", "last_day": "2026-11-30", "days": 30}
    assert data["by"] == "api_key"


def _log(tmp_path: Path, tier: str = "standard") -> Path:
    lines = ["timestamp,model,input_tokens,output_tokens,service_tier,tag,latency_budget_ms"]
    for day in range(1, 11):
        for n in range(150):
            hour = n % 24
            lines.append(
                f"2026-11-{day:02d}T{hour:02d}:15:00Z,claude-sonnet-4-5,{1000 + n},{200 + n % 7},"
                f"{tier},nightly-report,"
            )
        for n in range(120):
            lines.append(
                f"2026-11-{day:02d}T10:{n % 60:02d}:00Z,claude-haiku-4-5,400,80,{tier},live-chat,300"
            )
    path = tmp_path / "requests.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_assess_a_request_log_and_its_plan_runs_to_the_same_cents(tmp_path: Path) -> None:
    log = _log(tmp_path)
    plan = tmp_path / "plan.yaml"
    code, out, err = invoke(
        "assess", "--source", str(log), "--output", str(plan), "--on", "2026-12-01",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    verdicts = {w["workload"].split(" ")[0]: w["verdict"] for w in data["workloads"]}
    assert verdicts["live-chat"] == "sync"  # a 300 ms latency budget stays synchronous
    assert verdicts["nightly-report"] == "batch"
    _assert_plan_matches(data, plan)
    code, out, _ = invoke("assess", "--source", str(log), "--on", "2026-12-01")
    assert code == 0 and "nightly-report" in out and "Savings" in out


def test_assess_a_period_with_no_synchronous_usage_says_so(tmp_path: Path) -> None:
    code, out, err = invoke("assess", "--source", str(_log(tmp_path, tier="batch")))
    assert code == 1 and "no synchronous" in err and out == ""


def test_assess_a_bad_log_names_the_row_or_skips_it(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.write_text(log.read_text() + "2026-11-11T00:00:00Z,claude-sonnet-4-5,-5,1,standard,x,\n")
    code, _, err = invoke("assess", "--source", str(log))
    assert code == 1 and "requests.csv" in err and "input_tokens" in err
    code, out, err = invoke("assess", "--source", str(log), "--skip-invalid", "--on", "2026-12-01")
    assert code == 1 and "1 rows rejected" in err and "nightly-report" in out


def test_assess_with_a_policy_file_and_validate_checks_policies(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: Strict\nminimum_volume:\n  requests_per_day: 100000\n")
    code, out, err = invoke("validate", str(policy))
    assert code == 0 and "ok (migration policy)" in out, err
    code, out, err = invoke(
        "assess", "--source", str(_log(tmp_path)), "--policy", str(policy), "--format", "json"
    )
    assert code == 0, err
    assert {w["verdict"] for w in json.loads(out)["workloads"]} == {"sync"}
    policy.write_text("name: Typo\nminimum_volum:\n  requests_per_day: 1\nwait: {}\n")
    code, out, err = invoke("validate", str(policy))
    assert code == 1 and "minimum_volum" in err
    code, _, err = invoke("assess", "--source", str(_log(tmp_path)), "--policy", str(policy))
    assert code == 1 and "minimum_volum" in err


# -- the demo path --------------------------------------------------------------------------------
def test_every_command_works_on_the_demo_data_without_a_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COSTMODEL_DEMO_STORE", str(tmp_path / "demo.duckdb"))
    code, out, err = invoke("org", "summary", "--demo", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["demo"] is True and "Demo data" in err
    code, out, err = invoke("org", "summary", "--demo", "--by", "workspace")
    assert code == 0 and out.startswith("Demo data")
    assert invoke("reconcile", "--demo")[0] == 0
    code, out, err = invoke("assess", "--demo")
    assert code == 0 and "the demo organisation report" in out and "Demo data" in err
    store = tmp_path / "mine.duckdb"
    code, out, err = invoke("org", "demo", "--store", str(store), "--until", "2026-11-30")
    assert code == 0 and "Demo data" in out
    code, out, _ = invoke("org", "summary", "--store", str(store), "--format", "json")
    assert json.loads(out)["period"] == {"first_day": "2026-11-01", "last_day": "2026-11-30"}
    # Into the demo store --demo reads: a month of its own, kept.
    assert invoke("org", "demo", "--until", "2026-10-31")[0] == 0
    code, out, _ = invoke("org", "summary", "--demo", "--format", "json")
    assert json.loads(out)["period"] == {"first_day": "2026-10-02", "last_day": "2026-10-31"}


def test_the_demo_never_replaces_a_pulled_report(pulled: Path) -> None:
    before = stored_totals(pulled)
    code, _, err = invoke("org", "demo", "--store", str(pulled), "--until", "2026-11-30")
    assert code == 1 and "holds a pulled organisation report" in err
    assert stored_totals(pulled) == before


def test_reconcile_sets_the_stores_batch_results_beside_the_reports_batch_tier(
    pulled: Path, tmp_path: Path
) -> None:
    from costmodel.adapters.ingest import read_results
    from costmodel.adapters.synthetic import write_results

    results = tmp_path / "msgbatch_01Check_results.jsonl"
    write_results(results, 50, job="nightly", seed=4)
    with open_store(pulled) as store:
        source = read_results(results, created_at="2026-10-14")
        store.write_batch(source.batch_meta(), source)
    code, out, _err = invoke("reconcile", "--store", str(pulled), "--format", "json")
    checks = json.loads(out)["batch_checks"]
    assert checks and {c["day"] for c in checks} == {"2026-10-14"}
    # 50 generated requests are not what the report's batch tier billed that day.
    assert code == 3 and any(c["beyond_tolerance"] for c in checks)
    assert "Batch results in the store" in invoke("reconcile", "--store", str(pulled))[1]
