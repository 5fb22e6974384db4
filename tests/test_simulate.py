"""The month simulation: point figures when nothing is uncertain, order of the quantiles,
seeds, the central-limit shortcut against brute force, deadline misses, and the CLI."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import priced_models, scenarios

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import load_scenario, parse_scenario
from costmodel.core.money import round_cents
from costmodel.core.pricing import price_usage
from costmodel.core.report import run_scenario
from costmodel.core.scenario import Scenario
from costmodel.core.simulate import check_draws, simulate_scenario
from costmodel.core.uncertainty import (
    Deadline,
    LogNormal,
    StoreInputs,
    WorkloadRanges,
    fit_mean_p95,
    with_store_means,
)
from costmodel.core.usage import usage_frame
from costmodel.errors import CostModelError, PricingError
from costmodel.shells.cli import main

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
ON = date(2026, 11, 24)  # the catalogue's checked day: golden figures never follow the clock
CATALOGUE = bundled_catalogue()
MODELS = priced_models(on=ON)
FIGURES = ("p10", "p50", "p90", "mean")


def simulate(s: Scenario, draws: int = 2000, seed: int = 7, **kw: object) -> dict:
    return simulate_scenario(s, CATALOGUE, draws=draws, seed=seed, on=ON, **kw).to_dict()


def point(s: Scenario) -> dict:
    return run_scenario(s, CATALOGUE, on=ON).to_dict()


def assert_point(sim: dict, run: dict) -> None:
    for name in ("cost_sync", "cost_batch", "savings"):
        for key in FIGURES:
            assert sim["figures"][name][key] == run["totals"][name], (name, key)
    if run["margin"] is not None:
        for name in ("gross_margin_sync_pct", "gross_margin_batch_pct", "delta_pp"):
            for key in FIGURES:
                assert sim["figures"][name][key] == run["margin"][name], (name, key)


# -- no uncertainty: the point figures, to the cent ------------------------------------------
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_a_scenario_without_uncertain_inputs_gives_its_point_figures(path: Path) -> None:
    s = load_scenario(path)
    sim = simulate(s, draws=500)
    assert not sim["simulated"] and sim["schema"] == "costmodel.simulation/1"
    assert_point(sim, point(s))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(MODELS, max_tokens=300_000))
def test_any_certain_scenario_gives_p10_p50_p90_equal_to_run(s: Scenario) -> None:
    s = replace(s, price_date=None)
    try:
        run = point(s)
    except PricingError:  # a prompt the model refuses on the day: run says so, as it should
        assume(False)
        return
    assert_point(simulate(s, draws=50), run)


@pytest.mark.parametrize(
    "form",
    ["{mean: 2000, p95: 2000}", "{p50: 2000, p95: 2000}", "{lognormal: {mu: 7.6, sigma: 0}}"],
)
def test_degenerate_distributions_equal_the_point_figures(form: str) -> None:
    s = parse_scenario(
        "name: s\nbusiness: {revenue: 5000, other_cogs: 100}\nworkloads:\n"
        "  - {name: w, model: claude-sonnet-4-5, requests: {count: 777, per: day}, "
        f"input_tokens: {form}, output_tokens: 333, batch_share: 0.7}}\n"
    )
    assert_point(simulate(s), point(s))


def test_an_empirical_sample_of_identical_requests_is_simulated_and_equals_the_point() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: claims, model: claude-haiku-4-5, requests: 12345, "
        "input_tokens: {from_store: {job: claims}}, output_tokens: {from_store: {job: claims}}, "
        "batch_share: 0.35}\n"
    )
    inputs = StoreInputs(samples={"claims": np.tile([[2000.0, 150, 0, 0, 0]], (64, 1))})
    s = with_store_means(s, inputs)
    sim = simulate(s, inputs=inputs)
    assert sim["simulated"]  # went through the profile pricing, not the point shortcut
    assert_point(sim, point(s))


# -- properties of uncertain scenarios ----------------------------------------------------------
@st.composite
def uncertain(draw: st.DrawFn) -> Scenario:
    s = draw(scenarios(MODELS, max_workloads=3, max_tokens=100_000))
    workloads = []
    for w in s.workloads:
        sigma = draw(st.floats(0.05, 1.5))
        dist = LogNormal(math.log(max(w.input_tokens, 1.0)), sigma)
        deadline = draw(st.none() | st.builds(Deadline, st.just(24.0), st.floats(0, 1)))
        ranges = WorkloadRanges(tokens=(("input_tokens", dist),), deadline=deadline)
        workloads.append(replace(w, input_tokens=dist.mean, ranges=ranges))
    return replace(s, workloads=tuple(workloads), price_date=None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uncertain(), st.integers(0, 2**32))
def test_quantiles_are_ordered_and_a_seed_reproduces_its_draws(s: Scenario, seed: int) -> None:
    try:
        point(s)
    except PricingError:  # the mean request itself is refused on the day (prompt too long)
        assume(False)
    first = simulate(s, draws=300, seed=seed)
    for values in first["figures"].values():
        assert values["p10"] <= values["p50"] <= values["p90"]
    assert simulate(s, draws=300, seed=seed) == first


def test_another_seed_draws_other_months() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-haiku-4-5, requests: 400, "
        "input_tokens: {mean: 3000, p95: 9000}, output_tokens: 200}\n"
    )
    assert simulate(s, seed=1)["figures"] != simulate(s, seed=2)["figures"]


# -- the central-limit shortcut against pricing every request ------------------------------------
def test_month_distribution_matches_pricing_every_drawn_request() -> None:
    """300 requests a month whose prompts sometimes pass Sonnet 4.5's 200K long-context line:
    the simulated month's mean and spread match months of individually priced requests."""
    dist = fit_mean_p95(60_000, 180_000)
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-sonnet-4-5, requests: 300, "
        "input_tokens: {mean: 60000, p95: 180000}, output_tokens: 500, batch_share: 0.5}\n"
    )
    # A day on which Sonnet 4.5 still priced prompts over 200K at its long-context tier.
    on = date(2026, 4, 1)
    sim = simulate_scenario(s, CATALOGUE, draws=20_000, seed=3, on=on)
    months, n = 600, 300
    rng = np.random.default_rng(11)
    tokens = np.exp(dist.mu + dist.sigma * rng.standard_normal(months * n))
    frame = usage_frame(
        {"model": "claude-sonnet-4-5", "input_tokens": tokens, "output_tokens": 500.0}
    )
    per_request = price_usage(frame, CATALOGUE, on=on).cost.reshape(months, n)
    brute = per_request.sum(axis=1)
    simulated = sim.samples["cost_sync"]
    assert simulated.mean() == pytest.approx(brute.mean(), rel=0.02)
    assert simulated.std() == pytest.approx(brute.std(), rel=0.15)
    # The long-context tail is why the mean month costs more than pricing the mean request.
    assert simulated.mean() > 1.05 * sim.point["cost_sync"]


