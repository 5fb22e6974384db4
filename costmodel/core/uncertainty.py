"""Uncertain inputs of a scenario: token distributions, volume growth and batch deadline risk.

A workload may write any per-request token count as a distribution instead of a number::

    input_tokens: {mean: 2000, p95: 6000}          # a lognormal with that mean and 95th percentile
    input_tokens: {p50: 1500, p95: 6000}           # a lognormal with that median and 95th percentile
    input_tokens: {lognormal: {mu: 7.3, sigma: 0.8}}
    input_tokens: {from_store: {job: claims}}      # the stored requests of that job (empirical)

Each describes the tokens of **one request** (what ``costmodel usage calibrate`` measures). Its
volume may grow, and per-day volumes may follow the days of the week::

    requests: {count: 500, per: day, growth: {per_month: 8%, from: 2026-12},
               day_of_week: [1.2, 1.1, 1, 1, 1, 0.4, 0.3]}          # Monday first

and a batched workload may carry a deadline, with the share of batches that would miss it (and
so run synchronously, at sync rates) given or measured from the store's batch turnaround::

    deadline_hours: 24
    miss_share: 0.05        # optional; without it the store's measured turnaround decides

Parsing here is called by :mod:`costmodel.core.scenario` (which owns the file, its line numbers and
the rest of its keys), so an uncertain form is validated like every other key. The point value
a plain ``costmodel run`` prices is each distribution's mean. The store is read only by
:func:`read_store_inputs`, in the shell; everything else is pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from costmodel.errors import CostModelError, InvalidArgumentError, located

if TYPE_CHECKING:
    import yaml

__all__ = [
    "DAYS_OF_WEEK",
    "DISTRIBUTION_KEYS",
    "Deadline",
    "FromStore",
    "Growth",
    "LogNormal",
    "StoreInputs",
    "WorkloadRanges",
    "fit_mean_p95",
    "fit_p50_p95",
    "read_store_inputs",
    "read_workload_ranges",
    "write_workload_ranges",
]

# The standard normal's 95th percentile: p95 = exp(mu + Z95 * sigma) for a lognormal.
Z95: Final = 1.6448536269514722
# Per-request counts that may be a distribution (the scenario's keys).
DISTRIBUTION_KEYS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
)
# The store's column for each of those keys.
STORE_COLUMN: Final = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_write_tokens": "cache_write_5m_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "cache_read_tokens": "cache_read_tokens",
}
DAYS_OF_WEEK: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKLOAD_KEYS: Final = ("deadline_hours", "miss_share")
REQUEST_KEYS: Final = ("growth", "day_of_week")
# How many stored requests an empirical distribution keeps (a seeded reservoir sample): enough
# for percentiles to a fraction of a percent, and bounded however much is stored.
STORE_SAMPLE_ROWS: Final = 20_000
_PERCENT: Final = re.compile(r"\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*%\s*")
_MONTH: Final = re.compile(r"\s*(\d{4})-(\d{2})\s*")


def normal_quantiles(u: np.ndarray) -> np.ndarray:
    """The standard normal's quantiles at ``u`` (the grids here are small: a few thousand)."""
    inv_cdf = NormalDist().inv_cdf
    return np.array([inv_cdf(float(x)) for x in np.ravel(u)]).reshape(np.shape(u))


# -- the forms ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogNormal:
    """Tokens per request ~ exp(Normal(mu, sigma)); ``written`` is the form the file gave."""

    mu: float
    sigma: float
    written: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    form: str = "lognormal"  # mean_p95 | p50_p95 | lognormal

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def quantiles(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * normal_quantiles(u))


@dataclass(frozen=True)
class FromStore:
    """Tokens per request drawn from the stored requests of a job (empirical)."""

    job: str
    line: int | None = field(default=None, compare=False)


Distribution = LogNormal | FromStore


