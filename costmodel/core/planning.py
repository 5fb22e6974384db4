"""Planning: a scenario as the usage frame of its sync plan or its batch plan.

Pure: each workload's monthly requests and tokens per request, split between the standard and
batch tiers by its batch share (and its hybrid rules), as the usage frame
(:mod:`costmodel.core.usage`) the pricing engine prices.
"""

from __future__ import annotations

import pandas as pd

from costmodel.core import uncertainty
from costmodel.core.scenario import PLANS, Scenario, Workload
from costmodel.core.usage import USAGE_COLUMNS, usage_frame
from costmodel.errors import ScenarioError

__all__ = ["usage_for_plan"]


def usage_for_plan(s: Scenario, plan: str) -> pd.DataFrame:
    """A monthly usage frame (see :mod:`costmodel.core.usage`) for the ``sync`` or ``batch`` plan.

    ``sync`` has one standard-tier row per workload. ``batch`` has two rows per workload, always
    in this order: the ``batch`` row with ``batch_share`` of the requests, then the ``standard``
    row with the rest (kept even at zero requests, so row ``2*i`` and ``2*i+1`` are workload
    ``i``). ``requests`` is the monthly volume and a ``workload`` column names the workload.
    There is no ``date`` column: price with ``price_usage(..., on=s.price_date)``, so that a
    caller can still choose another day.

    >>> from costmodel.adapters.scenario_files import parse_scenario
    >>> s = parse_scenario("name: s\\nworkloads: [{name: w, model: claude-sonnet-4-5, "
    ...                    "requests: 100, input_tokens: 10, output_tokens: 1, batch_share: 0.25}]")
    >>> usage_for_plan(s, "batch")[["workload", "tier", "requests"]].values.tolist()
    [['w', 'batch', 25.0], ['w', 'standard', 75.0]]
    """
    if plan not in PLANS:
        raise ScenarioError(f"plan: unknown plan {plan!r}; expected one of {', '.join(PLANS)}")
    uncertainty.check_resolved(s)  # a from_store count is NaN until the store is read
    rows: list[dict[str, object]] = []
    for w in s.workloads:
        monthly = w.requests.per_month(s.days_per_month)
        for tier, share in _tier_shares(w, plan):
            rows.append(
                {
                    "workload": w.name,
                    "model": w.model,
                    "requests": monthly * share,
                    "input_tokens": w.input_tokens,
                    "output_tokens": w.output_tokens,
                    "cache_write_5m_tokens": w.cache_write_tokens,
                    "cache_write_1h_tokens": w.cache_write_1h_tokens,
                    "cache_read_tokens": w.cache_read_tokens,
                    "web_search_requests": w.web_search_requests,
                    "code_execution_hours": w.code_execution_hours,
                    "tier": tier,
                    "inference_geo": w.inference_geo,
                    "speed": "standard",
                }
            )
    # Columns named even when there are no rows, so an empty scenario still validates.
    columns = ["workload", *USAGE_COLUMNS, "code_execution_hours"]
    return usage_frame(pd.DataFrame(rows, columns=columns))


def _tier_shares(w: Workload, plan: str) -> tuple[tuple[str, float], ...]:
    if plan == "sync":
        return (("standard", 1.0),)
    return (("batch", w.batch_share), ("standard", 1.0 - w.batch_share))
