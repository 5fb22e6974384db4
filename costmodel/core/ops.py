"""Batch operations: is the batch pipeline healthy? Success rate, turnaround, expiries, errors
by type and tokens per request, from the stored batches.

Pure arithmetic over the rows the store hands over (:meth:`costmodel.adapters.store.Store.operation_counts`
and :meth:`~costmodel.adapters.store.Store.batch_times`): no pricing, no clock. Definitions:

- **success rate**: succeeded requests over all requests (errored, canceled and expired in the
  denominator); below :data:`SUCCESS_TARGET` it is flagged.
- **turnaround**: a batch's ``ended_at`` minus its ``created_at``, in hours; p50 and p95
  interpolate linearly between the nearest ranks (numpy's default), max is the largest. A
  batch without both times (a results file imported without ``--created-at`` and
  ``--ended-at``) has turnaround unknown: its requests are counted, its time is not.
- **hour of submission**: the UTC hour of ``created_at``.
- **expired**: a request the API expired (unfinished when its batch's 24 hours ran out); a
  batch with any such request counts as an expired batch.
- **tokens per request**: the tokens of succeeded requests over their number (uncached
  input, output, cache writes, cache reads): the requests that were billed.

Errored, canceled and expired requests are counted here and never billed anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from costmodel.adapters.store import Store
    from costmodel.core.jobs import JobRule

__all__ = [
    "BY",
    "SCHEMA",
    "SUCCESS_TARGET",
    "OperationsRow",
    "OperationsSummary",
    "Turnaround",
    "operations_summary",
    "summarise",
    "turnaround",
]

SCHEMA: Final = "costmodel.ops/1"
BY: Final = ("day", "job", "batch", "hour")
SUCCESS_TARGET: Final = 0.99
RESULT_TYPES: Final = ("succeeded", "errored", "canceled", "expired")
TOKEN_KINDS: Final = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
UNKNOWN: Final = "unknown"
_HOUR: Final = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Turnaround:
    """Hours from creation to end over the batches whose times are known."""

    batches: int  # with both times known
    p50: float | None
    p95: float | None
    max: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "p50_hours": _hours(self.p50),
            "p95_hours": _hours(self.p95),
            "max_hours": _hours(self.max),
        }


def turnaround(hours: Iterable[float]) -> Turnaround:
    """p50, p95 (linear between the nearest ranks) and max of ``hours``; None when empty."""
    values = np.asarray([float(h) for h in hours], dtype=float)
    if values.size == 0:
        return Turnaround(0, None, None, None)
    p50, p95 = np.percentile(values, [50, 95])
    return Turnaround(int(values.size), float(p50), float(p95), float(values.max()))


@dataclass(frozen=True)
class OperationsRow:
    """One group's figures (a day, job, batch or hour of submission; or the total)."""

    key: str
    batches: int
    requests: dict[str, int]  # by result type
    expired_batches: int
    turnaround: Turnaround
    unknown_times: int  # batches whose turnaround is unknown
    tokens: dict[str, int]  # of succeeded requests, by kind

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def success_rate(self) -> float | None:
        return self.requests["succeeded"] / self.total if self.total else None

    @property
    def below_target(self) -> bool:
        rate = self.success_rate
        return rate is not None and rate < SUCCESS_TARGET

    @property
    def expired_share(self) -> float | None:
        return self.requests["expired"] / self.total if self.total else None

    @property
    def expired_batch_share(self) -> float | None:
        return self.expired_batches / self.batches if self.batches else None

    def per_request(self) -> dict[str, float | None]:
        """Tokens per succeeded request, by kind (None without succeeded requests)."""
        succeeded = self.requests["succeeded"]
        return {
            kind: (self.tokens[kind] / succeeded if succeeded else None) for kind in TOKEN_KINDS
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "batches": self.batches,
            "requests": self.total,
            **self.requests,
            "success_rate": self.success_rate,
            "below_target": self.below_target,
            "expired_share": self.expired_share,
            "expired_batches": self.expired_batches,
            "expired_batch_share": self.expired_batch_share,
            "turnaround": self.turnaround.to_dict(),
            "turnaround_unknown_batches": self.unknown_times,
            "tokens": dict(self.tokens),
            "tokens_per_request": self.per_request(),
        }