@dataclass(frozen=True)
class Growth:
    """Monthly volume growth, compounding from ``start`` (default: the first month modelled)."""

    per_month: float  # 0.08 for 8% a month; above -1
    start: date | None = None  # first day of the month growth starts from


@dataclass(frozen=True)
class Deadline:
    """Batch results are needed within ``hours``; ``miss_share`` of batches would miss it.

    ``miss_share`` None: measured from the store's batch turnaround for the workload's job.
    """

    hours: float
    miss_share: float | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class WorkloadRanges:
    """A workload's uncertain inputs; absent parts are as certain as the rest of the file."""

    tokens: tuple[tuple[str, Distribution], ...] = ()
    growth: Growth | None = None
    day_of_week: tuple[float, ...] | None = None  # Monday first, as written (see weekday_weights)
    deadline: Deadline | None = None

    def weekday_weights(self) -> np.ndarray | None:
        """The day-of-week profile scaled to a mean of 1, so ``count`` stays the mean per day."""
        if self.day_of_week is None:
            return None
        weights = np.asarray(self.day_of_week, dtype="float64")
        scaled: np.ndarray = weights * (7 / weights.sum())
        return scaled

    def token(self, key: str) -> Distribution | None:
        return dict(self.tokens).get(key)

    @property
    def uncertain(self) -> bool:
        """Whether a draw can differ from another (growth and weekdays are certain)."""
        return bool(self.tokens) or self.deadline is not None


def fit_mean_p95(mean: float, p95: float) -> LogNormal:
    """The lognormal with this mean and 95th percentile (the narrower of the two that fit).

    ``log(p95 / mean) = Z95 * sigma - sigma**2 / 2`` has a solution only while ``p95 / mean``
    is at most ``exp(Z95**2 / 2)`` (about 3.87); raises ValueError beyond it.

    >>> d = fit_mean_p95(2000, 6000)
    >>> round(d.mean), round(float(d.quantiles(np.array([0.95]))[0]))
    (2000, 6000)
    """
    ratio = math.log(p95 / mean)
    disc = Z95**2 - 2 * ratio
    if disc < 0:
        raise InvalidArgumentError(
            f"no lognormal has a p95 above {math.exp(Z95**2 / 2):.2f}x its mean"
        )
    sigma = Z95 - math.sqrt(disc)
    return LogNormal(
        math.log(mean) - sigma**2 / 2, sigma, (("mean", mean), ("p95", p95)), "mean_p95"
    )


def fit_p50_p95(p50: float, p95: float) -> LogNormal:
    """The lognormal with this median and 95th percentile."""
    return LogNormal(
        math.log(p50),
        (math.log(p95) - math.log(p50)) / Z95,
        (("p50", p50), ("p95", p95)),
        "p50_p95",
    )


# -- reading the forms from a scenario file -----------------------------------------------------
def _map_node(node: yaml.Node) -> bool:
    import yaml

    return isinstance(node, yaml.MappingNode)


def read_workload_ranges(
    reader: Any, keys: Mapping[str, yaml.Node], path: str
) -> tuple[WorkloadRanges | None, dict[str, float | None]]:
    """A workload's uncertain forms, and the point value of each token key written as one.

    ``reader`` is :class:`costmodel.adapters.yaml_reader._Reader` (problems are reported on it, located).
    The point value is the distribution's mean; NaN for ``from_store`` until the store is read
    (:func:`with_store_means`); None where the form had a problem.
    """
    tokens: list[tuple[str, Distribution]] = []
    points: dict[str, float | None] = {}
    for key in DISTRIBUTION_KEYS:
        node = keys.get(key)
        if node is None or not _map_node(node):
            continue
        dist, point = _distribution(reader, node, f"{path}.{key}")
        points[key] = point
        if dist is not None:
            tokens.append((key, dist))
    growth = day_of_week = None
    requests = keys.get("requests")
    if requests is not None and _map_node(requests):
        sub = {str(k.value): v for k, v in requests.value if hasattr(k, "value")}
        if "growth" in sub:
            growth = _growth(reader, sub["growth"], f"{path}.requests.growth")
        if "day_of_week" in sub:
            per = getattr(sub.get("per"), "value", "month")
            day_of_week = _day_of_week(reader, sub["day_of_week"], f"{path}.requests.day_of_week")
            if per != "day":
                reader.problem(
                    sub["day_of_week"],
                    f"{path}.requests.day_of_week",
                    f"a day-of-week profile needs per: day, got per: {per}; expected it only "
                    "with a per-day volume",
                )
                day_of_week = None
    deadline = _deadline(reader, keys, path)
    ranges = WorkloadRanges(tuple(tokens), growth, day_of_week, deadline)
    if not (tokens or growth or day_of_week or deadline):
        return None, points
    return ranges, points


