"""Whole outputs of the CLI, per command and format, against golden files in tests/goldens/.

Each case runs the real command (click's runner, from the repository root so paths read as a
user's would) on a pinned pricing day, at a fixed terminal width, and compares stdout and stderr
byte for byte with ``tests/goldens/<case>.<format>.txt``. A deliberate change of output is
recorded with ``pytest tests/test_goldens.py --update-goldens`` and reviewed in the diff.

The usage summaries run on the shared demo store, built for a pinned day from seeded
generated batches, so its figures are the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from shared_demo import copy_demo_store

from costmodel.shells.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOLDENS = Path(__file__).resolve().parent / "goldens"
ON = "2026-11-24"
WIDTH = "120"  # narrower than the widest tables, so the goldens pin how they split
FORMATS = ("table", "json", "csv", "markdown")

CASES: dict[str, tuple[str, ...]] = {
    "run-claims-triage": ("run", "scenarios/claims-triage.yaml", "--on", ON),
    "run-support-platform": ("run", "scenarios/support-platform.yaml", "--on", ON),
    "compare": (
        "compare",
        "scenarios/claims-triage.yaml",
        "scenarios/document-summarisation.yaml",
        "scenarios/agentic-research.yaml",
        "--on",
        ON,
    ),
    "diff": (
        "diff",
        "scenarios/claims-triage.yaml",
        "scenarios/claims-case-study.yaml",
        "--on",
        ON,
    ),
    "diff-sync": (
        "diff",
        "scenarios/claims-triage.yaml",
        "scenarios/claims-case-study.yaml",
        "--plan",
        "sync",
        "--on",
        ON,
    ),
    "validate": (
        "validate",
        "scenarios/claims-triage.yaml",
        "scenarios/reference.yaml",
        "tests/goldens/inputs/broken-scenario.yaml",
    ),
    "prices": ("prices", "--on", ON),
    "prices-history": ("prices", "claude-opus-4-6", "--on", ON),
    "usage-summary": ("usage", "summary", "--store", "{store}"),
    "usage-summary-by-job": ("usage", "summary", "--store", "{store}", "--by", "job"),
    "usage-summary-by-day": (
        "usage",
        "summary",
        "--store",
        "{store}",
        "--by",
        "day",
        "--since",
        "2026-11-20",
    ),
}
# `costmodel scenarios` has two formats only.
ONLY_FORMATS: dict[str, tuple[str, ...]] = {"scenarios": ("table", "json")}
CASES["scenarios"] = ("scenarios",)
PARAMS = [(case, fmt) for case in CASES for fmt in ONLY_FORMATS.get(case, FORMATS)]


@pytest.fixture(scope="module")
def summary_store(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Path:
    return copy_demo_store(demo_store, tmp_path_factory.mktemp("goldens") / "usage.duckdb")


def _run(args: tuple[str, ...], store: Path) -> tuple[int, str]:
    argv = [arg.replace("{store}", str(store)) for arg in args]
    result = CliRunner(env={"COLUMNS": WIDTH, "COSTMODEL_STORE": str(store)}).invoke(
        main, argv, catch_exceptions=False
    )
    output = f"exit {result.exit_code}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    # The store's temporary path and the checkout's own path are all that differ between runs.
    output = output.replace(str(store), "<store>").replace(str(ROOT), "<checkout>")
    return result.exit_code, output


@pytest.mark.parametrize(("case", "fmt"), PARAMS, ids=[f"{c}.{f}" for c, f in PARAMS])
def test_cli_output_matches_its_golden_file(
    case: str,
    fmt: str,
    update_goldens: bool,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    # Only the usage cases need the demo store (built once per run); the others get none.
    uses_store = "{store}" in CASES[case]
    store = request.getfixturevalue("summary_store") if uses_store else tmp_path / "none.duckdb"
    code, output = _run((*CASES[case], "--format", fmt), store)
    golden = GOLDENS / f"{case}.{fmt}.txt"
    if update_goldens:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(output, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run with --update-goldens"
    assert output == golden.read_text(encoding="utf-8")
    assert code == (1 if case == "validate" else 0)


def test_every_golden_file_belongs_to_a_case() -> None:
    """A golden left behind by a removed case would never be compared: refuse it."""
    expected = {f"{case}.{fmt}.txt" for case, fmt in PARAMS}
    assert {path.name for path in GOLDENS.glob("*.txt")} == expected
