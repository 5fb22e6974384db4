"""The migration policy: which workloads may move to the Message Batches API, as a YAML file.

The default policy (``costmodel/data/default-policy.yaml``) is the source article's decision
tree, in the order :mod:`costmodel.core.assess` asks its questions:

1. **Is the workload latency-critical?** Named by workspace, API key or request-log tag under
   ``latency_critical``, or, in a request log, requests whose latency budget is under
   ``latency_critical.latency_budget_below_ms`` (one second): they stay synchronous.
2. **Is its volume high enough?** At least ``minimum_volume.requests_per_day`` (100) requests a
   day, or batching is not worth the trouble.
3. **Can it wait for a batch?** A batch's results come within ``wait.batch_turnaround_hours``
   (24; most batches end within the hour). Workloads named under ``wait.tolerable_hours`` with
   fewer hours stay synchronous; requests in a log whose budget is shorter do too; a workload
   nobody said anything about follows ``wait.when_unknown``.
4. **Hybrid**: rules under ``hybrid`` send a share of a workload, a fixed one or the requests
   outside ``business_hours``, to batch and keep the rest synchronous.

A policy is validated like a scenario, all at once, every problem located as
``FILE:LINE: field: what is wrong; what was expected`` with a "did you mean" for misspelt keys
(the shared YAML reader does the walking). Pure: reading policy files is
:mod:`costmodel.adapters.policy_files`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from costmodel.core.scenario import Business
from costmodel.errors import ScenarioError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "WHEN_UNKNOWN",
    "BusinessHours",
    "HybridRule",
    "Policy",
    "PolicyError",
    "Selector",
    "WaitTolerance",
    "looks_like_policy",
    "policy_from_nodes",
    "selectors_named",
]

WHEN_UNKNOWN: Final = ("can_wait", "stay_sync")
_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TOP_KEYS: Final = (
    "name",
    "description",
    "days_per_month",
    "latency_critical",
    "minimum_volume",
    "wait",
    "hybrid",
    "business_hours",
    "business",
)
_SELECTOR_KEYS: Final = ("workspaces", "api_keys", "tags")
_LATENCY_KEYS: Final = (*_SELECTOR_KEYS, "latency_budget_below_ms")
_WAIT_KEYS: Final = ("batch_turnaround_hours", "tolerable_hours", "when_unknown")
_TOLERANCE_KEYS: Final = ("workspace", "api_key", "tag", "hours")
_HYBRID_KEYS: Final = ("name", "match", "share")
_HOURS_KEYS: Final = ("start", "end", "days", "timezone")
_BUSINESS_KEYS: Final = ("revenue", "other_cogs", "customers")


class PolicyError(ScenarioError):
    """A policy file that cannot be read or does not validate (every problem, located)."""


@dataclass(frozen=True)
class Selector:
    """Workloads named by workspace id, API key id or request-log tag."""

    workspaces: frozenset[str] = frozenset()
    api_keys: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.workspaces or self.api_keys or self.tags)

    def match(
        self, workspace_id: str | None, api_key_id: str | None, tag: str | None
    ) -> str | None:
        """How the workload is named here (``workspace wrkspc_x``), or None."""
        if workspace_id is not None and workspace_id in self.workspaces:
            return f"workspace {workspace_id}"
        if api_key_id is not None and api_key_id in self.api_keys:
            return f"API key {api_key_id}"
        if tag is not None and tag in self.tags:
            return f"tag {tag}"
        return None


@dataclass(frozen=True)
class WaitTolerance:
    """How many hours a named workload can wait for its results."""

    kind: str  # workspace | api_key | tag
    value: str
    hours: float
    line: int | None = field(default=None, compare=False)

    def matches(self, workspace_id: str | None, api_key_id: str | None, tag: str | None) -> bool:
        return {"workspace": workspace_id, "api_key": api_key_id, "tag": tag}[self.kind] == (
            self.value
        )


@dataclass(frozen=True)
class HybridRule:
    """Send ``share`` of the matched workloads to batch, or (``off_hours``) the requests made
    outside business hours. An empty selector matches every workload."""

    name: str
    selector: Selector
    share: float | None  # None with off_hours
    off_hours: bool = False
    index: int = 0


@dataclass(frozen=True)
class BusinessHours:
    start: time = time(9)
    end: time = time(18)
    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    timezone: str = "UTC"

    def outside(self, timestamps: pd.Series) -> np.ndarray:
        """Which UTC timestamps fall outside business hours in the policy's time zone."""
        import numpy as np
        import pandas as pd

        local = pd.to_datetime(timestamps, utc=True).dt.tz_convert(ZoneInfo(self.timezone))
        minutes = (local.dt.hour * 60 + local.dt.minute).to_numpy()
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        working_day = np.isin(local.dt.day_of_week.to_numpy(), sorted(self.days))
        if start <= end:
            in_hours = (minutes >= start) & (minutes < end)
        else:  # hours past midnight, e.g. 22:00 to 06:00
            in_hours = (minutes >= start) | (minutes < end)
        return ~(working_day & in_hours)