def _number(reader: Any, node: yaml.Node, path: str, expected: str, **bounds: Any) -> float | None:
    return reader.number(node, path, expected=expected, **bounds)  # type: ignore[no-any-return]


def _distribution(  # noqa: C901 - a validator: one branch per distribution form and field
    reader: Any, node: yaml.Node, path: str
) -> tuple[Distribution | None, float | None]:
    """One token distribution; (None, point) when it is degenerate (a fixed number)."""
    allowed = ("mean", "p50", "p95", "lognormal", "from_store")
    keys = reader.mapping(
        node,
        path,
        allowed,
        what="a number of tokens per request, or {mean, p95}, {p50, p95}, "
        "{lognormal: {mu, sigma}} or {from_store: {job}}",
    )
    if keys is None:
        return None, None
    forms = [k for k in keys if k in ("lognormal", "from_store")] + (
        ["mean/p50"] if ("mean" in keys or "p50" in keys) else []
    )
    if len(forms) != 1 or ("mean" in keys and "p50" in keys):
        reader.problem(
            node,
            path,
            f"got {', '.join(sorted(keys)) or 'no keys'}; expected one form: {{mean, p95}}, "
            "{p50, p95}, {lognormal: {mu, sigma}} or {from_store: {job}}",
        )
        return None, None
    tokens = "a number of tokens per request"
    if "from_store" in keys:
        sub = reader.mapping(
            keys["from_store"], f"{path}.from_store", ("job",), ("job",), what="{job: NAME}"
        )
        if not sub or "job" not in sub:
            return None, None
        job = reader.text(sub["job"], f"{path}.from_store.job", expected="a job name")
        if job is None:
            return None, None
        return FromStore(job, sub["job"].start_mark.line + 1), math.nan
    if "lognormal" in keys:
        sub = reader.mapping(
            keys["lognormal"],
            f"{path}.lognormal",
            ("mu", "sigma"),
            ("mu", "sigma"),
            what="{mu, sigma} of log tokens",
        )
        if not sub or "mu" not in sub or "sigma" not in sub:
            return None, None
        mu = _number(
            reader, sub["mu"], f"{path}.lognormal.mu", "the mean of log tokens", low=-math.inf
        )
        sigma = _number(
            reader, sub["sigma"], f"{path}.lognormal.sigma", "the spread of log tokens, 0 or more"
        )
        if mu is None or sigma is None:
            return None, None
        if sigma == 0:
            return None, math.exp(mu)
        dist = LogNormal(mu, sigma, (("mu", mu), ("sigma", sigma)), "lognormal")
        if not math.isfinite(dist.mean):
            reader.problem(
                node, path, "the lognormal's mean overflows; expected a smaller mu/sigma"
            )
            return None, None
        return dist, dist.mean
    centre = "mean" if "mean" in keys else "p50"
    if "p95" not in keys:
        reader.problem(node, f"{path}.p95", f"missing; expected p95 beside {centre}")
        return None, None
    low = _number(reader, keys[centre], f"{path}.{centre}", f"{tokens}, above 0", low_open=True)
    p95 = _number(reader, keys["p95"], f"{path}.p95", f"{tokens}, above 0", low_open=True)
    if low is None or p95 is None:
        return None, None
    if p95 < low:
        reader.problem(
            keys["p95"],
            f"{path}.p95",
            f"got {p95:g}, below the {centre} {low:g}; expected a 95th percentile at or above "
            f"the {centre} (tokens per request are skewed to the right)",
        )
        return None, None
    if p95 == low:
        return None, low  # no spread: the number itself
    if centre == "p50":
        dist = fit_p50_p95(low, p95)
        return dist, dist.mean
    try:
        return fit_mean_p95(low, p95), low
    except ValueError as exc:
        reader.problem(
            keys["p95"],
            f"{path}.p95",
            f"got {p95:g} with mean {low:g}: {exc}; expected {{p50, p95}} or "
            "{lognormal: {mu, sigma}} for a tail this long",
        )
        return None, None


