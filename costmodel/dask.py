"""Price usage where it lies, with Dask: a Dask DataFrame of requests in, costs out.

Needs ``pip install 'costmodel[dask]'``. The frame holds usage-frame columns or the store's
request columns, as a Parquet export of the store has them (see :mod:`costmodel.core.partitions` for
exactly which columns are read and what an absent one means)::

    import dask.dataframe as dd
    from costmodel import dask as cmdask

    requests = dd.read_parquet("lake/requests/")            # e.g. hive-partitioned by usage_date
    priced = cmdask.price(requests)                          # lazy: one task per partition
    summary = cmdask.summarise(requests, by="model_id")      # computes; exact to the cent
    summary.totals["cost_billed"]

Each partition is priced by the same engine as one machine's pricing
(:func:`costmodel.core.pricing.price_usage`). :func:`summarise` sums integer token counts per
partition by every price key and the grouping, combines the sums with Dask's tree reduction,
and multiplies the few combined sums by the catalogue's ``Decimal`` rates on the client: its
totals equal ``costmodel usage summary`` (and :meth:`~costmodel.core.pricing.PricedUsage.cost_lines`
over the same rows) to the cent, however the data is partitioned.

The catalogue is a small frozen object: it goes into the task graph once, as one key that every
task depends on, rather than once per task.

Where ``catalogue`` is None the bundled catalogue is loaded, and where ``on`` is None rows
without a usage day are priced at today's rates: both are read here, at the adapter's edge
(the pricing core takes them as arguments and reads no clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.core.catalogue import Catalogue
from costmodel.core.partitions import (
    MODEL_ID,
    PRICED_COLUMNS,
    TALLY_COLUMNS,
    TALLY_KEYS,
    EngineSummary,
    check_by,
    finish,
    price_partition,
    tally_partition,
)
from costmodel.optional import require

__all__ = ["price", "summarise"]


def _shipped(catalogue: Catalogue | None) -> tuple[Catalogue, Any]:
    """The catalogue, and it as one Delayed key of the graph (pickled once, not per task)."""
    dask = require("dask", extra="dask")
    require("dask.dataframe", extra="dask")
    chosen = catalogue if catalogue is not None else bundled_catalogue()
    return chosen, dask.delayed(chosen, pure=True)


def _meta(ddf: Any) -> pd.DataFrame:
    meta = ddf._meta
    if not isinstance(meta, pd.DataFrame):
        raise TypeError(f"expected a Dask DataFrame, got {type(ddf).__name__}")
    return meta


def price(ddf: Any, catalogue: Catalogue | None = None, on: date | None = None) -> Any:
    """``ddf`` with the priced columns added (lazy, one task per partition).

    The columns :func:`costmodel.core.pricing.price_usage` gives per row, ``cost_input`` ...
    ``cost_code_execution``, ``cost``, ``cost_contracted`` (float USD), ``model_id`` and
    ``long_context``, plus ``billed`` (a succeeded request) and ``priced`` (False for a model
    the catalogue cannot price, whose costs are null, never $0). For sums people read, use
    :func:`summarise`: float costs per row are for charts and filters, not for totals.

    ``catalogue``: default the bundled one. ``on``: the pricing day of rows without a usage
    day (``date`` or ``usage_date``); default today, read here.
    """
    chosen, shipped = _shipped(catalogue)
    meta = _meta(ddf)
    price_partition(meta, chosen, on or date.today())  # the column checks, before any task runs
    declared = meta.assign(
        **{name: pd.Series(dtype=kind, index=meta.index) for name, kind in PRICED_COLUMNS.items()}
    )
    return ddf.map_partitions(price_partition, shipped, on or date.today(), meta=declared)


def _tally_meta(meta: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    columns: dict[str, Any] = {
        name: pd.Series(dtype=object) if name == MODEL_ID else meta[name].iloc[:0] for name in by
    }
    columns.update({name: pd.Series(dtype=kind) for name, kind in TALLY_COLUMNS.items()})
    return pd.DataFrame({name: column.reset_index(drop=True) for name, column in columns.items()})


def summarise(
    ddf: Any,
    by: str | Sequence[str] | None = None,
    catalogue: Catalogue | None = None,
    on: date | None = None,
    *,
    split_every: int = 8,
) -> EngineSummary:
    """Requests, tokens and exact cost per group of ``by`` (computes the frame once).

    ``by``: column name(s) of ``ddf`` (a day, a batch, a job column...) or ``"model_id"``, the
    catalogue's id of each request's model; None gives one row. Returns a
    :class:`~costmodel.core.partitions.EngineSummary`: per group, requests by result type, unpriced
    requests, token counts, ``cost_billed`` (each request at its tier), ``cost_if_sync`` and
    ``savings`` in ``Decimal`` USD rounded once, so the rows add up to the totals.
    ``split_every``: partitions combined per step of the reduction.

    ``catalogue``: default the bundled one. ``on``: the pricing day of rows without a usage
    day; default today, read here.
    """
    chosen, shipped = _shipped(catalogue)
    meta = _meta(ddf)
    names = check_by(list(meta.columns), by)
    day = on or date.today()
    tally_partition(meta, chosen, day, names)  # the column checks, before any task runs
    tallies = ddf.map_partitions(
        tally_partition, shipped, day, names, meta=_tally_meta(meta, names)
    )
    summed = (
        tallies.groupby([*names, *TALLY_KEYS], dropna=False, observed=True)["_quantity"]
        .sum(split_every=split_every, split_out=1)
        .reset_index()
    )
    return finish(summed.compute(), names, chosen)
