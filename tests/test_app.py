"""The dashboard through Streamlit's AppTest: widgets driven, metrics and messages read back.

Pages run from app.py (``AppTest.from_file``); components alone with ``AppTest.from_function``.
Every test ends with no exception in the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from costmodel.catalogue import bundled_catalogue
from costmodel.ui import price_override, scenario_picker
from costmodel.ui.scenario_editor import widget_key
from costmodel.ui.services import MAX_UPLOAD_BYTES

ROOT = Path(__file__).resolve().parents[1]
DEMO_STORE_NAME = "demo-usage.duckdb"
APP = str(ROOT / "app.py")
TIMEOUT = 30
PAGES = (
    "costmodel/ui/explorer.py",
    "costmodel/ui/compare.py",
    "costmodel/ui/actual_usage.py",
    "costmodel/ui/prices.py",
)
USAGE_PAGE = "costmodel/ui/actual_usage.py"

# The worked examples: (label in the picker, sync cost, batch-plan cost).
WORKED_EXAMPLES = [
    ("Claims triage (classification)", "$412.50", "$206.25"),
    ("Document summarisation (contract review)", "$855.00", "$427.50"),
    ("Agentic research briefs", "$49.40", "$24.70"),
    ("Claims triage case study", "$52.50", "$26.25"),
]
DEFAULT_KEY = "bundled:claims-triage"
SUMMARIES = "Document summarisation (contract review)"
SUMMARIES_KEY = "bundled:document-summarisation"


@pytest.fixture(autouse=True, scope="module")
def _stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No user store, and the demo store in a temporary folder.

    The dashboard caches the demo store's path for the process, so it is set once, here.
    """
    folder = tmp_path_factory.mktemp("stores")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSTMODEL_STORE", str(folder / "no-user-store.duckdb"))
        patch.setenv("COSTMODEL_DEMO_STORE", str(folder / DEMO_STORE_NAME))
        yield folder


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _pick(at: AppTest, label: str) -> None:
    at.selectbox(key=scenario_picker.CHOICE_KEY).set_value(label).run()
    assert not at.exception


def _upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key=scenario_picker.UPLOADER_KEY).set_value(
        (name, data, "application/x-yaml")
    ).run()
    assert not at.exception


def _errors(at: AppTest) -> list[str]:
    # The page escapes every character markdown could read as markup; read the text back.
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


# -- the explorer -------------------------------------------------------------------------------
def test_default_page_shows_claims_triage_with_its_margin() -> None:
    at = _app()
    metrics = _metrics(at)
    assert metrics["Sync cost (USD)"] == "$412.50"
    assert metrics["Batch plan (USD)"] == "$206.25"
    assert metrics["Savings (USD)"] == "$206.25"
    assert metrics["Annual savings (USD)"] == "$2,475.00"
    assert metrics["Gross margin, sync"] == "89.59%"
    assert len(at.get("plotly_chart")) == 5
    assert not _errors(at)


@pytest.mark.parametrize(("label", "sync", "batch"), WORKED_EXAMPLES)
def test_each_worked_example_shows_its_figures(label: str, sync: str, batch: str) -> None:
    at = _app()
    _pick(at, label)
    values = [m.value for m in at.metric]
    assert values[0] == sync
    assert values[1] == batch
    assert len(at.get("plotly_chart")) == 5


def test_every_bundled_scenario_renders() -> None:
    at = _app()
    for label in at.selectbox(key=scenario_picker.CHOICE_KEY).options:
        _pick(at, label)
        assert not _errors(at), label
        assert len(at.get("plotly_chart")) == 5, label


def test_claims_triage_margin_figures() -> None:
    at = _app()
    _pick(at, "Claims triage (classification)")
    metrics = _metrics(at)
    assert metrics["Gross margin, sync"] == "89.59%"
    assert metrics["Gross margin, batch"] == "89.79%"
    assert metrics["Margin change"] == "+0.21 pp"
    assert metrics["Annual savings (USD)"] == "$2,475.00"