@dataclass(frozen=True)
class Policy:
    name: str
    latency_critical: Selector = Selector()
    latency_budget_below_ms: float = 1000.0
    minimum_requests_per_day: float = 100.0
    batch_turnaround_hours: float = 24.0
    tolerances: tuple[WaitTolerance, ...] = ()
    when_unknown: str = "can_wait"
    hybrid: tuple[HybridRule, ...] = ()
    business_hours: BusinessHours = BusinessHours()
    business: Business | None = None
    days_per_month: float = 30.0
    description: str = ""
    source: str = field(default="<string>", compare=False)

    def tolerance_for(
        self, workspace_id: str | None, api_key_id: str | None, tag: str | None
    ) -> WaitTolerance | None:
        """The first ``wait.tolerable_hours`` entry naming the workload."""
        for tolerance in self.tolerances:
            if tolerance.matches(workspace_id, api_key_id, tag):
                return tolerance
        return None


# -- reading ------------------------------------------------------------------------------------
def _strings(reader: Any, node: yaml.Node, path: str, what: str) -> frozenset[str]:
    if not isinstance(node, yaml.SequenceNode):
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return frozenset()
        reader.problem(node, path, f"got {reader.shown(node)}; expected a list of {what}")
        return frozenset()
    out = set()
    for i, item in enumerate(node.value):
        text = reader.text(item, f"{path}[{i}]", expected=f"one of {what}")
        if text is not None:
            out.add(text)
    return frozenset(out)


def _selector(reader: Any, keys: dict[str, yaml.Node], path: str) -> Selector:
    return Selector(
        workspaces=(
            _strings(reader, keys["workspaces"], f"{path}.workspaces", "workspace ids (wrkspc_...)")
            if "workspaces" in keys
            else frozenset()
        ),
        api_keys=(
            _strings(reader, keys["api_keys"], f"{path}.api_keys", "API key ids (apikey_...)")
            if "api_keys" in keys
            else frozenset()
        ),
        tags=(
            _strings(reader, keys["tags"], f"{path}.tags", "workload tags")
            if "tags" in keys
            else frozenset()
        ),
    )


def _clock(reader: Any, node: yaml.Node, path: str) -> time | None:
    expected = "a time of day as HH:MM, such as 09:00"
    ok, _ = reader.scalar(node, path, expected)
    if not ok:
        return None
    # From the text as written: YAML 1.1 reads an unquoted 09:00 as a base-60 number (540).
    text = str(node.value).strip()
    try:
        hours, minutes = text.split(":")
        if text == "24:00":
            return time(23, 59, 59, 999999)
        return time(int(hours), int(minutes))
    except ValueError:
        reader.problem(node, path, f"got {reader.shown(node)}; expected {expected}")
        return None


def _business_hours(reader: Any, node: yaml.Node) -> BusinessHours | None:
    keys = reader.mapping(
        node, "business_hours", _HOURS_KEYS, what="a mapping with start, end, days and timezone"
    )
    if keys is None:
        return None
    hours = BusinessHours()
    start = (
        _clock(reader, keys["start"], "business_hours.start") if "start" in keys else hours.start
    )
    end = _clock(reader, keys["end"], "business_hours.end") if "end" in keys else hours.end
    days = hours.days
    if "days" in keys:
        chosen = _strings(reader, keys["days"], "business_hours.days", "mon, tue ... sun")
        unknown = sorted(chosen - set(_DAYS))
        if unknown:
            reader.problem(
                keys["days"],
                "business_hours.days",
                f"got {unknown[0]!r}; expected days as {', '.join(_DAYS)}",
            )
        days = frozenset(_DAYS.index(d) for d in chosen if d in _DAYS)
    timezone = hours.timezone
    if "timezone" in keys:
        zone = reader.text(
            keys["timezone"], "business_hours.timezone", expected="a time zone such as Europe/Paris"
        )
        if zone is not None:
            try:
                ZoneInfo(zone)
                timezone = zone
            except (ZoneInfoNotFoundError, ValueError):
                reader.problem(
                    keys["timezone"],
                    "business_hours.timezone",
                    f"unknown time zone {zone!r}; expected an IANA name such as Europe/Paris or UTC",
                )
    if start is None or end is None:
        return None
    if start == end:
        reader.problem(
            keys.get("end", node),
            "business_hours.end",
            "equals start; expected business hours of some length",
        )
    return BusinessHours(start, end, days, timezone)


