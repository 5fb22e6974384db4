"""Streamlit's caches around the library: what does not change between reruns is built once.

The bundled scenarios, the catalogues and the demo store are shared by every session
(``st.cache_resource``: they are immutable). Figures read from a usage store are cached by the
store file's modification stamp, so an import shows up on the next rerun. A scenario's analysis and figures are cached by the scenario's full
``repr`` and the catalogue's key, so a rerun that changes nothing (a page switch, a download)
costs nothing, and a rerun after a widget change recomputes exactly once.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from costmodel.adapters.catalogue_files import catalogue_for
from costmodel.adapters.store import open_store
from costmodel.core.catalogue import Catalogue
from costmodel.core.comparison import ActualComparison, compare_with_actual
from costmodel.core.measured import UsageSummary, daily_costs, usage_summary
from costmodel.core.report import run_scenario
from costmodel.core.results import ScenarioRun
from costmodel.core.scenario import Scenario
from costmodel.shells.ui import services

__all__ = [
    "actual_comparison",
    "bundled_scenarios",
    "catalogue",
    "demo_store",
    "explore",
    "run",
    "store_span",
    "store_stamp",
    "usage",
]


@st.cache_resource(show_spinner=False)
def bundled_scenarios() -> dict[str, Scenario]:
    """The bundled scenario files, read and validated once per process."""
    return services.load_bundled()


@st.cache_resource(show_spinner=False, max_entries=64)
def _catalogue(prices: str | None, percent: float, model: str) -> Catalogue:
    base = catalogue_for(None, prices) if prices else catalogue_for(None)
    return services.what_if_catalogue(base, percent, model)


def catalogue(scenario: Scenario | None, percent: float = 0.0, model: str = "") -> Catalogue:
    """The catalogue for ``scenario`` (its price file over the bundled one) with the what-if."""
    return _catalogue(
        scenario.prices if scenario else None, float(percent), model or services.ALL_MODELS
    )


def _catalogue_key(cat: Catalogue) -> str:
    # The contract names its source (a price file's path, or the what-if) and every factor.
    return f"{cat.source}|{cat.checked}|{cat.contract!r}|{','.join(cat.models)}"


@st.cache_resource(show_spinner=False, max_entries=32)
def _explored(
    scenario_key: str, catalogue_key: str, on: date, _scenario: Scenario, _cat: Any
) -> services.Explored:
    return services.explore(_scenario, _cat, on=on)


def explore(scenario: Scenario, cat: Catalogue) -> services.Explored:
    """The cached :func:`services.explore` for this exact scenario and catalogue."""
    on = services.pricing_day(scenario)
    return _explored(repr(scenario), _catalogue_key(cat), on, scenario, cat)


@st.cache_resource(show_spinner=False, max_entries=64)
def _run(
    scenario_key: str, catalogue_key: str, on: date, _scenario: Scenario, _cat: Any
) -> ScenarioRun:
    return run_scenario(_scenario, _cat, on=on)


def run(scenario: Scenario, cat: Catalogue) -> ScenarioRun:
    """The cached :func:`~costmodel.core.report.run_scenario` for this scenario and catalogue,
    priced on the scenario's ``price_date``, else today (part of the key: a new day reprices)."""
    on = services.pricing_day(scenario)
    return _run(repr(scenario), _catalogue_key(cat), on, scenario, cat)


# -- measured usage: read once per store state ----------------------------------------------
def store_stamp(path: Path) -> tuple[int, int]:
    """Changes whenever the store file (or its write-ahead log) does: part of every cache key."""
    stamps = [p.stat() for p in (path, path.with_name(path.name + ".wal")) if p.exists()]
    return sum(s.st_mtime_ns for s in stamps), sum(s.st_size for s in stamps)


@st.cache_resource(show_spinner="Preparing the demo data…")
def demo_store() -> Path:
    """The demo store, generated and imported on first use (costmodel.adapters.demo)."""
    from costmodel.adapters.demo import ensure_demo_store

    return Path(ensure_demo_store())


@st.cache_resource(show_spinner=False, max_entries=16)
def _store_span(path: str, stamp: tuple[int, int]) -> tuple[date | None, date | None, int]:
    with open_store(path, read_only=True) as store:
        return store.usage_span()


def store_span(path: Path) -> tuple[date | None, date | None, int]:
    """First and last day with usage in the store, and how many batches it holds."""
    return _store_span(str(path), store_stamp(path))


@st.cache_resource(show_spinner=False, max_entries=32)
def _usage(
    path: str,
    stamp: tuple[int, int],
    by: str,
    since: date,
    until: date,
    percent: float,
    model: str,
) -> tuple[UsageSummary, pd.DataFrame]:
    prices = _catalogue(None, percent, model or services.ALL_MODELS)
    with open_store(path, read_only=True) as store:
        summary = usage_summary(store, by=by, since=since, until=until, catalogue=prices)
        daily = daily_costs(store, by=by, since=since, until=until, catalogue=prices)
    return summary, daily


def usage(
    path: Path, by: str, since: date, until: date, percent: float = 0.0, model: str = ""
) -> tuple[UsageSummary, pd.DataFrame]:
    """The usage summary by model or job, and cost by day, for ``since`` to ``until``."""
    return _usage(str(path), store_stamp(path), by, since, until, percent, model)


@st.cache_resource(show_spinner=False, max_entries=32)
def _actual_comparison(
    path: str,
    stamp: tuple[int, int],
    scenario_key: str,
    since: date,
    until: date,
    percent: float,
    model: str,
    _scenario: Scenario,
) -> ActualComparison:
    prices = _catalogue(_scenario.prices, percent, model or services.ALL_MODELS)
    with open_store(path, read_only=True) as store:
        return compare_with_actual(
            _scenario,
            store,
            since=since,
            until=until,
            catalogue=prices,
            on=services.pricing_day(_scenario),
        )


def actual_comparison(
    path: Path,
    scenario: Scenario,
    since: date,
    until: date,
    percent: float = 0.0,
    model: str = "",
) -> ActualComparison:
    """The scenario's batch plan for the period beside what the store measured."""
    return _actual_comparison(
        str(path), store_stamp(path), repr(scenario), since, until, percent, model, scenario
    )
