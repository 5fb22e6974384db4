"""The usage frame: the one shape every source of usage hands the pricing engine.

A scenario workload, a row of a batch results file and a row of the store all become rows of a
``pandas.DataFrame`` with these columns. Token counts follow Anthropic's usage object, where
``input_tokens`` is the *uncached* input only; cache writes (split by TTL) and cache reads are
counted apart and priced at their own rates, so nothing is counted twice.

Columns
-------
model                  str   the model as the source writes it (snapshot ids and aliases are fine)
requests               float how many requests the row stands for (1 for a measured request; a
                             monthly volume for a scenario workload)
input_tokens           float uncached input tokens per request
output_tokens          float output tokens per request (thinking included, as the API bills it)
cache_write_5m_tokens  float 5-minute cache writes per request
cache_write_1h_tokens  float 1-hour cache writes per request
cache_read_tokens      float cache reads per request
web_search_requests    float server-side web searches per request
tier                   str   "standard" (synchronous Messages API) or "batch" (Message Batches API)
inference_geo          str   "global" (default) or "us" (US-only inference; a surcharge on
                             some models)
speed                  str   "standard" or "fast" (fast mode; never with batch)
date                   datetime64 optional: the day of the usage, for effective-dated prices

Counts are per request so that per-request thresholds (the long-context tier) can be applied
before multiplying by ``requests``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from costmodel.errors import PricingError

__all__ = [
    "COUNT_COLUMNS",
    "TIERS",
    "TOKEN_COLUMNS",
    "USAGE_COLUMNS",
    "equals",
    "usage_frame",
    "validate_usage",
]

TOKEN_COLUMNS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
)
COUNT_COLUMNS: Final = (*TOKEN_COLUMNS, "web_search_requests")
USAGE_COLUMNS: Final = ("model", "requests", *COUNT_COLUMNS, "tier", "inference_geo", "speed")
TIERS: Final = ("standard", "batch")
SPEEDS: Final = ("standard", "fast")

_DEFAULTS: Final[dict[str, object]] = {
    "requests": 1.0,
    **{column: 0.0 for column in COUNT_COLUMNS},
    "tier": "standard",
    "inference_geo": "global",
    "speed": "standard",
}


def usage_frame(rows: list[dict[str, object]] | pd.DataFrame) -> pd.DataFrame:
    """Build a validated usage frame, filling optional columns with their defaults.

    >>> frame = usage_frame([{"model": "claude-sonnet-4-5", "input_tokens": 1000}])
    >>> frame.loc[0, "tier"], float(frame.loc[0, "output_tokens"])
    ('standard', 0.0)
    """
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows
    if "model" not in frame.columns:
        raise PricingError("usage has no 'model' column")
    n = len(frame)
    # Built column by column into one dict and framed once: assigning columns one at a time
    # costs more than the pricing itself for the few rows of a scenario.
    data: dict[str, object] = {name: frame[name] for name in frame.columns}
    for column, default in _DEFAULTS.items():
        if column not in frame.columns:
            data[column] = np.full(n, default, dtype=object if isinstance(default, str) else None)
        elif isinstance(default, str):
            given = frame[column]
            if given.isna().any():
                data[column] = given.fillna(default)
    for column in ("requests", *COUNT_COLUMNS):
        values = data[column]
        if isinstance(values, pd.Series) and not pd.api.types.is_float_dtype(values.dtype):
            values = pd.to_numeric(values, errors="coerce")
        array = np.asarray(values, dtype="float64")
        # Cache and server-tool counts are optional per row (most requests have none); the
        # counts every request has (input, output) stay NaN when missing, so validation names them.
        if column in COUNT_COLUMNS[2:]:
            array = np.where(np.isnan(array), 0.0, array)
        data[column] = array
    result = pd.DataFrame(data, index=frame.index)
    validate_usage(result)
    return result


def validate_usage(frame: pd.DataFrame) -> None:
    """Raise :class:`PricingError` naming the column and row of the first bad value."""
    numeric = ("requests", *COUNT_COLUMNS)
    values = np.column_stack([frame[c].to_numpy(dtype="float64", na_value=np.nan) for c in numeric])
    bad = ~(values >= 0) | np.isinf(values)  # NaN fails ">= 0" too
    if bad.any():
        which, position = divmod(int(np.flatnonzero(bad.T)[0]), len(frame))  # first column first
        column = numeric[which]
        raise PricingError(
            f"{column}: expected a count of 0 or more in row {frame.index[position]!r}, "
            f"got {frame[column].iloc[position]!r}"
        )
    for column, allowed in (("tier", TIERS), ("speed", SPEEDS)):
        good = np.zeros(len(frame), dtype=bool)
        for value in allowed:
            good |= equals(frame[column], value)
        if not good.all():
            position = int(np.flatnonzero(~good)[0])
            raise PricingError(
                f"{column}: expected one of {', '.join(allowed)} in row {frame.index[position]!r}, "
                f"got {frame[column].iloc[position]!r}"
            )
    fast_batch = equals(frame["speed"], "fast") & equals(frame["tier"], "batch")
    if fast_batch.any():
        label = frame.index[int(np.flatnonzero(fast_batch)[0])]
        raise PricingError(
            f"row {label!r}: fast mode is not available with the Message Batches API"
        )


_SMALL: Final = 4096


def equals(column: pd.Series, value: str) -> np.ndarray:
    """``column == value`` as a boolean array, without turning millions of labels into strings.

    Categorical columns compare their integer codes; others use pandas' vectorised equality,
    except for a few rows (a scenario's), where its fixed cost per call dominates and plain
    Python objects compare faster.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        matches: np.ndarray = column.cat.codes.to_numpy() == categories.get_loc(value)
        return matches
    if len(column) <= _SMALL:
        return np.array([item == value for item in column.tolist()], dtype=bool)
    return (column == value).to_numpy(dtype=bool, na_value=False)
