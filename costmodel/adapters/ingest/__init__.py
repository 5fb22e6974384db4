"""Measured usage in: Message Batches results, from saved files or pulled through the API.

Both sources produce the same *request rows*, one per results line, with the columns of
:data:`REQUEST_COLUMNS` (the store keeps them as they are; :meth:`costmodel.adapters.store.Store.usage_frame`
turns the succeeded ones into the usage frame the pricing engine reads):

batch_id                     str        the Message Batch the line belongs to
custom_id                    str        the request's id within its batch (unique there)
result_type                  str        succeeded | errored | canceled | expired
error_type                   str|null   for errored lines: ``result.error.error.type``
model                        str|null   ``message.model`` (null unless succeeded)
input_tokens                 int        uncached input (0 unless succeeded, as every count)
output_tokens                int        output, thinking included
cache_creation_input_tokens  int        all cache writes, as the API totals them
cache_write_5m_tokens        int        ``cache_creation.ephemeral_5m_input_tokens``
cache_write_1h_tokens        int        ``cache_creation.ephemeral_1h_input_tokens``
cache_read_tokens            int        ``cache_read_input_tokens``
web_search_requests          int        ``server_tool_use.web_search_requests``
web_fetch_requests           int        ``server_tool_use.web_fetch_requests``
service_tier                 str|null   as the usage object says (``batch`` for batch results)
inference_geo                str|null   ``global`` / ``us`` where the API reports it
speed                        str|null   ``standard`` / ``fast`` where the API reports it
batch_created_at             timestamp  UTC; from the batch object when pulled, null or given
batch_ended_at               timestamp  when imported from a file

Errored, canceled and expired lines are kept (they are counted) with zero tokens: they are
never billed.

Importing this package is cheap: the readers (DuckDB, pyarrow) and the SDK adapter
(``anthropic``) load only when :func:`read_results` or :func:`pull` is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

# The row schema lives in a neutral module that the store imports too.
from costmodel.core.usage_rows import REQUEST_COLUMNS, RESULT_TYPES, TOKEN_COUNT_COLUMNS

__all__ = [
    "REQUEST_COLUMNS",
    "RESULT_TYPES",
    "TOKEN_COUNT_COLUMNS",
    "PullReport",
    "ResultsFile",
    "Validation",
    "batch_id_for",
    "pull",
    "read_results",
]

_EXPORTS = {
    "ResultsFile": "costmodel.adapters.ingest.files",
    "Validation": "costmodel.adapters.ingest.files",
    "batch_id_for": "costmodel.adapters.ingest.files",
    "read_results": "costmodel.adapters.ingest.files",
    "PullReport": "costmodel.adapters.ingest.batches",
    "pull": "costmodel.adapters.ingest.batches",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costmodel.adapters.ingest' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