def _tolerances(reader: Any, node: yaml.Node) -> tuple[WaitTolerance, ...]:
    path = "wait.tolerable_hours"
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return ()
    if not isinstance(node, yaml.SequenceNode):
        reader.problem(
            node,
            path,
            f"got {reader.shown(node)}; expected a list of {{tag|workspace|api_key, hours}}",
        )
        return ()
    out = []
    for i, item in enumerate(node.value):
        where = f"{path}[{i}]"
        keys = reader.mapping(
            item,
            where,
            _TOLERANCE_KEYS,
            ("hours",),
            what="a mapping such as {tag: nightly, hours: 12}",
        )
        if keys is None:
            continue
        named = [k for k in ("workspace", "api_key", "tag") if k in keys]
        if len(named) != 1:
            reader.problem(
                item,
                where,
                "expected exactly one of workspace, api_key or tag to name the workload",
            )
            continue
        value = reader.text(keys[named[0]], f"{where}.{named[0]}", expected="an id or a tag")
        hours = (
            reader.number(
                keys["hours"], f"{where}.hours", expected="hours the workload can wait, 0 or more"
            )
            if "hours" in keys
            else None
        )
        if value is not None and hours is not None:
            out.append(WaitTolerance(named[0], value, hours, item.start_mark.line + 1))
    return tuple(out)


def _hybrid(reader: Any, node: yaml.Node) -> tuple[HybridRule, ...]:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return ()
    if not isinstance(node, yaml.SequenceNode):
        reader.problem(node, "hybrid", f"got {reader.shown(node)}; expected a list of rules")
        return ()
    rules = []
    for i, item in enumerate(node.value):
        where = f"hybrid[{i}]"
        keys = reader.mapping(item, where, _HYBRID_KEYS, ("share",), what="a hybrid rule")
        if keys is None:
            continue
        name = (
            reader.text(keys["name"], f"{where}.name", expected="a name for the rule")
            if "name" in keys
            else f"hybrid[{i}]"
        )
        selector = Selector()
        if "match" in keys:
            found = reader.mapping(
                keys["match"], f"{where}.match", _SELECTOR_KEYS, what="workspaces, api_keys or tags"
            )
            selector = _selector(reader, found or {}, f"{where}.match")
        share: float | None = None
        off_hours = False
        if "share" in keys:
            share_node = keys["share"]
            expected = "a share from 0 to 1, or off_hours (the requests outside business hours)"
            if isinstance(share_node, yaml.ScalarNode) and share_node.value == "off_hours":
                off_hours = True
            else:
                share = reader.number(share_node, f"{where}.share", high=1, expected=expected)
                if share is None:
                    continue
        if name is not None and (share is not None or off_hours):
            rules.append(HybridRule(name, selector, share, off_hours, i))
    return tuple(rules)


def _business(reader: Any, node: yaml.Node) -> Business | None:
    keys = reader.mapping(
        node, "business", _BUSINESS_KEYS, ("revenue",), what="a mapping with revenue and other_cogs"
    )
    if keys is None:
        return None
    revenue = (
        reader.number(
            keys["revenue"],
            "business.revenue",
            low_open=True,
            expected="monthly revenue in USD, above 0",
        )
        if "revenue" in keys
        else None
    )
    other = (
        reader.number(
            keys["other_cogs"],
            "business.other_cogs",
            expected="monthly other COGS in USD, 0 or more",
        )
        if "other_cogs" in keys
        else 0.0
    )
    customers = (
        reader.number(
            keys["customers"], "business.customers", low_open=True, expected="customers, above 0"
        )
        if "customers" in keys
        else None
    )
    if revenue is None or other is None:
        return None
    return Business(revenue, other, customers)


