"""Margins: what moving inference to the Batches API does to gross margin. Pure; no I/O.

Gross margin is ``(revenue - cost of goods sold) / revenue``, where cost of goods sold is
inference plus everything else it takes to serve customers (``other_cogs``: hosting, data,
support). Batch changes only the inference part, so the margin gained is the savings as a
share of revenue, never the batch discount itself. All amounts are monthly and in one currency:
the scenario's (USD when it names none). :func:`in_currency` shows them in another currency
without changing the percentages.

Plain inputs only (amounts and counts, never a scenario), so this module depends on nothing
else in costmodel; varying a scenario's inputs is :mod:`costmodel.core.analysis`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costmodel.errors import ScenarioError

__all__ = ["MONTHS_PER_YEAR", "MarginImpact", "in_currency", "margin_impact"]

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class MarginImpact:
    """Gross margin under the synchronous plan and the batch plan, from monthly amounts.

    >>> impact = margin_impact(100_000, 10_000, 10_000, 5_000)
    >>> impact.gross_margin_sync_pct, impact.gross_margin_batch_pct, impact.delta_pp
    (80.0, 85.0, 5.0)
    """

    revenue: float
    other_cogs: float
    inference_sync: float
    inference_batch: float
    customers: float | None = None
    # Percentages worked out in the scenario's own currency (see in_currency): a display
    # conversion must never move a margin, not even in its last float bit.
    margin_pct: tuple[float, float] | None = None

    @property
    def cogs_sync(self) -> float:
        return self.other_cogs + self.inference_sync

    @property
    def cogs_batch(self) -> float:
        return self.other_cogs + self.inference_batch

    @property
    def gross_profit_sync(self) -> float:
        return self.revenue - self.cogs_sync

    @property
    def gross_profit_batch(self) -> float:
        return self.revenue - self.cogs_batch

    @property
    def gross_margin_sync_pct(self) -> float:
        if self.margin_pct is not None:
            return self.margin_pct[0]
        return self.gross_profit_sync / self.revenue * 100

    @property
    def gross_margin_batch_pct(self) -> float:
        if self.margin_pct is not None:
            return self.margin_pct[1]
        return self.gross_profit_batch / self.revenue * 100

    @property
    def delta_pp(self) -> float:
        """Percentage points of gross margin gained by the batch plan."""
        return self.gross_margin_batch_pct - self.gross_margin_sync_pct

    @property
    def monthly_savings(self) -> float:
        return self.inference_sync - self.inference_batch

    @property
    def annual_savings(self) -> float:
        return self.monthly_savings * MONTHS_PER_YEAR

    @property
    def savings_per_customer(self) -> float | None:
        """Monthly savings per customer; None when the number of customers is not known."""
        if self.customers is None or self.customers <= 0:
            return None
        return self.monthly_savings / self.customers

    @property
    def equivalent_revenue(self) -> float | None:
        """New revenue that would add as much gross profit as the savings do.

        Each dollar of new revenue brings only the synchronous gross margin in profit, while a
        dollar saved is all profit: so the savings are worth ``savings / margin`` of revenue.
        None when the synchronous margin is not positive (no revenue would match).

        >>> round(margin_impact(10_000, 1_000, 2_000, 0).equivalent_revenue, 2)
        2857.14
        """
        margin = self.gross_margin_sync_pct / 100
        if margin <= 0:
            return None
        return self.monthly_savings / margin


def margin_impact(
    revenue: float,
    other_cogs: float,
    inference_sync: float,
    inference_batch: float,
    customers: float | None = None,
) -> MarginImpact:
    """Check the amounts and return their :class:`MarginImpact`.

    Revenue must be above 0 (a margin is a share of it); costs and customers 0 or more.
    """
    _check("business.revenue", revenue, "monthly revenue, above 0", positive=True)
    _check("business.other_cogs", other_cogs, "monthly costs, 0 or more")
    _check("inference_sync", inference_sync, "a monthly inference cost, 0 or more")
    _check("inference_batch", inference_batch, "a monthly inference cost, 0 or more")
    if customers is not None:
        _check("business.customers", customers, "a number of customers, 0 or more")
    return MarginImpact(
        float(revenue),
        float(other_cogs),
        float(inference_sync),
        float(inference_batch),
        None if customers is None else float(customers),
    )


def in_currency(impact: MarginImpact, factor: float) -> MarginImpact:
    """``impact`` with every amount times ``factor`` (a currency conversion) and the gross
    margins of the original, so the percentages never depend on the display currency.

    >>> shown = in_currency(margin_impact(100_000, 10_000, 412.5, 206.25), 0.5)
    >>> shown.revenue, round(shown.gross_margin_sync_pct, 2)
    (50000.0, 89.59)
    """
    return MarginImpact(
        impact.revenue * factor,
        impact.other_cogs * factor,
        impact.inference_sync * factor,
        impact.inference_batch * factor,
        impact.customers,
        (impact.gross_margin_sync_pct, impact.gross_margin_batch_pct),
    )


def _check(field: str, value: float, expected: str, *, positive: bool = False) -> None:
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ScenarioError(f"{field}: got {value!r}; expected {expected}")