@dataclass(frozen=True)
class OperationsSummary:
    """Batch operations grouped by day, job, batch or hour of submission, with the totals."""

    by: str
    since: date | None
    until: date | None
    rows: tuple[OperationsRow, ...]
    total: OperationsRow
    errors: dict[str, int]  # errored requests by error type ("unknown" where none was given)
    notes: tuple[str, ...] = ()
    # Each batch's hours (None when unknown) and hour of submission, for charts.
    batch_hours: tuple[tuple[str, float | None, int | None], ...] = field(default=(), repr=False)

    @property
    def title(self) -> str:
        return f"Batch operations by {self.by}"

    @property
    def empty(self) -> bool:
        return self.total.batches == 0

    def to_dict(self) -> dict[str, Any]:
        from costmodel.core.contract import SCHEMAS

        errored = sum(self.errors.values())
        return {
            "schema": SCHEMAS["ops"],
            "by": self.by,
            "timezone": "UTC",
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            "success_target": SUCCESS_TARGET,
            "rows": [row.to_dict() for row in self.rows],
            "totals": self.total.to_dict(),
            "errors": [
                {"error_type": kind, "requests": n, "share": n / errored if errored else None}
                for kind, n in self.errors.items()
            ],
            "notes": list(self.notes),
        }

    def headlines(self) -> list[tuple[str, str, str]]:
        """The period's figures as (label, value, what it means), formatted for a page."""
        total = self.total
        rate = total.success_rate
        spans = total.turnaround
        expired = total.expired_share

        def hours(value: float | None) -> str:
            return UNKNOWN if value is None else f"{value:.1f} h"

        return [
            (
                "Success rate",
                "none" if rate is None else f"{rate:.2%}",
                f"Succeeded over all {total.total:,} requests; the target is "
                f"{SUCCESS_TARGET:.0%}" + (" (below it)" if total.below_target else "") + ".",
            ),
            (
                "Turnaround p50",
                hours(spans.p50),
                f"Median hours from creation to end over {spans.batches:,} batch(es) with "
                "both times.",
            ),
            ("Turnaround p95", hours(spans.p95), "95th percentile of the batches' turnaround."),
            ("Turnaround max", hours(spans.max), "The slowest batch in the period."),
            (
                "Expired requests",
                "none" if expired is None else f"{expired:.2%}",
                f"{total.requests['expired']:,} requests expired, in {total.expired_batches:,} "
                f"of {total.batches:,} batch(es) that ran out of their 24 hours.",
            ),
            (
                "Errored requests",
                f"{total.requests['errored']:,}",
                "By the results' error type in the chart below; counted, never billed.",
            ),
        ]

    def frame(self) -> pd.DataFrame:
        """One plain row per group (numbers, None where unknown), for charts and CSV."""
        records = []
        for row in self.rows:
            data = row.to_dict()
            spans = data.pop("turnaround")
            per = data.pop("tokens_per_request")
            data.pop("tokens")
            records.append(
                {
                    **data,
                    "timed_batches": spans["batches"],
                    "turnaround_p50_hours": spans["p50_hours"],
                    "turnaround_p95_hours": spans["p95_hours"],
                    "turnaround_max_hours": spans["max_hours"],
                    **{f"{kind}_per_request": value for kind, value in per.items()},
                }
            )
        return pd.DataFrame(records, columns=list(_CSV_COLUMNS))

    def csv_frame(self) -> pd.DataFrame:
        return self.frame()

    def sections(self) -> list[Any]:
        from costmodel.core.layouts import Section

        label = {"hour": "Hour submitted (UTC)", "day": "Day", "job": "Job", "batch": "Batch"}
        table = pd.DataFrame(
            [_table_row(row) for row in (*self.rows, self.total)],
            columns=[label[self.by], *_TABLE_COLUMNS],
        )
        errored = sum(self.errors.values())
        errors = pd.DataFrame(
            [
                {"Error type": kind, "Requests": n, "Share of errored": f"{n / errored:.1%}"}
                for kind, n in self.errors.items()
            ]
            or [{"Error type": "none", "Requests": 0, "Share of errored": ""}],
        )
        return [
            Section(
                f"Batch operations by {label[self.by][0].lower()}{label[self.by][1:]}",
                table,
                counts=("Batches", "Requests", "Errored", "Canceled", "Expired"),
                figures=_FIGURE_COLUMNS,
            ),
            Section(
                "Errored requests by error type",
                errors,
                counts=("Requests",),
                figures=("Share of errored",),
            ),
        ]


