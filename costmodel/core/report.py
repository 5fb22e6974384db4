"""Computing the results: each question answered once, read by every renderer and the dashboard.

- :func:`run_scenario` -> :class:`~costmodel.core.results.ScenarioRun`: a scenario's monthly cost
  sync against its batch plan, per workload and in total, and the margin impact where the
  scenario has a business block.
- :func:`compare_runs` -> :class:`~costmodel.core.results.Comparison`: several scenarios side by
  side.
- :func:`diff_runs` -> :class:`~costmodel.core.results.ScenarioDiff`: what a proposed scenario
  changes against a baseline.
- :func:`price_list` -> :class:`~costmodel.core.results.PriceList`: the catalogue as a table.

Pure: the catalogue and the pricing day are arguments. Figures from scenarios are assumptions:
every result names the file they came from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pandas as pd

from costmodel.core.catalogue import RATE_FIELDS, Catalogue
from costmodel.core.frames import object_column
from costmodel.core.layouts import _rate
from costmodel.core.margin import in_currency, margin_impact
from costmodel.core.planning import usage_for_plan
from costmodel.core.pricing import PricedUsage, price_usage
from costmodel.core.results import (
    PLAN_COSTS,
    Comparison,
    PriceList,
    ScenarioDiff,
    ScenarioRun,
)
from costmodel.core.scenario import Currency, Scenario, pricing_day
from costmodel.errors import CostModelError

__all__ = ["compare_runs", "diff_runs", "price_list", "run_scenario"]


def run_scenario(
    scenario: Scenario,
    catalogue: Catalogue,
    *,
    on: date | None = None,
    fx: Currency | None = None,
) -> ScenarioRun:
    """Price a scenario's sync plan and batch plan and work out the margin impact.

    ``on`` is the pricing day; without it, the scenario's own ``price_date``. One of the two is
    required: the core never reads the clock (the shells pass today when the user gives no
    day).
    """
    price_date = pricing_day(scenario, on)
    display = fx or scenario.currency
    per_usd = display.per_usd if display else Decimal(1)
    # The business block is in the scenario's own currency (USD when it names none).
    base_per_usd = scenario.currency.per_usd if scenario.currency else Decimal(1)
    context = scenario.source
    sync_usage = usage_for_plan(scenario, "sync")
    batch_usage = usage_for_plan(scenario, "batch")
    sync = price_usage(sync_usage, catalogue, on=price_date, context=context)
    batch = price_usage(batch_usage, catalogue, on=price_date, context=context)
    lines = pd.concat(
        [
            sync.cost_lines(sync_usage["workload"].to_numpy()).assign(plan="sync"),
            batch.cost_lines(batch_usage["workload"].to_numpy()).assign(plan="batch"),
        ],
        ignore_index=True,
    )

    names = [w.name for w in scenario.workloads]
    exact = pd.DataFrame(index=pd.Index(names, name="name"), columns=list(PLAN_COSTS))
    for plan in ("sync", "batch"):
        plan_lines = lines[lines["plan"] == plan]
        for column, source in ((f"cost_{plan}", "cost_contracted"), (f"list_cost_{plan}", "cost")):
            sums = {n: Decimal(0) for n in names}
            for name, amount in zip(plan_lines["group"], plan_lines[source], strict=True):
                sums[name] += amount
            exact[column] = object_column(exact, (sums[n] * per_usd for n in names))
    exact = exact.reset_index(drop=True)

    monthly_requests = sync_usage.groupby("workload")["requests"].sum()

    def monthly(per_request: Sequence[float]) -> list[float]:
        return [
            value * float(monthly_requests[w.name])
            for w, value in zip(scenario.workloads, per_request, strict=True)
        ]

    w_all = scenario.workloads
    frame = pd.DataFrame(
        {
            "name": names,
            "model": [catalogue.resolve(w.model) for w in w_all],
            "requests": [float(monthly_requests[n]) for n in names],
            "input_tokens": monthly([w.input_tokens for w in w_all]),
            "output_tokens": monthly([w.output_tokens for w in w_all]),
            "cache_write_tokens": monthly(
                [w.cache_write_tokens + w.cache_write_1h_tokens for w in w_all]
            ),
            "cache_write_5m_tokens": monthly([w.cache_write_tokens for w in w_all]),
            "cache_write_1h_tokens": monthly([w.cache_write_1h_tokens for w in w_all]),
            "cache_read_tokens": monthly([w.cache_read_tokens for w in w_all]),
            "web_search_requests": monthly([w.web_search_requests for w in w_all]),
            "batch_share": [w.batch_share for w in w_all],
        }
    )
    for column in PLAN_COSTS:
        frame[column] = [float(value) for value in exact[column]]
    frame["savings"] = frame["cost_sync"] - frame["cost_batch"]

    margin = None
    if scenario.business is not None:
        b = scenario.business
        # Worked out in the scenario's currency, then shown in the display currency: the
        # percentages never depend on which currency the figures are shown in.
        base = margin_impact(
            b.revenue,
            b.other_cogs,
            float(sum(exact["cost_sync"], Decimal(0)) / per_usd * base_per_usd),
            float(sum(exact["cost_batch"], Decimal(0)) / per_usd * base_per_usd),
            b.customers,
        )
        margin = in_currency(base, float(per_usd / base_per_usd))
    notes = _notes(scenario, catalogue, (sync, batch), display, price_date)
    return ScenarioRun(
        scenario=scenario,
        workloads=frame,
        margin=margin,
        currency=display.code if display else "USD",
        fx=display,
        contract=catalogue.contract.name if catalogue.contract else None,
        price_date=price_date,
        catalogue_checked=catalogue.checked,
        notes=notes,
        exact=exact,
        lines=lines,
        per_usd=per_usd,
    )


def _notes(
    scenario: Scenario,
    catalogue: Catalogue,
    priced: Sequence[PricedUsage],
    fx: Currency | None,
    price_date: date,
) -> tuple[str, ...]:
    base = scenario.currency.code if scenario.currency else "USD"
    notes = [
        f"Assumptions from {scenario.source}; prices from the catalogue checked "
        f"{catalogue.checked.isoformat()}, as they stood on {price_date.isoformat()}."
    ]
    stale = catalogue.stale_note(price_date)
    if stale:
        notes.append(stale)
    third_party = sorted({flag for p in priced for flag in p.third_party})
    if third_party:
        notes.append(
            "Rests on prices from third-party sources only (not confirmed on an official "
            f"Anthropic page): {'; '.join(third_party)}."
        )
    notes.extend(dict.fromkeys(note for p in priced for note in p.notes))
    model_ids = sorted({model_id for p in priced for model_id, _ in p.price_entries})
    for model_id in model_ids:
        status = catalogue.models[model_id].status
        if status == "retired":
            notes.append(f"{model_id} is retired: its figures are for comparison only.")
        elif status == "deprecated":
            notes.append(
                f"{model_id} is deprecated: check it is still served before you plan on it."
            )
    if catalogue.contract is not None:
        notes.append(
            f"Costs are contracted prices from {catalogue.contract.source} "
            f"({catalogue.contract.name}); list prices are shown beside them."
        )
    if fx is not None:
        source = f", {fx.source}" if fx.source else ""
        notes.append(
            f"Converted from USD at 1 USD = {fx.per_usd} {fx.code} (rate of "
            f"{fx.as_of.isoformat()}{source})."
        )
    shown = fx.code if fx else "USD"
    if scenario.business is not None and shown != base:
        notes.append(
            f"The business block is in {base}, shown in {shown} at the same rates: the gross "
            "margins do not depend on the display currency."
        )
    return tuple(notes)


def compare_runs(runs: Sequence[ScenarioRun]) -> Comparison:
    return Comparison(tuple(runs))


def diff_runs(baseline: ScenarioRun, proposed: ScenarioRun, *, plan: str = "batch") -> ScenarioDiff:
    """Line by line, matched by workload name: changed, added, removed or unchanged."""
    if plan not in ("batch", "sync"):
        raise CostModelError(f"plan: expected batch or sync, got {plan!r}")
    if baseline.currency != proposed.currency:
        raise CostModelError(
            f"cannot diff {baseline.currency} against {proposed.currency}: "
            "give both scenarios the same currency"
        )
    cost = f"cost_{plan}"
    # The figures each run shows (they foot to its total), so the diff's columns foot too.
    before = baseline.workloads.assign(**{cost: _floats(baseline.shown(cost)[0])}).set_index("name")
    after = proposed.workloads.assign(**{cost: _floats(proposed.shown(cost)[0])}).set_index("name")
    names = list(dict.fromkeys([*before.index, *after.index]))
    lines = []
    for name in names:
        b = before.loc[name] if name in before.index else None
        a = after.loc[name] if name in after.index else None
        cost_b = float(b[cost]) if b is not None else 0.0
        cost_a = float(a[cost]) if a is not None else 0.0
        if b is None:
            status = "added"
        elif a is None:
            status = "removed"
        else:
            same = (
                b["model"] == a["model"]
                and math.isclose(b["requests"], a["requests"])
                and math.isclose(cost_b, cost_a, abs_tol=1e-9)
            )
            status = "unchanged" if same else "changed"
        lines.append(
            {
                "workload": name,
                "status": status,
                "model_baseline": b["model"] if b is not None else "",
                "model_proposed": a["model"] if a is not None else "",
                "requests_baseline": float(b["requests"]) if b is not None else 0.0,
                "requests_proposed": float(a["requests"]) if a is not None else 0.0,
                "cost_baseline": cost_b,
                "cost_proposed": cost_a,
                "change": float(Decimal(repr(cost_a)) - Decimal(repr(cost_b))),
            }
        )
    return ScenarioDiff(baseline, proposed, plan, pd.DataFrame(lines))


def price_list(catalogue: Catalogue, *, model: str | None = None, on: date) -> PriceList:
    """The catalogue's rates on a day, or one model's whole price history."""
    rows = []
    if model is not None:
        entry = catalogue.model(model)
        if not entry.prices:
            entry.price_on(on)  # a known model without prices: raises, saying why
        chosen = [(entry, price) for price in entry.prices]
    else:
        chosen = []
        for entry in catalogue.models.values():
            current = [p for p in entry.prices if p.holds_on(on)]
            if current:
                chosen.append((entry, current[0]))
    for entry, price in chosen:
        lc = price.long_context
        rows.append(
            {
                "model": entry.id,
                "name": entry.name,
                "status": entry.status,
                "retired": entry.retired_on.isoformat() if entry.retired_on else None,
                "aliases": list(entry.aliases),
                **{name: getattr(price.rates, name) for name in RATE_FIELDS},
                "long_context": (
                    f">{lc.above_prompt_tokens // 1000}K: "
                    f"{_rate(lc.rates.input_mtok)}/{_rate(lc.rates.output_mtok)}"
                    if lc
                    else None
                ),
                "inference_geo": dict(price.inference_geo) or None,
                "fast_multiplier": price.fast_multiplier,
                "fast_mode": price.fast_mode,  # where fast mode was removed: how it bills
                "max_prompt_tokens": price.max_prompt_tokens,
                "web_search_per_1k": price.web_search_per_1k,
                "from": price.effective_from.isoformat(),
                "to": price.effective_to.isoformat() if price.effective_to else None,
                "source": price.source,
                "checked": price.checked.isoformat() if price.checked else None,
                "third_party": sorted(price.third_party),
                "note": price.note or None,
            }
        )
    return PriceList(catalogue, on, pd.DataFrame(rows))


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(value) for value in values]
