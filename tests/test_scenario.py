"""Scenario files: validation messages people can act on, round trips, periods and plans."""

from __future__ import annotations

import doctest
import textwrap
from dataclasses import replace
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scenarios, volumes

import costmodel.core.scenario
from costmodel.adapters.catalogue_files import load_catalogue
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.core.planning import usage_for_plan
from costmodel.core.scenario import Scenario, Volume, Workload, scenario_to_dict, scenario_to_yaml
from costmodel.core.usage import USAGE_COLUMNS
from costmodel.errors import ScenarioError

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BUNDLED = sorted(SCENARIOS.glob("*.yaml"))

# Line numbers below refer to this text; keep them in step when editing it.
VALID = """\
name: Test
days_per_month: 30
business:
  revenue: 1000
  other_cogs: 100
  customers: 10
workloads:
  - name: summaries
    model: claude-sonnet-4-5
    requests: {count: 500, per: day}
    input_tokens: 15000
    output_tokens: 800
    batch_share: 0.8
  - name: chat
    model: claude-haiku-4-5
    requests: 1000
    input_tokens: 100
    output_tokens: 50
"""


def problems(text: str, tmp_path: Path, name: str = "s.yaml") -> list[str]:
    """Every problem loading ``text`` from a file reports; fails if it loads."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(caught.value.problems[0])
    return caught.value.problems


def edit(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def test_the_valid_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(VALID, encoding="utf-8")
    s = load_scenario(path)
    assert s.name == "Test"
    assert s.source == str(path)
    assert s.business is not None and s.business.customers == 10
    first, second = s.workloads
    assert first.requests == Volume(500, "day")
    assert first.batch_share == 0.8
    assert (first.line, second.line) == (8, 14)
    assert second.requests == Volume(1000, "month")  # a bare number is a monthly volume
    assert second.batch_share == 1.0 and second.inference_geo == "global"


# -- one bad input at a time: file, line, field and what was expected ----------------------------
BAD = [
    # (replace, with, line, field, words the message must hold)
    (
        "    input_tokens: 15000",
        "    input_tokens: -5",
        11,
        "workloads[0].input_tokens",
        ["got -5", "0 or more"],
    ),
    (
        "    input_tokens: 15000",
        "    input_tokens: lots",
        11,
        "workloads[0].input_tokens",
        ["got 'lots'", "expected a number"],
    ),
    (
        "    output_tokens: 800",
        "    output_tokens: yes",
        12,
        "workloads[0].output_tokens",
        ["got yes", "expected a number"],
    ),
    (
        "    output_tokens: 800",
        "    output_tokens: [800]",
        12,
        "workloads[0].output_tokens",
        ["got a list", "expected a number"],
    ),
    (
        "{count: 500, per: day}",
        "{count: -1, per: day}",
        10,
        "workloads[0].requests.count",
        ["got -1", "0 or more"],
    ),
    (
        "{count: 500, per: day}",
        "{count: true, per: day}",
        10,
        "workloads[0].requests.count",
        ["got true", "expected a number"],
    ),
    (
        "{count: 500, per: day}",
        "{count: 500, per: fortnight}",
        10,
        "workloads[0].requests.per",
        ["'fortnight'", "day, week, month, year"],
    ),
    (
        "{count: 500, per: day}",
        "{count: 500, per: days}",
        10,
        "workloads[0].requests.per",
        ["did you mean 'day'?"],
    ),
    ("{count: 500, per: day}", "{per: day}", 10, "workloads[0].requests.count", ["missing"]),
    ("    requests: 1000", "    requests: -3", 16, "workloads[1].requests", ["got -3"]),
    (
        "    batch_share: 0.8",
        "    batch_share: 1.5",
        13,
        "workloads[0].batch_share",
        ["got 1.5", "from 0 to 1"],
    ),
    (
        "    batch_share: 0.8",
        "    batch_share: 80",
        13,
        "workloads[0].batch_share",
        ["80% is 0.8", "from 0 to 1"],
    ),
    (
        "    batch_share: 0.8",
        "    batch_share: -0.1",
        13,
        "workloads[0].batch_share",
        ["got -0.1", "from 0 to 1"],
    ),
    (
        "    batch_share: 0.8",
        "    inference_geo: eu",
        13,
        "workloads[0].inference_geo",
        ["'eu'", "global, us"],
    ),
    (
        "    batch_share: 0.8",
        "    cache_read_tokens: -1",
        13,
        "workloads[0].cache_read_tokens",
        ["got -1", "0 or more"],
    ),
    (
        "    batch_share: 0.8",
        "    input_tokns: 5",
        13,
        "workloads[0].input_tokns",
        ["unknown key 'input_tokns'", "did you mean 'input_tokens'?", "batch_share, inference_geo"],
    ),
    (
        "    input_tokens: 15000",
        "    input_tokns: 15000",
        11,
        "workloads[0].input_tokns",
        ["did you mean 'input_tokens'?"],
    ),  # the one message for a misspelt required key
    (
        "model: claude-sonnet-4-5",
        "model: claude-sonet-4-5",
        9,
        "workloads[0].model",
        ["unknown model 'claude-sonet-4-5'", "did you mean claude-sonnet-4-5"],
    ),
    (
        "model: claude-sonnet-4-5",
        "model:",
        9,
        "workloads[0].model",
        ["got nothing", "expected a model id"],
    ),
    (
        "    model: claude-sonnet-4-5\n",
        "",
        8,
        "workloads[0].model",
        ["missing; expected 'model' in workloads[0]"],
    ),
    ("    output_tokens: 50\n", "", 14, "workloads[1].output_tokens", ["missing"]),
    (
        "  - name: chat",
        "  - name: summaries",
        14,
        "workloads[1].name",
        ["'summaries' is also the name of workloads[0] (line 8)", "unique"],
    ),
    ("days_per_month: 30", "days_per_month: 0", 2, "days_per_month", ["got 0", "1 to 31"]),
    ("days_per_month: 30", "days_per_month: 32", 2, "days_per_month", ["got 32", "1 to 31"]),
    (
        "days_per_month: 30",
        "days_per_mnth: 30",
        2,
        "days_per_mnth",
        ["did you mean 'days_per_month'?", "name, description, days_per_month"],
    ),
    ("  revenue: 1000", "  revenue: 0", 4, "business.revenue", ["got 0", "above 0"]),
    ("  revenue: 1000", "  revenue: -10", 4, "business.revenue", ["got -10", "above 0"]),
    ("  revenue: 1000\n", "", 3, "business.revenue", ["missing"]),
    ("  other_cogs: 100", "  other_cogs: -1", 5, "business.other_cogs", ["got -1", "0 or more"]),
    ("  customers: 10", "  customers: -1", 6, "business.customers", ["got -1", "above 0"]),
    ("  customers: 10", "  custmers: 10", 6, "business.custmers", ["did you mean 'customers'?"]),
    ("name: Test\n", "", 1, "name", ["missing; expected 'name' in the scenario"]),
    ("name: Test", "name: [Test]", 1, "name", ["got a list"]),
    (
        "name: Test",
        "name: Test\nprice_date: 2026-02-30",
        2,
        "price_date",
        ["'2026-02-30'", "YYYY-MM-DD"],
    ),
    ("name: Test", "name: Test\nprice_date: soon", 2, "price_date", ["'soon'", "YYYY-MM-DD"]),
    (
        "name: Test",
        "name: Test\ncurrency: {code: EURO, per_usd: 0.9, as_of: 2026-01-01}",
        2,
        "currency.code",
        ["'EURO'", "three-letter"],
    ),
    (
        "name: Test",
        "name: Test\ncurrency: {code: EUR, per_usd: 0, as_of: 2026-01-01}",
        2,
        "currency.per_usd",
        ["got 0", "above 0"],
    ),
    (
        "name: Test",
        "name: Test\ncurrency: {code: EUR, per_usd: 0.9}",
        2,
        "currency.as_of",
        ["missing"],
    ),
    (
        "name: Test",
        "name: Test\nprices: missing-prices.yaml",
        2,
        "prices",
        ["cannot use the price file", "missing-prices.yaml", "no such file"],
    ),
    (
        "  - name: chat",
        "  - name: chat\n    name: chat2",
        15,
        "workloads[1].name",
        ["duplicate key (first given on line 14)"],
    ),
    (
        "    batch_share: 0.8",
        "    batch_share: !!python/name:os.system ''",
        13,
        "workloads[0].batch_share",
        ["cannot read"],
    ),
]


@pytest.mark.parametrize(("old", "new", "line", "field", "words"), BAD)
def test_a_bad_value_is_located_and_explained(
    tmp_path: Path, old: str, new: str, line: int, field: str, words: list[str]
) -> None:
    found = problems(edit(old, new), tmp_path)
    path = tmp_path / "s.yaml"
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}:{line}: {field}: "), found[0]
    assert "expected" in found[0]
    for word in words:
        assert word in found[0]


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = edit("    input_tokens: 100\n", "    input_tokens: 100\n   output: [\n")
    [message] = problems(text, tmp_path)
    assert message.startswith(f"{tmp_path / 's.yaml'}:")
    assert "invalid YAML" in message and "expected" in message
    line = int(message.split(":")[1])
    assert 17 <= line <= 19


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_a_scenario_error(tmp_path: Path, text: str) -> None:
    [message] = problems(text, tmp_path)
    assert (
        message == f"{tmp_path / 's.yaml'}:1: empty file; expected a mapping with at least "
        "name and workloads"
    )


def test_a_missing_file_is_a_scenario_error_not_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert not isinstance(caught.value, FileNotFoundError)
    assert str(caught.value) == f"{path}: no such file; expected the path of a scenario YAML file"


def test_a_folder_or_binary_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ScenarioError, match="UTF-8"):
        load_scenario(binary)


@pytest.mark.parametrize(
    ("text", "shown"), [("- a\n- b\n", "a list"), ("just text\n", "a value"), ("42\n", "a value")]
)
def test_the_top_level_must_be_a_mapping(tmp_path: Path, text: str, shown: str) -> None:
    [message] = problems(text, tmp_path)
    assert message == (
        f"{tmp_path / 's.yaml'}:1: the top level is {shown}; expected a mapping "
        "with at least name and workloads"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: x\n", "workloads: missing; expected 'workloads' in the scenario"),
        ("name: x\nworkloads: []\n", "workloads: got an empty list; expected a list of one"),
        ("name: x\nworkloads: {a: 1}\n", "workloads: got a mapping; expected a list"),
        ("name: x\nworkloads:\n  - 12\n", "workloads[0]: got 12; expected a workload"),
    ],
)
def test_workloads_must_be_a_non_empty_list(tmp_path: Path, text: str, words: str) -> None:
    [message] = problems(text, tmp_path)
    assert words in message


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        name: Many problems
        days_per_month: 40
        busines: {revenue: 1}
        workloads:
          - name: a
            model: claude-sonet-4-5
            requests: {count: -5, per: fortnight}
            input_tokens: abc
            output_tokens: true
            batch_share: 2
          - name: a
            model: claude-sonnet-4-5
            requests: 10
            input_tokens: 1
            outptu_tokens: 3
        """
    )
    found = problems(text, tmp_path)
    expected = [
        (2, "days_per_month"),
        (3, "busines"),
        (6, "workloads[0].model"),
        (7, "workloads[0].requests.count"),
        (7, "workloads[0].requests.per"),
        (8, "workloads[0].input_tokens"),
        (9, "workloads[0].output_tokens"),
        (10, "workloads[0].batch_share"),
        (11, "workloads[1].name"),  # a duplicate name, although workload 1 is wrong as well
        (15, "workloads[1].outptu_tokens"),  # not also "output_tokens: missing"
    ]
    path = tmp_path / "s.yaml"
    assert [m.split(": ")[0:2] for m in found] == [[f"{path}:{n}", f] for n, f in expected]
    with pytest.raises(ScenarioError, match=r"\(and 9 more problems\)"):
        load_scenario(path)


