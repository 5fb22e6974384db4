"""Page: ranges and a forecast. The uncertain inputs editable, the month simulated, the year ahead.

Wiring only: the scenario picker, widgets for each workload's token distributions, growth and
deadline risk (folded in by :func:`costmodel.core.uncertainty.edited_ranges`), then the library's
simulation (:mod:`costmodel.core.simulate`), forecast (:mod:`costmodel.core.forecast`) and figures
(:mod:`costmodel.shells.charts_ranges`). This page is a shell: it supplies today's date.
Widget state lives under ``ranges.*`` keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from costmodel.core import uncertainty
from costmodel.core.forecast import Forecast, forecast_scenario, next_month
from costmodel.core.money import format_money, format_percent, format_points
from costmodel.core.simulate import Simulation, parameter_tornado, simulate_scenario
from costmodel.errors import CostModelError, ScenarioError
from costmodel.shells import charts, charts_ranges
from costmodel.shells.ui import cache, price_override, scenario_picker, services

__all__ = ["render"]

CHART_CONFIG = {"displaylogo": False}
DRAWS_KEY = "ranges.draws"
SEED_KEY = "ranges.seed"
MONTHS_KEY = "ranges.months"


def widget_key(choice_key: str, index: int, name: str) -> str:
    return f"ranges.{choice_key}.{index}.{name}"


@st.cache_resource(show_spinner=False, max_entries=16)
def _computed(
    key: str,
    _scenario: Any,
    _catalogue: Any,
    _inputs: Any,
    draws: int,
    seed: int,
    months: int,
    on: date,
) -> tuple[Simulation, Forecast, Any]:
    simulation = simulate_scenario(
        _scenario, _catalogue, draws=draws, seed=seed, on=on, inputs=_inputs
    )
    forecast = forecast_scenario(
        _scenario,
        _catalogue,
        months=months,
        first_month=next_month(on),
        draws=min(draws, 10_000),
        seed=seed,
        inputs=_inputs,
    )
    tornado = parameter_tornado(
        _scenario, _catalogue, on=on, draws=min(draws, 2000), seed=seed, inputs=_inputs
    )
    return simulation, forecast, tornado


@st.cache_resource(show_spinner=False, max_entries=8)
def _store_inputs(key: str, _scenario: Any, stamp: tuple[int, int]) -> Any:
    from costmodel.adapters.store import open_store
    from costmodel.core.jobs import JobRule

    path = _store_path()
    if not path.exists():
        raise CostModelError(
            f"{path}: no usage store yet; this scenario draws from stored usage "
            "(from_store, or a deadline measured from batch turnaround)"
        )
    with open_store(path, read_only=True) as store:
        return uncertainty.read_store_inputs(_scenario, store, JobRule())


def _store_path() -> Any:
    from costmodel.adapters.store import default_store_path

    return default_store_path()


def _token_widgets(choice_key: str, index: int, w: Any) -> tuple[tuple[str, float, float], ...]:
    edits = []
    for key in uncertainty.EDITABLE_TOKENS:
        label = "Input" if key == "input_tokens" else "Output"
        summary = uncertainty.token_summary(w, key)
        if summary is None:
            dist = w.ranges.token(key)
            st.caption(f"{label} tokens: drawn from the store's requests of job `{dist.job}`.")
            continue
        mean, p95 = summary
        left, right = st.columns(2)
        new_mean = left.number_input(
            f"{label} tokens per request, mean",
            min_value=0.0,
            value=float(mean),
            step=float(max(round(mean * 0.1), 1)),
            key=widget_key(choice_key, index, f"{key}.mean"),
        )
        new_p95 = right.number_input(
            f"{label} tokens, 95th percentile",
            min_value=0.0,
            value=float(p95),
            step=float(max(round(p95 * 0.1), 1)),
            key=widget_key(choice_key, index, f"{key}.p95"),
            help="Equal to the mean: every request the same. Above it: a lognormal with this "
            "mean and 95th percentile (at most 3.87x the mean).",
        )
        edits.append((key, float(new_mean), float(new_p95)))
    return tuple(edits)


def _editor(choice_key: str, scenario: Any) -> list[uncertainty.RangeEdit]:
    edits = []
    for index, w in enumerate(scenario.workloads):
        with st.expander(f"{w.name} ({w.model}): uncertain inputs", expanded=index == 0):
            tokens = _token_widgets(choice_key, index, w)
            ranges = w.ranges
            growth = ranges.growth.per_month * 100 if ranges and ranges.growth else 0.0
            left, middle, right = st.columns(3)
            growth_pct = left.number_input(
                "Volume growth a month (%)",
                min_value=-99.0,
                max_value=500.0,
                value=float(growth),
                step=1.0,
                key=widget_key(choice_key, index, "growth"),
            )
            deadline = ranges.deadline if ranges else None
            measured = deadline is not None and deadline.miss_share is None
            hours = middle.number_input(
                "Batch deadline (hours)",
                min_value=1.0,
                value=float(deadline.hours if deadline else 24.0),
                step=1.0,
                key=widget_key(choice_key, index, "deadline"),
                disabled=w.batch_share == 0,
            )
            share = right.number_input(
                "Batches missing it (%)",
                min_value=0.0,
                max_value=100.0,
                value=float((deadline.miss_share or 0.0) * 100 if deadline else 0.0),
                step=1.0,
                key=widget_key(choice_key, index, "miss"),
                disabled=measured or w.batch_share == 0,
                help="Measured from the store's batch turnaround for this job"
                if measured
                else "Run synchronously, at sync rates.",
            )
            edits.append(
                uncertainty.RangeEdit(
                    tokens=tokens,
                    growth_pct=float(growth_pct),
                    deadline_hours=float(hours),
                    miss_share_pct=None if measured else float(share),
                )
            )
    return edits


def _headline(simulation: Simulation) -> None:
    figures, currency = simulation.figures, simulation.currency
    shown = [("savings", "Savings", "money"), ("cost_batch", "Batch plan", "money")]
    if "gross_margin_batch_pct" in figures:
        shown += [
            ("gross_margin_batch_pct", "Margin, batch plan", "percent"),
            ("delta_pp", "Margin change", "points"),
        ]
    columns = st.columns(len(shown))
    for column, (name, label, kind) in zip(columns, shown, strict=True):
        q = figures[name]
        formats: dict[str, Callable[[float | None], str]] = {
            "money": lambda v: format_money(v, currency),
            "percent": lambda v: format_percent(v, 2),
            "points": format_points,
        }
        fmt = formats[kind]
        suffix = f" ({currency})" if kind == "money" else ""
        column.metric(
            f"{label}, P50{suffix}",
            fmt(q["p50"]),
            help=f"P10 {fmt(q['p10'])}, P90 {fmt(q['p90'])}, mean {fmt(q['mean'])}",
        )
        column.caption(f"P10 {fmt(q['p10'])} to P90 {fmt(q['p90'])}")


def render() -> None:
    st.title("Ranges and forecast")
    st.caption(
        "Tokens per request as distributions, volume growth and batch deadline risk: a month "
        "simulated many times, and the months ahead with price changes and retirements."
    )
    choice = scenario_picker.render()
    scenario = choice.scenario
    catalogue = cache.catalogue(scenario, *price_override.current())
    left, middle, right = st.columns(3)
    draws = int(
        left.number_input(
            "Simulated months",
            min_value=100,
            max_value=100_000,
            value=10_000,
            step=1000,
            key=DRAWS_KEY,
        )
    )
    seed = int(middle.number_input("Seed", min_value=0, value=7, step=1, key=SEED_KEY))
    months = int(
        right.number_input(
            "Months to forecast", min_value=1, max_value=36, value=12, key=MONTHS_KEY
        )
    )
    edits = _editor(choice.key, scenario)
    try:
        edited = uncertainty.edited_ranges(scenario, edits)
    except ScenarioError as error:
        st.error(
            "These inputs cannot be simulated:\n\n" + "\n".join(f"- `{p}`" for p in error.problems)
        )
        return
    on = edited.price_date or date.today()
    try:
        inputs = uncertainty.StoreInputs()
        if uncertainty.needs_store(edited):
            path = _store_path()
            stamp = cache.store_stamp(path) if path.exists() else (0, 0)
            inputs = _store_inputs(repr(edited), edited, stamp)
            edited = uncertainty.with_store_means(edited, inputs)
        key = f"{edited!r}|{catalogue.source}|{catalogue.contract!r}|{inputs!r}"
        simulation, forecast, tornado = _computed(
            key, edited, catalogue, inputs, draws, seed, months, on
        )
    except CostModelError as error:
        st.error(f"These inputs cannot be simulated: {error}")
        return
    _headline(simulation)
    st.caption(services.plain_text(" ".join(simulation.notes)))
    st.plotly_chart(charts_ranges.fan_chart(forecast), config=CHART_CONFIG, key="ranges.fan")
    left, right = st.columns(2)
    left.plotly_chart(
        charts_ranges.distribution_chart(simulation, "savings"),
        config=CHART_CONFIG,
        key="ranges.savings",
    )
    margin = "gross_margin_batch_pct" if scenario.business is not None else "cost_batch"
    right.plotly_chart(
        charts_ranges.distribution_chart(simulation, margin),
        config=CHART_CONFIG,
        key="ranges.margin",
    )
    if tornado.empty:
        st.info(
            "No distribution to vary: give a workload a token spread (p95 above the mean) or a "
            "deadline miss share to see which parameter moves the result most.",
            icon=":material/info:",
        )
    else:
        st.plotly_chart(charts.tornado_chart(tornado), config=CHART_CONFIG, key="ranges.tornado")
    section = forecast.sections()[0]
    st.markdown(f"**{services.plain_text(section.title)}**")
    st.dataframe(section.frame, hide_index=True, key="ranges.months_table")
    st.caption(services.plain_text(" ".join(forecast.notes)))


if __name__ == "__main__":
    render()
