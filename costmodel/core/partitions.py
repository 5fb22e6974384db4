"""Pricing one partition of a distributed frame, and the exact sums the partitions combine into.

:mod:`costmodel.dask` and :mod:`costmodel.spark` run these functions on their workers; this
module imports neither engine and does no I/O and reads no clock (the adapters pass ``on``).

A partition holds either usage-frame columns (:mod:`costmodel.core.usage`) or the store's request
columns (:data:`costmodel.adapters.ingest.REQUEST_COLUMNS`, as a Parquet export of the store has them):

- ``model`` and the counts (``input_tokens``, ``output_tokens``, ``cache_write_5m_tokens``,
  ``cache_write_1h_tokens``, ``cache_read_tokens``, ``web_search_requests``); a count column
  that is absent is 0, and ``requests`` (absent: 1 a row);
- ``result_type`` (optional): only ``succeeded`` rows are billed; errored, canceled and expired
  rows are counted and cost nothing;
- ``tier`` (optional): ``standard`` or ``batch``; where it is absent, rows that carry a
  ``result_type`` are Message Batches results (``batch``) and other rows ``standard``, as the
  usage frame defaults;
- ``inference_geo`` and ``speed`` (optional; null is the API's default, global and standard);
- the usage day: ``date``, else ``usage_date`` (the store's day); without one, every row is
  priced on the adapter's ``on``.

A model the catalogue does not know, or used before its first price, is **unpriced**: its rows
are counted, their costs are null (never $0), and summaries name it in a note. Anything the
API would not have billed as given (a negative count, fast mode with batch, a prompt over the
model's limit) is an error, as in :func:`costmodel.core.pricing.price_usage`.

Exact sums: a partition's costs rest on integer token counts per price key (model, price
entry, long-context band, tier, geo, speed, component) times the catalogue's ``Decimal``
rates, so the engine sums the integer counts per key and :func:`finish` multiplies the few
sums by their rates once, on the driver: the same figure, to the cent, as pricing every row
on one machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Final

import numpy as np
import pandas as pd

from costmodel.core.catalogue import Catalogue
from costmodel.core.money import allocate_cents, quantize_cents
from costmodel.core.pricing import COST_COLUMNS, long_context_notes, price_usage
from costmodel.core.usage import COUNT_COLUMNS, usage_frame
from costmodel.core.usage_rows import RESULT_TYPES
from costmodel.errors import PricingError

__all__ = [
    "MODEL_ID",
    "NOT_REPORTED",
    "PRICED_COLUMNS",
    "SUMMARY_COUNTS",
    "TALLY_COLUMNS",
    "TALLY_KEYS",
    "EngineSummary",
    "check_by",
    "finish",
    "price_partition",
    "tally_partition",
]

# The columns price_partition adds, with their dtypes: what PricedUsage.costs holds, and
# whether each row is billed (a succeeded request) and priced (its model had a price).
PRICED_COLUMNS: Final[dict[str, str]] = {
    **dict.fromkeys(COST_COLUMNS, "float64"),
    "cost": "float64",
    "cost_contracted": "float64",
    "model_id": "object",
    "long_context": "bool",
    "billed": "bool",
    "priced": "bool",
}
# A grouping that is no column of the input: the catalogue's id of the row's model (the name
# as given where the catalogue cannot price it; NOT_REPORTED where the row has none), as
# `costmodel usage summary --by model` keys.
MODEL_ID: Final = "model_id"
NOT_REPORTED: Final = "(model not reported)"  # as costmodel.core.measured names it
# The tally: per group, one row per price key and component (basis billed / if_sync) or per
# count (basis count), with an integer quantity. Names start with "_" so that no grouping
# column of the user's can collide with them.
TALLY_KEYS: Final[dict[str, str]] = {
    "_model_id": "object",
    "_price_from": "object",
    "_long_context": "bool",
    "_tier": "object",
    "_geo": "object",
    "_speed": "object",
    "_basis": "object",
    "_measure": "object",
    "_rate": "object",
    "_unit": "object",
    "_lc_threshold": "int64",
}
TALLY_COLUMNS: Final[dict[str, str]] = {**TALLY_KEYS, "_quantity": "int64"}
# The counts a summary row carries, in order.
SUMMARY_COUNTS: Final = (
    "requests",
    *RESULT_TYPES,
    "unpriced_requests",
    *COUNT_COLUMNS,
)
_DAY_COLUMNS: Final = ("date", "usage_date")
_PER: Final = {"MTok": Decimal(1_000_000), "1k searches": Decimal(1_000)}
_EPOCH: Final = date(1970, 1, 1).toordinal()  # datetime64[D] counts days from 1970-01-01
_CODE_EXECUTION: Final = ("code_execution_hours", "code_execution_requests")


@dataclass(frozen=True)
class _Partition:
    """A partition read as usage: the billed and priced rows, and their usage frame."""

    billed: np.ndarray  # succeeded (or no result_type): the rows the API bills
    priced: np.ndarray  # billed and priced by the catalogue
    model_id: np.ndarray  # object: catalogue id where known, else the name as given (or None)
    usage: pd.DataFrame  # the usage frame of the priced rows
    requests: np.ndarray  # requests per row (int64), every row
    day: np.ndarray | None  # datetime64[D] per row, or None (priced on ``on``)
    result: dict[str, np.ndarray]  # per result type, whether each row has it
    model_code: np.ndarray  # int64 per row: index into model_ids, -1 for no model
    model_ids: np.ndarray  # object: the id (or name) of each model code


def check_by(columns: Sequence[str], by: str | Sequence[str] | None) -> list[str]:
    """The grouping as a list, checked against the input's columns (``model_id`` is computed)."""
    names = [] if by is None else [by] if isinstance(by, str) else list(by)
    for name in names:
        if name.startswith("_"):
            raise PricingError(f"by: {name!r}: grouping columns starting with '_' are reserved")
        if name != MODEL_ID and name not in columns:
            raise PricingError(
                f"by: no column {name!r} (columns: {', '.join(columns)}; or {MODEL_ID!r}, the "
                "catalogue's id of the model)"
            )
    if len(set(names)) != len(names):
        raise PricingError(f"by: a column is named twice in {names}")
    return names


