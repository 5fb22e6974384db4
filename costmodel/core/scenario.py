"""Scenarios: what a product's workloads would cost, written down as a YAML file.

A scenario names its workloads (model, monthly volume, tokens per request) and, optionally, the
business around them (revenue, other costs of goods sold, customers). It is an *assumption*,
not a measurement; every figure computed from it should name the file it came from.

This module is the schema: the model (:class:`Scenario` and its parts), the validation of a
composed YAML tree (:func:`scenario_from_nodes`; ``scenarios/reference.yaml`` documents every
key by example), and the YAML writer (:func:`scenario_to_yaml`). Every problem is collected and
located as ``FILE:LINE: field.path: what is wrong; what was expected``. Reading files is
:mod:`costmodel.adapters.scenario_files`; planning a scenario as usage,
:mod:`costmodel.core.planning`. Pure: no I/O, no clock.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import yaml

from costmodel.core import uncertainty
from costmodel.core.catalogue import Catalogue
from costmodel.core.money import check_currency_code
from costmodel.errors import ScenarioError, UnknownModelError

__all__ = [
    "INFERENCE_GEOS",
    "PERIODS",
    "PER_REQUEST_COUNTS",
    "PLANS",
    "Business",
    "Currency",
    "Scenario",
    "Volume",
    "Workload",
    "prices_path",
    "pricing_day",
    "scenario_from_nodes",
    "scenario_to_dict",
    "scenario_to_yaml",
]

PERIODS: Final = ("day", "week", "month", "year")
PLANS: Final = ("sync", "batch")
INFERENCE_GEOS: Final = ("global", "us")
WEEKS_PER_MONTH: Final = 52 / 12  # a year of weeks spread over twelve months, not 4

_TOP_KEYS: Final = (
    "name",
    "description",
    "days_per_month",
    "business",
    "prices",
    "currency",
    "price_date",
    "workloads",
)
# A workload's means per request, in the order a file lists them.
PER_REQUEST_COUNTS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "web_search_requests",
    "code_execution_hours",
)
_WORKLOAD_KEYS: Final = (
    "name",
    "model",
    "requests",
    *PER_REQUEST_COUNTS,
    "batch_share",
    "inference_geo",
    *uncertainty.WORKLOAD_KEYS,  # deadline_hours, miss_share
)
_REQUEST_KEYS: Final = ("count", "per", *uncertainty.REQUEST_KEYS)  # + growth, day_of_week
_BUSINESS_KEYS: Final = ("revenue", "other_cogs", "customers")
_CURRENCY_KEYS: Final = ("code", "per_usd", "as_of", "source")
# Optional per-request counts of a workload, with what the error message says is expected.
_TOKENS_UP_TO: Final = "0 or more and at most 10,000,000 (1e7)"
_OPTIONAL_COUNTS: Final = {
    "cache_write_tokens": f"a number of 5-minute cache-write tokens per request, {_TOKENS_UP_TO}",
    "cache_write_1h_tokens": f"a number of 1-hour cache-write tokens per request, {_TOKENS_UP_TO}",
    "cache_read_tokens": f"a number of cache-read tokens per request, {_TOKENS_UP_TO}",
    "web_search_requests": "a number of web searches per request, 0 or more and at most 10,000",
    "code_execution_hours": (
        f"a number of code-execution container-hours per request, {_TOKENS_UP_TO}"
    ),
}
# PyYAML reads 1e6 as text (YAML 1.1 floats need a dot); people write it, so accept it.
_NUMBER_TEXT: Final = re.compile(r"[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?")
_CURRENCY_CODE: Final = re.compile(r"[A-Za-z]{3}")
# Bounds no real workload reaches (README, "How money is computed"): far beyond what the API
# serves in a month, and small enough that every amount stays exact in Decimal arithmetic.
MAX_REQUESTS_PER_MONTH: Final = 1e12
MAX_TOKENS_PER_REQUEST: Final = 1e7  # ten times the largest context window (1M tokens)
MAX_SEARCHES_PER_REQUEST: Final = 1e4
MAX_AMOUNT: Final = 1e15  # monthly revenue or other COGS
MAX_PER_USD: Final = Decimal(1_000_000)  # units of a currency per US dollar


# -- the model ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Volume:
    """How many requests, and per which period (one of :data:`PERIODS`)."""

    count: float
    per: str = "month"

    def __post_init__(self) -> None:
        if self.per not in PERIODS:
            raise ScenarioError(
                f"requests.per: unknown period {self.per!r}; expected one of {', '.join(PERIODS)}"
            )

    def per_month(self, days_per_month: float) -> float:
        """Requests per month; a week is 52/12 of a month, a year twelve months.

        >>> Volume(200, "week").per_month(30)
        866.6666666666666
        """
        if self.per == "day":
            return self.count * days_per_month
        if self.per == "week":
            return self.count * WEEKS_PER_MONTH
        if self.per == "year":
            return self.count / 12
        return float(self.count)


@dataclass(frozen=True)
class Workload:
    """One kind of request a product makes, with mean token counts per request.

    ``input_tokens`` is the *uncached* input, as the API's usage object counts it; cache writes
    and reads are counted apart. ``batch_share`` is the share of requests the batch plan sends
    through the Message Batches API (0 keeps a workload synchronous, e.g. live chat).
    """

    name: str
    model: str
    requests: Volume
    input_tokens: float
    output_tokens: float
    cache_write_tokens: float = 0.0
    cache_write_1h_tokens: float = 0.0
    cache_read_tokens: float = 0.0
    web_search_requests: float = 0.0
    code_execution_hours: float = 0.0  # container-hours per request (see scenarios/reference.yaml)
    batch_share: float = 1.0
    inference_geo: str = "global"
    # Distributions, growth and deadline risk (see costmodel.core.uncertainty); None when certain.
    ranges: uncertainty.WorkloadRanges | None = None
    # Where the workload starts in its file: for messages only, so not part of equality.
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Business:
    """Monthly revenue and costs of goods sold other than Claude inference, in the scenario's
    currency (USD when it names none)."""

    revenue: float
    other_cogs: float = 0.0
    customers: float | None = None


@dataclass(frozen=True)
class Currency:
    """A currency: 1 USD = ``per_usd`` units of ``code`` (ISO 4217), at the rate of ``as_of``.

    In a scenario file it is the scenario's currency: its business block is in it, and its
    costs are shown in it. On the command line it is a display currency.
    """

    code: str
    per_usd: Decimal
    as_of: date
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    """Workloads and, optionally, the business around them: one file's assumptions."""

    name: str
    workloads: tuple[Workload, ...]
    days_per_month: float = 30.0
    business: Business | None = None
    description: str = ""
    prices: str | None = None  # a user price file, resolved relative to the scenario file
    currency: Currency | None = None
    price_date: date | None = None  # price on this day (default: the day of pricing)
    # The file it came from: provenance for messages and reports, not part of what it models.
    source: str = field(default="<string>", compare=False)

    def with_workload(self, index: int, **changes: Any) -> Scenario:
        """This scenario with one workload changed, for what-ifs.

        >>> from costmodel.adapters.scenario_files import parse_scenario
        >>> s = parse_scenario("name: s\\nworkloads: [{name: w, model: claude-sonnet-4-5, "
        ...                    "requests: 10, input_tokens: 1, output_tokens: 1}]")
        >>> s.with_workload(0, batch_share=0.5).workloads[0].batch_share
        0.5
        """
        workloads = list(self.workloads)
        workloads[index] = replace(workloads[index], **changes)
        return replace(self, workloads=tuple(workloads))


