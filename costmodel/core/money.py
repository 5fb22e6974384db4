"""Money: exact amounts, one rounding rule, footing, currency codes and conversion.

The rules (the README's "How money is computed" states them for users):

- **Exact until shown.** Amounts are :class:`decimal.Decimal`: integer token sums times the
  catalogue's decimal rates. Floats are for charts and curves only.
- **One rounding rule, once, at the edge:** half away from zero to the cent
  (:func:`quantize_cents`), on the exact amount.
- **Footing.** A total is its parts' exact sum rounded once; the parts shown beside it are
  rounded with the largest-remainder method (:func:`allocate_cents`) so that they add up to
  that total, each within a cent of its exact value. A difference (savings, change, gross
  profit) is the difference of the figures shown, so it foots too.
- **Currency.** ``per_usd`` rates are decimals; :func:`convert` multiplies exactly. Codes are
  ISO 4217 (:func:`check_currency_code`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import cache
from typing import Final

from costmodel.errors import InvalidArgumentError

__all__ = [
    "CENT",
    "CENTS_PER_DOLLAR",
    "PERCENT",
    "TOKENS_PER_MTOK",
    "allocate_cents",
    "check_currency_code",
    "convert",
    "format_money",
    "format_percent",
    "format_points",
    "quantize_cents",
    "round_cents",
    "to_decimal",
]

CENT: Final = Decimal("0.01")  # the quantum every shown amount is rounded to, once
CENTS_PER_DOLLAR: Final = 100  # Anthropic's reports give amounts in (fractional) cents
PERCENT: Final = 100  # a share of 1 is 100%
TOKENS_PER_MTOK: Final = 1_000_000  # rates are per million tokens (MTok)
_SYMBOLS: Final = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def to_decimal(value: float | int | Decimal) -> Decimal:
    """A number as a Decimal; a float by its shortest repr (0.1 -> Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    number = float(value)
    if not math.isfinite(number):
        raise InvalidArgumentError(f"not a finite amount: {value!r}")
    return Decimal(repr(number))


def quantize_cents(value: Decimal | float | int) -> Decimal:
    """Round half away from zero to the cent: the one rounding rule (12962.985 -> 12962.99)."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP) + Decimal("0.00")


def round_cents(value: Decimal | float | None) -> float | None:
    """:func:`quantize_cents` as a float, for the JSON contract (0.125 -> 0.13)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return float(quantize_cents(value)) + 0.0


def allocate_cents(parts: Sequence[Decimal], total: Decimal | None = None) -> list[Decimal]:
    """Round ``parts`` to the cent so that they add up to ``total`` (default: their exact sum
    rounded once), by the largest-remainder method; ties go to the earlier part.

    >>> allocate_cents([Decimal("2008.125"), Decimal("286.875")])
    [Decimal('2008.13'), Decimal('286.87')]
    """
    exact = [to_decimal(p) for p in parts]
    target = quantize_cents(sum(exact, Decimal(0)) if total is None else total)
    floors = [p.quantize(CENT, rounding=ROUND_FLOOR) for p in exact]
    extra = int((target - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    result = list(floors)
    for i in order[: max(extra, 0)]:
        result[i] += CENT
    if extra < 0:  # only when a caller's total is below the parts' floors
        for i in reversed(order[extra:]):
            result[i] -= CENT
    return [r + Decimal("0.00") for r in result]


def convert(amount: Decimal, per_usd: Decimal, from_per_usd: Decimal = Decimal(1)) -> Decimal:
    """An amount in the currency of ``from_per_usd`` (USD by default) in the one of ``per_usd``."""
    if from_per_usd == 1:
        return amount * per_usd
    return amount * per_usd / from_per_usd


@cache
def _iso_currencies() -> dict[str, str]:
    import pycountry  # lazily: the CLI's start-up does not pay for the ISO tables

    return {c.alpha_3: c.name for c in pycountry.currencies}


def check_currency_code(code: str) -> str | None:
    """None when ``code`` is an ISO 4217 code (any case); else a message with a suggestion.

    >>> check_currency_code("eur") is None
    True
    >>> check_currency_code("euro")
    "unknown currency 'euro'; did you mean EUR? expected an ISO 4217 code such as EUR"
    """
    codes = _iso_currencies()
    if code.upper() in codes:
        return None
    wanted = code.strip().lower()
    by_name = [alpha for alpha, name in codes.items() if name.lower() == wanted]
    by_name = by_name or [
        alpha for alpha, name in codes.items() if wanted and wanted in name.lower().split()
    ]
    guesses = by_name or difflib.get_close_matches(code.upper(), list(codes), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(guesses[:3])}? " if guesses else ""
    return f"unknown currency {code!r}; {hint}expected an ISO 4217 code such as EUR"


def format_money(value: Decimal | float | None, currency: str = "USD") -> str:
    """``$1,234.56``, ``-€12.00``, ``1,234.56 CHF``; an empty string for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    rounded = quantize_cents(value)
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
