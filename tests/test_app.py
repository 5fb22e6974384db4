"""The dashboard through Streamlit's AppTest: widgets driven, metrics and messages read back.

Pages run from app.py (``AppTest.from_file``); components alone with ``AppTest.from_function``.
Every test ends with no exception in the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from shared_demo import copy_demo_store
from streamlit.testing.v1 import AppTest

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.shells.ui import price_override, scenario_picker
from costmodel.shells.ui.scenario_editor import widget_key
from costmodel.shells.ui.services import MAX_UPLOAD_BYTES, WORD_JOINER

ROOT = Path(__file__).resolve().parents[1]
DEMO_STORE_NAME = "demo-usage.duckdb"
APP = str(ROOT / "app.py")
TIMEOUT = 30
PAGES = (
    "costmodel/shells/ui/explorer.py",
    "costmodel/shells/ui/compare.py",
    "costmodel/shells/ui/actual_usage.py",
    "costmodel/shells/ui/prices.py",
)
USAGE_PAGE = "costmodel/shells/ui/actual_usage.py"

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
def _stores(tmp_path_factory: pytest.TempPathFactory, demo_store: Path) -> Iterator[Path]:
    """No user store, and the demo store in a temporary folder.

    The dashboard caches the demo store's path for the process, so it is set once, here.
    """
    folder = tmp_path_factory.mktemp("stores")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSTMODEL_STORE", str(folder / "no-user-store.duckdb"))
        patch.setenv(
            "COSTMODEL_DEMO_STORE", str(copy_demo_store(demo_store, folder / DEMO_STORE_NAME))
        )
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
    return [re.sub(r"\\(.)", r"\1", e.value).replace(WORD_JOINER, "") for e in at.error]


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
        "1,000,000 bytes (1 MB)"
        in errors[0]
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
    at.switch_page("costmodel/shells/ui/compare.py").run()
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
    at.switch_page("costmodel/shells/ui/compare.py").run()
    at.multiselect(key="compare.chosen").select("Reference scenario").run()
    assert not at.exception
    assert not _errors(at)
    assert len(at.dataframe) == 2  # one table in USD, one in EUR
    assert len(at.get("plotly_chart")) == 2


def test_compare_page_offers_this_sessions_uploads() -> None:
    at = _app()
    _upload(at, "mine.yaml", (ROOT / "scenarios" / "claims-case-study.yaml").read_bytes())
    at.switch_page("costmodel/shells/ui/compare.py").run()
    options = at.multiselect(key="compare.chosen").options
    assert "Claims triage case study (uploaded: mine.yaml)" in options


def test_prices_page_shows_the_as_of_date() -> None:
    at = _app()
    at.switch_page("costmodel/shells/ui/prices.py").run()
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
    from costmodel.adapters.store import open_store
    from costmodel.core.measured import usage_summary
    from costmodel.core.money import format_money

    at = _usage_page()
    at.radio(key="usage.by").set_value("job").run()
    assert not at.exception
    with open_store(_stores / DEMO_STORE_NAME, read_only=True) as store:
        summary = usage_summary(store, by="job", catalogue=bundled_catalogue())
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
    from costmodel.adapters.ingest import read_results
    from costmodel.adapters.store import open_store
    from costmodel.adapters.synthetic import write_results

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
    from costmodel.adapters.store import open_store

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

    from costmodel.shells.ui import services

    assert doctest.testmod(services).failed == 0


def test_untouched_widgets_leave_the_scenario_exactly_as_loaded() -> None:
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.shells.ui import services

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
    from costmodel.shells.ui import services

    base = bundled_catalogue()
    assert services.what_if_catalogue(base, 0) is base
    discounted = services.what_if_catalogue(base, 15, "claude-3-5-sonnet")
    assert discounted.contract is not None
    assert discounted.contract.name == "What-if: 15% off claude-3-5-sonnet"
    assert float(discounted.contract_factor("claude-3-5-sonnet", "batch")) == 0.85
    assert float(discounted.contract_factor("claude-haiku-4-5", "batch")) == 1.0


# -- a component alone --------------------------------------------------------------------------
def _metrics_component(path: str) -> None:
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.report import run_scenario
    from costmodel.shells.ui import metrics, services

    s = load_scenario(path)
    metrics.render(run_scenario(s, bundled_catalogue(), on=services.pricing_day(s)))


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


# -- issue 8, items 13-20 -----------------------------------------------------------------------
def _markdown_bodies(at: AppTest) -> list[str]:
    """The markdown source of every element Streamlit renders as markdown."""
    bodies = [
        e.value
        for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader")
        for e in at.get(kind)
    ]
    bodies += [t.label for t in at.tabs] + [e.label for e in at.expander]
    return bodies


def test_config_hides_error_details_and_states_the_upload_limit_once() -> None:
    import tomllib

    from costmodel.shells.ui.services import MAX_UPLOAD_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert MAX_UPLOAD_BYTES == MAX_UPLOAD_MB * 1_000_000  # as the browser counts a megabyte


def test_an_upload_that_breaks_the_figures_is_one_line_never_a_traceback() -> None:
    # Item 13: requests: 1e30 raised out of the page (a traceback in the browser).
    at = _app()
    text = (ROOT / "scenarios" / "claims-triage.yaml").read_text()
    _upload(at, "huge.yaml", text.replace("requests: 50000", "requests: 1e30").encode())
    assert not at.exception
    errors = _errors(at)
    # The loader's own located message (the bound on requests), never a traceback.
    assert any("workloads[0].requests" in e and "1e12" in e for e in errors), errors
    for error in errors:
        assert "Traceback" not in error and ".py" not in error
    at.switch_page("costmodel/shells/ui/compare.py").run()  # the upload is offered there too
    assert not at.exception


def test_an_unexpected_error_is_one_internal_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from costmodel.shells.ui import services

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    at = _app()
    monkeypatch.setattr(services, "explore", broken)
    at.slider(key=widget_key(DEFAULT_KEY, "batch_share", 0)).set_value(40).run()
    assert not at.exception
    errors = _errors(at)
    assert errors == [
        "internal error (ZeroDivisionError: division by zero); the details are in the "
        "dashboard's log: please report it"
    ]


def _hostile(base: str) -> bytes:
    return f"""name: "Mine ![n]({base}/name.png)"