def prices_path(written: str, base_dir: Path | None) -> str:
    """A scenario's ``prices`` path as written, resolved from the scenario file's folder."""
    path = Path(written).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    return str(path)


def pricing_day(scenario: Scenario, on: date | None) -> date:
    """The day a scenario is priced at: ``on``, else its own ``price_date``.

    The core never reads the clock: a shell passes today when the user names no day.
    """
    day = on or scenario.price_date
    if day is None:
        raise ScenarioError(
            f"{scenario.source}: no pricing day; expected price_date in the scenario or a day "
            "passed with it (--on)"
        )
    return day


# -- validating a composed YAML tree -------------------------------------------------------------
def scenario_from_nodes(
    reader: Any, root: yaml.Node, *, base_dir: Path | None, catalogue: Catalogue | None
) -> Scenario | None:
    """The scenario a composed YAML tree describes, or None with its problems in ``reader``.

    ``reader`` is a :class:`costmodel.adapters.yaml_reader._Reader` over the tree; model names
    are checked against ``catalogue`` (None: not checked, when the scenario's own price file
    could not be used and the reader already holds that problem). Pure: the caller composed the
    text and loaded any price file.
    """
    if not isinstance(root, yaml.MappingNode):
        reader.problem(
            root,
            "",
            f"the top level is {reader.kind(root)}; expected a mapping with at least name and workloads",
        )
        return None
    written = [str(key.value) for key, _ in root.value if isinstance(key, yaml.ScalarNode)]
    if not any(difflib.get_close_matches(key, _TOP_KEYS, n=1, cutoff=0.6) for key in written):
        # Some other file (a config, /etc/passwd), not a misspelt scenario: one line that
        # quotes none of it.
        reader.problem(
            root,
            "",
            "not a scenario: none of its keys is a scenario key; expected a mapping with at "
            "least name and workloads",
        )
        return None
    keys = reader.mapping(root, "", _TOP_KEYS, ("name", "workloads"), what="a scenario")
    if keys is None:
        return None
    name = reader.text(keys["name"], "name", expected="a scenario name") if "name" in keys else None
    description = ""
    if "description" in keys:
        # Stripped: a folded block (>) ends in a newline nobody means to keep.
        description = (
            reader.text(keys["description"], "description", expected="a description", empty_ok=True)
            or ""
        ).strip()
    days_per_month: float | None = 30.0
    if "days_per_month" in keys:
        days_per_month = reader.number(
            keys["days_per_month"],
            "days_per_month",
            low=1,
            high=31,
            expected="a number of days from 1 to 31",
        )
    business = _business(reader, keys["business"]) if "business" in keys else None
    currency = _currency(reader, keys["currency"]) if "currency" in keys else None
    price_date = reader.day(keys["price_date"], "price_date") if "price_date" in keys else None

    prices: str | None = None
    if "prices" in keys:
        written = reader.text(keys["prices"], "prices", expected="the path of a price file")
        if written is not None:
            prices = prices_path(written, base_dir)
    workloads: list[Workload] = []
    if "workloads" in keys:
        workloads = _workloads(reader, keys["workloads"], catalogue)
    if name is None or days_per_month is None or reader.problems:
        return None
    return Scenario(
        name=name,
        workloads=tuple(workloads),
        days_per_month=days_per_month,
        business=business,
        description=description,
        prices=prices,
        currency=currency,
        price_date=price_date,
        source=reader.source,
    )