def _labels(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for null) and the distinct values: one hashing pass, after which every
    comparison is on small integers rather than millions of strings."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _from_codes(codes: np.ndarray, categories: list[str]) -> Any:
    return pd.Categorical.from_codes(codes.astype(np.int64), dtype=pd.CategoricalDtype(categories))


def _categorical(column: pd.Series | None, n: int, default: str) -> Any:
    """A label column as a categorical, nulls (or no column) as the API's default."""
    if column is None:
        return _from_codes(np.zeros(n, dtype=np.int64), [default])
    codes, uniques = _labels(column)
    categories = [str(value) for value in uniques]
    if bool((codes < 0).any()):
        if default not in categories:
            categories.append(default)
        codes = np.where(codes < 0, categories.index(default), codes)
    return _from_codes(codes, categories)


def _whole(values: np.ndarray, what: str) -> np.ndarray:
    """Counts as int64, refusing fractions: the exact sums across partitions are integer sums."""
    if not bool((values == np.floor(values)).all()):
        raise PricingError(
            f"{what}: expected whole numbers to sum exactly across partitions, got "
            f"{values[values != np.floor(values)][0]!r}"
        )
    return values.astype(np.int64)


def _read(frame: pd.DataFrame, catalogue: Catalogue, on: date) -> _Partition:  # noqa: C901 (each optional column of a partition is checked in turn)
    if "model" not in frame.columns:
        raise PricingError("usage has no 'model' column")
    for name in _CODE_EXECUTION:
        if name in frame.columns and bool((pd.to_numeric(frame[name]).fillna(0) > 0).any()):
            raise PricingError(
                f"{name}: code execution is billed past a monthly free allowance taken over all "
                "of the usage, which one partition cannot see; price it with "
                "costmodel.core.pricing.price_usage on one machine"
            )
    n = len(frame)
    has_results = "result_type" in frame.columns
    if has_results:
        kind_codes, kinds = _labels(frame["result_type"])
        bad = [i for i, kind in enumerate(kinds) if kind not in RESULT_TYPES]
        wrong = np.isin(kind_codes, bad) | (kind_codes < 0)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise PricingError(
                f"result_type: expected one of {', '.join(RESULT_TYPES)} in row "
                f"{frame.index[row]!r}, got {frame['result_type'].iloc[row]!r}"
            )
        code_of = {kind: kinds.index(kind) if kind in kinds else -2 for kind in RESULT_TYPES}
        result = {kind: kind_codes == code for kind, code in code_of.items()}
        billed = result["succeeded"]
    else:
        billed = np.ones(n, dtype=bool)
        result = {kind: np.zeros(n, dtype=bool) for kind in RESULT_TYPES}
        result["succeeded"] = billed
    if "requests" in frame.columns:
        requests = pd.to_numeric(frame["requests"]).to_numpy(dtype="float64", na_value=np.nan)
        if not bool((requests >= 0).all()):
            row = int(np.flatnonzero(~(requests >= 0))[0])
            raise PricingError(
                f"requests: expected a count of 0 or more in row {frame.index[row]!r}, "
                f"got {frame['requests'].iloc[row]!r}"
            )
        whole_requests = _whole(requests, "requests")
    else:
        whole_requests = np.ones(n, dtype=np.int64)

    day_column = next((name for name in _DAY_COLUMNS if name in frame.columns), None)
    day: np.ndarray | None = None
    if day_column is not None:
        # Each distinct day converted once (a hive partition's days arrive as strings).
        day_codes, day_values = _labels(frame[day_column])
        converted = pd.to_datetime(pd.Series(day_values, dtype=object)).to_numpy(
            dtype="datetime64[D]"
        )
        day = np.append(converted, np.datetime64("NaT", "D"))[day_codes]
    if day is not None and bool(np.isnat(day[billed]).any()):
        row = int(np.flatnonzero(np.isnat(day) & billed)[0])
        raise PricingError(f"{day_column}: the usage day is missing in row {frame.index[row]!r}")

    codes, uniques = _labels(frame["model"])
    if bool((codes[billed] < 0).any()):
        row = int(np.flatnonzero((codes < 0) & billed)[0])
        raise PricingError(f"row {frame.index[row]!r}: model is missing")
    known = np.array(
        [
            catalogue.knows(str(name)) and bool(catalogue.model(str(name)).prices)
            for name in uniques
        ],
        dtype=bool,
    )
    ids = np.array(
        [catalogue.resolve(str(name)) if catalogue.knows(str(name)) else name for name in uniques],
        dtype=object,
    )
    first = np.array(
        [
            catalogue.model(str(name)).prices[0].effective_from if ok else date.min
            for name, ok in zip(uniques, known, strict=True)
        ],
        dtype="datetime64[D]",
    )
    safe = np.where(codes < 0, 0, codes)
    model_id: np.ndarray = ids[safe] if len(ids) else np.full(n, None, dtype=object)
    if len(ids):
        model_id[codes < 0] = None
    priced = billed & (codes >= 0)
    if len(uniques):
        priced &= known[safe]
        days = day if day is not None else np.full(n, np.datetime64(on, "D"))
        priced &= ~(days < first[safe])

    # Only the columns pricing reads: taking every column of the rows would copy strings too.
    wanted = [c for c in (*COUNT_COLUMNS, "tier", "inference_geo", "speed") if c in frame.columns]
    rows = frame[wanted].loc[priced]
    tier_default = "batch" if has_results else "standard"
    m = len(rows)
    data: dict[str, Any] = {"model": _from_codes(codes[priced], [str(u) for u in uniques])}
    data["requests"] = whole_requests[priced].astype("float64")
    for name in COUNT_COLUMNS:
        if name in rows.columns:
            data[name] = rows[name].to_numpy(dtype="float64", na_value=np.nan)
    for name, default in (
        ("tier", tier_default),
        ("inference_geo", "global"),
        ("speed", "standard"),
    ):
        data[name] = _categorical(rows[name] if name in rows.columns else None, m, default)
    if day is not None:
        data["date"] = day[priced].astype("datetime64[ns]")
    usage = usage_frame(pd.DataFrame(data, index=rows.index))
    for name in COUNT_COLUMNS:
        _whole(usage[name].to_numpy(dtype="float64"), name)
    return _Partition(billed, priced, model_id, usage, whole_requests, day, result, codes, ids)