def test_agentic_research_savings_per_customer() -> None:
    at = _app()
    _pick(at, "Agentic research briefs")
    assert _metrics(at)["Per customer (USD)"] == "$0.25"


def test_reference_scenario_is_labelled_in_euros() -> None:
    at = _app()
    _pick(at, "Reference scenario")
    metrics = _metrics(at)
    assert "Sync cost (EUR)" in metrics
    assert metrics["Sync cost (EUR)"].startswith("€")


def test_batch_share_at_zero_saves_nothing() -> None:
    at = _app()
    at.slider(key=widget_key(DEFAULT_KEY, "batch_share", 0)).set_value(0).run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Savings (USD)"] == "$0.00"
    assert metrics["Batch plan (USD)"] == "$412.50"
    assert metrics["Sync cost (USD)"] == "$412.50"
    assert metrics["Margin change"] == "+0.00 pp"


def test_volume_and_token_edits_recompute_at_once() -> None:
    at = _app()
    _pick(at, SUMMARIES)
    at.number_input(key=widget_key(SUMMARIES_KEY, "count", 0)).set_value(1000.0).run()
    assert _metrics(at)["Sync cost (USD)"] == "$1,710.00"  # twice the contracts
    at.number_input(key=widget_key(SUMMARIES_KEY, "output_tokens", 0)).set_value(0.0).run()
    # 1,000 a day x 30 days x 15,000 input tokens at $3 per million.
    assert _metrics(at)["Sync cost (USD)"] == "$1,350.00"
    assert not at.exception


def test_editing_revenue_changes_the_margin() -> None:
    at = _app()
    _pick(at, "Claims triage (classification)")
    before = _metrics(at)["Gross margin, sync"]
    revenue = at.number_input(key=widget_key("bundled:claims-triage", "revenue"))
    assert revenue.value == 100_000
    revenue.set_value(50_000.0).run()
    assert not at.exception
    after = _metrics(at)
    assert before == "89.59%"
    assert after["Gross margin, sync"] == "79.17%"  # (50,000 - 10,000 - 412.50) / 50,000
    assert after["Margin change"] == "+0.41 pp"


def test_adding_revenue_to_a_scenario_without_one_shows_a_margin() -> None:
    at = _app()
    _pick(at, SUMMARIES)
    assert _metrics(at)["Gross margin, sync"] == "—"
    at.number_input(key=widget_key(SUMMARIES_KEY, "revenue")).set_value(10_000.0).run()
    at.number_input(key=widget_key(SUMMARIES_KEY, "customers")).set_value(50.0).run()
    metrics = _metrics(at)
    assert metrics["Gross margin, sync"] == "91.45%"  # (10,000 - 855) / 10,000
    assert metrics["Per customer (USD)"] == "$8.55"  # 427.50 / 50
    assert not at.exception


def test_changing_the_model_reprices() -> None:
    at = _app()
    _pick(at, SUMMARIES)
    at.selectbox(key=widget_key(SUMMARIES_KEY, "model", 0)).set_value("claude-haiku-4-5").run()
    assert not at.exception
    # 15,000 requests x (15,000 x $1 + 800 x $5) per million tokens.
    assert _metrics(at)["Sync cost (USD)"] == "$285.00"


def test_switching_scenarios_keeps_each_ones_edits_until_undone() -> None:
    # Item 17: edits belong to their scenario for the session (they used to vanish); the
    # other scenario shows its own figures, and "Undo every edit" goes back to the file.
    at = _app()
    at.slider(key=widget_key(DEFAULT_KEY, "batch_share", 0)).set_value(0).run()
    assert _metrics(at)["Savings (USD)"] == "$0.00"
    _pick(at, SUMMARIES)
    assert _metrics(at)["Savings (USD)"] == "$427.50"
    _pick(at, "Claims triage (classification)")
    assert _metrics(at)["Savings (USD)"] == "$0.00"
    at.button(key=f"edit.{DEFAULT_KEY}.reset").click().run()
    assert not at.exception
    assert _metrics(at)["Savings (USD)"] == "$206.25"


