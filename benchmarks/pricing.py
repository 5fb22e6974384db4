"""Benchmark: price 10 million requests with the vectorised engine against a per-request loop.

The baseline prices requests one at a time in a Python loop over the same catalogue (model
resolved, dated entry looked up, tier chosen, every token kind priced, modifiers applied), the
way a straightforward implementation would. The loop runs on a sample (it would take minutes
on all 10M) and its rate is scaled to the full size; both figures are printed with the ratio.

    python benchmarks/pricing.py [--requests 10000000] [--loop-sample 200000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

import numpy as np
import pandas as pd

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.core.catalogue import RATE_FIELDS
from costmodel.core.pricing import price_usage
from costmodel.core.usage import TOKEN_COLUMNS, usage_frame

MODELS = [
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5",
    "claude-opus-4-6",
    "claude-3-5-sonnet",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
]
DAY = date(2026, 11, 24)


def generate(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = _draw(rng, n)
    # As the API would have served them on DAY: US-only inference only on the models that offer
    # it (others answer HTTP 400), and Sonnet 4.5 prompts within its 200K limit.
    catalogue = bundled_catalogue()
    no_us = [m for m in MODELS if "us" not in catalogue.rates_for(m, DAY).inference_geo]
    frame.loc[frame["model"].isin(no_us), "inference_geo"] = "global"
    sonnet = (frame["model"] == "claude-sonnet-4-5-20250929").to_numpy()
    frame.loc[sonnet, "input_tokens"] = np.minimum(frame.loc[sonnet, "input_tokens"], 130_000)
    return frame


def _draw(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return usage_frame(
        pd.DataFrame(
            {
                "model": pd.Categorical(rng.choice(MODELS, n), categories=MODELS),
                "requests": np.ones(n),
                "input_tokens": rng.integers(0, 150_000, n).astype("float64"),
                "output_tokens": rng.integers(0, 4_000, n).astype("float64"),
                "cache_write_5m_tokens": (rng.integers(0, 4_000, n) * (rng.random(n) < 0.3)).astype(
                    "float64"
                ),
                "cache_write_1h_tokens": (rng.integers(0, 4_000, n) * (rng.random(n) < 0.2)).astype(
                    "float64"
                ),
                "cache_read_tokens": (rng.integers(0, 60_000, n) * (rng.random(n) < 0.5)).astype(
                    "float64"
                ),
                "web_search_requests": 0.0,
                "tier": pd.Categorical(np.where(rng.random(n) < 0.6, "batch", "standard")),
                "inference_geo": pd.Categorical(np.where(rng.random(n) < 0.1, "us", "global")),
                # categorical, as the store's frames are: few distinct labels, many rows
                "speed": pd.Categorical(np.full(n, "standard")),
            }
        )
    )


def loop_price(frame: pd.DataFrame) -> float:
    """The baseline: one request at a time, same catalogue, same rules."""
    catalogue = bundled_catalogue()
    batch = float(catalogue.batch_multiplier)
    total = 0.0
    columns = ["model", *TOKEN_COLUMNS, "tier", "inference_geo"]
    for model, *tokens, tier, geo in frame[columns].itertuples(index=False, name=None):
        entry = catalogue.rates_for(model, DAY)
        rates = entry.rates
        if (
            entry.long_context
            and tokens[0] + sum(tokens[2:]) > entry.long_context.above_prompt_tokens
        ):
            rates = entry.long_context.rates
        multiplier = batch if tier == "batch" else 1.0
        if geo == "us":
            multiplier *= float(entry.inference_geo.get("us", 1))
        for count, field in zip(tokens, RATE_FIELDS, strict=True):
            if count:
                total += count * float(getattr(rates, field)) * multiplier / 1e6
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--loop-sample", type=int, default=200_000)
    args = parser.parse_args()

    frame = generate(args.requests)
    catalogue = bundled_catalogue()
    price_usage(frame.head(1000), catalogue, on=DAY)  # warm caches and imports

    timings = []
    for _ in range(3):
        start = time.perf_counter()
        total = price_usage(frame, catalogue, on=DAY, validate=False).total
        timings.append(time.perf_counter() - start)
    vector_seconds = min(timings)

    sample = frame.head(args.loop_sample)
    start = time.perf_counter()
    loop_total = loop_price(sample)
    loop_seconds_sample = time.perf_counter() - start
    loop_seconds = loop_seconds_sample * args.requests / len(sample)

    engine_sample = price_usage(sample, catalogue, on=DAY).total
    agree = abs(engine_sample - loop_total) < 0.005
    ratio = loop_seconds / vector_seconds
    print(f"requests priced:              {args.requests:,}")
    print(f"total (list price):           ${total:,.2f}")
    print(
        f"vectorised engine:            {vector_seconds:.3f} s  "
        f"({args.requests / vector_seconds / 1e6:.1f} M requests/s, best of 3)"
    )
    print(
        f"per-request Python loop:      {loop_seconds:.1f} s  "
        f"(measured {loop_seconds_sample:.2f} s on {len(sample):,}, scaled)"
    )
    print(f"loop and engine agree on the sample to the cent: {agree}")
    print(f"speed-up: {ratio:.0f}x (target: at least 100x)")
    return 0 if ratio >= 100 and agree else 1


if __name__ == "__main__":
    sys.exit(main())