def test_a_string_names_itself_in_messages() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: x\nworkloads: 3\n")
    assert caught.value.problems[0].startswith("<string>:2: workloads: got 3;")
    with pytest.raises(ScenarioError, match=r"^inline:1: "):
        parse_scenario("- x", "inline")


# -- models, price files and catalogues ---------------------------------------------------------
PRICE_FILE = """\
name: Acme agreement
discounts:
  - {model: claude-sonnet-4-5, percent: 10}
models:
  acme-tuned:
    name: Acme tuned
    prices:
      - {from: 2025-01-01, input_mtok: 1, output_mtok: 2, source: contract}
"""


def test_a_private_model_from_the_scenarios_price_file_is_known(tmp_path: Path) -> None:
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "acme.yaml").write_text(PRICE_FILE, encoding="utf-8")
    text = edit("name: Test", "name: Test\nprices: prices/acme.yaml").replace(
        "claude-haiku-4-5", "acme-tuned"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    s = load_scenario(path)
    assert s.prices == str(tmp_path / "prices" / "acme.yaml")  # relative to the scenario file
    assert s.workloads[1].model == "acme-tuned"
    # Without the price file the same model is unknown.
    [message] = problems(VALID.replace("claude-haiku-4-5", "acme-tuned"), tmp_path, "t.yaml")
    assert "workloads[1].model: unknown model 'acme-tuned'" in message


def test_a_broken_price_file_is_reported_at_the_prices_line(tmp_path: Path) -> None:
    (tmp_path / "bad-prices.yaml").write_text(
        "discounts: [{model: nope-model, percent: 5}]\n", encoding="utf-8"
    )
    [message] = problems(edit("name: Test", "name: Test\nprices: bad-prices.yaml"), tmp_path)
    assert message.startswith(f"{tmp_path / 's.yaml'}:2: prices: cannot use the price file: ")
    assert "nope-model" in message


def test_models_are_checked_against_the_catalogue_passed() -> None:
    text = resources.files("costmodel").joinpath("data/anthropic.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    del raw["models"]["claude-haiku-4-5"]
    small = load_catalogue("small.yaml", text=yaml.safe_dump(raw))
    with pytest.raises(ScenarioError, match=r"<string>:15: workloads\[1\].model: unknown model"):
        parse_scenario(VALID, catalogue=small)
    assert parse_scenario(VALID).workloads[1].model == "claude-haiku-4-5"


def test_model_aliases_and_snapshots_are_accepted_as_written() -> None:
    s = parse_scenario(VALID.replace("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"))
    assert s.workloads[0].model == "claude-sonnet-4-5-20250929"


# -- what the parser accepts --------------------------------------------------------------------
def test_numbers_can_be_written_with_underscores_or_exponents() -> None:
    text = edit("input_tokens: 15000", "input_tokens: 15_000").replace(
        "output_tokens: 800", "output_tokens: 8e2"
    )
    w = parse_scenario(text).workloads[0]
    assert (w.input_tokens, w.output_tokens) == (15000, 800)


def test_yaml_merge_keys_share_one_workloads_values() -> None:
    text = textwrap.dedent(
        """\
        name: merged
        workloads:
          - &base {name: a, model: claude-haiku-4-5, requests: 5, input_tokens: 100,
                   output_tokens: 10}
          - {<<: *base, name: b, output_tokens: 20}
        """
    )
    a, b = parse_scenario(text).workloads
    assert (b.name, b.model, b.input_tokens, b.output_tokens) == ("b", a.model, 100, 20)


def test_names_are_kept_as_written() -> None:
    s = parse_scenario(edit("name: Test", "name: 2025").replace("name: chat", "name: yes"))
    assert s.name == "2025"
    assert s.workloads[1].name == "yes"


def test_currency_rates_are_exact_decimals() -> None:
    s = parse_scenario(
        edit(
            "name: Test",
            "name: Test\ncurrency:\n  code: eur\n  per_usd: 0.92\n"
            "  as_of: 2026-11-20\n  source: ECB",
        )
    )
    assert s.currency is not None
    assert (s.currency.code, s.currency.per_usd) == ("EUR", Decimal("0.92"))
    assert s.currency.as_of == date(2026, 11, 20)


def test_a_relative_prices_path_without_base_dir_is_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PRICE_FILE, encoding="utf-8")
    s = parse_scenario(edit("name: Test", f"name: Test\nprices: {tmp_path / 'p.yaml'}"))
    assert s.prices == str(tmp_path / "p.yaml")


# -- volumes and periods ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("per", "monthly"),
    [("day", 500 * 30), ("week", 500 * 52 / 12), ("month", 500), ("year", 500 / 12)],
)
def test_each_period_converts_to_a_month(per: str, monthly: float) -> None:
    assert Volume(500, per).per_month(30) == pytest.approx(monthly, rel=1e-15)