_CSV_COLUMNS: Final = (
    "key",
    "batches",
    "requests",
    *RESULT_TYPES,
    "success_rate",
    "below_target",
    "expired_share",
    "expired_batches",
    "expired_batch_share",
    "timed_batches",
    "turnaround_unknown_batches",
    "turnaround_p50_hours",
    "turnaround_p95_hours",
    "turnaround_max_hours",
    *(f"{kind}_per_request" for kind in TOKEN_KINDS),
)
_TABLE_COLUMNS: Final = (
    "Batches",
    "Requests",
    "Success rate",
    "Errored",
    "Canceled",
    "Expired",
    "Turnaround p50",
    "p95",
    "max",
    "Input / request",
    "Output / request",
)
_FIGURE_COLUMNS: Final = (
    "Success rate",
    "Turnaround p50",
    "p95",
    "max",
    "Input / request",
    "Output / request",
)


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _table_row(row: OperationsRow) -> list[Any]:
    rate = row.success_rate
    shown = "" if rate is None else f"{rate:.2%}" + (" (below 99%)" if row.below_target else "")
    spans = row.turnaround
    per = row.per_request()

    def hours(value: float | None) -> str:
        return UNKNOWN if value is None else f"{value:.1f} h"

    def tokens(value: float | None) -> str:
        return "" if value is None else f"{value:,.0f}"

    return [
        row.key,
        row.batches,
        row.total,
        shown,
        row.requests["errored"],
        row.requests["canceled"],
        row.requests["expired"],
        hours(spans.p50),
        hours(spans.p95),
        hours(spans.max),
        tokens(per["input_tokens"]),
        tokens(per["output_tokens"]),
    ]


# -- the arithmetic -------------------------------------------------------------------------------
def summarise(
    counts: pd.DataFrame,
    times: pd.DataFrame,
    *,
    by: str = "day",
    since: date | None = None,
    until: date | None = None,
) -> OperationsSummary:
    """The summary from the store's rows: ``counts`` as :meth:`Store.operation_counts` gives
    them (``key`` the job when ``by="job"``), ``times`` as :meth:`Store.batch_times`."""
    if by not in BY:
        from costmodel.errors import CostModelError

        raise CostModelError(f"--by: expected one of {', '.join(BY)}, got {by!r}")
    batches = _batches(times)
    group_of = _grouping(by, counts, batches)
    per_key: dict[str, dict[str, Any]] = {}

    def slot(key: str) -> dict[str, Any]:
        return per_key.setdefault(
            key,
            {
                "batches": set(),
                "requests": dict.fromkeys(RESULT_TYPES, 0),
                "tokens": dict.fromkeys(TOKEN_KINDS, 0),
                "expired": set(),
            },
        )

    errors: dict[str, int] = {}
    for record in counts.to_dict(orient="records"):
        batch_id = str(record["batch_id"])
        kind = str(record["result_type"])
        n = int(record["requests"])
        for key in (group_of(record), None):
            target = slot(key) if key is not None else slot("\0total")
            target["batches"].add(batch_id)
            target["requests"][kind] += n
            if kind == "expired" and n:
                target["expired"].add(batch_id)
            if kind == "succeeded":
                for token in TOKEN_KINDS:
                    target["tokens"][token] += int(record[token])
        if kind == "errored":
            label = record["error_type"]
            label = UNKNOWN if label is None or pd.isna(label) else str(label)
            errors[label] = errors.get(label, 0) + n

    def build(key: str, data: dict[str, Any]) -> OperationsRow:
        hours = [batches[b]["hours"] for b in sorted(data["batches"]) if b in batches]
        known = [h for h in hours if h is not None]
        return OperationsRow(
            key=key,
            batches=len(data["batches"]),
            requests=data["requests"],
            expired_batches=len(data["expired"]),
            turnaround=turnaround(known),
            unknown_times=len(data["batches"]) - len(known),
            tokens=data["tokens"],
        )

    empty = {
        "batches": set(),
        "requests": dict.fromkeys(RESULT_TYPES, 0),
        "tokens": dict.fromkeys(TOKEN_KINDS, 0),
        "expired": set(),
    }
    total = build("Total", per_key.pop("\0total", empty))
    rows = tuple(build(key, per_key[key]) for key in sorted(per_key, key=_order(by)))
    return OperationsSummary(
        by=by,
        since=since,
        until=until,
        rows=rows,
        total=total,
        errors=dict(sorted(errors.items(), key=lambda item: (-item[1], item[0]))),
        notes=_notes(by, total, batches, counts),
        batch_hours=tuple(
            (batch_id, info["hours"], info["hour"]) for batch_id, info in batches.items()
        ),
    )


