"""Money for display: rounding to the cent and formatting with the currency's symbol.

Arithmetic is never rounded; only the figures handed to people (and the JSON contract) are.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["format_money", "format_percent", "format_points", "round_cents"]

_SYMBOLS: Final = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def round_cents(value: float | None) -> float | None:
    """Round half away from zero to the cent, as a finance reader expects (0.125 -> 0.13)."""
    if value is None:
        return None
    # Decimal-style half-up on the shortest repr avoids float's 0.125 -> 0.12 surprise.
    from decimal import ROUND_HALF_UP, Decimal

    return (
        float(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) + 0.0
    )


def format_money(value: float | None, currency: str = "USD") -> str:
    """``$1,234.56``, ``-€12.00``, ``1,234.56 CHF``; an empty string for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    rounded = round_cents(value) or 0.0
    symbol = _SYMBOLS.get(currency)
    sign = "-" if rounded < 0 else ""
    amount = f"{abs(rounded):,.2f}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def format_percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{digits}f}%"


def format_points(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:+.{digits}f} pp"
