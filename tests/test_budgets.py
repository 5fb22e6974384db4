"""Budgets: the file (validated like a scenario), the projection and verdicts (pure, by hand),
and ``costmodel budget check`` on stores with pinned dates (exit 3 when over)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from costmodel.adapters.budget_files import example_budgets_path, load_budgets, parse_budgets
from costmodel.adapters.synthetic import succeeded_line, usage_object
from costmodel.core.budgets import EXCEEDED, WILL_EXCEED, WITHIN, Budget, BudgetError, check_budgets
from costmodel.core.contract import SCHEMAS
from costmodel.shells.cli import main


def _budget(monthly: str, scope: str = "total", key: str | None = None) -> Budget:
    return Budget("b", scope, key, Decimal(monthly), 1)


def test_projection_and_verdicts_by_hand() -> None:
    # 10 of 30 days in November: $100 so far projects to $300.
    spend = {
        "total": {None: Decimal("100")},
        "job": {"a": Decimal("40"), "b": Decimal("120.01")},
    }
    result = check_budgets(
        [
            _budget("300"),  # projected exactly 300: within
            _budget("299.99"),  # projected 300 > 299.99: will exceed
            _budget("120", "job", "b"),  # already 120.01: exceeded
            _budget("50", "job", "c"),  # nothing spent: within
        ],
        spend,
        month=date(2026, 11, 1),
        as_of=date(2026, 11, 10),
        source="batches",
    )
    assert [line.projected for line in result.lines] == [
        Decimal(300),
        Decimal(300),
        Decimal("360.03"),
        Decimal(0),
    ]
    assert [line.verdict for line in result.lines] == [WITHIN, WILL_EXCEED, EXCEEDED, WITHIN]
    assert result.exceeded
    assert result.days_elapsed == 10 and result.days_in_month == 30
    assert "100" not in result.method and "10 days elapsed" in result.method
    data = result.to_dict()
    assert data["schema"] == SCHEMAS["budget"] == "costmodel.budget/1"
    assert data["budgets"][1]["verdict"] == "will exceed"
    # February of a leap year has 29 days.
    feb = check_budgets(
        [_budget("100")], {"total": {None: Decimal(50)}}, month=date(2028, 2, 1),
        as_of=date(2028, 2, 10), source="org",
    )  # fmt: skip
    assert feb.lines[0].projected == Decimal(145)


@given(
    spent=st.decimals(min_value=0, max_value=10**6, places=2),
    monthly=st.decimals(min_value="0.01", max_value=10**6, places=2),
    day=st.integers(1, 31),
)
def test_verdict_properties(spent: Decimal, monthly: Decimal, day: int) -> None:
    result = check_budgets(
        [_budget(str(monthly))], {"total": {None: spent}}, month=date(2026, 12, 1),
        as_of=date(2026, 12, day), source="batches",
    )  # fmt: skip
    line = result.lines[0]
    assert line.projected >= line.month_to_date
    if day == 31:
        assert line.projected == spent
    assert (line.verdict == EXCEEDED) == (spent > monthly)
    assert (line.verdict == WITHIN) == (line.projected <= monthly)


def test_every_problem_at_once_with_lines(tmp_path: Path) -> None:
    text = (
        "budgets:\n"
        "  - {total: true, monthly: 100}\n"  # 2: fine
        "  - {job: a, model: b, monthly: 5}\n"  # 3: two scopes
        "  - {job: a, monthly: -5}\n"  # 4: negative
        "  - {model: m, montly: 5}\n"  # 5: misspelt key, missing monthly
        "  - {total: true, monthly: 7}\n"  # 6: a second total
        "  - {workspace: w, monthly: 1e400}\n"  # 7: not finite / too big
        "  - {job: a, monthly: yes}\n"  # 8: a boolean
    )
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    with pytest.raises(BudgetError) as caught:
        load_budgets(path)
    problems = caught.value.problems
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == sorted(lines)
    assert {3, 4, 5, 6, 7, 8} <= set(lines)
    joined = "\n".join(problems)
    assert f"{path}:3: budgets[1]: got job, model; expected exactly one of" in joined
    assert "did you mean 'monthly'?" in joined
    assert "a second budget for the same total (first on line 2)" in joined
    assert str(path) in problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty file"),
        ("budgets: 3\n", "expected a list of budgets"),
        ("budget:\n  - {total: true, monthly: 1}\n", "did you mean 'budgets'?"),
        ("budgets:\n  - {total: false, monthly: 1}\n", "expected true"),
        ("budgets: [unclosed\n", "budgets.yaml"),
    ],
)
def test_malformed_files_are_one_located_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["budget", "check", "--budgets", str(path)])
    assert result.exit_code == 1
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_amounts_are_read_as_written() -> None:
    (budget,) = parse_budgets("budgets:\n  - {total: true, monthly: 0.1}\n")
    assert budget.monthly == Decimal("0.1")  # never 0.1000000000000000055...


def test_the_bundled_example_is_valid() -> None:
    budgets = load_budgets(example_budgets_path())
    assert {b.scope for b in budgets} == {"total", "job", "model", "workspace"}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """haiku 4.5 at batch rates: 2 MTok in + 0.2 MTok out = $1.00 + $0.50 = $1.50 a day on
    2026-11-01 and 2026-11-02 for job 'triage', and $0.75 for job 'other' on the 2nd."""
    path = tmp_path / "usage.duckdb"
    days = {
        "01": [("triage-1", 2_000_000, 200_000)],
        "02": [("triage-2", 2_000_000, 200_000), ("other-1", 1_000_000, 100_000)],
    }
    for day, requests in days.items():
        results = tmp_path / f"msgbatch_{day}b_results.jsonl"
        results.write_text(
            "\n".join(
                succeeded_line(
                    cid, "claude-haiku-4-5", usage_object(input_tokens=i, output_tokens=o)
                )
                for cid, i, o in requests
            )
            + "\n"
        )
        result = CliRunner().invoke(
            main,
            [
                "usage",
                "import",
                str(results),
                "--created-at",
                f"2026-11-{day}",
                "--store",
                str(path),
            ],
        )
        assert result.exit_code == 0, result.output
    return path


def _check(store: Path, tmp_path: Path, text: str, *args: str) -> tuple[int, dict[str, object]]:
    budgets = tmp_path / "b.yaml"
    budgets.write_text(text)
    result = CliRunner().invoke(
        main,
        [
            "budget",
            "check",
            "--budgets",
            str(budgets),
            "--store",
            str(store),
            "--format",
            "json",
            *args,
        ],
    )
    assert result.exit_code in (0, 3), result.output
    return result.exit_code, json.loads(result.output)


def test_cli_on_a_pinned_store(store: Path, tmp_path: Path) -> None:
    text = (
        "budgets:\n  - {total: true, monthly: 100}\n  - {job: triage, monthly: 40}\n"
        "  - {job: other, monthly: 100}\n  - {model: claude-haiku-4-5-20251001, monthly: 50}\n"
    )
    code, data = _check(store, tmp_path, text)
    assert data["month"] == "2026-11" and data["as_of"] == "2026-11-02"
    rows = {b["name"]: b for b in data["budgets"]}  # type: ignore[attr-defined]
    # total $3.75 in 2 days -> $56.25 over 30 days; triage $3.00 -> $45.00 > $40: will exceed.
    assert rows["All usage"]["month_to_date"] == 3.75 and rows["All usage"]["projected"] == 56.25
    assert (
        rows["job triage"]["projected"] == 45.0 and rows["job triage"]["verdict"] == "will exceed"
    )
    assert rows["job other"]["month_to_date"] == 0.75
    assert rows["model claude-haiku-4-5-20251001"]["key"] == "claude-haiku-4-5"
    assert rows["model claude-haiku-4-5-20251001"]["projected"] == 56.25
    assert code == 3 and data["exceeded"] is True
    # Seen from the 1st: $1.50 -> $45.00 total; triage $1.50 -> $45.00; still over.
    code, data = _check(store, tmp_path, text, "--on", "2026-11-01")
    assert code == 3 and data["as_of"] == "2026-11-01"
    code, data = _check(
        store, tmp_path, "budgets:\n  - {total: true, monthly: 100}\n", "--on", "2026-11-30"
    )
    assert code == 0 and data["budgets"][0]["projected"] == 3.75  # type: ignore[index]


def test_totals_equal_usage_summary(store: Path, tmp_path: Path) -> None:
    _, data = _check(store, tmp_path, "budgets:\n  - {total: true, monthly: 100}\n")
    summary = CliRunner().invoke(
        main,
        [
            "usage",
            "summary",
            "--store",
            str(store),
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--format",
            "json",
        ],
    )
    assert (
        data["budgets"][0]["month_to_date"] == json.loads(summary.output)["totals"]["cost_billed"]
    )  # type: ignore[index]


def test_markdown_and_unknown_model(store: Path, tmp_path: Path) -> None:
    budgets = tmp_path / "b.yaml"
    budgets.write_text("budgets:\n  - {total: true, monthly: 1}\n")
    result = CliRunner().invoke(
        main,
        [
            "budget",
            "check",
            "--budgets",
            str(budgets),
            "--store",
            str(store),
            "--format",
            "markdown",
        ],
    )
    assert result.exit_code == 3
    assert "| All usage | total | $1.00 | $3.75 |" in result.output
    budgets.write_text(
        "budgets:\n  - {total: true, monthly: 1}\n  - {model: claude-nonesuch, monthly: 1}\n"
    )
    result = CliRunner().invoke(
        main, ["budget", "check", "--budgets", str(budgets), "--store", str(store)]
    )
    assert result.exit_code == 1
    assert f"{budgets}:3: model: unknown model 'claude-nonesuch'" in result.output


def test_example_on_the_demo_data(tmp_path: Path) -> None:
    from costmodel.adapters.demo import ensure_demo_store

    demo = ensure_demo_store(tmp_path / "demo.duckdb", today=date(2026, 12, 1))
    result = CliRunner().invoke(
        main, ["budget", "check", "--budgets", "example", "--store", str(demo), "--format", "json"]
    )
    assert result.exit_code == 3, result.output
    data = json.loads(result.output)
    verdicts = {b["name"]: b["verdict"] for b in data["budgets"]}
    assert verdicts["All Claude usage"] == "within"
    assert verdicts["model claude-haiku-4-5"] == "exceeded"
    assert any("Analytics workspace" in note for note in data["notes"])