def price_partition(frame: pd.DataFrame, catalogue: Catalogue, on: date) -> pd.DataFrame:
    """``frame`` with :data:`PRICED_COLUMNS` added: each row's cost by component at its tier
    (float USD, as :func:`~costmodel.core.pricing.price_usage` gives per row); 0 for rows not billed;
    null for unpriced rows. ``on`` prices rows without a usage day."""
    clash = [name for name in PRICED_COLUMNS if name in frame.columns]
    if clash:
        raise PricingError(f"usage already has the priced column(s) {', '.join(clash)}")
    part = _read(frame, catalogue, on)
    n = len(frame)
    out: dict[str, Any] = {}
    unpriced = part.billed & ~part.priced
    costs = price_usage(part.usage, catalogue, on=on, validate=False) if len(part.usage) else None
    for name in (*COST_COLUMNS, "cost", "cost_contracted"):
        values = np.zeros(n)
        values[unpriced] = np.nan
        if costs is not None:
            source = costs.cost_contracted if name == "cost_contracted" else None
            values[part.priced] = source if source is not None else costs.costs[name].to_numpy()
        out[name] = values
    out["model_id"] = part.model_id
    long_context = np.zeros(n, dtype=bool)
    if costs is not None:
        long_context[part.priced] = costs.costs["long_context"].to_numpy(dtype=bool)
    out["long_context"] = long_context
    out["billed"] = part.billed
    out["priced"] = ~unpriced
    added = pd.DataFrame(out, index=frame.index).astype(PRICED_COLUMNS)
    return pd.concat([frame, added], axis=1)


