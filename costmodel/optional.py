"""The optional parts of costmodel, and the one line a user sees when one is not installed.

``pip install costmodel`` gives the pricing library and the scenario commands; the usage store,
the API pull and the dashboard need extras (see pyproject.toml). Each import site of an extra's
package goes through :func:`require`, so a missing package is a one-line error naming the extra
to install rather than a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from costmodel.errors import CostModelError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(CostModelError):
    """A feature whose packages (an extra of costmodel) are not installed."""

    def __init__(self, module: str, extra: str, feature: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs the {module.split('.')[0]} package, which is not installed: "
            f"pip install 'costmodel[{extra}]'"
        )


_FEATURES = {
    "store": "the usage store",
    "api": "pulling usage from the API",
    "dashboard": "the dashboard",
}


def require(module: str, *, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``costmodel[extra]``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        # Only the module asked for (or its parent package) counts as "not installed"; a
        # broken install that is missing something else deeper down stays a real error.
        if error.name is None or not module.startswith(error.name):
            raise
        raise MissingExtraError(module, extra, _FEATURES.get(extra, extra)) from None