def _batches(times: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per batch: its turnaround in hours (None when unknown), hour and day of submission."""
    found: dict[str, dict[str, Any]] = {}
    for record in times.to_dict(orient="records"):
        created, ended = record.get("created_at"), record.get("ended_at")
        known = created is not None and ended is not None and not pd.isna(created)
        known = known and not pd.isna(ended)
        hours = (pd.Timestamp(ended) - pd.Timestamp(created)) / _HOUR if known else None  # type: ignore[arg-type]
        usage_day = record.get("usage_date")
        found[str(record["batch_id"])] = {
            "hours": None if hours is None or hours < 0 else float(hours),
            "negative": hours is not None and hours < 0,
            "hour": None if created is None or pd.isna(created) else pd.Timestamp(created).hour,
            "day": None if usage_day is None or pd.isna(usage_day) else str(usage_day)[:10],
            "reported": {
                kind: record.get(f"reported_{kind}")
                for kind in RESULT_TYPES
                if record.get(f"reported_{kind}") is not None
                and not pd.isna(record.get(f"reported_{kind}"))
            },
        }
    return found


def _grouping(by: str, counts: pd.DataFrame, batches: Mapping[str, Mapping[str, Any]]) -> Any:
    def key(record: Mapping[str, Any]) -> str:
        batch_id = str(record["batch_id"])
        info = batches.get(batch_id, {})
        if by == "batch":
            return batch_id
        if by == "job":
            value = record.get("key")
            return UNKNOWN if value is None or pd.isna(value) else str(value)
        if by == "hour":
            hour = info.get("hour")
            return UNKNOWN if hour is None else f"{hour:02d}:00"
        return str(info.get("day") or UNKNOWN)

    return key


def _order(by: str) -> Any:
    # Days and hours sort as text already (ISO days, zero-padded hours); unknown goes last.
    return lambda key: (key == UNKNOWN, key)


def _notes(
    by: str,
    total: OperationsRow,
    batches: Mapping[str, Mapping[str, Any]],
    counts: pd.DataFrame,
) -> tuple[str, ...]:
    if total.batches == 0:
        return ("No stored batches in the period.",)
    notes = [
        "Turnaround: from a batch's creation to its end, in hours; p50 and p95 interpolate "
        "between the nearest ranks. Hours of submission are UTC.",
        f"Success rate: succeeded requests over all requests; below {SUCCESS_TARGET:.0%} is "
        "flagged. Errored, canceled and expired requests are counted, never billed.",
    ]
    unknown = sorted(b for b, info in batches.items() if info["hours"] is None)
    if unknown:
        shown = ", ".join(unknown[:3]) + (
            f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        )
        notes.append(
            f"Turnaround unknown for {len(unknown)} of {len(batches)} batches ({shown}): "
            "no creation or end time (imported without --created-at and --ended-at); "
            "their requests are counted."
        )
    negative = sorted(b for b, info in batches.items() if info["negative"])
    if negative:
        notes.append(
            f"{len(negative)} batch(es) end before they were created ({', '.join(negative[:3])}): "
            "their turnaround is left out."
        )
    if by == "job":
        notes.append("A batch holding several jobs counts its turnaround in each of them.")
    stored = counts.groupby(["batch_id", "result_type"])["requests"].sum().to_dict()
    differing = []
    for batch_id, info in batches.items():
        reported = info["reported"]
        if len(reported) == len(RESULT_TYPES) and any(
            int(reported[kind]) != int(stored.get((batch_id, kind), 0)) for kind in RESULT_TYPES
        ):
            differing.append(batch_id)
    if differing:
        notes.append(
            f"{len(differing)} batch(es) hold other counts than the API reported for them "
            f"({', '.join(sorted(differing)[:3])}): the figures are the stored requests'."
        )
    if total.requests["errored"] and UNKNOWN in _error_labels(counts):
        notes.append("Some errored requests gave no error type: counted as 'unknown'.")
    return tuple(notes)


def _error_labels(counts: pd.DataFrame) -> set[str]:
    errored = counts[counts["result_type"] == "errored"]
    return {UNKNOWN if pd.isna(v) else str(v) for v in errored["error_type"]}


def operations_summary(
    store: Store,
    *,
    by: str = "day",
    since: date | None = None,
    until: date | None = None,
    jobs: JobRule | None = None,
) -> OperationsSummary:
    """Batch operations of the batches used from ``since`` (inclusive) to ``until``
    (exclusive), grouped ``by`` day (of use), job, batch or hour of submission (UTC)."""
    rule: JobRule | None = None
    if by == "job":
        from costmodel.core.jobs import JobRule

        rule = jobs or JobRule()
    counts = store.operation_counts(since, until, jobs=rule)
    times = store.batch_times(since, until)
    return summarise(counts, times, by=by, since=since, until=until)