def _group_codes(
    frame: pd.DataFrame, by: list[str], model_id: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    """A code per row for its group, and the group's values (one row per code)."""
    if not by:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=range(1))
    if MODEL_ID in by:
        # Errored, expired and canceled results carry no model: named as the usage summary does.
        labels = np.where(pd.isna(model_id), NOT_REPORTED, model_id).astype(object)
        keys = frame.assign(**{MODEL_ID: labels})
    else:
        keys = frame
    keys = keys[by]
    codes = keys.groupby(by, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    codes = codes.astype(np.int64)
    _, first = np.unique(codes, return_index=True)
    values = keys.iloc[first].reset_index(drop=True)
    return codes, values


def _empty_tally(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    columns: dict[str, Any] = {
        name: (
            pd.Series(dtype=object)
            if name == MODEL_ID
            else frame[name].iloc[:0].reset_index(drop=True)
        )
        for name in by
    }
    columns.update({name: pd.Series(dtype=kind) for name, kind in TALLY_COLUMNS.items()})
    return pd.DataFrame(columns)


def tally_partition(
    frame: pd.DataFrame, catalogue: Catalogue, on: date, by: list[str]
) -> pd.DataFrame:
    """One partition's integer sums per group (``by``) and price key, and its counts.

    Columns: the ``by`` columns, then :data:`TALLY_COLUMNS`. Rows with ``_basis`` ``billed``
    (at each request's tier) or ``if_sync`` (the same requests at standard rates) are cost
    lines: ``_quantity`` tokens (or web searches) of ``_measure`` (a component) at ``_rate``
    per ``_unit``. Rows with ``_basis`` ``count`` carry :data:`SUMMARY_COUNTS` and
    ``priced_requests`` per group and model, and ``long_context_requests`` per long-context
    threshold. Summing ``_quantity`` over equal keys combines partitions exactly.
    """
    part = _read(frame, catalogue, on)
    codes, values = _group_codes(frame, by, part.model_id)
    pieces: list[pd.DataFrame] = []
    if len(part.usage):
        priced_codes = codes[part.priced]
        billed_usage = part.usage
        sync_usage = part.usage.assign(tier="standard")
        billed = price_usage(billed_usage, catalogue, on=on, validate=False)
        for basis, result in (
            ("billed", billed),
            ("if_sync", price_usage(sync_usage, catalogue, on=on, validate=False)),
        ):
            lines = result.cost_lines(priced_codes)
            if lines.empty:
                continue
            quantity = np.array([Decimal(q) for q in lines["quantity"]], dtype=object)
            whole = np.array([q == q.to_integral_value() for q in quantity], dtype=bool)
            if not whole.all():  # only code execution's shared hours could be, and it is refused
                raise PricingError(f"a {basis} quantity is not a whole number")
            pieces.append(
                pd.DataFrame(
                    {
                        "_group": lines["group"].astype(np.int64),
                        "_model_id": lines["model_id"].astype(object),
                        "_price_from": lines["price_from"].astype(object),
                        "_long_context": lines["long_context"].astype(bool),
                        "_tier": lines["tier"].astype(object),
                        "_geo": lines["inference_geo"].astype(object),
                        "_speed": lines["speed"].astype(object),
                        "_basis": basis,
                        "_measure": lines["component"].astype(object),
                        "_rate": [str(rate) for rate in lines["rate"]],
                        "_unit": lines["unit"].astype(object),
                        "_lc_threshold": np.int64(0),
                        "_quantity": [int(q) for q in quantity],
                    }
                )
            )
        pieces.append(_long_context_counts(part, priced_codes, billed, catalogue, on))
    pieces.append(_counts(frame, part, codes))
    pieces = [piece for piece in pieces if len(piece)]
    if not pieces:
        return _empty_tally(frame, by)
    tally = pd.concat(pieces, ignore_index=True)
    tally = tally.astype({name: TALLY_COLUMNS[name] for name in tally.columns if name != "_group"})
    group_values = values.iloc[tally["_group"].to_numpy()].reset_index(drop=True)
    out = pd.concat([group_values, tally.drop(columns="_group").reset_index(drop=True)], axis=1)
    return out[[*by, *TALLY_COLUMNS]]


def _long_context_counts(
    part: _Partition, priced_codes: np.ndarray, billed: Any, catalogue: Catalogue, on: date
) -> pd.DataFrame:
    """Requests billed at a long-context tier, per group, model and threshold (for the notes)."""
    flags = billed.costs["long_context"].to_numpy(dtype=bool)
    if not flags.any():
        return pd.DataFrame()
    model_codes = part.model_code[part.priced][flags]
    days = (
        part.day[part.priced][flags]
        if part.day is not None
        else np.full(int(flags.sum()), np.datetime64(on, "D"))
    )
    # One catalogue look-up per distinct (model, day), not per request.
    pair = model_codes * 1_000_000 + days.astype(np.int64)
    unique, inverse = np.unique(pair, return_inverse=True)
    thresholds_of = np.empty(len(unique), dtype=np.int64)
    for i, value in enumerate(unique.tolist()):
        code, day = divmod(int(value), 1_000_000)
        model_id = str(part.model_ids[code])
        entry = catalogue.models[model_id].price_on(date.fromordinal(_EPOCH + day))
        assert entry.long_context is not None  # only such entries flag rows long-context
        thresholds_of[i] = entry.long_context.above_prompt_tokens
    ids = part.model_ids[model_codes]
    thresholds = thresholds_of[inverse]
    requests = part.requests[part.priced][flags]
    counted = (
        pd.DataFrame(
            {
                "_group": priced_codes[flags],
                "_model_id": ids,
                "_lc_threshold": np.asarray(thresholds, dtype=np.int64),
                "_quantity": requests,
            }
        )
        .groupby(["_group", "_model_id", "_lc_threshold"], sort=False)["_quantity"]
        .sum()
        .reset_index()
    )
    return _count_rows(counted.assign(_measure="long_context_requests"))


def _counts(frame: pd.DataFrame, part: _Partition, codes: np.ndarray) -> pd.DataFrame:
    """Per group and model: requests by result type, unpriced and priced requests, and the
    succeeded requests' counts of every kind (unpriced ones included, as the summary counts)."""
    n = len(frame)
    requests = part.requests
    data: dict[str, Any] = {"_group": codes, "_model": part.model_code, "requests": requests}
    for kind in RESULT_TYPES:
        data[kind] = np.where(part.result[kind], requests, 0)
    data["unpriced_requests"] = np.where(part.billed & ~part.priced, requests, 0)
    data["priced_requests"] = np.where(part.priced, requests, 0)
    for name in COUNT_COLUMNS:
        values = np.zeros(n, dtype=np.int64)
        if name in frame.columns:
            raw = frame[name].to_numpy(dtype="float64", na_value=0.0)
            billed_values = raw[part.billed]
            if not bool((billed_values >= 0).all()):
                row = int(np.flatnonzero(part.billed & ~(raw >= 0))[0])
                raise PricingError(
                    f"{name}: expected a count of 0 or more in row {frame.index[row]!r}, "
                    f"got {frame[name].iloc[row]!r}"
                )
            values[part.billed] = _whole(billed_values, name) * requests[part.billed]
        data[name] = values
    # One integer key per (group, model) and a bincount per measure: no pandas groupby.
    span = len(part.model_ids) + 1
    key, where = np.unique(codes * span + (part.model_code + 1), return_inverse=True)
    measures = [name for name in data if name not in ("_group", "_model")]
    pieces = []
    for measure in measures:
        sums = np.bincount(where, weights=data[measure], minlength=len(key))
        used = np.flatnonzero(sums)
        if len(used) and float(sums[used].max()) >= 2**53:  # beyond float64's exact integers
            exact = [int(v) for v in pd.Series(data[measure]).groupby(where).sum()]
            sums = np.asarray(exact, dtype=object)
        pieces.append(
            pd.DataFrame(
                {
                    "_group": key[used] // span,
                    "_model": key[used] % span - 1,
                    "_measure": measure,
                    "_quantity": [int(v) for v in sums[used]],
                }
            )
        )
    long = pd.concat(pieces, ignore_index=True)
    names = np.append(np.where(pd.isna(part.model_ids), "", part.model_ids), "").astype(object)
    model_id = names[long["_model"].to_numpy()]  # code -1 (no model) takes the last: ""
    return _count_rows(long.assign(_model_id=model_id, _lc_threshold=np.int64(0)))


def _count_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        _price_from="",
        _long_context=False,
        _tier="",
        _geo="",
        _speed="",
        _basis="count",
        _rate="",
        _unit="",
    )[["_group", *TALLY_COLUMNS]]


@dataclass(frozen=True)
class EngineSummary:
    """Usage priced from a distributed frame: per group, the counts and the cost.

    ``rows``: the ``by`` columns, :data:`SUMMARY_COUNTS`, then ``cost_billed`` (each request at
    its tier, after any contract), ``cost_if_sync`` (the same requests at standard rates) and
    ``savings``: ``Decimal`` USD rounded to the cent so the rows add up to ``totals`` (each the
    exact sum rounded once), ``None`` for a group whose usage could not be priced at all.
    ``lines``: the exact cost lines the figures rest on (integer quantities, ``Decimal`` rates
    and costs, unrounded), with the ``by`` columns (``tier``, ``inference_geo`` or ``speed``
    among them named ``group_<name>``, since a line has its own). ``notes``: what the figures rest on (unpriced models, tiers applied).
    """

    by: tuple[str, ...]
    rows: pd.DataFrame
    totals: dict[str, Any]
    lines: pd.DataFrame
    notes: tuple[str, ...]


_LINE_NAMES: Final = {
    "_model_id": "model_id",
    "_price_from": "price_from",
    "_long_context": "long_context",
    "_tier": "tier",
    "_geo": "inference_geo",
    "_speed": "speed",
    "_basis": "basis",
    "_measure": "component",
    "_quantity": "quantity",
    "_unit": "unit",
}


def finish(tally: pd.DataFrame, by: list[str], catalogue: Catalogue) -> EngineSummary:
    """Price the combined tally (``_quantity`` summed over equal keys, in any order) exactly."""
    tally = tally.reset_index(drop=True)
    group_keys = _group_keys(tally, by)
    tally = tally.assign(_key=group_keys)
    order = list(dict.fromkeys(group_keys))
    first = tally.drop_duplicates("_key")
    values = dict(zip(first["_key"], first[by].to_dict(orient="records"), strict=True))

    lines = tally[tally["_basis"] != "count"]
    with localcontext() as context:
        context.prec = 40
        rates = [Decimal(rate) for rate in lines["_rate"]]
        costs = [
            Decimal(int(q)) * rate / _PER[unit]
            for q, rate, unit in zip(lines["_quantity"], rates, lines["_unit"], strict=True)
        ]
        contracted = [
            cost * catalogue.contract_factor(str(model), str(tier))
            for cost, model, tier in zip(costs, lines["_model_id"], lines["_tier"], strict=True)
        ]
    exact: dict[str, dict[int, Decimal]] = {"billed": {}, "if_sync": {}}
    for key, basis, amount in zip(lines["_key"], lines["_basis"], contracted, strict=True):
        exact[basis][key] = exact[basis].get(key, Decimal(0)) + amount

    counts = tally[tally["_basis"] == "count"]
    per_group = (
        counts.pivot_table(
            index="_key", columns="_measure", values="_quantity", aggfunc="sum", fill_value=0
        )
        if len(counts)
        else pd.DataFrame()
    )
    rows: list[dict[str, Any]] = []
    priced_keys: list[int] = []
    measured: dict[Any, dict[Any, Any]] = per_group.to_dict(orient="index")
    for key in order:
        row: dict[str, Any] = dict(values[key]) if by else {}
        counted = measured.get(key, {})
        for name in SUMMARY_COUNTS:
            row[name] = int(counted.get(name, 0))
        # Priced: some of its usage was priced, or none of it was unpriced (then it costs 0).
        if int(counted.get("priced_requests", 0)) > 0 or not row["unpriced_requests"]:
            priced_keys.append(key)
        rows.append(row)
    money: dict[str, dict[int, Decimal]] = {}
    totals: dict[str, Any] = {name: sum(r[name] for r in rows) for name in SUMMARY_COUNTS}
    for column, basis in (("cost_billed", "billed"), ("cost_if_sync", "if_sync")):
        parts = [exact[basis].get(key, Decimal(0)) for key in priced_keys]
        total = quantize_cents(sum(parts, Decimal(0)))
        money[column] = dict(zip(priced_keys, allocate_cents(parts, total), strict=True))
        totals[column] = total
    totals["savings"] = totals["cost_if_sync"] - totals["cost_billed"]
    for key, row in zip(order, rows, strict=True):
        billed_cents = money["cost_billed"].get(key)
        sync_cents = money["cost_if_sync"].get(key)
        row["cost_billed"] = billed_cents
        row["cost_if_sync"] = sync_cents
        row["savings"] = (
            None if billed_cents is None or sync_cents is None else sync_cents - billed_cents
        )
    frame = pd.DataFrame(
        rows, columns=[*by, *SUMMARY_COUNTS, "cost_billed", "cost_if_sync", "savings"]
    )
    if by:
        frame = frame.sort_values(by, na_position="last", kind="stable").reset_index(drop=True)

    # A grouping column named like a line column: model_id holds the same value and is kept
    # once; tier, inference_geo and speed (the user's, which the if-sync lines do not share)
    # become group_<name>.
    groups = lines[by].rename(columns={n: f"group_{n}" for n in by if n in _LINE_NAMES.values()})
    if MODEL_ID in by:
        groups = groups.drop(columns=f"group_{MODEL_ID}")
    line_frame = pd.concat(
        [groups, lines[list(_LINE_NAMES)].rename(columns=_LINE_NAMES)], axis=1
    ).reset_index(drop=True)
    line_frame["quantity"] = line_frame["quantity"].astype(np.int64)
    line_frame = line_frame.assign(
        rate=pd.Series(rates, dtype=object),
        cost=pd.Series(costs, dtype=object),
        cost_contracted=pd.Series(contracted, dtype=object),
    )
    return EngineSummary(tuple(by), frame, totals, line_frame, tuple(_notes(counts, catalogue)))


def _group_keys(tally: pd.DataFrame, by: list[str]) -> list[int]:
    """An integer code per tally row for its group (nulls equal to nulls)."""
    if not by:
        return [0] * len(tally)
    codes = tally.groupby(by, dropna=False, sort=False, observed=True).ngroup()
    return [int(code) for code in codes.to_numpy()]


def _notes(counts: pd.DataFrame, catalogue: Catalogue) -> list[str]:
    notes = [
        "Token counts and costs cover billed requests (succeeded, where the usage has a "
        "result_type); errored, canceled and expired requests are counted and not billed. "
        "If sync: the same requests at standard rates."
    ]
    unpriced = counts[counts["_measure"] == "unpriced_requests"]
    if len(unpriced):
        per_model = unpriced.groupby("_model_id")["_quantity"].sum()
        listed = ", ".join(f"{model} ({int(n):,} requests)" for model, n in per_model.items())
        notes.append(
            f"Unpriced, not in the totals: {listed}: unknown to the catalogue, without a "
            "published price, or used before the model's first price."
        )
    tiers = counts[counts["_measure"] == "long_context_requests"]
    if len(tiers):
        per_tier = tiers.groupby(["_model_id", "_lc_threshold"])["_quantity"].sum()
        counted: dict[tuple[str, int], float] = {}
        for (model, threshold), requests in zip(
            per_tier.index.tolist(), per_tier.tolist(), strict=True
        ):
            counted[(str(model), int(threshold))] = float(requests)
        notes.extend(long_context_notes(counted))
    if catalogue.contract is not None:
        notes.append(f"Costs are contracted prices from {catalogue.contract.source}.")
    return notes