def test_a_week_is_52_twelfths_of_a_month_not_four() -> None:
    assert Volume(200, "week").per_month(30) == pytest.approx(866.6667, abs=1e-4)


def test_an_unknown_period_is_refused_in_code_too() -> None:
    with pytest.raises(ScenarioError, match=r"requests\.per: unknown period 'fortnight'"):
        Volume(1, "fortnight")


@given(volumes(), st.floats(1, 31), st.floats(0, 100))
def test_volume_conversion_is_linear_in_the_count(
    volume: Volume, days_per_month: float, factor: float
) -> None:
    scaled = replace(volume, count=volume.count * factor)
    assert scaled.per_month(days_per_month) == pytest.approx(
        volume.per_month(days_per_month) * factor, rel=1e-9, abs=1e-9
    )


@given(st.floats(0, 1e9), st.floats(1, 31))
def test_periods_agree_with_each_other(count: float, days_per_month: float) -> None:
    assert Volume(count, "year").per_month(days_per_month) * 12 == pytest.approx(count)
    assert Volume(count, "week").per_month(days_per_month) * 12 == pytest.approx(count * 52)
    assert Volume(count, "day").per_month(days_per_month) == pytest.approx(count * days_per_month)
    assert Volume(count, "month").per_month(days_per_month) == count


