"""The demo store: generated in the real results format, labelled, built once, and shaped like
the bundled scenarios so their predictions can be set beside it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.demo import DEMO_JOBS, DEMO_LABEL, ensure_demo_store
from costmodel.adapters.scenario_files import load_scenario
from costmodel.adapters.store import open_store
from costmodel.core.measured import usage_summary

ROOT = Path(__file__).resolve().parent.parent


def test_demo_store_is_built_once_and_holds_a_month_of_batches(tmp_path: Path) -> None:
    path = ensure_demo_store(tmp_path / "demo.duckdb", today=date(2026, 11, 24))
    built = path.stat().st_mtime_ns
    assert ensure_demo_store(path, today=date(2026, 11, 24)) == path
    assert path.stat().st_mtime_ns == built  # not rebuilt
    with open_store(path, read_only=True) as store:
        first, last, batches = store.usage_span()
        summary = usage_summary(store, by="job", catalogue=bundled_catalogue()).to_dict()
    assert (first, last) == (date(2026, 10, 25), date(2026, 11, 23))
    assert batches == 30 * len(DEMO_JOBS)
    rows = {row["key"]: row for row in summary["rows"]}
    assert set(rows) == {job.name for job in DEMO_JOBS}
    totals = summary["totals"]
    # the generator's default shares: about 1% errored, some expired and canceled
    assert totals["errored"] > 0 and totals["expired"] > 0 and totals["canceled"] > 0
    assert 0 < totals["cost_billed"] < totals["cost_if_sync"]
    assert "not your usage" in DEMO_LABEL


def test_demo_jobs_are_workloads_of_the_bundled_scenarios() -> None:
    workloads = {
        w.name
        for path in (ROOT / "scenarios").glob("*.yaml")
        for w in load_scenario(path).workloads
    }
    assert {"claim-classification", "contract-summary"} <= {job.name for job in DEMO_JOBS}
    assert {"claim-classification", "contract-summary"} <= workloads
