"""Typed rows of a pandas frame.

pandas-stubs types every field of ``DataFrame.itertuples`` as the whole scalar union
(``str | bytes | date | ... | None``): a frame's columns are not part of its static type. The
module that builds a frame knows them, so each reader names the fields it uses in a Protocol
and declares its loop variable with it::

    row: WorkloadRow
    for row in frame_rows(run.workloads):
        ...

The Protocol is the one place the frame's columns are stated for the type checker, instead of a
``float()`` or ``str()`` around each field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pandas as pd


def frame_rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The frame's rows as named tuples (``itertuples(index=False)``), for a Protocol-typed loop."""
    return iter(frame.itertuples(index=False))


def object_column(frame: pd.DataFrame, values: Iterable[object]) -> pd.Series:
    """``values`` as a column of ``frame`` (object dtype, on the frame's index), for figures that
    are not numpy scalars: ``Decimal`` amounts, or "unpriced" beside them.

    pandas-stubs accepts only scalars and arrays on the right of ``frame[column] = ...``; a
    Series on the frame's own index is what a list assignment builds anyway.
    """
    return pd.Series(list(values), index=frame.index, dtype=object)


def with_total(frame: pd.DataFrame, total: Mapping[str, object]) -> pd.DataFrame:
    """``frame`` with its total row appended (columns the total leaves out are empty), on a
    fresh 0..n index: the one way every table gets its "Total" line."""
    return pd.concat([frame, pd.DataFrame([dict(total)])], ignore_index=True)