# -- plans --------------------------------------------------------------------------------------
def test_the_sync_plan_has_one_standard_row_per_workload() -> None:
    s = parse_scenario(VALID)
    usage = usage_for_plan(s, "sync")
    assert list(usage["workload"]) == ["summaries", "chat"]
    assert list(usage["tier"]) == ["standard", "standard"]
    assert list(usage["requests"]) == [15000.0, 1000.0]
    assert set(USAGE_COLUMNS) <= set(usage.columns)


def test_the_batch_plan_splits_each_workload_by_its_batch_share() -> None:
    s = parse_scenario(VALID)
    usage = usage_for_plan(s, "batch")
    assert list(usage["workload"]) == ["summaries", "summaries", "chat", "chat"]
    assert list(usage["tier"]) == ["batch", "standard", "batch", "standard"]
    assert list(usage["requests"]) == pytest.approx([12000, 3000, 1000, 0])


def test_the_hybrid_scenario_keeps_live_chat_synchronous() -> None:
    s = load_scenario(SCENARIOS / "support-platform.yaml")
    chat, analytics = s.workloads
    assert (chat.batch_share, analytics.batch_share) == (0, 1)
    usage = usage_for_plan(s, "batch").set_index(["workload", "tier"])
    assert usage.loc[("live-chat", "batch"), "requests"] == 0
    assert usage.loc[("live-chat", "standard"), "requests"] == 12000 * 30
    assert usage.loc[("nightly-analytics", "batch"), "requests"] == 2000 * 30
    assert usage.loc[("nightly-analytics", "standard"), "requests"] == 0
    assert usage.loc[("live-chat", "standard"), "cache_read_tokens"] == 6000
    assert usage.loc[("live-chat", "standard"), "cache_write_5m_tokens"] == 600