def _business(reader: Any, node: yaml.Node) -> Business | None:
    keys = reader.mapping(
        node,
        "business",
        _BUSINESS_KEYS,
        ("revenue",),
        what="a mapping with revenue, other_cogs and customers",
    )
    if keys is None:
        return None
    revenue = None
    if "revenue" in keys:
        revenue = reader.number(
            keys["revenue"],
            "business.revenue",
            low_open=True,
            high=MAX_AMOUNT,
            expected="monthly revenue in the scenario's currency (USD unless it names one), "
            "above 0 and at most 1e15",
        )
    other_cogs: float | None = 0.0
    if "other_cogs" in keys:
        other_cogs = reader.number(
            keys["other_cogs"],
            "business.other_cogs",
            high=MAX_AMOUNT,
            expected="monthly costs of goods sold other than inference, in the scenario's "
            "currency, 0 or more and at most 1e15",
        )
    customers = None
    if "customers" in keys:
        customers = reader.number(
            keys["customers"],
            "business.customers",
            low_open=True,
            expected="a number of paying customers, above 0",
        )
    if revenue is None or other_cogs is None:
        return None
    return Business(revenue, other_cogs, customers)


def _currency(reader: Any, node: yaml.Node) -> Currency | None:
    keys = reader.mapping(
        node,
        "currency",
        _CURRENCY_KEYS,
        ("code", "per_usd", "as_of"),
        what="a mapping with code, per_usd and as_of",
    )
    if keys is None:
        return None
    code = None
    if "code" in keys:
        expected = "a three-letter currency code such as EUR"
        code = reader.text(keys["code"], "currency.code", expected=expected)
        if code is not None and not _CURRENCY_CODE.fullmatch(code):
            reader.problem(keys["code"], "currency.code", f"got {code!r}; expected {expected}")
            code = None
        elif code is not None and (problem := check_currency_code(code)) is not None:
            reader.problem(keys["code"], "currency.code", problem)
            code = None
    per_usd = _rate(reader, keys["per_usd"]) if "per_usd" in keys else None
    as_of = reader.day(keys["as_of"], "currency.as_of") if "as_of" in keys else None
    source = ""
    if "source" in keys:
        source = (
            reader.text(keys["source"], "currency.source", expected="where the rate came from")
            or ""
        )
    if code is None or per_usd is None or as_of is None:
        return None
    return Currency(code.upper(), per_usd, as_of, source)


