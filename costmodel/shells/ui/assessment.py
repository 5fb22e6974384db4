"""Page: the pre-migration assessment of the organisation's synchronous usage.

Wiring only: the same data choice as the Organisation page (the user's pulled report, else the
labelled demo report), the policy's thresholds as widgets (starting from the bundled policy)
that re-run :func:`costmodel.core.assess.assess`, the verdicts and savings, and the proposed plan:
downloaded as a scenario file or opened in the scenario explorer.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from costmodel.core.money import format_money
from costmodel.errors import CostModelError
from costmodel.shells.ui import services
from costmodel.shells.ui.organisation import load_report, org_source

__all__ = ["OPEN_KEY", "render"]

OPEN_KEY = "assess.open"
CHART_CONFIG = {"displaylogo": False}
EXPLORER_PAGE = "costmodel/shells/ui/explorer.py"
# The scenario picker's session state (costmodel/shells/ui/scenario_picker.py): the session's
# uploaded scenarios and the chosen label.
_PICKER_UPLOADS = "picker.uploads"
_PICKER_CHOICE = "picker.choice"


def _threshold(
    column: Any,
    label: str,
    value: Any,
    name: str,
    *,
    step: float,
    low: float = 0.0,
    high: float | None = None,
) -> float:
    """One of the policy's numeric thresholds as a number input (key ``assess.<name>``)."""
    return float(
        column.number_input(
            label,
            min_value=low,
            max_value=high,
            value=float(value),
            step=step,
            key=f"assess.{name}",
        )
    )


def _policy_widgets(policy: Any, workspaces: list[str]) -> Any:
    """The bundled policy with the thresholds the user set."""
    st.subheader("Policy")
    st.caption(
        "The bundled policy is the article's decision tree; change a threshold and the "
        "assessment runs again. `costmodel assess --policy FILE` takes the same settings."
    )
    cols = st.columns(4)
    minimum = _threshold(
        cols[0], "Minimum requests a day", policy.minimum_requests_per_day, "minimum", step=10.0
    )
    budget = _threshold(
        cols[1],
        "Latency-critical below (ms)",
        policy.latency_budget_below_ms,
        "latency",
        step=100.0,
    )
    turnaround = _threshold(
        cols[2],
        "Batch turnaround (hours)",
        policy.batch_turnaround_hours,
        "turnaround",
        step=1.0,
        low=1.0,
        high=24.0,
    )
    unknown = cols[3].selectbox(
        "When a workload's wait is unknown",
        ["can_wait", "stay_sync"],
        index=0 if policy.when_unknown == "can_wait" else 1,
        key="assess.unknown",
    )
    critical = st.multiselect(
        "Latency-critical workspaces (stay synchronous)",
        workspaces,
        default=sorted(policy.latency_critical.workspaces & set(workspaces)),
        key="assess.critical",
    )
    return dataclasses.replace(
        policy,
        minimum_requests_per_day=minimum,
        latency_budget_below_ms=budget,
        batch_turnaround_hours=turnaround,
        when_unknown=unknown,
        latency_critical=dataclasses.replace(
            policy.latency_critical, workspaces=frozenset(critical)
        ),
    )


def _open_in_explorer(assessment: Any) -> None:
    """Offer the proposed plan in the scenario picker and go to the explorer."""
    from costmodel.core.assess import proposed_scenario
    from costmodel.shells.ui.scenario_picker import Choice

    scenario = proposed_scenario(assessment)
    label = f"{scenario.name} (from the assessment)"
    choice = Choice(f"assessment:{label}", label, scenario)
    st.session_state.setdefault(_PICKER_UPLOADS, {})[choice.key] = choice
    st.session_state[_PICKER_CHOICE] = label
    st.switch_page(EXPLORER_PAGE)


def render() -> None:
    from costmodel.adapters.catalogue_files import bundled_catalogue
    from costmodel.adapters.policy_files import default_policy
    from costmodel.core.assess import assess, candidates_from_org, proposed_scenario_yaml
    from costmodel.shells.org_charts import assessment_savings_chart

    st.title("Assessment")
    st.caption(
        "Which synchronous workloads can move to the Message Batches API under a policy, what "
        "each would cost a month before and after, and the plan as a scenario."
    )
    source = org_source("assess")
    try:
        found = load_report(source)
    except CostModelError as error:
        st.error(str(error))
        return
    if found is None:
        st.info("The store holds no organisation report yet.")
        return
    report, period = found
    by = st.radio(
        "Workloads", ["workspace", "api_key"], key="assess.by", horizontal=True,
        format_func=lambda v: {"workspace": "Workspace x model", "api_key": "API key x model"}[v],
    )  # fmt: skip
    workspaces = sorted({r.workspace_id for r in report.usage if r.workspace_id})
    policy = _policy_widgets(default_policy(), workspaces)
    catalogue = bundled_catalogue()
    try:
        candidates = candidates_from_org(
            report.usage,
            since=period.first_day,
            until=period.last_day,
            catalogue=catalogue,
            by=by,
            source=(
                "the demo organisation report" if period.demo else "the organisation's usage report"
            ),
            business_hours=policy.business_hours,
        )
        assessment = assess(candidates, policy, catalogue, on=datetime.now(UTC).date())
    except CostModelError as error:
        st.info(str(error))
        return
    totals = assessment.to_dict()["totals"]
    cards = st.columns(4)
    cards[0].metric("Monthly spend now (USD)", format_money(totals["now_usd"]))
    cards[1].metric("After the verdicts (USD)", format_money(totals["after_usd"]))
    cards[2].metric("Monthly savings (USD)", format_money(totals["savings_usd"]))
    cards[3].metric("Workloads moving", f"{totals['moving']:,} of {len(assessment.workloads):,}")
    st.plotly_chart(
        assessment_savings_chart(assessment), config=CHART_CONFIG, key="assess.chart.savings"
    )
    st.subheader("Verdicts")
    st.dataframe(services.display_frame(assessment.sections()[0], "USD"), hide_index=True)
    for note in assessment.notes:
        st.caption(services.plain_text(note))
    left, right = st.columns(2)
    left.download_button(
        "Download the proposed plan (scenario YAML)",
        proposed_scenario_yaml(assessment),
        file_name="proposed.yaml",
        mime="application/x-yaml",
        key="assess.download",
    )
    if right.button("Open the proposed plan in the explorer", key=OPEN_KEY):
        _open_in_explorer(assessment)


if __name__ == "__main__":
    render()
