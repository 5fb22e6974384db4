"""Stored request rows generated in bulk, as a data lake holds them: the engine tests and benchmark.

:func:`request_table` makes ``n`` rows with the store's request columns
(:data:`costmodel.adapters.ingest.REQUEST_COLUMNS`) and ``usage_date``, vectorised (numpy and Arrow
compute, no Python loop per row), so a benchmark can write 100 million rows in chunks of
bounded size. Seeded: the same arguments give the same rows.

The mix covers what pricing must get right at scale: several models (a snapshot id among them)
and one the catalogue does not know (``claude-unknown-9``: unpriced, never $0), errored,
expired and canceled requests (counted with zero tokens, never billed), prompts either side of
the 200K long-context threshold, cache writes and reads, web searches, US-only inference where
the model offers it, and, with ``tiers=True``, a ``tier`` column mixing standard and batch
requests with some fast-mode ones. The days default to two weeks of March 2026, when the
long-context tiers still applied and a price entry changes (2026-03-13) inside the span.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MODELS", "UNPRICED_MODEL", "request_table"]

UNPRICED_MODEL: Final = "claude-unknown-9"
# (model as reported, share of succeeded requests, offers US-only inference and fast mode)
MODELS: Final = (
    ("claude-sonnet-4-5-20250929", 0.30, False),
    ("claude-haiku-4-5", 0.30, False),
    ("claude-opus-4-6", 0.20, True),
    ("claude-sonnet-4-6", 0.15, False),
    (UNPRICED_MODEL, 0.05, False),
)
_JOBS: Final = ("triage", "summaries", "extract")
_RESULTS: Final = (("succeeded", 0.94), ("errored", 0.03), ("expired", 0.02), ("canceled", 0.01))


def _choice(rng: np.random.Generator, n: int, shares: list[float]) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=np.asarray(shares) / sum(shares)).astype(np.int32)


def request_table(
    n: int,
    *,
    seed: int = 0,
    start: date = date(2026, 3, 5),
    days: int = 14,
    tiers: bool = False,
    offset: int = 0,
) -> pa.Table:
    """``n`` request rows; ``offset`` numbers them on from an earlier chunk (unique custom ids).

    One batch per day (``msgbatch_<day>``); custom ids are ``<job>-<number>``. With
    ``tiers=True`` a ``tier`` column (standard or batch) is added, ``service_tier`` follows it,
    and some standard requests on ``claude-opus-4-6`` run in fast mode.
    """
    rng = np.random.default_rng([seed, offset])
    result = _choice(rng, n, [share for _, share in _RESULTS])
    succeeded = result == 0
    model = _choice(rng, n, [share for _, share, _ in MODELS])
    day = rng.integers(0, days, size=n)

    # Prompts: mostly a few thousand tokens, 3% near the 200K threshold, either side of it.
    long = rng.random(n) < 0.03
    input_tokens = np.where(
        long,
        rng.integers(150_000, 260_000, size=n),
        rng.lognormal(7.5, 0.9, size=n).astype(np.int64),
    )
    output_tokens = rng.lognormal(5.8, 0.8, size=n).astype(np.int64)
    caching = rng.random(n) < 0.4
    write_5m = np.where(caching & (rng.random(n) < 0.5), rng.integers(0, 4_000, size=n), 0)
    write_1h = np.where(caching & (rng.random(n) < 0.2), rng.integers(0, 8_000, size=n), 0)
    cache_read = np.where(caching, rng.integers(0, 30_000, size=n), 0)
    searches = np.where(rng.random(n) < 0.1, rng.integers(1, 4, size=n), 0)
    counts = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_write_5m_tokens": write_5m,
        "cache_write_1h_tokens": write_1h,
        "cache_read_tokens": cache_read,
        "web_search_requests": searches,
    }
    counts = {
        name: np.where(succeeded, values, 0).astype(np.int64) for name, values in counts.items()
    }

    offers_us = np.array([us for _, _, us in MODELS])[model]
    us = succeeded & offers_us & (rng.random(n) < 0.3)
    # Some usage objects predate the geo field: null, which the API's default (global) fills.
    geo_code = np.where(us, 1, np.where(rng.random(n) < 0.1, 2, 0))
    batch = np.ones(n, dtype=bool) if not tiers else rng.random(n) < 0.5
    fast = tiers & succeeded & offers_us & ~batch & (rng.random(n) < 0.2)

    numbers = pa.array(np.arange(offset, offset + n, dtype=np.int64)).cast(pa.string())
    job = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(_JOBS), size=n)), _JOBS)
    custom_id = pc.binary_join_element_wise(job.cast(pa.string()), numbers, "-")
    day_numbers = (np.datetime64(start, "D").astype(np.int64) + day).astype(np.int32)
    usage_date = pa.array(day_numbers, type=pa.int32()).cast(pa.date32())
    batch_of_day = [f"msgbatch_{(start + timedelta(days=i)).isoformat()}" for i in range(days)]
    created = pa.array(
        day_numbers.astype(np.int64) * 86_400_000_000 + 9 * 3_600_000_000, type=pa.timestamp("us")
    )
    ended = pa.array(
        day_numbers.astype(np.int64) * 86_400_000_000 + 10 * 3_600_000_000, type=pa.timestamp("us")
    )
    errored = result == 1

    def labels(
        codes: np.ndarray, values: Sequence[str | None], mask: np.ndarray | None = None
    ) -> pa.Array:
        array = pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=mask), pa.array(values, type=pa.string())
        )
        return array.cast(pa.string())

    columns: dict[str, pa.Array] = {
        "batch_id": labels(day, batch_of_day),
        "custom_id": custom_id,
        "result_type": labels(result, [name for name, _ in _RESULTS]),
        "error_type": labels(np.zeros(n, dtype=np.int32), ["overloaded_error"], ~errored),
        "model": labels(model, [name for name, _, _ in MODELS], ~succeeded),
        "input_tokens": pa.array(counts["input_tokens"]),
        "output_tokens": pa.array(counts["output_tokens"]),
        "cache_creation_input_tokens": pa.array(
            counts["cache_write_5m_tokens"] + counts["cache_write_1h_tokens"]
        ),
        "cache_write_5m_tokens": pa.array(counts["cache_write_5m_tokens"]),
        "cache_write_1h_tokens": pa.array(counts["cache_write_1h_tokens"]),
        "cache_read_tokens": pa.array(counts["cache_read_tokens"]),
        "web_search_requests": pa.array(counts["web_search_requests"]),
        "web_fetch_requests": pa.array(np.zeros(n, dtype=np.int64)),
        "service_tier": labels(batch.astype(np.int32), ["standard", "batch"], ~succeeded),
        "inference_geo": labels(geo_code, ["global", "us", None], ~succeeded | (geo_code == 2)),
        "speed": labels(fast.astype(np.int32), ["standard", "fast"], ~succeeded),
        "batch_created_at": created,
        "batch_ended_at": ended,
        "usage_date": usage_date,
    }
    if tiers:
        columns["tier"] = labels(batch.astype(np.int32), ["standard", "batch"])
    return pa.table(columns)