def _rate(reader: Any, node: yaml.Node) -> Decimal | None:
    expected = "how many units of the currency one US dollar buys, above 0"
    if reader.number(node, "currency.per_usd", low_open=True, expected=expected) is None:
        return None
    # From the text as written: 0.92 must stay Decimal("0.92"), not its binary neighbour.
    assert isinstance(node, yaml.ScalarNode)
    try:
        rate = Decimal(str(node.value).strip().replace("_", ""))
    except InvalidOperation:
        reader.problem(node, "currency.per_usd", f"got {node.value}; expected {expected}")
        return None
    if rate > MAX_PER_USD:
        reader.problem(
            node, "currency.per_usd", f"got {node.value}; expected at most 1,000,000 (1e6)"
        )
        return None
    return rate


def _workloads(reader: Any, node: yaml.Node, catalogue: Catalogue | None) -> list[Workload]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        shown = "an empty list" if isinstance(node, yaml.SequenceNode) else reader.shown(node)
        reader.problem(
            node,
            "workloads",
            f"got {shown}; expected a list of one or more workloads, each starting with '- name:'",
        )
        return []
    workloads: list[Workload] = []
    first_named: dict[str, tuple[int, int]] = {}
    for index, item in enumerate(node.value):
        path = f"workloads[{index}]"
        # Names are compared even where the rest of a workload is wrong, so all show at once.
        name_node = _key_value(item, "name")
        if isinstance(name_node, yaml.ScalarNode) and name_node.value in first_named:
            other, line = first_named[name_node.value]
            reader.problem(
                name_node,
                f"{path}.name",
                f"{name_node.value!r} is also the name of "
                f"workloads[{other}] (line {line}); expected unique workload names",
            )
        elif isinstance(name_node, yaml.ScalarNode):
            first_named[name_node.value] = (index, item.start_mark.line + 1)
        workload = _workload(reader, item, path, catalogue)
        if workload is not None:
            workloads.append(workload)
    return workloads