# -- deadline misses ---------------------------------------------------------------------------
def test_a_given_miss_share_runs_that_share_of_batches_at_sync_rates() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-haiku-4-5, requests: 10000, "
        "input_tokens: 2000, output_tokens: 300, deadline_hours: 24, miss_share: 0.2}\n"
    )
    run = point(s)
    sync, batch = run["totals"]["cost_sync"], run["totals"]["cost_batch"]
    sim = simulate(s)
    assert sim["simulated"]
    for key in FIGURES:
        assert sim["figures"]["cost_batch"][key] == round_cents(0.8 * batch + 0.2 * sync)
        assert sim["figures"]["cost_sync"][key] == sync


def test_a_measured_miss_share_is_drawn_from_what_the_batches_allow() -> None:
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-haiku-4-5, requests: 10000, "
        "input_tokens: 2000, output_tokens: 300, deadline_hours: 24}\n"
    )
    run = point(s)
    sync, batch = run["totals"]["cost_sync"], run["totals"]["cost_batch"]
    few = simulate(s, draws=20_000, inputs=StoreInputs(turnaround={"w": (10, 2)}))
    many = simulate(s, draws=20_000, inputs=StoreInputs(turnaround={"w": (10_000, 2_000)}))
    # Beta(3, 9) has mean 0.25; 2,000 of 10,000 pins the share near 0.2.
    assert few["figures"]["cost_batch"]["mean"] == pytest.approx(
        batch + 0.25 * (sync - batch), rel=0.01
    )
    assert many["figures"]["cost_batch"]["p50"] == pytest.approx(
        batch + 0.2 * (sync - batch), rel=0.005
    )
    width = lambda r: r["figures"]["cost_batch"]["p90"] - r["figures"]["cost_batch"]["p10"]  # noqa: E731
    assert width(few) > 10 * width(many)


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("draws", "seed", "expected"),
    [
        (0, 1, "--simulate: got 0"),
        (-5, 1, "--simulate: got -5"),
        (2.5, 1, "--simulate: got 2.5"),
        (10, "7", "--seed: got '7'"),
        (10, 1.5, "--seed: got 1.5"),
        (10, -1, "--seed: got -1"),
        (10_000_000, 1, "--simulate: got 10000000"),
    ],
)
def test_bad_draws_and_seeds_name_the_option(draws: object, seed: object, expected: str) -> None:
    with pytest.raises(CostModelError, match=expected):
        check_draws(draws, seed)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_cli_simulate_of_a_certain_scenario_prints_run_figures(path: Path) -> None:
    code, out, _ = invoke(
        "run",
        str(path),
        "--simulate",
        "1000",
        "--seed",
        "7",
        "--on",
        "2026-11-24",
        "--format",
        "json",
    )
    assert code == 0
    code, plain, _ = invoke("run", str(path), "--on", "2026-11-24", "--format", "json")
    assert_point(json.loads(out), json.loads(plain))