def test_cache_writes_map_to_the_usage_frames_5_minute_column() -> None:
    s = parse_scenario(
        edit(
            "    batch_share: 0.8",
            "    cache_write_tokens: 7\n"
            "    cache_write_1h_tokens: 8\n    cache_read_tokens: 9\n"
            "    web_search_requests: 2\n    inference_geo: us",
        )
    )
    row = usage_for_plan(s, "sync").iloc[0]
    assert (row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]) == (7, 8)
    assert (row["cache_read_tokens"], row["web_search_requests"]) == (9, 2)
    assert row["inference_geo"] == "us"


def test_an_unknown_plan_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="unknown plan 'async'; expected one of sync, batch"):
        usage_for_plan(parse_scenario(VALID), "async")


@given(scenarios())
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_both_plans_carry_the_same_monthly_requests(s: Scenario) -> None:
    sync, batch = usage_for_plan(s, "sync"), usage_for_plan(s, "batch")
    assert len(batch) == 2 * len(sync)
    per_workload = batch.groupby("workload", sort=False)["requests"].sum()
    for row in sync.itertuples():
        assert per_workload[row.workload] == pytest.approx(row.requests, rel=1e-12, abs=1e-9)


# -- what-ifs and round trips -------------------------------------------------------------------
def test_with_workload_changes_one_workload_only() -> None:
    s = parse_scenario(VALID)
    changed = s.with_workload(1, batch_share=0.25, requests=Volume(10, "day"))
    assert changed.workloads[0] == s.workloads[0]
    assert changed.workloads[1].batch_share == 0.25
    assert changed.workloads[1].requests == Volume(10, "day")
    assert s.workloads[1].batch_share == 1.0  # the original is untouched


def test_line_and_source_are_not_part_of_equality() -> None:
    s = parse_scenario(VALID, "a.yaml")
    assert s == parse_scenario("\n\n" + VALID, "b.yaml")
    assert Workload("a", "m", Volume(1), 1, 1, line=3) == Workload("a", "m", Volume(1), 1, 1)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenarios_round_trip(path: Path) -> None:
    s = load_scenario(path)
    again = parse_scenario(yaml.safe_dump(scenario_to_dict(s)))
    assert again == s
    assert parse_scenario(scenario_to_yaml(s)) == s


