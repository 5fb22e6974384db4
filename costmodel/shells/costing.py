"""What one API response cost: :func:`cost_of` over a Message, a batch result line or a usage.

This is the library's shell edge for a single response. Everything it computes comes from the
pricing engine (:func:`costmodel.core.pricing.price_usage` and its exact
:meth:`~costmodel.core.pricing.PricedUsage.cost_lines`): integer token counts times the catalogue's
``Decimal`` rates, with no arithmetic of its own. What it adds is reading the response: the
SDK's pydantic objects (by their ``model_dump()``, so the SDK is never imported here) and plain
dicts in the API's JSON shape, each count checked as the API writes it (a whole number, 0 or
more; never a bool, a float or a string).

Where the caller gives no pricing day it reads today's date, and where it gives no catalogue it
loads the bundled one: those two defaults are why this function belongs to the edge, not the
pure core. Pass ``on=`` and ``catalogue=`` to make the figure independent of when it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.core.catalogue import Catalogue, PriceEntry
from costmodel.core.money import quantize_cents
from costmodel.errors import PricingError

__all__ = ["CostLine", "CostOf", "cost_of"]

# The result types of a batch results line that bill nothing (the API charges only succeeded
# requests), and the one that does.
_NOT_BILLED: Final = ("errored", "canceled", "expired")
_TIERS: Final = {"standard": "standard", "batch": "batch", "priority": "standard"}
_GEOS: Final = ("global", "us")
_SPEEDS: Final = ("standard", "fast")
_MAX_COUNT: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class CostLine:
    """One billed component: ``quantity`` tokens (or searches, exact) at ``rate`` USD per
    ``unit`` (a million tokens, or 1,000 searches; batch, geo and fast-mode modifiers folded
    in) cost ``cost`` (exact USD, unrounded)."""

    component: str  # input, output, cache_write_5m, cache_write_1h, cache_read, web_search
    quantity: Decimal
    unit: str  # "MTok" (rate per million tokens) or "1k searches" (rate per 1,000 searches)
    rate: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class CostOf:
    """What one response cost, and what the figure rests on.

    ``total`` is exact (a ``Decimal`` in USD, unrounded); :attr:`cents` is it rounded once, half
    away from zero. ``lines`` are the billed components; ``model`` is the catalogue id the
    response's model resolved to (``None`` for a batch request that was not billed);
    ``price`` is the catalogue entry whose rates were used (base rates, source, dates);
    ``tier`` is ``"standard"`` or ``"batch"``. ``notes`` say what a reader must be told:
    third-party prices, unpriced parts, a retired model, a stale catalogue, a tier billed at
    other rates, a request not billed.
    """

    total: Decimal
    lines: tuple[CostLine, ...]
    model: str | None
    requested_model: str | None
    price: PriceEntry | None
    tier: str
    inference_geo: str
    speed: str
    long_context: bool
    billed: bool
    on: date
    notes: tuple[str, ...]
    total_contracted: Decimal

    @property
    def cents(self) -> Decimal:
        """The total rounded to the cent (half away from zero), for showing or logging.

        >>> from decimal import Decimal
        >>> from datetime import date, datetime
        >>> CostOf(Decimal("0.125"), (), None, None, None, "batch", "global", "standard",
        ...        False, False, date(2026, 11, 24), (), Decimal("0.125")).cents
        Decimal('0.13')
        """
        return quantize_cents(self.total)

    def cost(self, component: str) -> Decimal:
        """The exact cost of one component (``Decimal(0)`` if it was not billed).

        >>> from datetime import date, datetime
        >>> result = cost_of({"input_tokens": 1000, "output_tokens": 0},
        ...                  model="claude-haiku-4-5", on=date(2026, 11, 24))
        >>> result.cost("input"), result.cost("output")
        (Decimal('0.001'), Decimal('0'))
        """
        return sum((line.cost for line in self.lines if line.component == component), Decimal(0))


def cost_of(
    x: Any,
    *,
    model: str | None = None,
    batch: bool = False,
    on: date | None = None,
    inference_geo: str | None = None,
    speed: str | None = None,
    catalogue: Catalogue | None = None,
) -> CostOf:
    """The exact cost of one API response, by component, from the price catalogue.

    ``x`` is any of:

    - an SDK ``Message`` (``client.messages.create(...)``) or its JSON as a dict;
    - a ``MessageBatchIndividualResponse`` (one line of a batch's results) or its JSON: priced
      at batch rates; an errored, canceled or expired request costs exactly 0, with a note
      that the API does not bill it;
    - an SDK ``Usage`` object or a bare usage dict (``{"input_tokens": ..., ...}``): then
      ``model`` is required.

    Options: ``model`` names the model (it overrides the message's own); ``batch=True`` prices
    at Message Batches rates (a batch result line, or usage whose ``service_tier`` is
    ``"batch"``, is priced so anyway); ``inference_geo`` (``"global"`` or ``"us"``) and
    ``speed`` (``"standard"`` or ``"fast"``) override what the usage reports. Cache writes
    follow ``usage.cache_creation`` (5-minute and 1-hour writes at their own rates; without
    the breakdown every write is a 5-minute write, the only TTL before it existed); web
    searches come from ``usage.server_tool_use``; a ``"priority"`` service tier is priced at
    standard list rates with a note (Priority Tier prices are contractual, not published); a
    prompt over a model's long-context threshold bills every token at that tier.

    ``on`` is the pricing day (a ``datetime`` counts as its own day, so a batch's
    ``created_at`` can be passed as it is). This function is the library's shell edge:
    ``on=None`` prices at today's date and ``catalogue=None`` uses the bundled catalogue.
    Pass both for a figure that does not depend on the day it runs.

    Raises :class:`~costmodel.errors.UnknownModelError` (naming the closest ids) for a model
    the catalogue does not know, :class:`~costmodel.errors.PricingError` naming the field for a
    count that is negative, fractional, a bool or not a number, and
    :class:`~costmodel.errors.UnpricedError` for a model with no price that day.

    >>> from datetime import date, datetime
    >>> message = {"model": "claude-sonnet-4-5-20250929", "usage": {
    ...     "input_tokens": 2000, "output_tokens": 500, "cache_read_input_tokens": 10000}}
    >>> result = cost_of(message, on=date(2026, 11, 24))
    >>> result.total, result.model, result.tier
    (Decimal('0.0165'), 'claude-sonnet-4-5', 'standard')
    >>> cost_of(message, batch=True, on=date(2026, 11, 24)).total
    Decimal('0.00825')
    >>> line = {"custom_id": "claim-7", "result": {"type": "expired"}}
    >>> cost_of(line, on=date(2026, 11, 24)).total
    Decimal('0')
    """
    import numpy as np
    import pandas as pd

    from costmodel.core.pricing import price_usage

    catalogue = catalogue if catalogue is not None else bundled_catalogue()
    day = _day(on)
    response = _as_dict(x, "the response")
    read = _read(response, model)
    if read.not_billed is not None:
        note = (
            f"Batch request {read.custom_id!r} {read.not_billed}: the API does not bill "
            "errored, canceled or expired requests."
        )
        return CostOf(
            total=Decimal(0),
            lines=(),
            model=None,
            requested_model=read.model,
            price=None,
            tier="batch",
            inference_geo="global",
            speed="standard",
            long_context=False,
            billed=False,
            on=day,
            notes=(note,),
            total_contracted=Decimal(0),
        )
    if read.model is None:
        raise PricingError(
            "cost_of: no model: pass model=... for a usage object (a Message names its own)"
        )
    usage = read.usage
    notes: list[str] = []
    reported_tier = _choice(usage, "service_tier", tuple(_TIERS), "usage")
    tier = "batch" if batch or read.batch_line or reported_tier == "batch" else "standard"
    if reported_tier == "priority" and tier == "standard":
        notes.append(
            "Priority-tier request priced at standard list rates: Priority Tier prices are "
            "contractual, not published."
        )
    geo = _option(inference_geo, "inference_geo", _GEOS) or _reported_geo(usage)
    chosen_speed = _option(speed, "speed", _SPEEDS) or _choice(usage, "speed", _SPEEDS, "usage")
    counts = _counts(usage)
    model_id = catalogue.resolve(read.model, context="cost_of")
    entry = catalogue.models[model_id].price_on(day)
    # One row in the usage frame's shape (costmodel.core.usage), every column given, so the
    # engine's validation is the only pass over it.
    frame = pd.DataFrame(
        {
            "model": np.array([read.model], dtype=object),
            "requests": np.ones(1),
            **{name: np.array([float(value)]) for name, value in counts.items()},
            "tier": np.array([tier], dtype=object),
            "inference_geo": np.array([geo], dtype=object),
            "speed": np.array([chosen_speed or "standard"], dtype=object),
        }
    )
    # The cost lines come back as a small frame, read by column (row-wise pandas access costs
    # more than the pricing itself for one row).
    priced = price_usage(frame, catalogue, on=day, context="cost_of")
    table = priced.cost_lines()
    columns = ("component", "quantity", "unit", "rate", "cost", "cost_contracted", "long_context")
    rows = list(zip(*(table[name].tolist() for name in columns), strict=True))
    lines = tuple(
        CostLine(str(component), _exact(quantity), str(unit), _exact(rate), _exact(cost))
        for component, quantity, unit, rate, cost, _, _ in rows
    )
    total = sum((line.cost for line in lines), Decimal(0))
    contracted = sum((_exact(row[5]) for row in rows), Decimal(0))
    notes.extend(priced.notes)
    notes.extend(f"Third-party price: {flag}." for flag in priced.third_party)
    status = catalogue.models[model_id]
    if status.status == "retired":
        when = f" (retired on {status.retired_on.isoformat()})" if status.retired_on else ""
        notes.append(f"{model_id} is retired{when}: its figures are for comparison only.")
    stale = catalogue.stale_note(day)
    if stale:
        notes.append(stale)
    return CostOf(
        total=total,
        lines=lines,
        model=model_id,
        requested_model=read.model,
        price=entry,
        tier=tier,
        inference_geo=geo,
        speed=chosen_speed or "standard",
        long_context=any(bool(row[6]) for row in rows),
        billed=True,
        on=day,
        notes=tuple(dict.fromkeys(notes)),
        total_contracted=contracted,
    )


def _day(on: object) -> date:
    """The pricing day: today where none is given (the shell edge), a datetime's own day."""
    if on is None:
        return date.today()
    if isinstance(on, datetime):
        return on.date()
    if isinstance(on, date):
        return on
    raise PricingError(f"cost_of: on: expected a date (datetime.date), got {on!r}")


def _exact(value: object) -> Decimal:
    """A cost line's figure, which the pricing engine gives as a Decimal (never a float)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"expected an exact Decimal from the pricing engine, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class _Read:
    usage: Mapping[str, Any]
    model: str | None
    batch_line: bool
    not_billed: str | None = None
    custom_id: str | None = None


def _as_dict(x: Any, what: str) -> Mapping[str, Any]:
    """A mapping as is; a pydantic object (the SDK's types) by ``model_dump()``."""
    if isinstance(x, Mapping):
        return x
    dump = getattr(x, "model_dump", None)
    if callable(dump):
        dumped = dump()
        if isinstance(dumped, Mapping):
            return dumped
    raise PricingError(
        f"cost_of: {what}: expected a Message, a batch result, a Usage or a dict in the API's "
        f"JSON shape, got {type(x).__name__}"
    )


def _read(response: Mapping[str, Any], model: str | None) -> _Read:
    """Which of the accepted shapes ``response`` is, and its usage and model."""
    if "result" in response:  # a batch results line
        result = _as_dict(response["result"], "result")
        custom_id = response.get("custom_id")
        kind = result.get("type")
        if kind in _NOT_BILLED:
            return _Read({}, model, True, str(kind), str(custom_id))
        if kind != "succeeded":
            raise PricingError(
                f"cost_of: result.type: expected succeeded, {', '.join(_NOT_BILLED)}, got {kind!r}"
            )
        message = _as_dict(result.get("message"), "result.message")
        return _Read(_usage_of(message, "result.message.usage"), model or _model(message), True)
    if "usage" in response:  # a Message
        return _Read(_usage_of(response, "usage"), model or _model(response), False)
    if "input_tokens" in response or "output_tokens" in response:  # a bare usage
        return _Read(response, model, False)
    raise PricingError(
        "cost_of: expected a Message (with usage), a batch results line (with result) or a "
        f"usage (with input_tokens), got an object with keys {sorted(map(str, response))[:8]}"
    )


def _usage_of(message: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    usage = message.get("usage")
    if usage is None:
        raise PricingError(f"cost_of: {where}: missing")
    return _as_dict(usage, where)


def _model(message: Mapping[str, Any]) -> str | None:
    value = message.get("model")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise PricingError(f"cost_of: model: expected a model id, got {value!r}")
    return value


def _count(container: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> int:
    """A token or request count as the API writes it: a whole number from 0 to 2**63-1."""
    value = container.get(key)
    if value is None:
        if required:
            raise PricingError(f"cost_of: {where}.{key}: missing")
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingError(f"cost_of: {where}.{key}: expected a whole number, got {value!r}")
    if not 0 <= value <= _MAX_COUNT:
        raise PricingError(f"cost_of: {where}.{key}: expected a count of 0 or more, got {value}")
    return value


def _counts(usage: Mapping[str, Any]) -> dict[str, int]:
    """The usage frame's counts from the API's usage object."""
    written = _count(usage, "cache_creation_input_tokens", "usage")
    breakdown = usage.get("cache_creation")
    breakdown = {} if breakdown is None else _as_dict(breakdown, "usage.cache_creation")
    if (
        breakdown.get("ephemeral_5m_input_tokens") is None
        and breakdown.get("ephemeral_1h_input_tokens") is None
    ):
        # Before cache TTLs the usage object had no breakdown, and 5 minutes was the only TTL.
        write_5m, write_1h = written, 0
    else:
        write_5m = _count(breakdown, "ephemeral_5m_input_tokens", "usage.cache_creation")
        write_1h = _count(breakdown, "ephemeral_1h_input_tokens", "usage.cache_creation")
    tools = usage.get("server_tool_use")
    tools = {} if tools is None else _as_dict(tools, "usage.server_tool_use")
    return {
        "input_tokens": _count(usage, "input_tokens", "usage", required=True),
        "output_tokens": _count(usage, "output_tokens", "usage", required=True),
        "cache_write_5m_tokens": write_5m,
        "cache_write_1h_tokens": write_1h,
        "cache_read_tokens": _count(usage, "cache_read_input_tokens", "usage"),
        "web_search_requests": _count(tools, "web_search_requests", "usage.server_tool_use"),
    }


def _choice(
    container: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str
) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise PricingError(
            f"cost_of: {where}.{key}: expected one of {', '.join(allowed)}, got {value!r}"
        )
    return str(value)


def _option(value: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise PricingError(f"cost_of: {name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _reported_geo(usage: Mapping[str, Any]) -> str:
    """The geo the usage reports; ``not_available`` (and absent) is the global default."""
    value = usage.get("inference_geo")
    if value is None or value == "not_available":
        return "global"
    chosen = _choice(usage, "inference_geo", _GEOS, "usage")
    assert chosen is not None
    return chosen
