"""The stored request row: its columns and types, and the groupings the store is asked for.

A neutral module (no DuckDB, no pandas) that both the readers (:mod:`costmodel.adapters.ingest`) and
the store (:mod:`costmodel.adapters.store`) import, so neither owns the other's schema. The columns are
described in :mod:`costmodel.adapters.ingest`.

Also here, as plain data that the store turns into SQL: how requests group into *jobs*
(:class:`JobRule`) and the price bands a summary groups by (:class:`PriceBand`), so callers
never pass SQL to the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from costmodel.core.jobs import JobRule  # re-exported: the rule the rows are grouped by

__all__ = [
    "AGGREGATE_BY",
    "REQUEST_COLUMNS",
    "RESULT_TYPES",
    "TOKEN_COUNT_COLUMNS",
    "JobRule",
    "PriceBand",
]

RESULT_TYPES: Final = ("succeeded", "errored", "canceled", "expired")

# Column -> DuckDB type. The order is the order of every chunk and of the store's table.
REQUEST_COLUMNS: Final[dict[str, str]] = {
    "batch_id": "VARCHAR",
    "custom_id": "VARCHAR",
    "result_type": "VARCHAR",
    "error_type": "VARCHAR",
    "model": "VARCHAR",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "cache_creation_input_tokens": "BIGINT",
    "cache_write_5m_tokens": "BIGINT",
    "cache_write_1h_tokens": "BIGINT",
    "cache_read_tokens": "BIGINT",
    "web_search_requests": "BIGINT",
    "web_fetch_requests": "BIGINT",
    "service_tier": "VARCHAR",
    "inference_geo": "VARCHAR",
    "speed": "VARCHAR",
    "batch_created_at": "TIMESTAMP",
    "batch_ended_at": "TIMESTAMP",
}
TOKEN_COUNT_COLUMNS: Final = tuple(
    name for name, kind in REQUEST_COLUMNS.items() if kind == "BIGINT"
)
# What an aggregate can be grouped by besides the price key (see Store.usage_aggregates).
AGGREGATE_BY: Final = ("batch", "job", "day")


@dataclass(frozen=True)
class PriceBand:
    """One price entry of one model name as the store groups by it.

    Requests with ``result_type`` succeeded, ``model == name`` and a usage day in
    ``[valid_from, valid_to)`` (``valid_to`` None: open) fall in band ``number``; the store
    flags each such request whose prompt (uncached input + cache writes + cache reads) is
    over ``long_context_above`` tokens (None: the entry has no long-context tier).
    """

    number: int
    name: str
    valid_from: date
    valid_to: date | None
    long_context_above: int | None