def policy_from_nodes(  # noqa: C901 - a validator: one branch per field, each with its located message
    reader: Any, root: yaml.Node
) -> Policy | None:
    """The policy a composed YAML tree describes, or None with its problems in ``reader`` (a
    :class:`costmodel.adapters.yaml_reader._Reader`). Pure: the caller composed the text."""
    keys = reader.mapping(root, "", _TOP_KEYS, what="a policy mapping (see default-policy.yaml)")
    if keys is None:
        return None
    policy = Policy(name=Path(reader.source).stem, source=reader.source)
    changes: dict[str, object] = {}
    if "name" in keys:
        changes["name"] = reader.text(keys["name"], "name", expected="a policy name")
    if "description" in keys:
        changes["description"] = (
            reader.text(keys["description"], "description", expected="text", empty_ok=True) or ""
        ).strip()
    if "days_per_month" in keys:
        changes["days_per_month"] = reader.number(
            keys["days_per_month"],
            "days_per_month",
            low=1,
            high=31,
            expected="a number of days from 1 to 31",
        )
    if "latency_critical" in keys:
        found = reader.mapping(
            keys["latency_critical"],
            "latency_critical",
            _LATENCY_KEYS,
            what="a mapping with workspaces, api_keys, tags and latency_budget_below_ms",
        )
        if found is not None:
            changes["latency_critical"] = _selector(reader, found, "latency_critical")
            if "latency_budget_below_ms" in found:
                changes["latency_budget_below_ms"] = reader.number(
                    found["latency_budget_below_ms"],
                    "latency_critical.latency_budget_below_ms",
                    expected="milliseconds, 0 or more (requests with a shorter budget stay synchronous)",
                )
    if "minimum_volume" in keys:
        found = reader.mapping(
            keys["minimum_volume"],
            "minimum_volume",
            ("requests_per_day",),
            what="a mapping with requests_per_day",
        )
        if found is not None and "requests_per_day" in found:
            changes["minimum_requests_per_day"] = reader.number(
                found["requests_per_day"],
                "minimum_volume.requests_per_day",
                expected="requests a day, 0 or more",
            )
    if "wait" in keys:
        found = reader.mapping(
            keys["wait"], "wait", _WAIT_KEYS, what="a mapping with batch_turnaround_hours"
        )
        if found is not None:
            if "batch_turnaround_hours" in found:
                changes["batch_turnaround_hours"] = reader.number(
                    found["batch_turnaround_hours"],
                    "wait.batch_turnaround_hours",
                    low_open=True,
                    high=24 * 7,
                    expected="hours a batch may take, above 0",
                )
            if "tolerable_hours" in found:
                changes["tolerances"] = _tolerances(reader, found["tolerable_hours"])
            if "when_unknown" in found:
                changes["when_unknown"] = reader.choice(
                    found["when_unknown"], "wait.when_unknown", WHEN_UNKNOWN
                )
    if "hybrid" in keys:
        changes["hybrid"] = _hybrid(reader, keys["hybrid"])
    if "business_hours" in keys:
        changes["business_hours"] = _business_hours(reader, keys["business_hours"])
    if "business" in keys:
        changes["business"] = _business(reader, keys["business"])
    if reader.problems or any(v is None for k, v in changes.items() if k != "business"):
        return None
    return replace(policy, **changes)  # type: ignore[arg-type]


def selectors_named(policy: Policy) -> Sequence[str]:
    """Every id and tag the policy names, for a note when some match no workload."""
    s = policy.latency_critical
    names = [*s.workspaces, *s.api_keys, *s.tags]
    names += [t.value for t in policy.tolerances]
    for rule in policy.hybrid:
        names += [*rule.selector.workspaces, *rule.selector.api_keys, *rule.selector.tags]
    return sorted(set(names))


# Keys only a policy has at its top level: a file with one of them (and no ``workloads``) is
# checked as a policy by ``costmodel validate``.
_POLICY_ONLY_KEYS: Final = frozenset(
    ("latency_critical", "minimum_volume", "wait", "hybrid", "business_hours")
)


def looks_like_policy(text: str, name: str = "") -> bool:
    """Whether ``text`` (a file's contents) is a policy rather than a scenario: its top-level
    keys are a policy's, or, when it cannot tell (an empty or broken file), its name says so."""
    keys = set(re.findall(r"^([A-Za-z_][\w-]*)\s*:", text, flags=re.MULTILINE))
    if "workloads" in keys:
        return False
    if keys & _POLICY_ONLY_KEYS:
        return True
    return "policy" in Path(name).name.lower()
