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
    "prompt_tokens",
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
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    if "model" not in frame.columns:
        raise PricingError("usage has no 'model' column")
    for column, default in _DEFAULTS.items():
        if column not in frame.columns:
            frame[column] = default
        elif isinstance(default, str):
            frame[column] = frame[column].fillna(default)
    for column in ("requests", *COUNT_COLUMNS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    # Cache and server-tool counts are optional per row (most requests have none); the counts
    # every request has (input, output) stay NaN when missing so validation names them.
    for column in COUNT_COLUMNS[2:]:
        frame[column] = frame[column].fillna(0.0)
    validate_usage(frame)
    return frame


def validate_usage(frame: pd.DataFrame) -> None:
    """Raise :class:`PricingError` naming the column and row of the first bad value."""
    for column in ("requests", *COUNT_COLUMNS):
        values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isnan(values) | (values < 0) | np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            label = frame.index[row]
            raise PricingError(
                f"{column}: expected a count of 0 or more in row {label!r}, "
                f"got {frame[column].iloc[row]!r}"
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


def equals(column: pd.Series, value: str) -> np.ndarray:
    """``column == value`` as a boolean array, without turning millions of labels into strings.

    Categorical columns compare their integer codes; others use pandas' vectorised equality.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return column.cat.codes.to_numpy() == categories.get_loc(value)
    return (column == value).to_numpy(dtype=bool, na_value=False)


def prompt_tokens(frame: pd.DataFrame) -> np.ndarray:
    """Total prompt size per request: uncached input plus cache writes plus cache reads.

    This is the quantity Anthropic compares against a model's long-context threshold.
    """
    return (
        frame["input_tokens"].to_numpy(dtype="float64")
        + frame["cache_write_5m_tokens"].to_numpy(dtype="float64")
        + frame["cache_write_1h_tokens"].to_numpy(dtype="float64")
        + frame["cache_read_tokens"].to_numpy(dtype="float64")
    )