def test_what_if_discount_changes_the_figures_and_says_contracted() -> None:
    at = _app()
    at.slider(key=price_override.PERCENT_KEY).set_value(20).run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Sync cost (USD)"] == "$330.00"  # 80% of $412.50
    assert metrics["Batch plan (USD)"] == "$165.00"
    shown = " ".join(i.value for i in at.info) + " ".join(c.value for c in at.caption)
    assert "contracted prices" in shown
    assert "20% off" in shown


def test_what_if_discount_on_another_model_leaves_the_figures() -> None:
    at = _app()
    at.selectbox(key=price_override.MODEL_KEY).set_value("claude-haiku-4-5").run()
    at.slider(key=price_override.PERCENT_KEY).set_value(30).run()
    assert _metrics(at)["Sync cost (USD)"] == "$412.50"


def test_an_edit_that_cannot_be_priced_is_explained_in_the_page() -> None:
    at = _app()
    _pick(at, "Reference scenario")  # priced at 2026-11-01 list prices
    key = widget_key("bundled:reference", "model", 0)
    at.selectbox(key=key).set_value("claude-fable-5-2").run()  # first priced 2026-11-09
    assert not at.exception
    errors = _errors(at)
    assert errors and "cannot be priced" in errors[0] and "claude-fable-5-2" in errors[0]
    assert "Traceback" not in errors[0]


def test_exports_are_offered() -> None:
    at = _app()
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Scenario (YAML)", "Figures (CSV)", "Figures (JSON)"]


def test_the_catalogue_date_is_in_the_sidebar() -> None:
    at = _app()
    checked = bundled_catalogue().checked.isoformat()
    assert any(checked in caption.value for caption in at.sidebar.caption)


# -- uploads ------------------------------------------------------------------------------------
def test_a_good_upload_becomes_the_scenario() -> None:
    at = _app()
    _upload(at, "mine.yaml", (ROOT / "scenarios" / "claims-case-study.yaml").read_bytes())
    assert not _errors(at)
    assert at.selectbox(key=scenario_picker.CHOICE_KEY).value == (
        "Claims triage case study (uploaded: mine.yaml)"
    )
    values = [m.value for m in at.metric]
    assert values[:2] == ["$52.50", "$26.25"]


def test_a_file_with_wrong_keys_is_refused_with_located_messages() -> None:
    at = _app()
    _upload(at, "bad.yaml", b"name: mine\nworkload: []\nbusiness: {revenue: -5}\n")
    errors = _errors(at)
    assert len(errors) == 1
    assert "bad.yaml:2: workload: unknown key 'workload'; did you mean 'workloads'?" in errors[0]
    assert "bad.yaml:3: business.revenue: got -5" in errors[0]
    assert "Traceback" not in errors[0]
    # The page keeps the previous scenario on screen.
    assert at.metric[0].value == "$412.50"


def test_a_file_that_is_not_yaml_is_refused() -> None:
    at = _app()
    _upload(at, "notes.yaml", b"workloads: [unclosed\n  - {name: a\n")
    errors = _errors(at)
    assert errors and "notes.yaml" in errors[0] and "invalid YAML" in errors[0]


