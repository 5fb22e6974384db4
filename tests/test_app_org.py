"""The Organisation and Assessment pages through Streamlit's AppTest, on the labelled demo
report and on a store with a pulled report; figures checked against the library's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shared_demo import copy_demo_store
from streamlit.testing.v1 import AppTest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.core.money import format_money

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 60
ORG_PAGE = "costmodel/shells/ui/organisation.py"
ASSESS_PAGE = "costmodel/shells/ui/assessment.py"


@pytest.fixture(autouse=True, scope="module")
def _stores(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("org-stores")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSTMODEL_STORE", str(folder / "no-user-store.duckdb"))
        patch.setenv(
            "COSTMODEL_DEMO_STORE", str(copy_demo_store(demo_store, folder / "demo-usage.duckdb"))
        )
        yield folder


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert not [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _demo_report(folder: Path):
    from costmodel.adapters.org_demo import default_org_demo_path
    from costmodel.adapters.org_store import read_report
    from costmodel.adapters.store import open_store

    with open_store(default_org_demo_path(), read_only=True) as store:
        found = read_report(store)
    assert found is not None
    return found


def test_organisation_page_shows_the_demo_report_labelled_with_the_librarys_figures(
    _stores: Path,
) -> None:
    from costmodel.core.org_summary import org_summary

    at = _page(ORG_PAGE)
    assert at.warning and at.warning[0].value.startswith("**Demo data")
    report, _period = _demo_report(_stores)
    summary = org_summary(
        report.usage, report.cost, bundled_catalogue(), by="day", geo_rows=report.geo_usage
    )
    totals = summary.shown()[-1]
    metrics = _metrics(at)
    assert metrics["Reported (USD)"] == format_money(totals["reported_usd"])
    assert metrics["Catalogue list (USD)"] == format_money(totals["catalogue_list_usd"])
    assert metrics["Sync part through batch (USD)"] == format_money(totals["sync_as_batch_usd"])
    assert len(at.get("plotly_chart")) == 2  # spend by day, sync against batch
    assert at.success  # the demo report reconciles
    flagged = at.dataframe[-1].value
    assert "priority" in set(flagged["Tier"]) and "unpriced" in " ".join(flagged["Flags"])
    at.radio(key="org.by").set_value("workspace").run()
    assert not at.exception
    assert "wrkspc_01Analytics" in at.dataframe[0].value["Workspace"].tolist()


def test_organisation_page_reads_a_pulled_report_in_the_users_store(
    _stores: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costmodel.adapters.org_store import write_org_report
    from costmodel.adapters.store import open_store
    from costmodel.adapters.synthetic_org import demo_org_report, generate_org_report

    facts = generate_org_report(since=date(2026, 10, 1), days=10, seed=2, requests_per_day=50)
    user = _stores / "user.duckdb"
    report = demo_org_report(facts, since=date(2026, 10, 1), until=date(2026, 10, 10))
    report.data_refreshed_at = datetime(2026, 10, 11, 6, tzinfo=UTC)
    with open_store(user) as store:
        write_org_report(store, report)  # as a pull writes it: not demo
    monkeypatch.setenv("COSTMODEL_STORE", str(user))
    at = _page(ORG_PAGE)
    assert at.radio(key="org.org.source").value == "Your store"
    assert not at.warning
    assert any("2026-10-11 06:00 UTC" in c.value for c in at.caption)
    at.radio(key="org.org.source").set_value("Demo data").run()
    assert at.warning and at.warning[0].value.startswith("**Demo data")


def test_assessment_page_runs_the_default_policy_and_its_widgets_rerun_it(_stores: Path) -> None:
    from costmodel.adapters.policy_files import default_policy
    from costmodel.core.assess import assess, candidates_from_org

    at = _page(ASSESS_PAGE)
    assert at.warning and at.warning[0].value.startswith("**Demo data")
    report, period = _demo_report(_stores)
    catalogue = bundled_catalogue()
    policy = default_policy()
    expected = assess(
        candidates_from_org(
            report.usage,
            since=period.first_day,
            until=period.last_day,
            catalogue=catalogue,
            source="the demo organisation report",
            business_hours=policy.business_hours,
        ),
        policy,
        catalogue,
        on=datetime.now(UTC).date(),
    ).to_dict()["totals"]
    metrics = _metrics(at)
    assert metrics["Monthly spend now (USD)"] == format_money(expected["now_usd"])
    assert metrics["Monthly savings (USD)"] == format_money(expected["savings_usd"])
    verdicts = at.dataframe[0].value
    assert "batch" in set(verdicts["Verdict"])
    # No workload has this many requests a day: everything stays synchronous.
    at.number_input(key="assess.minimum").set_value(1_000_000.0).run()
    assert not at.exception
    assert _metrics(at)["Monthly savings (USD)"] == "$0.00"
    assert set(at.dataframe[0].value["Verdict"]) <= {"sync", ""}


def test_the_proposed_plan_opens_in_the_explorer(_stores: Path) -> None:
    at = _page(ASSESS_PAGE)
    at.button(key="assess.open").click().run()
    assert not at.exception
    chosen = at.session_state["picker.choice"]
    assert chosen.endswith("(from the assessment)")
    assert at.selectbox(key="picker.choice").value == chosen
    assert at.title[0].value == "Scenario explorer"
