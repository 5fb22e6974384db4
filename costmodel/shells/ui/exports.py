"""Downloads: the scenario as edited (YAML), and its figures in the CLI's CSV and JSON."""

from __future__ import annotations

import re

import streamlit as st

from costmodel.adapters.render import render as render_result
from costmodel.core.results import ScenarioRun
from costmodel.core.scenario import Scenario, scenario_to_yaml

__all__ = ["render", "slug"]


def slug(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "scenario"


def render(scenario: Scenario, run: ScenarioRun, key: str) -> None:
    """Three download buttons; ``key`` keeps their ids apart per scenario."""
    name = slug(scenario.name)
    st.subheader("Export")
    st.caption(
        "The scenario with your edits, and its figures in the same CSV and JSON the CLI writes "
        "(`costmodel run --format csv|json`)."
    )
    yaml_col, csv_col, json_col, _ = st.columns([1, 1, 1, 2])
    yaml_col.download_button(
        "Scenario (YAML)",
        scenario_to_yaml(scenario),
        file_name=f"{name}.yaml",
        mime="application/yaml",
        on_click="ignore",
        key=f"export.{key}.yaml",
        icon=":material/download:",
    )
    csv_col.download_button(
        "Figures (CSV)",
        render_result(run, "csv"),
        file_name=f"{name}.csv",
        mime="text/csv",
        on_click="ignore",
        key=f"export.{key}.csv",
        icon=":material/download:",
    )
    json_col.download_button(
        "Figures (JSON)",
        render_result(run, "json"),
        file_name=f"{name}.json",
        mime="application/json",
        on_click="ignore",
        key=f"export.{key}.json",
        icon=":material/download:",
    )
