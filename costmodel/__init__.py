"""costmodel: what your Claude inference really costs, and what batch does to your margin.

The public API (``costmodel.__all__``), by question:

- one response's cost: :func:`cost_of` -> :class:`CostOf` (its :class:`CostLine` components);
- scenarios: :func:`load_scenario`, :func:`run_scenario`, :func:`compare_scenarios`,
  :func:`diff_scenarios`, :func:`validate_scenarios`;
- the catalogue: :func:`load_catalogue`, :func:`bundled_catalogue`, :func:`load_price_file`,
  :func:`rates_on`, :func:`resolve_model`, :func:`price_list`;
- usage frames: :func:`usage_frame`, :func:`price_usage` -> :class:`PricedUsage`;
- the usage store: :func:`open_store` -> :class:`Store`, :func:`summarise_usage`,
  :func:`calibrate_scenario`;
- output: :func:`render_result` (table, JSON, CSV, markdown);
- errors: :class:`CostModelError` and its subclasses.

Names load lazily, so ``import costmodel`` stays cheap: the CLI's start-up time matters, and
pandas, DuckDB, the SDK, Streamlit and Plotly are imported only by the modules that need them,
on first use. Type checkers see the real names through the ``TYPE_CHECKING`` imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from costmodel.adapters.catalogue_files import (
        bundled_catalogue,
        load_catalogue,
        load_price_file,
    )
    from costmodel.adapters.store import Store, open_store
    from costmodel.core.catalogue import Catalogue, PriceEntry
    from costmodel.core.pricing import PricedUsage, price_usage
    from costmodel.core.results import (
        Comparison,
        PriceList,
        ScenarioDiff,
        ScenarioRun,
        ValidationReport,
    )
    from costmodel.core.scenario import Scenario
    from costmodel.core.usage import usage_frame
    from costmodel.errors import (
        ApiError,
        CatalogueError,
        CostModelError,
        IngestError,
        PricingError,
        ScenarioError,
        StoreError,
        UnknownModelError,
        UnpricedError,
    )
    from costmodel.shells.costing import CostLine, CostOf, cost_of
    from costmodel.shells.library import (
        calibrate_scenario,
        compare_scenarios,
        diff_scenarios,
        load_scenario,
        price_list,
        rates_on,
        render_result,
        resolve_model,
        run_scenario,
        summarise_usage,
        validate_scenarios,
    )

# Public name -> the module that defines it (imported on first access).
_EXPORTS: dict[str, str] = {
    # one response
    "cost_of": "costmodel.shells.costing",
    "CostOf": "costmodel.shells.costing",
    "CostLine": "costmodel.shells.costing",
    # scenarios
    "load_scenario": "costmodel.shells.library",
    "run_scenario": "costmodel.shells.library",
    "compare_scenarios": "costmodel.shells.library",
    "diff_scenarios": "costmodel.shells.library",
    "validate_scenarios": "costmodel.shells.library",
    "Scenario": "costmodel.core.scenario",
    "ScenarioRun": "costmodel.core.results",
    "Comparison": "costmodel.core.results",
    "ScenarioDiff": "costmodel.core.results",
    "ValidationReport": "costmodel.core.results",
    # the catalogue
    "Catalogue": "costmodel.core.catalogue",
    "PriceEntry": "costmodel.core.catalogue",
    "bundled_catalogue": "costmodel.adapters.catalogue_files",
    "load_catalogue": "costmodel.adapters.catalogue_files",
    "load_price_file": "costmodel.adapters.catalogue_files",
    "rates_on": "costmodel.shells.library",
    "resolve_model": "costmodel.shells.library",
    "price_list": "costmodel.shells.library",
    "PriceList": "costmodel.core.results",
    # usage frames
    "usage_frame": "costmodel.core.usage",
    "price_usage": "costmodel.core.pricing",
    "PricedUsage": "costmodel.core.pricing",
    # the store
    "open_store": "costmodel.adapters.store",
    "Store": "costmodel.adapters.store",
    "summarise_usage": "costmodel.shells.library",
    "calibrate_scenario": "costmodel.shells.library",
    # output
    "render_result": "costmodel.shells.library",
    # errors
    "CostModelError": "costmodel.errors",
    "ApiError": "costmodel.errors",
    "CatalogueError": "costmodel.errors",
    "IngestError": "costmodel.errors",
    "PricingError": "costmodel.errors",
    "ScenarioError": "costmodel.errors",
    "StoreError": "costmodel.errors",
    "UnknownModelError": "costmodel.errors",
    "UnpricedError": "costmodel.errors",
}

__all__ = [
    "ApiError",
    "Catalogue",
    "CatalogueError",
    "Comparison",
    "CostLine",
    "CostModelError",
    "CostOf",
    "IngestError",
    "PriceEntry",
    "PriceList",
    "PricedUsage",
    "PricingError",
    "Scenario",
    "ScenarioDiff",
    "ScenarioError",
    "ScenarioRun",
    "Store",
    "StoreError",
    "UnknownModelError",
    "UnpricedError",
    "ValidationReport",
    "__version__",
    "bundled_catalogue",
    "calibrate_scenario",
    "compare_scenarios",
    "cost_of",
    "diff_scenarios",
    "load_catalogue",
    "load_price_file",
    "load_scenario",
    "open_store",
    "price_list",
    "price_usage",
    "rates_on",
    "render_result",
    "resolve_model",
    "run_scenario",
    "summarise_usage",
    "usage_frame",
    "validate_scenarios",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costmodel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
