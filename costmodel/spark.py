"""Price usage where it lies, with Spark: a Spark DataFrame of requests in, costs out.

Needs ``pip install 'costmodel[spark]'`` (PySpark; Spark 4 runs on Java 17 or later). The
frame holds usage-frame columns or the store's request columns, as a Parquet export of the
store has them (see :mod:`costmodel.core.partitions` for which columns are read)::

    from pyspark.sql import SparkSession
    from costmodel import spark as cmspark

    session = SparkSession.builder.getOrCreate()
    requests = session.read.parquet("lake/requests/")
    priced = cmspark.price(requests)                        # lazy, via mapInArrow
    summary = cmspark.summarise(requests, by="usage_date")  # collects; exact to the cent

Each Arrow batch Spark hands a Python worker is priced by the same engine as one machine's
pricing (:func:`costmodel.core.pricing.price_usage`), with no pandas conversion on Spark's side.
:func:`summarise` sums integer token counts per batch by every price key and the grouping,
lets Spark add those sums up (``groupBy().sum()``), collects the few combined rows and
multiplies them by the catalogue's ``Decimal`` rates on the driver: its totals equal
``costmodel usage summary`` over the same requests to the cent.

The catalogue is a small frozen object, pickled with the function Spark ships to its workers.

Where ``catalogue`` is None the bundled catalogue is loaded, and where ``on`` is None rows
without a usage day are priced at today's rates: both are read here, at the adapter's edge.
The Python workers must be able to import costmodel and pyarrow (set ``PYSPARK_PYTHON`` to
the interpreter that has them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Final

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
from costmodel.errors import CostModelError, PricingError, UnpricedError
from costmodel.optional import require

__all__ = ["price", "summarise"]

_WORKER_ERROR: Final = re.compile(
    r"^(?:costmodel\.errors\.)?(PricingError|UnpricedError|UnknownModelError): (.+)$", re.M
)


def _modules() -> tuple[Any, Any, Any]:
    """pyspark.sql.types, pyspark.sql.functions and pyarrow, or the one-line install message."""
    types = require("pyspark.sql.types", extra="spark")
    functions = require("pyspark.sql.functions", extra="spark")
    arrow = require("pyarrow", extra="spark")
    return types, functions, arrow


def _spark_type(types: Any, kind: str) -> Any:
    return {
        "float64": types.DoubleType(),
        "object": types.StringType(),
        "bool": types.BooleanType(),
        "int64": types.LongType(),
    }[kind]


def _empty_frame(schema: Any) -> pd.DataFrame:
    """A frame with no rows and the columns of ``schema``, for the checks run on the driver."""
    return pd.DataFrame({field.name: pd.Series(dtype=object) for field in schema.fields})


def price(df: Any, catalogue: Catalogue | None = None, on: date | None = None) -> Any:
    """``df`` with the priced columns added (lazy, via ``mapInArrow``).

    The same columns as :func:`costmodel.dask.price`: ``cost_input`` ...
    ``cost_code_execution``, ``cost``, ``cost_contracted`` (double USD), ``model_id``,
    ``long_context``, ``billed`` and ``priced`` (False for a model the catalogue cannot price,
    whose costs are null, never $0). For sums people read, use :func:`summarise`.

    ``catalogue``: default the bundled one. ``on``: the pricing day of rows without a usage
    day (``date`` or ``usage_date``); default today, read here. An error in the data (say a
    negative count) surfaces when the frame is computed, inside Spark's error.
    """
    types, _, arrow = _modules()
    chosen = catalogue if catalogue is not None else bundled_catalogue()
    day = on or date.today()
    price_partition(_empty_frame(df.schema), chosen, day)  # the column checks, on the driver
    added = [(name, _spark_type(types, kind)) for name, kind in PRICED_COLUMNS.items()]
    schema = types.StructType(
        [*df.schema.fields, *(types.StructField(name, kind, True) for name, kind in added)]
    )
    arrow_types = {"float64": arrow.float64(), "object": arrow.string(), "bool": arrow.bool_()}

    def priced(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            out = price_partition(batch.to_pandas(), chosen, day)
            columns = [
                arrow.array(out[name].to_numpy(), type=arrow_types[kind], from_pandas=True)
                for name, kind in PRICED_COLUMNS.items()
            ]
            yield arrow.RecordBatch.from_arrays(
                [*batch.columns, *columns], names=[*batch.schema.names, *PRICED_COLUMNS]
            )

    return df.mapInArrow(priced, schema)


def summarise(
    df: Any,
    by: str | Sequence[str] | None = None,
    catalogue: Catalogue | None = None,
    on: date | None = None,
) -> EngineSummary:
    """Requests, tokens and exact cost per group of ``by`` (runs one Spark job and collects).

    As :func:`costmodel.dask.summarise`: ``by`` names column(s) of ``df`` or ``"model_id"``;
    the result's rows carry requests by result type, unpriced requests, token counts and
    ``cost_billed``, ``cost_if_sync`` and ``savings`` in ``Decimal`` USD, rounded once so the
    rows add up to the totals. A costmodel error raised on a worker (a negative count, fast
    mode with batch...) is raised here as that one-line error.

    ``catalogue``: default the bundled one. ``on``: the pricing day of rows without a usage
    day; default today, read here.
    """
    types, functions, arrow = _modules()
    chosen = catalogue if catalogue is not None else bundled_catalogue()
    day = on or date.today()
    names = check_by(list(df.columns), by)
    tally_partition(_empty_frame(df.schema), chosen, day, names)  # the checks, on the driver
    fields = {field.name: field for field in df.schema.fields}
    schema = types.StructType(
        [
            types.StructField(name, types.StringType(), True)
            if name == MODEL_ID
            else types.StructField(name, fields[name].dataType, True)
            for name in names
        ]
        + [
            types.StructField(name, _spark_type(types, kind), True)
            for name, kind in TALLY_COLUMNS.items()
        ]
    )
    arrow_schema = require("pyspark.sql.pandas.types", extra="spark").to_arrow_schema(schema)

    def tallied(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            tally = tally_partition(batch.to_pandas(), chosen, day, names)
            yield arrow.RecordBatch.from_pandas(tally, schema=arrow_schema, preserve_index=False)

    keys = [*names, *TALLY_KEYS]
    summed = (
        df.mapInArrow(tallied, schema)
        .groupBy(*keys)
        .agg(functions.sum("_quantity").alias("_quantity"))
    )
    errors = require("pyspark.errors", extra="spark")
    try:
        rows = summed.collect()
    except errors.PythonException as error:
        raise _from_worker(error) from None
    frame = pd.DataFrame([row.asDict() for row in rows], columns=[*keys, "_quantity"])
    return finish(frame, names, chosen)


def _from_worker(error: Exception) -> Exception:
    """A costmodel error a Python worker raised, as the one-line error it was (else as is)."""
    found = _WORKER_ERROR.findall(str(error))
    if not found:
        return error
    kind, message = found[-1]
    chosen: type[CostModelError] = UnpricedError if kind == "UnpricedError" else PricingError
    return chosen(message.strip())