def _fraction(reader: Any, node: yaml.Node, path: str, expected: str) -> float | None:
    """``8%`` as 0.08; a plain number is taken as a fraction (0.08)."""
    ok, value = reader.scalar(node, path, expected)
    if not ok:
        return None
    if isinstance(value, str) and (match := _PERCENT.fullmatch(value)):
        return float(match.group(1)) / 100
    return _number(reader, node, path, expected, low=-math.inf)


def _growth(reader: Any, node: yaml.Node, path: str) -> Growth | None:
    keys = reader.mapping(
        node, path, ("per_month", "from"), ("per_month",), what="{per_month: 8%, from: YYYY-MM}"
    )
    if keys is None or "per_month" not in keys:
        return None
    expected = "a monthly growth above -100%, such as 8% or -2.5%"
    rate = _fraction(reader, keys["per_month"], f"{path}.per_month", expected)
    if rate is not None and rate <= -1:
        reader.problem(
            keys["per_month"],
            f"{path}.per_month",
            f"got {keys['per_month'].value}; expected {expected}",
        )
        rate = None
    written = str(getattr(keys["per_month"], "value", ""))
    if rate is not None and rate > 1 and "%" not in written:
        # 8 is far likelier to mean 8% than 800% a month: ask rather than guess.
        reader.problem(
            keys["per_month"],
            f"{path}.per_month",
            f"got {written}, which as a fraction is {rate:.0%} a month; expected a percentage "
            f"such as {written}% or a fraction such as {rate / 100:g}",
        )
        rate = None
    start = None
    if "from" in keys:
        start = _month(reader, keys["from"], f"{path}.from")
        if start is None:
            return None
    return None if rate is None else Growth(rate, start)


def _month(reader: Any, node: yaml.Node, path: str) -> date | None:
    ok, value = reader.scalar(node, path, "a month as YYYY-MM")
    if not ok:
        return None
    if isinstance(value, date):
        return value.replace(day=1)
    match = _MONTH.fullmatch(str(value))
    if match and 1 <= int(match.group(2)) <= 12:
        return date(int(match.group(1)), int(match.group(2)), 1)
    reader.problem(node, path, f"got {reader.shown(node)}; expected a month as YYYY-MM")
    return None


