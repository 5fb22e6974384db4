"""Uncertain inputs in scenario files: the forms, their fits, their errors, the store's part."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costmodel.adapters.ingest.files import read_results
from costmodel.adapters.scenario_files import parse_scenario
from costmodel.adapters.store import Store
from costmodel.adapters.synthetic import succeeded_line, usage_object
from costmodel.core.jobs import JobRule
from costmodel.core.planning import usage_for_plan
from costmodel.core.scenario import scenario_to_yaml
from costmodel.core.uncertainty import (
    Z95,
    FromStore,
    LogNormal,
    fit_mean_p95,
    fit_p50_p95,
    read_store_inputs,
    with_store_means,
)
from costmodel.errors import CostModelError, ScenarioError

HEAD = "name: s\nworkloads:\n  - name: claims\n    model: claude-haiku-4-5\n"


def scenario(body: str, source: str = "s.yaml") -> object:
    return parse_scenario(HEAD + body, source)


def problems(body: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEAD + body, "s.yaml")
    return caught.value.problems


# -- fits -------------------------------------------------------------------------------------
@given(st.floats(1, 1e6), st.floats(1.0001, 3.8))
def test_mean_p95_fit_has_that_mean_and_p95(mean: float, ratio: float) -> None:
    fitted = fit_mean_p95(mean, mean * ratio)
    assert math.isclose(fitted.mean, mean, rel_tol=1e-9)
    assert math.isclose(math.exp(fitted.mu + Z95 * fitted.sigma), mean * ratio, rel_tol=1e-9)


@given(st.floats(1, 1e6), st.floats(1.0001, 100))
def test_p50_p95_fit_has_that_median_and_p95(p50: float, ratio: float) -> None:
    fitted = fit_p50_p95(p50, p50 * ratio)
    assert math.isclose(math.exp(fitted.mu), p50, rel_tol=1e-9)
    quantile = float(fitted.quantiles(np.array([0.95]))[0])
    assert math.isclose(quantile, p50 * ratio, rel_tol=1e-6)


def test_a_tail_no_lognormal_can_have_is_refused() -> None:
    with pytest.raises(ValueError, match=r"3\.87x"):
        fit_mean_p95(100, 400)


# -- reading the forms --------------------------------------------------------------------------
def test_each_form_reads_with_its_mean_as_the_point_value() -> None:
    s = scenario(
        "    requests: {count: 500, per: day, growth: {per_month: 8%, from: 2026-12},\n"
        "               day_of_week: [2, 2, 2, 2, 2, 1, 1]}\n"
        "    input_tokens: {mean: 2000, p95: 6000}\n"
        "    output_tokens: {p50: 300, p95: 900}\n"
        "    cache_read_tokens: {lognormal: {mu: 7, sigma: 0.5}}\n"
        "    cache_write_tokens: {from_store: {job: claims}}\n"
        "    deadline_hours: 24\n"
        "    miss_share: 0.05\n"
    )
    w = s.workloads[0]
    r = w.ranges
    assert w.input_tokens == 2000
    assert math.isclose(
        w.output_tokens, math.exp(math.log(300) + r.token("output_tokens").sigma ** 2 / 2)
    )
    assert math.isclose(w.cache_read_tokens, math.exp(7 + 0.125))
    assert math.isnan(w.cache_write_tokens)  # until the store is read
    assert r.token("cache_write_tokens") == FromStore("claims")
    assert r.growth.per_month == pytest.approx(0.08) and r.growth.start == date(2026, 12, 1)
    assert r.weekday_weights().tolist() == pytest.approx([7 / 6] * 5 + [7 / 12] * 2)
    assert r.deadline.hours == 24 and r.deadline.miss_share == 0.05


def test_the_forms_write_back_as_written() -> None:
    s = scenario(
        "    requests: {count: 500, per: day, growth: {per_month: -2.5%}, "
        "day_of_week: [1.2, 1.1, 1, 1, 1, 0.4, 0.3]}\n"
        "    input_tokens: {mean: 2000, p95: 6000}\n"
        "    output_tokens: {p50: 300, p95: 900}\n"
        "    cache_read_tokens: {lognormal: {mu: 7, sigma: 0.5}}\n"
        "    deadline_hours: 24\n"
    )
    assert parse_scenario(scenario_to_yaml(s)) == s
    text = scenario_to_yaml(s)
    assert "per_month: -2.5%" in text and "mean: 2000" in text and "p50: 300" in text


@pytest.mark.parametrize(
    "form",
    [
        "{mean: 2000, p95: 2000}",
        "{p50: 2000, p95: 2000}",
        "{lognormal: {mu: 7.6009024595, sigma: 0}}",
    ],
)
def test_a_distribution_without_spread_is_its_number(form: str) -> None:
    s = scenario(f"    requests: 1000\n    input_tokens: {form}\n    output_tokens: 10\n")
    plain = scenario("    requests: 1000\n    input_tokens: 2000\n    output_tokens: 10\n")
    assert s.workloads[0].ranges is None
    assert s.workloads[0].input_tokens == pytest.approx(2000)
    if "lognormal" not in form:
        assert s == plain


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    input_tokens: {mean: 2000, p95: 1500}\n",
            "s.yaml:6: workloads[0].input_tokens.p95: got 1500, below the mean 2000",
        ),
        (
            "    input_tokens: {p50: 2000, p95: 1500}\n",
            "s.yaml:6: workloads[0].input_tokens.p95: got 1500, below the p50 2000",
        ),
        ("    input_tokens: {mean: 100, p95: 900}\n", "workloads[0].input_tokens.p95: got 900"),
        ("    input_tokens: {mean: 100}\n", "workloads[0].input_tokens.p95: missing"),
        ("    input_tokens: {mean: 100, p50: 90, p95: 200}\n", "expected one form"),
        ("    input_tokens: {lognormal: {mu: 7}}\n", "input_tokens.lognormal.sigma: missing"),
        ("    input_tokens: {lognormal: {mu: 7, sigma: -1}}\n", "lognormal.sigma: got -1"),
        ("    input_tokens: {from_store: {}}\n", "from_store.job: missing"),
        ("    input_tokens: {mean: -5, p95: 10}\n", "input_tokens.mean: got -5"),
        ("    input_tokens: {men: 5, p95: 10}\n", "unknown key 'men'; did you mean 'mean'?"),
    ],
)
def test_bad_distributions_name_their_field_and_line(body: str, expected: str) -> None:
    found = problems("    requests: 1000\n" + body + "    output_tokens: 10\n")
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("requests", "expected"),
    [
        (
            "{count: 10, growth: {per_month: -120%}}",
            "s.yaml:5: workloads[0].requests.growth.per_month: got -120%; expected a monthly "
            "growth above -100%",
        ),
        ("{count: 10, growth: {per_month: -1}}", "growth.per_month: got -1; expected"),
        (
            "{count: 10, growth: {per_month: 8}}",
            "growth.per_month: got 8, which as a fraction is 800% a month; expected a percentage "
            "such as 8% or a fraction such as 0.08",
        ),
        ("{count: 10, growth: {per_month: lots}}", "growth.per_month: got 'lots'"),
        ("{count: 10, growth: {per_month: 1%, from: 2026-13}}", "growth.from: got"),
        ("{count: 10, growth: {}}", "growth.per_month: missing"),
        ("{count: 10, day_of_week: [1, 1, 1, 1, 1, 1, 1]}", "needs per: day, got per: month"),
        ("{count: 10, per: day, day_of_week: [1, 1, 1]}", "expected seven weights"),
        ("{count: 10, per: day, day_of_week: [0, 0, 0, 0, 0, 0, 0]}", "got all zeros"),
        ("{count: 10, per: day, day_of_week: [1, 1, 1, 1, 1, 1, -1]}", "day_of_week[6]: got -1"),
    ],
)
def test_bad_growth_and_weekdays_name_their_field(requests: str, expected: str) -> None:
    found = problems(f"    requests: {requests}\n    input_tokens: 10\n    output_tokens: 10\n")
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    miss_share: 0.1\n", "workloads[0].miss_share: given without deadline_hours"),
        ("    deadline_hours: 0\n", "workloads[0].deadline_hours: got 0"),
        ("    deadline_hours: 24\n    miss_share: 1.5\n", "workloads[0].miss_share: got 1.5"),
    ],
)
def test_bad_deadlines_name_their_field(body: str, expected: str) -> None:
    found = problems("    requests: 10\n    input_tokens: 10\n    output_tokens: 10\n" + body)
    assert any(expected in p for p in found), found


def test_an_unread_from_store_count_is_never_priced() -> None:
    s = scenario(
        "    requests: 10\n    input_tokens: {from_store: {job: claims}}\n    output_tokens: 1\n"
    )
    with pytest.raises(ScenarioError, match=r"s.yaml:6: workloads\[0\].input_tokens: from_store"):
        usage_for_plan(s, "sync")


# -- the store --------------------------------------------------------------------------------
def _store_with_jobs(store: Store, tmp_path: Path, *, turnaround_hours: list[float]) -> Store:
    """One batch per turnaround, each with three `claims` requests and one `other`."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for index, hours in enumerate(turnaround_hours):
        path = tmp_path / f"msgbatch_{index:02d}_results.jsonl"
        lines = [
            succeeded_line(
                f"claims-{index}{k}",
                "claude-haiku-4-5",
                usage_object(input_tokens=1000 * (k + 1), output_tokens=100 * (k + 1)),
            )
            for k in range(3)
        ]
        lines.append(
            succeeded_line(
                f"other-{index}", "claude-haiku-4-5", usage_object(input_tokens=5, output_tokens=1)
            )
        )
        path.write_text("".join(line + "\n" for line in lines))
        source = read_results(path, created_at=start)
        meta = source.batch_meta()
        meta["ended_at"] = start + timedelta(hours=hours)
        store.write_batch(meta, source)
    return store


