"""The costmodel command: outputs, the JSON contract, bad input, exit codes, start-up weight."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from costmodel.shells.cli import main
from costmodel.shells.cli.options import EXIT_OVER_BUDGET

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
CLAIMS = SCENARIOS / "claims-triage.yaml"


# Golden outputs price on a pinned day, never today: a future-dated catalogue entry must not
# change them on the day it takes effect.
GOLDEN_DAY = "2026-11-24"


def invoke(*args: str) -> tuple[int, str, str]:
    # A wide terminal, so table headers are not wrapped whatever terminal runs the tests.
    pinned = list(args)
    if pinned and pinned[0] in ("run", "compare", "diff", "prices") and "--on" not in pinned:
        pinned += ["--on", GOLDEN_DAY]
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, pinned, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


MINIMAL = """\
name: Minimal
workloads:
  - name: classify
    model: claude-3-5-sonnet
    requests: {count: 50000, per: month}
    input_tokens: 2000
    output_tokens: 150
"""


# -- run ------------------------------------------------------------------------------------------
# The whole table, CSV and markdown outputs of run, compare, diff, validate, prices and usage
# summary are pinned byte for byte in tests/test_goldens.py (tests/goldens/); the tests here
# check what those outputs mean (the contract, parsing, exit codes).


def test_run_json_is_the_documented_contract() -> None:
    code, out, _ = invoke("run", str(CLAIMS), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"scenario", "period", "currency", "workloads", "totals", "margin"}
    assert data["period"] == "month" and data["currency"] == "USD"
    workload = data["workloads"][0]
    assert set(workload) >= {
        "name",
        "model",
        "requests",
        "input_tokens",
        "output_tokens",
        "cost_sync",
        "cost_batch",
        "savings",
    }
    assert workload["requests"] == 50_000
    assert workload["input_tokens"] == 100_000_000
    assert data["totals"] == {
        **data["totals"],
        "requests": 50_000,
        "cost_sync": 412.5,
        "cost_batch": 206.25,
        "savings": 206.25,
        "savings_pct": 50,
    }
    assert isinstance(data["totals"]["cost_sync"], float)
    margin = data["margin"]
    assert set(margin) >= {
        "revenue",
        "cogs_sync",
        "cogs_batch",
        "gross_margin_sync_pct",
        "gross_margin_batch_pct",
        "delta_pp",
        "annual_savings",
    }
    assert margin["delta_pp"] == pytest.approx(
        margin["gross_margin_batch_pct"] - margin["gross_margin_sync_pct"], abs=1e-3
    )


def test_run_without_business_block_has_null_margin(tmp_path: Path) -> None:
    code, out, _ = invoke("run", str(write(tmp_path, MINIMAL)), "--format", "json")
    assert code == 0
    assert json.loads(out)["margin"] is None


def test_run_csv_loads_into_a_spreadsheet() -> None:
    code, out, _ = invoke("run", str(CLAIMS), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["name"] == "claim-classification"
    assert float(rows[0]["cost_sync"]) == 412.5


def test_run_in_another_currency_names_the_rate() -> None:
    code, out, _ = invoke(
        "run",
        str(CLAIMS),
        "--currency",
        "eur",
        "--fx-rate",
        "0.9",
        "--fx-date",
        "2026-11-20",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["currency"] == "EUR"
    assert data["fx"] == {"code": "EUR", "per_usd": 0.9, "as_of": "2026-11-20", "source": ""}
    assert data["totals"]["cost_sync"] == pytest.approx(371.25)
    assert any("1 USD = 0.9 EUR" in note for note in data["notes"])


def test_currency_without_a_dated_rate_is_refused() -> None:
    code, _, err = invoke("run", str(CLAIMS), "--currency", "EUR")
    assert code == 2
    assert "--fx-rate" in err and "--fx-date" in err


def test_run_with_a_contract_shows_list_and_contracted(tmp_path: Path) -> None:
    prices = write(
        tmp_path,
        "name: Acme MSA\ndiscounts:\n  - {model: claude-3-5-sonnet, percent: 20}\n",
        "prices.yaml",
    )
    code, out, _ = invoke("run", str(CLAIMS), "--prices", str(prices), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["contract"] == "Acme MSA"
    assert data["totals"]["list_cost_sync"] == 412.5
    assert data["totals"]["cost_sync"] == 330.0
    code, table, _ = invoke("run", str(CLAIMS), "--prices", str(prices))
    assert "List sync" in table and "$412.50" in table and "$330.00" in table


# -- compare and diff -----------------------------------------------------------------------------
def test_compare_puts_scenarios_side_by_side() -> None:
    files = [str(SCENARIOS / n) for n in ("document-summarisation.yaml", "claims-triage.yaml")]
    code, out, _ = invoke("compare", *files, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [s["totals"]["cost_sync"] for s in data["scenarios"]] == [855.0, 412.5]
    code, out, _ = invoke("compare", *files)
    assert "$855.00" in out and "$412.50" in out


def test_diff_line_by_line_and_budget_gate(tmp_path: Path) -> None:
    base = write(tmp_path, MINIMAL, "base.yaml")
    proposed = write(
        tmp_path,
        MINIMAL.replace("count: 50000", "count: 100000")
        + "  - name: summarise\n    model: claude-haiku-4-5\n    requests: 1000\n"
        "    input_tokens: 1000\n    output_tokens: 100\n",
        "proposed.yaml",
    )
    code, out, _ = invoke("diff", str(base), str(proposed), "--format", "json")
    assert code == 0
    data = json.loads(out)
    lines = {line["workload"]: line for line in data["lines"]}
    assert lines["classify"]["status"] == "changed"
    assert lines["classify"]["change"] == 206.25  # batch plan: 206.25 -> 412.50
    assert lines["summarise"]["status"] == "added"
    assert lines["summarise"]["change"] == pytest.approx(0.75)  # 1000 x (1000x1 + 100x5)/1e6 / 2
    assert data["totals"]["change"] == pytest.approx(207.0)

    code, out, _ = invoke("diff", str(base), str(proposed), "--format", "markdown")
    assert "| classify | changed |" in out

    code, _, err = invoke("diff", str(base), str(proposed), "--fail-above", "100")
    assert code == EXIT_OVER_BUDGET
    assert "above the budget of $100.00" in err
    code, _, _ = invoke("diff", str(base), str(proposed), "--fail-above", "500")
    assert code == 0
    code, out, _ = invoke("diff", str(base), str(proposed), "--plan", "sync", "--format", "json")
    assert json.loads(out)["totals"]["change"] == pytest.approx(414.0)


# -- validate and prices --------------------------------------------------------------------------
def test_validate_checks_without_running(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(CLAIMS))
    assert code == 0 and "ok (1 workload)" in out
    bad = write(
        tmp_path,
        MINIMAL.replace("output_tokens: 150", "output_tokens: -1").replace(
            "per: month", "per: fortnight"
        ),
    )
    code, _, err = invoke("validate", str(bad))
    assert code == 1
    assert "output_tokens" in err and "per" in err  # every problem, not just the first
    assert err.count("costmodel: error:") >= 2


def test_prices_lists_every_model_with_date_and_source() -> None:
    code, out, _ = invoke("prices", "--format", "json")
    assert code == 0
    data = json.loads(out)
    models = {m["model"]: m for m in data["models"]}
    assert models["claude-3-5-sonnet"]["input_mtok"] == 3.0
    assert models["claude-3-5-sonnet"]["output_mtok"] == 15.0
    assert all(m["source"].startswith("https://") and m["from"] for m in data["models"])
    code, out, _ = invoke("prices")
    assert "claude-sonnet-4-5" in out and "as of" in out


def test_prices_for_one_model_shows_its_history() -> None:
    code, out, _ = invoke("prices", "claude-sonnet-5-5", "--format", "json")
    assert code == 0
    history = json.loads(out)["models"]
    assert [h["cache_read_mtok"] for h in history] == [0.2, 0.1]
    assert history[1]["third_party"] == ["cache_read_mtok"]


def test_prices_unknown_model_suggests() -> None:
    code, _, err = invoke("prices", "claude-sonet-4-5")
    assert code == 1
    assert "unknown model 'claude-sonet-4-5'" in err and "claude-sonnet-4-5" in err


# -- bad input: one clear line, non-zero exit, no traceback ---------------------------------------
BAD_INPUTS = {
    "yaml syntax": ("name: x\nworkloads: [\n", ["s.yaml:", "YAML"]),
    "empty file": ("", ["empty"]),
    "misspelt key": (
        MINIMAL.replace("output_tokens", "output_tokns"),
        ["output_tokns", "output_tokens"],
    ),
    "missing key": (MINIMAL.replace("    output_tokens: 150\n", ""), ["output_tokens"]),
    "negative count": (MINIMAL.replace("count: 50000", "count: -5"), ["count"]),
    "non-numeric": (MINIMAL.replace("input_tokens: 2000", "input_tokens: lots"), ["input_tokens"]),
    "share outside 0..1": (MINIMAL + "    batch_share: 1.5\n", ["batch_share"]),
    "unknown model": (
        MINIMAL.replace("claude-3-5-sonnet", "claude-sonet-4-5"),
        ["claude-sonet-4-5", "claude-sonnet-4-5"],
    ),
    "unknown period": (MINIMAL.replace("per: month", "per: fortnight"), ["fortnight"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line(tmp_path: Path, case: str) -> None:
    text, fragments = BAD_INPUTS[case]
    path = write(tmp_path, text)
    code, out, err = invoke("run", str(path))
    assert code == 1
    assert out == ""
    assert err.startswith("costmodel: error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = invoke("run", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "nope.yaml" in err and "Traceback" not in err


def test_no_traceback_from_a_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nworkloads: [\n")
    proc = subprocess.run(
        [sys.executable, "-m", "costmodel", "run", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("costmodel: error: ")


# -- start-up weight ------------------------------------------------------------------------------
def test_the_pricing_path_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from costmodel.shells.cli import main\n"
        f"try:\n    main(['run', {str(CLAIMS)!r}, '--format', 'json'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = sorted(m for m in ('streamlit', 'plotly', 'anthropic', 'duckdb') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr


def test_validate_json_lists_every_problem_per_file(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        MINIMAL.replace("count: 50000", "count: -1").replace("per: month", "per: fortnight"),
    )
    code, out, _ = invoke("validate", str(CLAIMS), str(bad), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert [f["ok"] for f in data["files"]] == [True, False]
    problems = data["files"][1]["problems"]
    assert len(problems) == 2
    assert all(problem.startswith(f"{bad}:") for problem in problems)
    code, out, _ = invoke("validate", str(CLAIMS), "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "file,ok,workloads,problem"
