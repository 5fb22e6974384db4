"""The Operations page through Streamlit's AppTest: demo data labelled, a user's store read,
its figures those of costmodel.core.ops, and the charts drawn with the claims as bands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_ops import GOLDEN, _rows

from costmodel.adapters.store import open_store
from costmodel.core.ops import operations_summary

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "costmodel/shells/ui/operations.py"
TIMEOUT = 30


@pytest.fixture(autouse=True, scope="module")
def _stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No user store, and the demo store in a temporary folder (cached per process)."""
    folder = tmp_path_factory.mktemp("stores")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSTMODEL_STORE", str(folder / "no-user-store.duckdb"))
        patch.setenv("COSTMODEL_DEMO_STORE", str(folder / "demo-usage.duckdb"))
        yield folder


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE).run(timeout=180)  # the first view may build the demo store
    assert not at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_operations_page_shows_demo_data_labelled() -> None:
    at = _page()
    assert not at.error
    assert at.warning[0].value.startswith("**Demo data")
    metrics = _metrics(at)
    assert set(metrics) == {
        "Success rate",
        "Turnaround p50",
        "Turnaround p95",
        "Turnaround max",
        "Expired requests",
        "Errored requests",
    }
    assert metrics["Success rate"].endswith("%") and metrics["Turnaround max"].endswith(" h")
    # success rate, turnaround by day and by hour, expired, errors by type, tokens per request
    assert len(at.get("plotly_chart")) == 6
    assert any("UTC" in caption.value for caption in at.caption)


def test_a_users_store_shows_its_own_figures_and_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "mine.duckdb"
    with open_store(path) as store:
        for batch_id, created, ended, spec in GOLDEN:
            meta = {"batch_id": batch_id, "source": "api", "created_at": created, "ended_at": ended}
            store.write_batch(meta, [_rows(batch_id, created, ended, spec)])
    at = _page()
    at.radio(key="usage.source").set_value("Your usage store").run()
    at.text_input(key="usage.path").set_value(str(path)).run()
    assert not at.exception and not at.error
    metrics = _metrics(at)
    with open_store(path, read_only=True) as store:
        expected = operations_summary(store, since=date(2026, 11, 2), until=date(2026, 11, 4))
    assert metrics["Success rate"] == "60.00%"  # 9 of 15: hand-counted in test_ops
    assert metrics["Turnaround p50"] == "10.5 h" and metrics["Turnaround max"] == "24.0 h"
    assert [value for _, value, _ in expected.headlines()] == list(metrics.values())
    assert any("below the 99% target" in w.value for w in at.warning)
    assert any("Turnaround unknown for 1 of 5 batches" in c.value for c in at.caption)


def test_a_store_with_no_batches_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with open_store(path) as store:  # a store that only remembers a batch without results
        store.note_unavailable("msgbatch_01Gone", "results not found (404)")
    at = _page()
    at.radio(key="usage.source").set_value("Your usage store").run()
    at.text_input(key="usage.path").set_value(str(path)).run()
    assert not at.exception and not at.error
    assert any("no batches yet" in info.value for info in at.info)
