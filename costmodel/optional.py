"""The optional parts of costmodel, and the one line a user sees when one is not installed.

``pip install costmodel`` gives the pricing library and the scenario commands; the usage store,
the API pull and the dashboard need extras (see pyproject.toml). Each import site of an extra's
package goes through :func:`require`, so a missing package is a one-line error naming the extra
to install rather than a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from costmodel.errors import CostModelError

__all__ = ["EXTRAS", "MissingExtraError", "require", "require_extra"]


class MissingExtraError(CostModelError):
    """A feature whose packages (an extra of costmodel) are not installed."""

    def __init__(self, module: str, extra: str, feature: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs the {module.split('.')[0]} package, which is not installed: "
            f"pip install 'costmodel[{extra}]'"
        )


# The packages each extra adds (kept in step with pyproject.toml; tests/test_packaging.py checks).
EXTRAS: dict[str, tuple[str, ...]] = {
    "store": ("duckdb", "pyarrow"),
    "api": ("anthropic", "tqdm", "duckdb", "pyarrow"),
    "dashboard": ("streamlit", "plotly", "duckdb", "pyarrow"),
    "report": ("xlsxwriter", "plotly", "duckdb", "pyarrow"),
    "dask": ("dask", "distributed"),
    "spark": ("pyspark", "pyarrow"),
}

_FEATURES = {
    "store": "the usage store",
    "api": "pulling usage from the API",
    "dashboard": "the dashboard",
    "report": "the finance report",
    "dask": "pricing with Dask",
    "spark": "pricing with Spark",
}


def require(module: str, *, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``costmodel[extra]``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        # Only the module asked for (or its parent package) counts as "not installed"; a
        # broken install that is missing something else deeper down stays a real error.
        if error.name is None or not (module == error.name or module.startswith(error.name + ".")):
            raise
        raise MissingExtraError(module, extra, _FEATURES.get(extra, extra)) from None


def require_extra(extra: str) -> None:
    """Raise :class:`MissingExtraError` unless every package of ``extra`` is installed.

    Looks the packages up without importing them, so a command can check before doing any work
    and the check costs next to nothing.
    """
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(module, extra, _FEATURES.get(extra, extra))