def _day_of_week(reader: Any, node: yaml.Node, path: str) -> tuple[float, ...] | None:
    import yaml

    expected = "seven weights, Monday first (0 or more, not all 0)"
    if isinstance(node, yaml.MappingNode):
        keys = reader.mapping(node, path, DAYS_OF_WEEK, DAYS_OF_WEEK, what=expected)
        if keys is None or len(keys) != 7:
            return None
        items = [(keys[d], f"{path}.{d}") for d in DAYS_OF_WEEK]
    elif isinstance(node, yaml.SequenceNode) and len(node.value) == 7:
        items = [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
    else:
        reader.problem(node, path, f"got {reader.shown(node)}; expected {expected}")
        return None
    weights = [_number(reader, item, where, "a weight, 0 or more") for item, where in items]
    if any(w is None for w in weights):
        return None
    total = sum(w for w in weights if w is not None)
    if total <= 0:
        reader.problem(node, path, f"got all zeros; expected {expected}")
        return None
    return tuple(float(w) for w in weights if w is not None)


def _deadline(reader: Any, keys: Mapping[str, yaml.Node], path: str) -> Deadline | None:
    if "deadline_hours" not in keys:
        if "miss_share" in keys:
            reader.problem(
                keys["miss_share"],
                f"{path}.miss_share",
                "given without deadline_hours; expected deadline_hours beside it",
            )
        return None
    hours = _number(
        reader,
        keys["deadline_hours"],
        f"{path}.deadline_hours",
        "hours within which batch results are needed, above 0",
        low_open=True,
    )
    share = None
    if "miss_share" in keys:
        share = _number(
            reader,
            keys["miss_share"],
            f"{path}.miss_share",
            "the share of batches that would miss the deadline, from 0 to 1",
            high=1.0,
        )
        if share is None:
            return None
    if hours is None:
        return None
    return Deadline(hours, share, keys["deadline_hours"].start_mark.line + 1)


# -- writing them back --------------------------------------------------------------------------
def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else float(number)


def write_workload_ranges(ranges: WorkloadRanges, out: dict[str, Any]) -> None:
    """Put a workload's uncertain forms into its plain-data form (as the file wrote them)."""
    for key, dist in ranges.tokens:
        if isinstance(dist, FromStore):
            out[key] = {"from_store": {"job": dist.job}}
        elif dist.form == "lognormal":
            out[key] = {"lognormal": {"mu": dist.mu, "sigma": dist.sigma}}
        else:
            out[key] = {name: _plain(value) for name, value in dist.written}
    requests = out.get("requests")
    if isinstance(requests, dict):
        if ranges.growth is not None:
            growth: dict[str, Any] = {"per_month": f"{ranges.growth.per_month * 100:g}%"}
            if ranges.growth.start is not None:
                growth["from"] = ranges.growth.start.strftime("%Y-%m")
            requests["growth"] = growth
        if ranges.day_of_week is not None:
            requests["day_of_week"] = [_plain(w) for w in ranges.day_of_week]
    if ranges.deadline is not None:
        out["deadline_hours"] = _plain(ranges.deadline.hours)
        if ranges.deadline.miss_share is not None:
            out["miss_share"] = _plain(ranges.deadline.miss_share)


# -- the store (shell side) ---------------------------------------------------------------------
@dataclass(frozen=True)
class StoreInputs:
    """What the store measured for a scenario's ``from_store`` forms and deadlines.

    ``samples``: per job, stored requests' token counts (rows) by scenario key (columns, in
    :data:`DISTRIBUTION_KEYS` order). ``turnaround``: per workload name, (batches with both
    times, of which ended later than the deadline).
    """

    samples: Mapping[str, np.ndarray] = field(default_factory=dict)
    turnaround: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def needs_store(scenario: Any) -> bool:
    """Whether a scenario has inputs only the store can supply."""
    for w in scenario.workloads:
        r = w.ranges
        if r is None:
            continue
        if any(isinstance(d, FromStore) for _, d in r.tokens):
            return True
        if r.deadline is not None and r.deadline.miss_share is None:
            return True
    return False


def read_store_inputs(scenario: Any, store: Any, jobs: Any, *, seed: int = 0) -> StoreInputs:
    """Read the stored samples and turnaround a scenario asks for; one located line per gap.

    ``store`` is a :class:`costmodel.adapters.store.Store`, ``jobs`` a :class:`costmodel.core.jobs.JobRule`.
    A job's sample is a seeded reservoir of at most :data:`STORE_SAMPLE_ROWS` succeeded
    requests, so memory stays bounded however much is stored.
    """
    columns = [STORE_COLUMN[k] for k in DISTRIBUTION_KEYS]
    samples: dict[str, np.ndarray] = {}
    turnaround: dict[str, tuple[int, int]] = {}
    for index, w in enumerate(scenario.workloads):
        r = w.ranges
        if r is None:
            continue
        for key, dist in r.tokens:
            if not isinstance(dist, FromStore) or dist.job in samples:
                continue
            frame = store.job_sample(
                jobs, dist.job, columns, rows=STORE_SAMPLE_ROWS, seed=int(seed)
            )
            if frame.empty:
                raise CostModelError(
                    located(
                        f"the store ({store.path}) has no succeeded requests of job "
                        f"{dist.job!r}; expected a job with stored usage (`costmodel usage "
                        "summary --by job` lists them)",
                        file=scenario.source,
                        line=dist.line,
                        field=f"workloads[{index}].{key}.from_store.job",
                    )
                )
            samples[dist.job] = frame.to_numpy(dtype="float64")
        d = r.deadline
        if d is None or d.miss_share is not None:
            continue
        batches, missed = store.job_turnaround(jobs, w.name, d.hours)
        if batches == 0:
            raise CostModelError(
                located(
                    f"the store ({store.path}) has no batch turnaround for job {w.name!r} (no "
                    "stored batch of it has both created and ended times; imported files have "
                    "none); expected miss_share: SHARE beside deadline_hours",
                    file=scenario.source,
                    line=d.line,
                    field=f"workloads[{index}].miss_share",
                )
            )
        turnaround[w.name] = (batches, missed)
    return StoreInputs(samples, turnaround)


def check_resolved(scenario: Any) -> None:
    """Raise, located, if a ``from_store`` count has not been read from the store yet."""
    from costmodel.errors import ScenarioError

    for index, w in enumerate(scenario.workloads):
        for key, dist in w.ranges.tokens if w.ranges is not None else ():
            if isinstance(dist, FromStore) and math.isnan(getattr(w, key)):
                raise ScenarioError(
                    located(
                        f"from_store job {dist.job!r} has not been read from the usage store; "
                        "expected `costmodel run` or `costmodel forecast` (which read it; "
                        "compare and diff do not yet) or costmodel.core.uncertainty.with_store_means",
                        file=scenario.source,
                        line=dist.line,
                        field=f"workloads[{index}].{key}",
                    )
                )


def with_store_means(scenario: Any, inputs: StoreInputs) -> Any:
    """The scenario with each ``from_store`` count's point value set to the stored mean."""
    from dataclasses import replace

    workloads = []
    for w in scenario.workloads:
        changes: dict[str, float] = {}
        for key, dist in w.ranges.tokens if w.ranges is not None else ():
            if isinstance(dist, FromStore):
                column = DISTRIBUTION_KEYS.index(key)
                changes[key] = float(inputs.samples[dist.job][:, column].mean())
        workloads.append(replace(w, **changes) if changes else w)
    return replace(scenario, workloads=tuple(workloads))


def miss_shares(
    workloads: Sequence[Any], inputs: StoreInputs, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Per draw and workload, the share of batched requests that miss the deadline.

    A given share is certain; a measured one (k of n batches late) is uncertain in proportion
    to how few batches were measured: each draw takes it from Beta(k + 1, n - k + 1), the
    posterior of a uniform prior, so ten batches give a wide band and ten thousand a narrow one.
    """
    shares = np.zeros((draws, len(workloads)))
    for i, w in enumerate(workloads):
        d = w.ranges.deadline if w.ranges is not None else None
        if d is None:
            continue
        if d.miss_share is not None:
            shares[:, i] = d.miss_share
        else:
            n, k = inputs.turnaround[w.name]
            shares[:, i] = rng.beta(k + 1, n - k + 1, size=draws)
    return shares


# -- edits from the dashboard (pure) ----------------------------------------------------------
EDITABLE_TOKENS: Final = ("input_tokens", "output_tokens")


@dataclass(frozen=True)
class RangeEdit:
    """A workload's uncertain inputs as the dashboard's widgets hold them; None leaves a value.

    ``tokens``: scenario key -> (mean, p95) per request; ``growth_pct`` a month (8 for 8%);
    ``miss_share_pct`` of batches (with ``deadline_hours``).
    """

    tokens: tuple[tuple[str, float, float], ...] = ()
    growth_pct: float | None = None
    deadline_hours: float | None = None
    miss_share_pct: float | None = None


def token_summary(w: Any, key: str) -> tuple[float, float] | None:
    """(mean, p95) of one count, as the widgets show it; None for ``from_store`` counts."""
    dist = w.ranges.token(key) if w.ranges is not None else None
    if isinstance(dist, FromStore):
        return None
    if isinstance(dist, LogNormal):
        return dist.mean, math.exp(dist.mu + Z95 * dist.sigma)
    value = float(getattr(w, key))
    return value, value


def edited_ranges(  # noqa: C901 - one branch per widget field folded back into the scenario
    scenario: Any, edits: Sequence[RangeEdit | None]
) -> Any:
    """The scenario with the widgets' values folded in; untouched values stay as written.

    Raises :class:`~costmodel.errors.ScenarioError` naming the workload's field, as a file
    with the same values would.
    """
    from dataclasses import replace

    from costmodel.errors import ScenarioError

    workloads = list(scenario.workloads)
    problems = []
    for index, (w, edit) in enumerate(zip(scenario.workloads, edits, strict=True)):
        if edit is None:
            continue
        path = f"workloads[{index}]"
        ranges = w.ranges or WorkloadRanges()
        tokens = dict(ranges.tokens)
        points: dict[str, float] = {}
        for key, mean, p95 in edit.tokens:
            if token_summary(w, key) == (mean, p95):
                continue  # untouched: keep the form as written
            if not (math.isfinite(mean) and mean > 0 and math.isfinite(p95)):
                problems.append(f"{path}.{key}.mean: got {mean:g}; expected tokens above 0")
                continue
            if p95 < mean:
                problems.append(
                    f"{path}.{key}.p95: got {p95:g}, below the mean {mean:g}; expected a 95th "
                    "percentile at or above the mean"
                )
                continue
            points[key] = mean
            if p95 == mean:
                tokens.pop(key, None)
                continue
            try:
                tokens[key] = fit_mean_p95(mean, p95)
            except ValueError as exc:
                problems.append(f"{path}.{key}.p95: got {p95:g} with mean {mean:g}: {exc}")
        growth = ranges.growth
        if edit.growth_pct is not None and edit.growth_pct != (
            growth.per_month * 100 if growth else 0.0
        ):
            if edit.growth_pct <= -100:
                problems.append(
                    f"{path}.requests.growth.per_month: got {edit.growth_pct:g}%; expected a "
                    "monthly growth above -100%"
                )
            else:
                start = growth.start if growth else None
                growth = Growth(edit.growth_pct / 100, start) if edit.growth_pct else None
        deadline = ranges.deadline
        if edit.miss_share_pct is not None and (
            deadline is None or deadline.miss_share is not None
        ):
            current = deadline.miss_share * 100 if deadline and deadline.miss_share else 0.0
            hours = edit.deadline_hours or (deadline.hours if deadline else 24.0)
            if edit.miss_share_pct != current or (deadline and hours != deadline.hours):
                if not 0 <= edit.miss_share_pct <= 100:
                    problems.append(
                        f"{path}.miss_share: got {edit.miss_share_pct:g}%; expected 0 to 100%"
                    )
                elif edit.miss_share_pct == 0 and deadline is None:
                    pass
                else:
                    deadline = Deadline(hours, edit.miss_share_pct / 100)
        changed = WorkloadRanges(
            tuple((k, d) for k, d in tokens.items()), growth, ranges.day_of_week, deadline
        )
        empty = not (changed.tokens or changed.growth or changed.day_of_week or changed.deadline)
        workloads[index] = replace(w, ranges=None if empty else changed, **points)
    if problems:
        raise ScenarioError(problems)
    return replace(scenario, workloads=tuple(workloads))
