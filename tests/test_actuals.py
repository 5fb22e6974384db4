"""Measured usage, priced: summaries by model, batch, job and day; calibrate; modelled vs measured.

The stores here are filled from small results files in the real wire format whose costs are
worked out by hand from the catalogue's published rates (USD per MTok):
Sonnet 4.5 3 / 15 / 3.75 (5m write) / 6 (1h write) / 0.30 (read); Haiku 4.5 1 / 5 / 1.25 / 2 / 0.10;
batch = half of every rate.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.ingest.files import read_results
from costmodel.adapters.job_maps import load_job_map
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.adapters.store import Store, open_store
from costmodel.adapters.synthetic import bare_line, errored_line, succeeded_line, usage_object
from costmodel.core.calibration import calibrate
from costmodel.core.comparison import compare_with_actual
from costmodel.core.jobs import JobRule
from costmodel.core.measured import NOT_REPORTED, daily_costs, usage_summary
from costmodel.errors import CostModelError, StoreError
from costmodel.shells.cli import main

CATALOGUE = bundled_catalogue()
PRICING_DAY = date(2026, 12, 1)  # pinned: the scenarios here name no price_date

DAY_ONE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY_TWO = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def ok(custom_id: str, model: str, **counts: int) -> str:
    return succeeded_line(custom_id, model, usage_object(**counts))


@pytest.fixture
def filled(tmp_path: Path) -> Store:
    """Two batches on two days, two jobs, every result type."""
    first = write_lines(
        tmp_path / "msgbatch_01First_results.jsonl",
        [
            # 1,000,000 in + 100,000 out on Sonnet 4.5 at batch rates: 1.50 + 0.75 = $2.25
            ok(
                "claims-2", "claude-sonnet-4-5-20250929", input_tokens=100_000, output_tokens=10_000
            ),
            ok(
                "claims-1",
                "claude-sonnet-4-5",
                input_tokens=900_000 // 9,
                output_tokens=90_000 // 9,
            ),
            errored_line("claims-3"),
            bare_line("claims-4", "expired"),
        ],
    )
    second = write_lines(
        tmp_path / "msgbatch_01Second_results.jsonl",
        [
            # Haiku 4.5, batch: 1M in 0.50 + 1M 1h writes 1.00 + 1M reads 0.05 + 0.2M out 0.50 = $2.05
            ok(
                "report-7",
                "claude-haiku-4-5",
                input_tokens=1_000_000,
                output_tokens=200_000,
                cache_write_1h=1_000_000,
                cache_read=1_000_000,
            ),
            bare_line("report-8", "canceled"),
        ],
    )
    store = open_store(tmp_path / "usage.duckdb")
    for path, created in ((first, DAY_ONE), (second, DAY_TWO)):
        source = read_results(path, created_at=created)
        store.write_batch(source.batch_meta(), source)
    return store


def by_key(summary: object) -> dict[str, dict[str, object]]:
    return {row["key"]: row for row in summary.to_dict()["rows"]}  # type: ignore[attr-defined]


def test_summary_by_model_bills_batch_rates_and_resolves_snapshots(filled: Store) -> None:
    summary = usage_summary(filled, by="model", catalogue=CATALOGUE)
    rows = by_key(summary)
    sonnet = rows["claude-sonnet-4-5"]  # the snapshot id and the alias are one model
    assert sonnet["succeeded"] == 2
    assert sonnet["input_tokens"] == 200_000 and sonnet["output_tokens"] == 20_000
    # 200K in x 3 + 20K out x 15 = $0.90 sync; half of it billed
    assert sonnet["cost_if_sync"] == 0.90 and sonnet["cost_billed"] == 0.45
    haiku = rows["claude-haiku-4-5"]
    assert haiku["cost_billed"] == 2.05 and haiku["cost_if_sync"] == 4.10
    assert haiku["cache_creation_input_tokens"] == 1_000_000
    assert haiku["cache_read_input_tokens"] == 1_000_000
    # errored, expired and canceled lines carry no model: counted, never billed
    unreported = rows[NOT_REPORTED]
    assert (unreported["errored"], unreported["expired"], unreported["canceled"]) == (1, 1, 1)
    assert unreported["cost_billed"] == 0
    totals = summary.to_dict()["totals"]
    assert totals == {
        **totals,
        "succeeded": 3,
        "errored": 1,
        "canceled": 1,
        "expired": 1,
        "cost_billed": 2.50,
        "cost_if_sync": 5.00,
        "savings": 2.50,
    }


def test_summary_json_has_the_documented_fields(filled: Store) -> None:
    data = usage_summary(filled, by="model", catalogue=CATALOGUE).to_dict()
    assert data["by"] == "model" and data["currency"] == "USD"
    fields = {
        "key",
        "succeeded",
        "errored",
        "canceled",
        "expired",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cost_billed",
        "cost_if_sync",
        "savings",
    }
    assert all(fields <= set(row) for row in data["rows"])  # fields are added, never renamed
    assert fields - {"key"} <= set(data["totals"])


def test_summary_by_job_attributes_every_result_type(filled: Store) -> None:
    rows = by_key(usage_summary(filled, by="job", catalogue=CATALOGUE))
    assert set(rows) == {"claims", "report"}
    assert (rows["claims"]["succeeded"], rows["claims"]["errored"], rows["claims"]["expired"]) == (
        2,
        1,
        1,
    )
    assert (rows["report"]["succeeded"], rows["report"]["canceled"]) == (1, 1)
    assert rows["claims"]["cost_billed"] == 0.45


def test_summary_by_batch_and_day_and_period(filled: Store) -> None:
    batches = by_key(usage_summary(filled, by="batch", catalogue=CATALOGUE))
    assert set(batches) == {"msgbatch_01First", "msgbatch_01Second"}
    days = usage_summary(filled, by="day", catalogue=CATALOGUE)
    assert [row["key"] for row in days.to_dict()["rows"]] == ["2026-11-02", "2026-11-03"]
    only_second = usage_summary(filled, by="model", since=date(2026, 11, 3), catalogue=CATALOGUE)
    assert only_second.to_dict()["totals"]["cost_billed"] == 2.05


def test_job_separator_and_mapping_file(filled: Store, tmp_path: Path) -> None:
    assert set(
        by_key(usage_summary(filled, by="job", jobs=JobRule(separator="_"), catalogue=CATALOGUE))
    ) == {
        "claims-1",
        "claims-2",
        "claims-3",
        "claims-4",
        "report-7",
        "report-8",
    }
    mapping = tmp_path / "jobs.yaml"
    mapping.write_text("triage: ['claims-*']\n")
    rows = by_key(usage_summary(filled, by="job", jobs=load_job_map(mapping), catalogue=CATALOGUE))
    assert set(rows) == {"triage", "report"}
    mapping.write_text("- not a mapping\n")
    with pytest.raises(CostModelError, match=r"jobs\.yaml"):
        load_job_map(mapping)


def test_unknown_model_is_unpriced_and_said_never_zero(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "msgbatch_01mystery.jsonl",
        [
            ok("a-1", "claude-mystery-9", input_tokens=10, output_tokens=10),
            ok("a-2", "claude-haiku-4-5", input_tokens=1_000_000, output_tokens=0),
        ],
    )
    with open_store(tmp_path / "u.duckdb") as store:
        source = read_results(path, created_at=DAY_ONE)
        store.write_batch(source.batch_meta(), source)
        summary = usage_summary(store, by="model", catalogue=CATALOGUE)
    assert any(
        "claude-mystery-9 (1 requests" in note and "Unpriced" in note for note in summary.notes
    )
    assert summary.to_dict()["totals"]["cost_billed"] == 0.50


def test_daily_costs(filled: Store) -> None:
    frame = daily_costs(filled, by="job", catalogue=CATALOGUE)
    assert frame[["key", "cost_billed"]].to_dict(orient="records") == [
        {"key": "claims", "cost_billed": pytest.approx(0.45)},
        {"key": "report", "cost_billed": pytest.approx(2.05)},
    ]
    assert str(frame["day"].iloc[0]) == "2026-11-02"


def test_calibrate_writes_a_scenario_that_reprices_the_measured_usage(filled: Store) -> None:
    text = calibrate(filled, since=date(2026, 11, 2), until=date(2026, 11, 4), catalogue=CATALOGUE)
    scenario = parse_scenario(text, source="calibrated.yaml")
    names = [w.name for w in scenario.workloads]
    assert names == ["claims", "report"]
    claims = scenario.workloads[0]
    assert claims.input_tokens == 100_000 and claims.output_tokens == 10_000
    assert claims.requests.per == "month" and claims.requests.count == 30  # 2 in 2 days
    assert "p95" in text
    only = calibrate(filled, job="report", catalogue=CATALOGUE)
    assert "report" in only and "claims" not in yaml.safe_load(only)["workloads"][0]["name"]
    with pytest.raises(StoreError, match="no succeeded requests"):
        calibrate(filled, job="nothing-here", catalogue=CATALOGUE)


def test_modelled_beside_measured(filled: Store, tmp_path: Path) -> None:
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(
        "name: Claims\ndays_per_month: 30\nworkloads:\n"
        "  - name: claims\n    model: claude-sonnet-4-5\n    requests: {count: 30, per: month}\n"
        "    input_tokens: 100000\n    output_tokens: 10000\n"
        "  - name: missing-job\n    model: claude-haiku-4-5\n    requests: 300\n"
        "    input_tokens: 10\n    output_tokens: 10\n"
    )
    result = compare_with_actual(
        load_scenario(scenario_file),
        filled,
        since=date(2026, 11, 2),
        until=date(2026, 11, 4),
        catalogue=CATALOGUE,
        on=PRICING_DAY,
    )
    data = result.to_dict()
    lines = {line["workload"]: line for line in data["lines"]}
    # 30 a month scaled to the 2-day period is 2 requests: $0.45 at batch rates, as measured
    assert lines["claims"]["cost_modelled"] == 0.45
    assert lines["claims"]["cost_actual"] == 0.45
    assert lines["claims"]["difference"] == 0
    assert lines["missing-job"]["status"] == "no usage found"
    assert any("report" in note and "not in this scenario" in note for note in data["notes"])


# -- the CLI over the store -----------------------------------------------------------------------
def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_import_summary_calibrate(tmp_path: Path) -> None:
    store = tmp_path / "cli.duckdb"
    path = write_lines(
        tmp_path / "msgbatch_01Cli_results.jsonl",
        [
            ok("jobA-1", "claude-haiku-4-5", input_tokens=1_000_000, output_tokens=0),
            errored_line("jobA-2"),
        ],
    )
    code, out, err = cli(
        "usage", "import", str(path), "--store", str(store), "--created-at", "2026-11-02"
    )
    assert code == 0, err
    assert "batch msgbatch_01Cli: 2 requests (1 succeeded, 1 errored)" in out
    code, out, _ = cli("usage", "import", str(path), "--store", str(store))
    assert code == 0  # the same batch again changes nothing
    code, out, _ = cli(
        "usage", "summary", "--store", str(store), "--by", "model", "--format", "json"
    )
    data = json.loads(out)
    assert data["totals"]["succeeded"] == 1 and data["totals"]["errored"] == 1
    assert data["totals"]["cost_billed"] == 0.5
    code, out, _ = cli("usage", "summary", "--store", str(store), "--by", "job")
    assert "jobA" in out and "$0.50" in out and "$1.00" in out
    code, out, _ = cli("usage", "calibrate", "--store", str(store))
    assert code == 0 and parse_scenario(out).workloads[0].name == "jobA"


def test_cli_import_refuses_a_malformed_file_whole(tmp_path: Path) -> None:
    store = tmp_path / "cli.duckdb"
    path = write_lines(
        tmp_path / "msgbatch_01bad.jsonl",
        [ok("x-1", "claude-haiku-4-5", input_tokens=1, output_tokens=1), "{not json"],
    )
    code, _, err = cli("usage", "import", str(path), "--store", str(store))
    assert code == 1
    assert "bad.jsonl" in err and "line 2" in err and "Traceback" not in err
    assert not store.exists()  # nothing was written, so no store was created
    code, out, err = cli("usage", "import", str(path), "--store", str(store), "--skip-invalid")
    assert code == 1  # imported, but says a line was rejected
    assert "batch msgbatch_01bad: 1 requests (1 succeeded)" in out
    assert "1 invalid line(s) skipped: line 2" in err


def test_cli_summary_without_a_store_says_how_to_fill_it(tmp_path: Path) -> None:
    code, _, err = cli("usage", "summary", "--store", str(tmp_path / "none.duckdb"))
    assert code == 1
    assert "no usage store yet" in err and "costmodel usage pull" in err


def test_cli_run_actual(filled: Store, tmp_path: Path) -> None:
    path = filled.path
    filled.close()
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(
        "name: Claims\nworkloads:\n  - name: claims\n    model: claude-sonnet-4-5\n"
        "    requests: {count: 30, per: month}\n    input_tokens: 100000\n    output_tokens: 10000\n"
    )
    code, out, err = cli(
        "run",
        str(scenario_file),
        "--actual",
        "--store",
        str(path),
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-04",
        "--format",
        "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["lines"][0]["cost_actual"] == 0.45
    assert data["modelled"]["totals"]["cost_batch"] == 6.75


def test_cli_pull_against_the_loopback_api(api_env: object, tmp_path: Path) -> None:
    from fake_batches_api import TEST_API_KEY, FakeBatch

    api = api_env
    api.add_batch(  # type: ignore[attr-defined]
        FakeBatch(
            "msgbatch_01Pulled",
            DAY_ONE,
            [
                ok("nightly-1", "claude-haiku-4-5", input_tokens=1_000_000, output_tokens=0),
                bare_line("nightly-2", "expired"),
            ],
        )
    )
    api.add_batch(FakeBatch("msgbatch_01Running", DAY_TWO, [], processing_status="in_progress"))  # type: ignore[attr-defined]
    api.add_batch(FakeBatch("msgbatch_01Gone", DAY_ONE, [], results_gone=True))  # type: ignore[attr-defined]
    store = tmp_path / "pulled.duckdb"
    code, out, err = cli(
        "usage", "pull", "--store", str(store), "--no-progress", "--max-retries", "0"
    )
    assert code == 1  # one batch's results are gone: reported, and the exit says so
    assert "1 pulled (2 requests)" in out and "1 still in progress" in out
    assert "msgbatch_01Gone" in err
    assert TEST_API_KEY not in out + err
    code, out, _ = cli("usage", "summary", "--store", str(store), "--format", "json")
    totals = json.loads(out)["totals"]
    assert totals["succeeded"] == 1 and totals["expired"] == 1 and totals["cost_billed"] == 0.5
    # The next pull does not fail again on the batch whose results were already gone.
    code, out, err = cli("usage", "pull", "--store", str(store), "--no-progress")
    assert code == 0, err
    assert "1 already stored" in out
    assert "(1 more found without results by an earlier pull)" in out


def test_cli_pull_without_a_key_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    code, _, err = cli("usage", "pull", "--store", str(tmp_path / "s.duckdb"), "--no-progress")
    assert code == 1
    assert err.startswith("costmodel: error: ") and "ANTHROPIC_API_KEY" in err
    assert len(err.strip().splitlines()) == 1


def test_measured_long_context_requests_are_named_in_the_notes(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "msgbatch_01Long_results.jsonl",
        [
            # Haiku 5.5 over 100K: 150K in at the tier's 0.50, batch: $0.0375 each
            ok("a", "claude-haiku-5-5", input_tokens=150_000, output_tokens=0),
            ok("b", "claude-haiku-5-5", input_tokens=140_000, cache_read=10_000, output_tokens=0),
            ok("c", "claude-haiku-5-5", input_tokens=1_000, output_tokens=0),
        ],
    )
    store = open_store(tmp_path / "usage.duckdb")
    source = read_results(path, created_at=DAY_ONE)
    store.write_batch(source.batch_meta(), source)
    summary = usage_summary(store, by="model", catalogue=CATALOGUE)
    billed = summary.rows.set_index("key").loc["claude-haiku-5-5", "cost_billed"]
    assert billed == pytest.approx(0.0375 + (140_000 * 0.5 + 10_000 * 0.05) / 2e6 + 0.00005)
    assert (
        "claude-haiku-5-5: 2 requests with a prompt over 100,000 tokens billed at its "
        "long-context tier (every token of such a request, output included, at the "
        "long-context rates)."
    ) in summary.notes


def test_measured_prompts_the_api_refuses_are_an_error(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "msgbatch_01Refused_results.jsonl",
        [ok("a", "claude-sonnet-4-5", input_tokens=250_000, output_tokens=10)],
    )
    store = open_store(tmp_path / "usage.duckdb")
    source = read_results(path, created_at=DAY_ONE)
    store.write_batch(source.batch_meta(), source)
    with pytest.raises(CostModelError, match="claude-sonnet-4-5 refuses prompts over 200,000"):
        usage_summary(store, by="model", catalogue=CATALOGUE)


def test_a_summary_of_usage_long_after_the_check_says_prices_may_be_stale(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "msgbatch_01Late_results.jsonl",
        [ok("a", "claude-haiku-4-5", input_tokens=1_000, output_tokens=10)],
    )
    store = open_store(tmp_path / "usage.duckdb")
    source = read_results(path, created_at=datetime(2027, 1, 15, 9, 0, tzinfo=UTC))
    store.write_batch(source.batch_meta(), source)
    notes = usage_summary(store, by="model", catalogue=CATALOGUE).notes
    assert any(note.startswith("Prices may be stale") and "2027-01-15" in note for note in notes)
    early = usage_summary(
        store, by="model", until=date(2027, 1, 1), catalogue=CATALOGUE
    ).notes  # no usage: no day
    assert not any("stale" in note for note in early)


def test_a_job_whose_usage_is_all_unpriced_is_unpriced_never_zero(tmp_path: Path) -> None:
    """run --actual: a job measured only on a model the catalogue cannot price shows
    "unpriced" (table) and null (JSON), and a note says what the totals leave out."""
    from click.testing import CliRunner

    from costmodel.adapters.synthetic import succeeded_line, usage_object
    from costmodel.shells.cli import main

    results = tmp_path / "msgbatch_01Unpriced_results.jsonl"
    results.write_text(
        "".join(
            succeeded_line(
                f"claim-classification-{i}",
                "claude-unknown-9",
                usage_object(input_tokens=1000, output_tokens=10),
            )
            + "\n"
            for i in range(5)
        )
    )
    store = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    imported = runner.invoke(
        main, ["usage", "import", str(results), "--store", store, "--created-at", "2026-11-02"]
    )
    assert imported.exit_code == 0, imported.output
    args = [
        "run",
        "scenarios/claims-triage.yaml",
        "--actual",
        "--store",
        store,
        "--on",
        "2026-11-24",
    ]
    data = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    (line,) = data["lines"]
    assert line["status"] == "unpriced"
    assert line["cost_actual"] is None and line["difference"] is None
    assert any("claude-unknown-9" in note and "not in the totals" in note for note in data["notes"])
    table = runner.invoke(main, [*args, "--format", "markdown"]).stdout
    assert "unpriced" in table and "| $0.00 | -$206.25 |" not in table.split("Total")[0]
