"""Hypothesis strategies shared by the test modules: usage rows, workloads, scenarios.

Model names default to the bundled catalogue's models that have every token rate published
for today, so that anything drawn here can be priced without an ``UnpricedError``; pass
``models=`` to narrow or widen that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.core.catalogue import RATE_FIELDS, Catalogue
from costmodel.core.scenario import (
    INFERENCE_GEOS,
    PERIODS,
    Business,
    Currency,
    Scenario,
    Volume,
    Workload,
)
from costmodel.core.usage import TIERS
from costmodel.errors import UnpricedError

__all__ = [
    "businesses",
    "counts",
    "currencies",
    "priced_models",
    "scenarios",
    "token_counts",
    "usage_rows",
    "volumes",
    "workload_names",
    "workloads",
]


# Strategies never read the clock: models are those priced on this day unless told otherwise.
PINNED_DAY = date(2026, 11, 24)


def priced_models(
    catalogue: Catalogue | None = None, *, on: date | None = None, web_search: bool = False
) -> list[str]:
    """Ids of models with every token rate (and, if asked, a web-search fee) on ``on``."""
    catalogue = catalogue or bundled_catalogue()
    found = []
    for model_id, model in sorted(catalogue.models.items()):
        try:
            entry = model.price_on(on or PINNED_DAY)
        except UnpricedError:
            continue
        if any(getattr(entry.rates, name) is None for name in RATE_FIELDS):
            continue
        if web_search and entry.web_search_per_1k is None:
            continue
        found.append(model_id)
    return found


def counts(max_value: float = 1e6) -> st.SearchStrategy[float]:
    """A non-negative count, whole or fractional (means per request need not be whole)."""
    return st.one_of(
        st.integers(0, int(max_value)).map(float),
        st.floats(0, max_value, allow_nan=False, allow_infinity=False),
    )


def token_counts(max_tokens: int = 150_000) -> st.SearchStrategy[float]:
    """Mean tokens per request; the default stays under every long-context threshold."""
    return counts(max_tokens)


def usage_rows(
    models: Sequence[str] | None = None,
    *,
    tiers: Sequence[str] = TIERS,
    max_tokens: int = 40_000,
    cache: bool = True,
    web_search: bool = False,
) -> st.SearchStrategy[dict[str, object]]:
    """One row of a usage frame (see ``costmodel.core.usage``) as a dict.

    ``max_tokens`` bounds each token column; four of them at the default stay under the
    smallest long-context threshold (100K), so cost is linear in every count.
    """
    names = list(models) if models is not None else priced_models(web_search=web_search)
    zero = st.just(0.0)
    return st.fixed_dictionaries(
        {
            "model": st.sampled_from(names),
            "requests": counts(10_000),
            "input_tokens": token_counts(max_tokens),
            "output_tokens": token_counts(max_tokens),
            "cache_write_5m_tokens": token_counts(max_tokens) if cache else zero,
            "cache_write_1h_tokens": token_counts(max_tokens) if cache else zero,
            "cache_read_tokens": token_counts(max_tokens) if cache else zero,
            "web_search_requests": counts(10) if web_search else zero,
            "tier": st.sampled_from(list(tiers)),
        }
    )


def workload_names() -> st.SearchStrategy[str]:
    """Names as people write them, including ones YAML would read as numbers or booleans."""
    return st.one_of(
        st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
        st.sampled_from(["2025", "yes", "null", "~", "1e6", "Live chat", "naïve – café"]),
    )


def volumes(max_count: float = 1e6) -> st.SearchStrategy[Volume]:
    return st.builds(Volume, counts(max_count), st.sampled_from(PERIODS))


def workloads(
    models: Sequence[str] | None = None,
    *,
    name: st.SearchStrategy[str] | None = None,
    max_tokens: int = 40_000,
) -> st.SearchStrategy[Workload]:
    """A valid workload; every token kind is drawn, so pass models that price them all."""
    names = list(models) if models is not None else priced_models()
    return st.builds(
        Workload,
        name=name if name is not None else workload_names(),
        model=st.sampled_from(names),
        requests=volumes(100_000),
        input_tokens=token_counts(max_tokens),
        output_tokens=token_counts(max_tokens),
        cache_write_tokens=token_counts(max_tokens),
        cache_write_1h_tokens=token_counts(max_tokens),
        cache_read_tokens=token_counts(max_tokens),
        web_search_requests=st.just(0.0),
        batch_share=st.floats(0, 1),
        inference_geo=st.sampled_from(INFERENCE_GEOS),
    ).map(_servable_geo)


def _servable_geo(workload: Workload) -> Workload:
    """US-only inference only on models that offer it: elsewhere the API answers HTTP 400 and
    pricing says so (tested in tests/test_pricing.py)."""
    model = bundled_catalogue().models.get(workload.model)
    if model is not None and not any("us" in entry.inference_geo for entry in model.prices):
        return replace(workload, inference_geo="global")
    return workload


def businesses() -> st.SearchStrategy[Business]:
    return st.builds(
        Business,
        revenue=st.floats(1, 1e8),
        other_cogs=counts(1e7),
        customers=st.none() | st.integers(1, 100_000).map(float),
    )


def currencies() -> st.SearchStrategy[Currency]:
    return st.builds(
        Currency,
        code=st.sampled_from(["EUR", "GBP", "AUD", "JPY"]),
        per_usd=st.decimals(Decimal("0.0001"), Decimal("1000"), places=4),
        as_of=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
        source=st.sampled_from(["", "ECB", "finance team"]),
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
    models: Sequence[str] | None = None,
    *,
    max_workloads: int = 4,
    max_tokens: int = 40_000,
) -> Scenario:
    """A valid scenario with uniquely named workloads, priceable on its ``price_date``."""
    price_date = draw(st.none() | st.just(bundled_catalogue().checked))
    if models is None:
        models = priced_models(on=price_date)
    names = draw(st.lists(workload_names(), min_size=1, max_size=max_workloads, unique=True))
    drawn = tuple(
        draw(workloads(models, name=st.just(name), max_tokens=max_tokens)) for name in names
    )
    return Scenario(
        name=draw(workload_names()),
        workloads=drawn,
        days_per_month=draw(st.sampled_from([30.0, 30.4375, 31.0, 28.0])),
        business=draw(st.none() | businesses()),
        description=draw(st.sampled_from(["", "A scenario."])),
        currency=draw(st.none() | currencies()),
        price_date=price_date,
    )