@given(scenarios())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_valid_scenario_round_trips(s: Scenario) -> None:
    assert parse_scenario(scenario_to_yaml(s)) == s
    assert parse_scenario(yaml.safe_dump(scenario_to_dict(s))) == s


def test_the_reference_file_documents_every_key() -> None:
    text = (SCENARIOS / "reference.yaml").read_text(encoding="utf-8")
    keys = {
        "name",
        "description",
        "days_per_month",
        "business",
        "revenue",
        "other_cogs",
        "customers",
        "prices",
        "currency",
        "code",
        "per_usd",
        "as_of",
        "source",
        "price_date",
        "workloads",
        "model",
        "requests",
        "count",
        "per",
        "input_tokens",
        "output_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "cache_read_tokens",
        "web_search_requests",
        "batch_share",
        "inference_geo",
    }
    lines = text.splitlines()
    comments = " ".join(line.partition("#")[2] for line in lines)
    for key in keys:
        shown = [line for line in lines if f"{key}:" in line.partition("#")[0]]
        assert shown or f"# {key}:" in text, f"reference.yaml does not show {key}"
        # Explained on its own line, or in a comment that names it.
        assert any("#" in line for line in shown) or key in comments, f"no comment on {key}"
    load_scenario(SCENARIOS / "reference.yaml")


# -- the parser never fails any other way -------------------------------------------------------
def _only_scenario_errors(text: str) -> None:
    try:
        parse_scenario(text, "fuzz.yaml")
    except ScenarioError as error:
        assert error.problems
        assert all(p.startswith("fuzz.yaml") for p in error.problems)


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_raises_nothing_but_scenario_errors(text: str) -> None:
    _only_scenario_errors(text)


YAML_PIECES = st.sampled_from(
    [
        ":",
        "-",
        " ",
        "  ",
        "\n",
        "[",
        "]",
        "{",
        "}",
        "&a",
        "*a",
        "<<:",
        "!!int",
        "!!str",
        "'",
        '"',
        "#",
        "~",
        "null",
        "true",
        "-1",
        "1e9",
        ".inf",
        ".nan",
        "2026-02-30",
        "\t",
        "?",
        "|",
        ">",
        "name:",
        "workloads:",
        "requests:",
        "count:",
        "per:",
        "model:",
        "!!python/object:x",
        "%",
        "!!float",
        "!!bool",
        "!!timestamp",
        "!!binary",
        "!!set",
        "!!omap",
        "!!pairs",
        "!!map",
        "!!seq",
        "!!null",
        "!!merge",
        "!local",
    ]
)


@st.composite
def corrupted(draw: st.DrawFn) -> str:
    """The valid text with a few pieces inserted, deleted or swapped for YAML punctuation."""
    text = draw(st.sampled_from([VALID, *(p.read_text(encoding="utf-8") for p in BUNDLED)]))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(YAML_PIECES)
        end = min(len(text), at + draw(st.integers(1, 12)))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    return text


@given(corrupted())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_corrupted_yaml_raises_nothing_but_scenario_errors(text: str) -> None:
    _only_scenario_errors(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {<<: *x}",
        "name: x\nworkloads: &w [*w]",
        "name: x\nworkloads:\n  - &w {<<: *w, name: a}",
        "[" * 2000,
        "name: x\nworkloads:\n  - {name: a, model: claude-haiku-4-5, requests: {count: 1e999}, "
        "input_tokens: 1, output_tokens: 1}",
        "name: x\nworkloads:\n  - {name: a, model: claude-haiku-4-5, requests: 1, "
        "input_tokens: .nan, output_tokens: .inf}",
        "name: x\n---\nname: y\n",
        "\x00",
        "name: !!binary aGVsbG8=\nworkloads: [1]",
        "? [a, b]\n: c\n",
        "name: !!int\nworkloads: [1]",
        "name: x\nprice_date: !!timestamp 2026-99-01\nworkloads: [1]",
    ],
)
def test_hostile_yaml_is_a_scenario_error(text: str) -> None:
    with pytest.raises(ScenarioError):
        parse_scenario(text)


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(costmodel.core.scenario).failed == 0


def test_the_scenario_files_and_planning_docstring_examples_hold() -> None:
    # The split put examples in the adapter (parse_scenario) and the planner; each must run.
    import costmodel.adapters.scenario_files
    import costmodel.core.planning

    for module in (costmodel.adapters.scenario_files, costmodel.core.planning):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