def test_cli_simulate_is_reproducible_and_renders_every_format(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nbusiness: {revenue: 9000}\nworkloads:\n  - {name: w, model: claude-haiku-4-5, "
        "requests: 400, input_tokens: {p50: 3000, p95: 9000}, output_tokens: 200}\n"
    )
    args = ("run", str(path), "--simulate", "5000", "--seed", "7", "--on", "2026-11-24")
    first = invoke(*args, "--format", "json")[1]
    assert first == invoke(*args, "--format", "json")[1]
    data = json.loads(first)
    assert data["draws"] == 5000 and data["seed"] == 7 and data["simulated"]
    for fmt in ("table", "csv", "markdown"):
        code, out, _ = invoke(*args, "--format", fmt)
        assert code == 0 and "p50" in out.lower()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--simulate", "0"), "costmodel: error: --simulate: got 0; expected a number of draws"),
        (("--simulate", "many"), "costmodel: error: --simulate: got 'many'; expected a whole"),
        (
            ("--simulate", "10", "--seed", "x"),
            "costmodel: error: --seed: got 'x'; expected a whole",
        ),
        (("--simulate", "10", "--seed", "1.5"), "costmodel: error: --seed: got '1.5'"),
    ],
)
def test_cli_bad_simulation_options_are_one_line(args: tuple[str, ...], expected: str) -> None:
    code, out, err = invoke("run", str(BUNDLED[0]), *args)
    assert code == 1 and out == ""
    assert err.startswith(expected) and err.count("\n") == 1


def test_cli_from_store_job_without_usage_is_one_line(tmp_path: Path) -> None:
    from costmodel.adapters.store import open_store

    store = tmp_path / "usage.duckdb"
    open_store(store).close()
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nworkloads:\n  - name: w\n    model: claude-haiku-4-5\n    requests: 400\n"
        "    input_tokens: {from_store: {job: nothing-here}}\n    output_tokens: 5\n"
    )
    code, _, err = invoke("run", str(path), "--simulate", "100", "--store", str(store))
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"costmodel: error: {path}:6: workloads[0].input_tokens.from_store.job:")


def test_cli_measures_the_miss_share_from_the_stores_batch_turnaround(tmp_path: Path) -> None:
    from test_uncertainty import _store_with_jobs

    from costmodel.adapters.store import open_store

    store_path = tmp_path / "usage.duckdb"
    with open_store(store_path) as store:
        # Four batches of job `claims`, one of them 30 hours from created to ended.
        _store_with_jobs(store, tmp_path, turnaround_hours=[2, 3, 30, 5])
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nworkloads:\n  - name: claims\n    model: claude-haiku-4-5\n"
        "    requests: 10000\n    input_tokens: {from_store: {job: claims}}\n"
        "    output_tokens: {from_store: {job: claims}}\n    deadline_hours: 24\n"
    )
    args = ("--on", "2026-11-24", "--store", str(store_path), "--format", "json")
    code, out, err = invoke("run", str(path), "--simulate", "4000", "--seed", "3", *args)
    assert code == 0, err
    data = json.loads(out)
    assert any("1 of 4 stored batches took longer than 24 hours" in n for n in data["notes"])
    sync, batch = data["point"]["cost_sync"], data["point"]["cost_batch"]
    # Stored means: 2,000 in and 200 out a request; Beta(2, 4) has mean 1/3.
    assert sync == pytest.approx(10000 * (2000 * 1 + 200 * 5) / 1e6)
    assert data["figures"]["cost_batch"]["mean"] == pytest.approx(
        batch + (sync - batch) / 3, rel=0.02
    )
    code, out, _ = invoke("run", str(path), *args)  # plain run prices the stored means
    assert json.loads(out)["totals"]["cost_sync"] == sync
    code, _, err = invoke("run", str(path), "--simulate", "10", "--actual", *args)
    assert code == 1 and err.startswith("costmodel: error: --simulate: not with --actual")


def test_a_tail_past_the_models_prompt_limit_is_unbilled_and_said() -> None:
    """After 2026-04-30 Sonnet 4.5 refuses prompts over 200K: drawn requests past the limit are
    refused by the API (not billed), and a note gives their share."""
    dist = fit_mean_p95(60_000, 180_000)
    s = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-sonnet-4-5, requests: 300, "
        "input_tokens: {mean: 60000, p95: 180000}, output_tokens: 500}\n"
    )
    sim = simulate_scenario(s, CATALOGUE, draws=5_000, seed=3, on=date(2026, 11, 1))
    over = 1 - float(
        np.mean(
            np.exp(dist.mu + dist.sigma * np.random.default_rng(1).standard_normal(200_000))
            <= 200_000
        )
    )
    note = next(n for n in sim.notes if "over the model's limit" in n)
    share = float(note.split(": ")[1].split("%")[0]) / 100
    assert share == pytest.approx(over, abs=0.01)
    # Nothing past the limit is billed: the month costs less than pricing the mean request's
    # tail would, and no error is raised.
    assert sim.samples["cost_sync"].mean() > 0