def test_from_store_reads_the_jobs_requests_with_their_counts_together(
    store: Store, tmp_path: Path
) -> None:
    _store_with_jobs(store, tmp_path, turnaround_hours=[2, 30])
    s = scenario(
        "    requests: 10\n"
        "    input_tokens: {from_store: {job: claims}}\n"
        "    output_tokens: {from_store: {job: claims}}\n"
        "    deadline_hours: 24\n"
    )
    inputs = read_store_inputs(s, store, JobRule())
    sample = inputs.samples["claims"]
    assert sorted(sample[:, 0].tolist()) == [1000, 1000, 2000, 2000, 3000, 3000]
    assert (sample[:, 1] * 10 == sample[:, 0]).all()  # a request's counts stay one row
    assert inputs.turnaround["claims"] == (2, 1)
    resolved = with_store_means(s, inputs)
    assert resolved.workloads[0].input_tokens == 2000
    assert resolved.workloads[0].output_tokens == 200
    assert len(usage_for_plan(resolved, "sync")) == 1


def test_a_job_with_no_stored_usage_is_one_line_naming_the_field(
    store: Store, tmp_path: Path
) -> None:
    _store_with_jobs(store, tmp_path, turnaround_hours=[2])
    s = scenario(
        "    requests: 10\n    input_tokens: 5\n    output_tokens: {from_store: {job: claimz}}\n"
    )
    with pytest.raises(CostModelError) as caught:
        read_store_inputs(s, store, JobRule())
    message = str(caught.value)
    assert message.startswith("s.yaml:7: workloads[0].output_tokens.from_store.job: ")
    assert "no succeeded requests of job 'claimz'" in message and "\n" not in message