def _key_value(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                found: yaml.Node = value_node
                return found
    return None


def _workload(
    reader: Any, node: yaml.Node, path: str, catalogue: Catalogue | None
) -> Workload | None:
    keys = reader.mapping(
        node,
        path,
        _WORKLOAD_KEYS,
        ("name", "model", "requests", "input_tokens", "output_tokens"),
        what="a workload",
    )
    if keys is None:
        return None
    optional: dict[str, Any] = {}
    name = (
        reader.text(keys["name"], f"{path}.name", expected="a workload name")
        if "name" in keys
        else None
    )
    model = _model(reader, keys["model"], f"{path}.model", catalogue) if "model" in keys else None
    requests = _volume(reader, keys["requests"], f"{path}.requests") if "requests" in keys else None
    # Counts written as distributions are read there; their point value is the mean.
    ranges, points = uncertainty.read_workload_ranges(reader, keys, path)
    tokens: dict[str, float | None] = {k: v for k, v in points.items() if k in keys}
    for key in ("input_tokens", "output_tokens"):
        if key in keys and key not in points:
            kind = "uncached input" if key == "input_tokens" else "output"
            tokens[key] = reader.number(
                keys[key],
                f"{path}.{key}",
                expected=f"a number of {kind} tokens per request, {_TOKENS_UP_TO}",
                high=MAX_TOKENS_PER_REQUEST,
            )
    for key, expected in _OPTIONAL_COUNTS.items():
        if key in points:
            optional[key] = points[key]
        elif key in keys:
            high = MAX_SEARCHES_PER_REQUEST if key == "web_search_requests" else None
            optional[key] = reader.number(
                keys[key], f"{path}.{key}", expected=expected, high=high or MAX_TOKENS_PER_REQUEST
            )
    if "batch_share" in keys:
        optional["batch_share"] = _batch_share(reader, keys["batch_share"], f"{path}.batch_share")
    if "inference_geo" in keys:
        optional["inference_geo"] = reader.choice(
            keys["inference_geo"], f"{path}.inference_geo", INFERENCE_GEOS
        )
    input_tokens, output_tokens = tokens.get("input_tokens"), tokens.get("output_tokens")
    if (
        name is None
        or model is None
        or requests is None
        or input_tokens is None
        or output_tokens is None
        or any(value is None for value in optional.values())
    ):
        return None
    return Workload(
        name=name,
        model=model,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        line=node.start_mark.line + 1,
        ranges=ranges,
        **optional,
    )


def _model(reader: Any, node: yaml.Node, path: str, catalogue: Catalogue | None) -> str | None:
    model: str | None = reader.text(node, path, expected="a model id such as claude-sonnet-4-5")
    if model is None or catalogue is None:
        return model
    try:
        catalogue.resolve(model)
    except UnknownModelError as exc:
        hint = f"did you mean {', '.join(exc.suggestions)}? " if exc.suggestions else ""
        reader.problem(
            node,
            path,
            f"unknown model {model!r}; {hint}expected a model from the "
            "catalogue (`costmodel prices` lists them) or from a price file",
        )
        return None
    return model


def _volume(reader: Any, node: yaml.Node, path: str) -> Volume | None:
    expected = "a number of requests, 0 or more"
    if isinstance(node, yaml.ScalarNode):
        # A bare number is a monthly volume: `requests: 50000`.
        count = reader.number(node, path, expected=f"{expected} per month, or {{count, per}}")
        return None if count is None else _bounded_volume(reader, node, path, Volume(count))
    keys = reader.mapping(
        node,
        path,
        _REQUEST_KEYS,
        ("count",),
        what="a number per month, or a mapping with count and per",
    )
    if keys is None:
        return None
    count = (
        reader.number(keys["count"], f"{path}.count", expected=expected)
        if "count" in keys
        else None
    )
    per = reader.choice(keys["per"], f"{path}.per", PERIODS) if "per" in keys else "month"
    if count is None or per is None:
        return None
    return _bounded_volume(reader, keys["count"], f"{path}.count", Volume(count, per))


def _bounded_volume(reader: Any, node: yaml.Node, path: str, volume: Volume) -> Volume | None:
    # Per month at the longest month a scenario can set (days_per_month is at most 31).
    if volume.per_month(31) > MAX_REQUESTS_PER_MONTH:
        reader.problem(
            node,
            path,
            f"got {reader.shown(node)} per {volume.per}; expected at most "
            "1,000,000,000,000 (1e12) requests a month",
        )
        return None
    return volume


def _batch_share(reader: Any, node: yaml.Node, path: str) -> float | None:
    expected = "a share from 0 to 1 (0 keeps every request synchronous, 1 sends all to batch)"
    share: float | None = reader.number(node, path, expected=expected)
    if share is not None and share > 1:
        hint = f" ({node.value}% is {share / 100:g})" if share <= 100 else ""
        reader.problem(node, path, f"got {node.value}{hint}; expected {expected}")
        return None
    return share


# -- writing ------------------------------------------------------------------------------------
def _plain(number: float) -> int | float:
    """A whole number as an int, so 15000.0 is written 15000."""
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else float(number)


def _plain_decimal(value: Decimal) -> float | str:
    # A float where it reads back as the same decimal, else the exact text.
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def scenario_to_dict(s: Scenario) -> dict[str, Any]:
    """The scenario as plain data in file order; optional keys at their default are left out."""
    out: dict[str, Any] = {"name": s.name}
    if s.description:
        out["description"] = s.description
    out["days_per_month"] = _plain(s.days_per_month)
    if s.price_date is not None:
        out["price_date"] = s.price_date
    if s.prices is not None:
        out["prices"] = s.prices
    if s.currency is not None:
        currency: dict[str, Any] = {
            "code": s.currency.code,
            "per_usd": _plain_decimal(s.currency.per_usd),
            "as_of": s.currency.as_of,
        }
        if s.currency.source:
            currency["source"] = s.currency.source
        out["currency"] = currency
    if s.business is not None:
        business: dict[str, Any] = {
            "revenue": _plain(s.business.revenue),
            "other_cogs": _plain(s.business.other_cogs),
        }
        if s.business.customers is not None:
            business["customers"] = _plain(s.business.customers)
        out["business"] = business
    out["workloads"] = [_workload_to_dict(w) for w in s.workloads]
    return out


def _workload_to_dict(w: Workload) -> dict[str, Any]:
    defaults = Workload("", "", Volume(0), 0, 0)
    out: dict[str, Any] = {
        "name": w.name,
        "model": w.model,
        "requests": {"count": _plain(w.requests.count), "per": w.requests.per},
        "input_tokens": _plain(w.input_tokens),
        "output_tokens": _plain(w.output_tokens),
    }
    for key in (*_OPTIONAL_COUNTS, "batch_share"):
        value = getattr(w, key)
        if value != getattr(defaults, key):
            out[key] = _plain(value)
    if w.inference_geo != defaults.inference_geo:
        out["inference_geo"] = w.inference_geo
    if w.ranges is not None:
        uncertainty.write_workload_ranges(w.ranges, out)
    return out


def scenario_to_yaml(s: Scenario) -> str:
    """The scenario as YAML that :func:`parse_scenario` reads back to an equal scenario."""
    return yaml.safe_dump(scenario_to_dict(s), sort_keys=False, allow_unicode=True, width=100)