description: "![d]({base}/d.png) <img src='{base}/i.png'> [l]({base}/l) $5 and $6 {base}/bare"
workloads:
  - name: "<a href='{base}/a'>live</a> ![w]({base}/w.png)"
    model: claude-3-5-sonnet
    requests: 1000
    input_tokens: 100
    output_tokens: 10
  - name: "<img src='{base}/img.png'>"
    model: claude-haiku-4-5
    requests: 1000
    input_tokens: 100
    output_tokens: 10
""".encode()


MARKUP = ("![", "<a ", "<img", "](", "http://", "$5")


def _markup(body: str) -> list[str]:
    """The markup tokens in ``body`` that markdown would read (not escaped by a backslash)."""
    return [token for token in MARKUP if re.search(r"(?<!\\)" + re.escape(token), body)]


def test_user_text_is_never_markup_in_the_page() -> None:
    # Item 14: the description, names, file name and error messages were rendered as markdown.
    base = "http://127.0.0.1:9"
    at = _app()
    _upload(at, f"![f]({base}/f.png).yaml", _hostile(base))
    assert not _errors(at)
    assert at.selectbox(key=scenario_picker.CHOICE_KEY).value.startswith("Mine ![n]")
    for body in _markdown_bodies(at):
        assert not _markup(body), body
    _upload(at, f"<img src='{base}/bad.png'>.yaml", f"'![k]({base}/k.png)': 1\n".encode())
    assert _errors(at)
    for body in _markdown_bodies(at):
        assert not _markup(body), body


def test_user_text_is_never_markup_in_the_charts() -> None:
    import json

    base = "http://127.0.0.1:9"
    at = _app()
    _upload(at, "mine.yaml", _hostile(base))
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        texts = json.dumps(
            [trace.get(axis) for trace in spec["data"] for axis in ("x", "y", "name")]
        )
        assert "<a " not in texts and "<img" not in texts
        assert "&lt;a href=" in texts or "&lt;img" in texts or "live" not in texts


def test_a_file_with_more_workloads_than_the_limit_is_refused() -> None:
    # Item 16: the work a file may ask for is bounded, with a located message.
    from costmodel.shells.ui.services import MAX_WORKLOADS

    rows = "".join(
        f"  - {{name: w{i}, model: claude-haiku-4-5, requests: 10, input_tokens: 1, "
        "output_tokens: 1}\n"
        for i in range(MAX_WORKLOADS + 1)
    )
    at = _app()
    _upload(at, "many.yaml", f"name: many\nworkloads:\n{rows}".encode())
    errors = _errors(at)
    assert errors and (
        f"many.yaml: workloads: {MAX_WORKLOADS + 1:,} workloads; expected at most "
        f"{MAX_WORKLOADS:,}" in errors[0]
    )


def test_a_file_of_exactly_the_limit_is_read() -> None:
    at = _app()
    _upload(at, "full.yaml", b"#" * (MAX_UPLOAD_BYTES - 1) + b"\n")
    errors = _errors(at)
    assert errors and "bytes" not in errors[0]  # refused for what it holds, not its size


def test_edits_survive_a_visit_to_another_page() -> None:
    # Item 17: requests to 100,000, visit Prices, come back: it showed $412.50 again.
    at = _app()
    at.number_input(key=widget_key(DEFAULT_KEY, "count", 0)).set_value(100_000.0).run()
    assert _metrics(at)["Sync cost (USD)"] == "$825.00"
    at.switch_page("costmodel/shells/ui/prices.py").run()
    at.switch_page("costmodel/shells/ui/explorer.py").run()
    assert not at.exception
    assert _metrics(at)["Sync cost (USD)"] == "$825.00"
    assert at.number_input(key=widget_key(DEFAULT_KEY, "count", 0)).value == 100_000


def test_an_uploaded_choice_survives_a_visit_to_another_page() -> None:
    at = _app()
    _upload(at, "mine.yaml", (ROOT / "scenarios" / "claims-case-study.yaml").read_bytes())
    label = "Claims triage case study (uploaded: mine.yaml)"
    at.switch_page("costmodel/shells/ui/prices.py").run()
    at.switch_page("costmodel/shells/ui/explorer.py").run()
    assert at.selectbox(key=scenario_picker.CHOICE_KEY).value == label
    assert _metrics(at)["Sync cost (USD)"] == "$52.50"


def test_compare_offers_and_includes_the_edited_scenario() -> None:
    at = _app()
    at.number_input(key=widget_key(DEFAULT_KEY, "count", 0)).set_value(100_000.0).run()
    at.switch_page("costmodel/shells/ui/compare.py").run()
    assert not at.exception
    edited = "Claims triage (classification) (edited)"
    assert edited in at.multiselect(key="compare.chosen").value
    table = at.dataframe[0].value.set_index("Scenario")
    assert table.loc[edited, "Sync"] == "$825.00"
    assert table.loc["Claims triage (classification)", "Sync"] == "$412.50"


def test_a_shared_address_restores_the_edits_in_a_new_session() -> None:
    at = _app()
    at.number_input(key=widget_key(DEFAULT_KEY, "count", 0)).set_value(100_000.0).run()
    at.slider(key=price_override.PERCENT_KEY).set_value(20).run()
    params = {key: at.query_params[key] for key in at.query_params}
    assert params["scenario"] == DEFAULT_KEY and params["edited"] == "1"
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in params.items():
        fresh.query_params[key] = value
    fresh.run()
    assert not fresh.exception
    assert _metrics(fresh)["Sync cost (USD)"] == "$660.00"  # 100,000 claims, 20% off
    assert fresh.number_input(key=widget_key(DEFAULT_KEY, "count", 0)).value == 100_000


def test_a_shared_address_of_an_upload_restores_it() -> None:
    at = _app()
    _upload(at, "mine.yaml", (ROOT / "scenarios" / "claims-case-study.yaml").read_bytes())
    params = {key: at.query_params[key] for key in at.query_params}
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in params.items():
        fresh.query_params[key] = value
    fresh.run()
    assert _metrics(fresh)["Sync cost (USD)"] == "$52.50"
    assert "mine.yaml" in fresh.selectbox(key=scenario_picker.CHOICE_KEY).value


@pytest.mark.parametrize(
    "state", ["not-base64!", "eJwLycgsVgCi4pzM9FQFhZLUvGIAAAD__w", "A" * 70_000]
)
def test_a_bad_shared_state_is_one_line(state: str) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["scenario"] = DEFAULT_KEY
    at.query_params["state"] = state
    at.run()
    assert not at.exception
    errors = _errors(at)
    assert errors and errors[0].startswith("The link's scenario was not loaded: ")
    assert _metrics(at)["Sync cost (USD)"] == "$412.50"


def test_exports_of_an_edited_scenario_say_it_was_edited() -> None:
    import json

    import yaml

    from costmodel.adapters.render import render as render_result
    from costmodel.core.report import run_scenario
    from costmodel.core.scenario import scenario_to_yaml
    from costmodel.shells.ui import scenario_editor

    at = _app()
    at.number_input(key=widget_key(DEFAULT_KEY, "count", 0)).set_value(100_000.0).run()
    edited = at.session_state[scenario_editor.EDITS_KEY][DEFAULT_KEY]
    from costmodel.shells.ui import services

    run = run_scenario(edited, bundled_catalogue(), on=services.pricing_day(edited))
    exported = json.loads(render_result(run, "json"))
    assert exported["source"] == "scenarios/claims-triage.yaml (edited in the dashboard)"
    description = yaml.safe_load(scenario_to_yaml(edited))["description"]
    assert description.endswith(
        "Edited in the costmodel dashboard from scenarios/claims-triage.yaml."
    )
    assert any("edited in the dashboard" in c.value for c in at.caption)


def _expected_sync(stem: str, **changes: object) -> str:
    from dataclasses import replace

    from costmodel.adapters.scenario_files import load_scenario
    from costmodel.core.money import format_money
    from costmodel.core.report import run_scenario

    s = load_scenario(ROOT / "scenarios" / f"{stem}.yaml")
    days = changes.pop("days_per_month", None)
    if days is not None:
        s = replace(s, days_per_month=days)
    s = s.with_workload(0, **changes) if changes else s
    from costmodel.shells.ui import services

    return format_money(run_scenario(s, bundled_catalogue(), on=services.pricing_day(s)).cost_sync)


@pytest.mark.parametrize(
    ("field", "value"),
    [("cache_write_1h_tokens", 1000.0), ("web_search_requests", 1.0)],
)
def test_new_per_request_fields_reprice(field: str, value: float) -> None:
    # Item 20: 1-hour cache writes and web searches could not be edited.
    at = _app()
    at.number_input(key=widget_key(DEFAULT_KEY, field, 0)).set_value(value).run()
    assert not at.exception
    expected = _expected_sync("claims-triage", **{field: value})
    assert expected != "$412.50"
    assert _metrics(at)["Sync cost (USD)"] == expected


def test_inference_region_reprices() -> None:
    at = _app()
    at.selectbox(key=widget_key(DEFAULT_KEY, "model", 0)).set_value("claude-opus-4-6").run()
    at.selectbox(key=widget_key(DEFAULT_KEY, "inference_geo", 0)).set_value("us").run()
    assert not at.exception
    expected = _expected_sync("claims-triage", model="claude-opus-4-6", inference_geo="us")
    assert expected != _expected_sync("claims-triage", model="claude-opus-4-6")
    assert _metrics(at)["Sync cost (USD)"] == expected


def test_days_per_month_reprices_daily_volumes() -> None:
    at = _app()
    _pick(at, SUMMARIES)
    at.number_input(key=f"edit.{SUMMARIES_KEY}.scenario.days_per_month").set_value(31.0).run()
    assert _metrics(at)["Sync cost (USD)"] == "$883.50"  # 500 a day for 31 days, not 30


def test_a_workload_can_be_added_and_removed() -> None:
    at = _app()
    at.button(key=f"edit.{DEFAULT_KEY}.add").click().run()
    assert not at.exception
    assert _metrics(at)["Sync cost (USD)"] == "$825.00"  # a copy of the only workload
    chooser = at.selectbox(key=f"edit.{DEFAULT_KEY}.selected")
    assert chooser.value == 1
    assert at.text_input(key=widget_key(DEFAULT_KEY, "name", 1)).value == ("claim-classification-2")
    at.number_input(key=widget_key(DEFAULT_KEY, "count", 1)).set_value(10_000.0).run()
    assert _metrics(at)["Sync cost (USD)"] == "$495.00"  # 50,000 + 10,000 claims
    at.button(key=f"edit.{DEFAULT_KEY}.remove").click().run()
    assert not at.exception
    assert _metrics(at)["Sync cost (USD)"] == "$412.50"
    assert len(at.selectbox(key=f"edit.{DEFAULT_KEY}.selected").options) == 1


def test_a_duplicate_workload_name_is_one_line_and_not_applied() -> None:
    at = _app()
    at.button(key=f"edit.{DEFAULT_KEY}.add").click().run()
    at.text_input(key=widget_key(DEFAULT_KEY, "name", 1)).set_value("claim-classification").run()
    assert not at.exception
    errors = _errors(at)
    assert errors and "'claim-classification' is taken" in errors[0]
    assert _metrics(at)["Sync cost (USD)"] == "$825.00"


def test_the_usage_store_path_can_be_chosen(_stores: Path, tmp_path: Path) -> None:
    # Item 20: the page read only $COSTMODEL_STORE or the default path.
    from costmodel.adapters.ingest import read_results
    from costmodel.adapters.store import open_store
    from costmodel.adapters.synthetic import write_results
    from costmodel.core.measured import usage_summary

    results = tmp_path / "msgbatch_01Chosen_results.jsonl"
    write_results(results, 120, job="claim-classification", seed=3)
    chosen = tmp_path / "chosen.duckdb"
    with open_store(chosen) as store:
        source = read_results(results, created_at="2026-11-20")
        store.write_batch(source.batch_meta(), source)
    at = _app()
    at.switch_page(USAGE_PAGE).run(timeout=180)  # the first view may build the demo store
    at.radio(key="usage.source").set_value("Your usage store").run()
    at.text_input(key="usage.path").set_value(str(chosen)).run()
    assert not at.exception
    assert not at.warning  # not the demo
    with open_store(chosen, read_only=True) as store:
        succeeded = usage_summary(store, by="model", catalogue=bundled_catalogue()).totals()[
            "succeeded"
        ]
    assert 0 < succeeded <= 120
    assert _metrics(at)["Requests succeeded"] == f"{succeeded:,}"
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("hello\n")
    at.text_input(key="usage.path").set_value(str(not_a_store)).run()
    errors = _errors(at)
    assert len(errors) == 1 and "\n" not in errors[0] and str(not_a_store) in errors[0]
    at.text_input(key="usage.path").set_value(str(tmp_path / "missing.duckdb")).run()
    errors = _errors(at)
    assert len(errors) == 1 and "no usage store here" in errors[0]
    assert not (tmp_path / "missing.duckdb").exists()