def test_a_binary_file_is_refused() -> None:
    at = _app()
    _upload(at, "picture.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    errors = _errors(at)
    assert errors and "picture.yaml: cannot read as UTF-8" in errors[0]


def test_a_file_over_the_limit_is_refused() -> None:
    at = _app()
    _upload(at, "huge.yaml", b"# padding\n" * (MAX_UPLOAD_BYTES // 10 + 1))
    errors = _errors(at)
    assert (
        errors
        and "huge.yaml: the file is 1,000,010 bytes; expected a scenario file of at most "
        "1,000,000 bytes (1 MB)" in errors[0]
    )


def test_an_uploaded_scenario_cannot_read_server_files() -> None:
    at = _app()
    text = (ROOT / "scenarios" / "claims-case-study.yaml").read_text() + "prices: /etc/passwd\n"
    _upload(at, "sneaky.yaml", text.encode())
    errors = _errors(at)
    assert (
        errors
        and "sneaky.yaml: prices: an uploaded scenario cannot name a price file" in (errors[0])
    )


# -- the other pages ----------------------------------------------------------------------------
def test_compare_page_sets_scenarios_side_by_side() -> None:
    at = _app()
    at.switch_page("costmodel/ui/compare.py").run()
    assert not at.exception
    chosen = at.multiselect(key="compare.chosen")
    assert chosen.value == [label for label, _, _ in WORKED_EXAMPLES]
    table = at.dataframe[0].value
    assert table["Sync"].tolist() == ["$412.50", "$855.00", "$49.40", "$52.50"]
    assert table["Batch plan"].tolist() == ["$206.25", "$427.50", "$24.70", "$26.25"]
    assert table["Change"].tolist() == ["+0.21 pp", "", "+0.25 pp", ""]
    assert len(at.get("plotly_chart")) == 1


def test_compare_page_keeps_currencies_apart() -> None:
    at = _app()
    at.switch_page("costmodel/ui/compare.py").run()
    at.multiselect(key="compare.chosen").select("Reference scenario").run()
    assert not at.exception
    assert not _errors(at)
    assert len(at.dataframe) == 2  # one table in USD, one in EUR
    assert len(at.get("plotly_chart")) == 2


def test_compare_page_offers_this_sessions_uploads() -> None:
    at = _app()
    _upload(at, "mine.yaml", (ROOT / "scenarios" / "claims-case-study.yaml").read_bytes())
    at.switch_page("costmodel/ui/compare.py").run()
    options = at.multiselect(key="compare.chosen").options
    assert "Claims triage case study (uploaded: mine.yaml)" in options


def test_prices_page_shows_the_as_of_date() -> None:
    at = _app()
    at.switch_page("costmodel/ui/prices.py").run()
    assert not at.exception
    checked = bundled_catalogue().checked.isoformat()
    assert any(f"Catalogue checked {checked}" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert "claude-sonnet-4-5" in table["Model"].tolist()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_errors(page: str) -> None:
    at = _app()
    at.switch_page(page).run()
    assert not at.exception
    assert not _errors(at)
    assert at.title, page


def test_the_app_listens_on_localhost_only_and_collects_no_statistics() -> None:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False


# -- actual usage -------------------------------------------------------------------------------
def _usage_page(at: AppTest | None = None) -> AppTest:
    at = at or _app()
    at.switch_page(USAGE_PAGE).run()
    assert not at.exception
    return at


def test_actual_usage_shows_demo_data_clearly_labelled_without_a_store() -> None:
    at = _usage_page()
    assert not _errors(at)
    banners = [w.value for w in at.warning]
    assert banners and banners[0].startswith("**Demo data")
    metrics = _metrics(at)
    assert metrics["Billed (USD)"].startswith("$")
    assert metrics["Had it been sync (USD)"].startswith("$")
    # Cost by day, by model, the results not billed, and the scenario's prediction.
    assert len(at.get("plotly_chart")) == 4
    assert at.selectbox[0].value == "Claims triage (classification)"  # matches a demo job


def test_actual_usage_figures_are_the_librarys(_stores: Path) -> None:
    from costmodel.actuals import usage_summary
    from costmodel.money import format_money
    from costmodel.store import open_store

    at = _usage_page()
    at.radio(key="usage.by").set_value("job").run()
    assert not at.exception
    with open_store(_stores / DEMO_STORE_NAME, read_only=True) as store:
        summary = usage_summary(store, by="job")
    totals = summary.totals()
    metrics = _metrics(at)
    assert metrics["Billed (USD)"] == format_money(totals["cost_billed"])
    assert metrics["Saved by batch (USD)"] == format_money(totals["savings"])
    assert metrics["Requests succeeded"] == f"{totals['succeeded']:,}"
    jobs = at.dataframe[0].value["Job"].tolist()
    assert {"claim-classification", "contract-summary"} <= set(jobs)


def test_actual_usage_prediction_beside_the_actuals() -> None:
    at = _usage_page()
    tables = [frame.value for frame in at.dataframe]
    prediction = tables[-1]
    assert prediction["Workload"].tolist()[0] == "claim-classification"
    assert prediction["Status"].tolist()[0] == "measured"
    at.selectbox[0].set_value("Document summarisation (contract review)").run()
    assert not at.exception
    assert at.dataframe[-1].value["Workload"].tolist()[0] == "contract-summary"


def test_actual_usage_reads_the_users_store_when_there_is_one(
    _stores: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costmodel.ingest import read_results
    from costmodel.store import open_store
    from costmodel.synthetic import write_results

    results = _stores / "msgbatch_01Mine_results.jsonl"
    write_results(results, 300, job="claim-classification", seed=7)
    user_store = _stores / "user.duckdb"
    with open_store(user_store) as store:
        source = read_results(results, created_at="2026-11-20")
        store.write_batch(source.batch_meta(), source)
    monkeypatch.setenv("COSTMODEL_STORE", str(user_store))
    at = _usage_page()
    assert at.radio(key="usage.source").value == "Your usage store"
    assert not at.warning  # no demo banner on the user's own figures
    assert _metrics(at)["Requests succeeded"] != "0"
    at.radio(key="usage.source").set_value("Demo data").run()
    assert at.warning and at.warning[0].value.startswith("**Demo data")


def test_an_empty_user_store_says_so(_stores: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from costmodel.store import open_store

    empty = _stores / "empty.duckdb"
    with open_store(empty):
        pass
    monkeypatch.setenv("COSTMODEL_STORE", str(empty))
    at = _usage_page()
    assert any("holds no usage yet" in info.value for info in at.info)
    assert not _errors(at)


# -- the services the pages call (plain functions, no Streamlit) ---------------------------------
def test_services_doctests() -> None:
    import doctest

    from costmodel.ui import services

    assert doctest.testmod(services).failed == 0


def test_untouched_widgets_leave_the_scenario_exactly_as_loaded() -> None:
    from costmodel.scenario import load_scenario
    from costmodel.ui import services

    s = load_scenario(ROOT / "scenarios" / "support-platform.yaml")
    same = [
        services.WorkloadEdit(
            count=w.requests.count,
            per=w.requests.per,
            input_tokens=w.input_tokens,
            output_tokens=w.output_tokens,
            cache_write_tokens=w.cache_write_tokens,
            cache_read_tokens=w.cache_read_tokens,
        )
        for w in s.workloads
    ]
    business = {"revenue": 250_000.0, "other_cogs": 30_000.0, "customers": 400.0}
    assert services.edited_scenario(s, same, business) == s
    assert services.edited_scenario(s, [], {"revenue": 0.0}).business is None


def test_what_if_catalogue_is_labelled_and_zero_is_list_price() -> None:
    from costmodel.ui import services

    base = bundled_catalogue()
    assert services.what_if_catalogue(base, 0) is base
    discounted = services.what_if_catalogue(base, 15, "claude-3-5-sonnet")
    assert discounted.contract is not None
    assert discounted.contract.name == "What-if: 15% off claude-3-5-sonnet"
    assert float(discounted.contract_factor("claude-3-5-sonnet", "batch")) == 0.85
    assert float(discounted.contract_factor("claude-haiku-4-5", "batch")) == 1.0


# -- a component alone --------------------------------------------------------------------------
def _metrics_component(path: str) -> None:
    from costmodel.report import run_scenario
    from costmodel.scenario import load_scenario
    from costmodel.ui import metrics

    metrics.render(run_scenario(load_scenario(path)))


def test_metrics_component_labels_money_with_the_currency() -> None:
    at = AppTest.from_function(
        _metrics_component,
        args=(str(ROOT / "scenarios" / "reference.yaml"),),
        default_timeout=TIMEOUT,
    ).run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[0] == "Sync cost (EUR)"
    assert all(m.value.startswith("€") for m in at.metric[:4])
    assert len(at.metric) == 8