def test_a_deadline_without_stored_turnaround_asks_for_miss_share(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "msgbatch_x_results.jsonl"
    path.write_text(
        succeeded_line(
            "claims-1", "claude-haiku-4-5", usage_object(input_tokens=5, output_tokens=1)
        )
        + "\n"
    )
    source = read_results(path, created_at=datetime(2026, 11, 2, tzinfo=UTC))
    store.write_batch(source.batch_meta(), source)  # a file import: no end time
    s = scenario(
        "    requests: 10\n    input_tokens: 5\n    output_tokens: 5\n    deadline_hours: 24\n"
    )
    with pytest.raises(CostModelError) as caught:
        read_store_inputs(s, store, JobRule())
    message = str(caught.value)
    assert message.startswith("s.yaml:8: workloads[0].miss_share: ")
    assert "no batch turnaround for job 'claims'" in message


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 3.0), st.floats(1, 1e5))
def test_lognormal_mean_is_the_point_value(sigma: float, median: float) -> None:
    dist = LogNormal(math.log(median), sigma)
    assert math.isclose(dist.mean, median * math.exp(sigma**2 / 2))


def test_the_reference_file_documents_every_uncertain_form_and_it_validates() -> None:
    text = (Path(__file__).resolve().parent.parent / "scenarios" / "reference.yaml").read_text()
    lines = text.splitlines()
    start = lines.index("# ranges example:") + 1
    block = [line[1:] for line in lines[start:] if line.startswith("#")]
    example = "name: ranges\nworkloads:\n" + "\n".join(block) + "\n"
    for key in ("growth", "per_month", "day_of_week", "mean", "p95", "p50", "lognormal"):
        assert f"{key}:" in example, key
    for key in ("from_store", "deadline_hours", "miss_share", "mu", "sigma", "from"):
        assert f"{key}:" in example, key
    s = parse_scenario(example, "reference.yaml")
    r = s.workloads[0].ranges
    assert len(r.tokens) == 4 and r.growth is not None and r.deadline.miss_share == 0.05
