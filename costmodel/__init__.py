"""costmodel: what your Claude inference really costs, and what batch does to your margin.

The public API is re-exported here lazily, so ``import costmodel`` stays cheap: the CLI's
start-up time matters, and the heavy libraries (streamlit, plotly, anthropic) are imported only
by the modules that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Catalogue": "costmodel.core.catalogue",
    "bundled_catalogue": "costmodel.adapters.catalogue_files",
    "load_catalogue": "costmodel.adapters.catalogue_files",
    "load_price_file": "costmodel.adapters.catalogue_files",
    "price_usage": "costmodel.core.pricing",
    "PricedUsage": "costmodel.core.pricing",
    "usage_frame": "costmodel.core.usage",
    "CostModelError": "costmodel.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costmodel' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
