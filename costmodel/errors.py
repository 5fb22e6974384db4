"""Typed errors whose messages are written for the person reading them.

The library raises these; the CLI prints ``str(error)`` as one line and exits non-zero, and the
dashboard shows the same text in the page. A message names the file, line and field where they
are known, and says what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ApiError",
    "CatalogueError",
    "CostModelError",
    "IngestError",
    "InvalidArgumentError",
    "PricingError",
    "ScenarioError",
    "StoreError",
    "UnknownModelError",
    "UnpricedError",
]


class CostModelError(Exception):
    """Base of every error costmodel raises on purpose."""

    exit_code = 1


def located(
    message: str,
    *,
    file: str | Path | None = None,
    line: int | None = None,
    field: str | None = None,
) -> str:
    """Prefix ``message`` with ``file:line: field:`` as far as they are known."""
    where = ""
    if file is not None:
        where = str(file)
        if line is not None:
            where += f":{line}"
        where += ": "
    if field:
        where += f"{field}: "
    return where + message


class CatalogueError(CostModelError):
    """The price catalogue (bundled or a user's price file) is malformed."""


class UnknownModelError(CostModelError):
    """A model name that no catalogue entry or alias matches."""

    def __init__(self, model: str, suggestions: Iterable[str] = (), *, context: str = "") -> None:
        self.model = model
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        prefix = f"{context}: " if context else ""
        super().__init__(
            f"{prefix}unknown model {model!r}{hint} (`costmodel prices` lists the known models)"
        )


class UnpricedError(CostModelError):
    """A known model with no price for the date, tier or mode asked for."""


class PricingError(CostModelError):
    """Usage that cannot be priced as given (negative counts, fast mode in a batch, ...)."""


class ScenarioError(CostModelError):
    """A scenario file that cannot be read or does not validate.

    ``problems`` holds every problem found, each already located, so the user can fix them all
    in one go; ``str()`` is the first of them plus a count of the rest.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        first = self.problems[0] if self.problems else "invalid scenario"
        more = len(self.problems) - 1
        super().__init__(
            first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        )


class InvalidArgumentError(CostModelError, ValueError):
    """A library call given a value outside what it accepts (a share above 1, a non-finite
    amount, an unknown output format). A ``ValueError`` too, so callers that catch the built-in
    keep working."""


class IngestError(CostModelError):
    """A batch results file or API stream that cannot be imported."""


class StoreError(CostModelError):
    """The usage store cannot be opened or written."""


class ApiError(CostModelError):
    """The Anthropic API refused or failed a request, after the SDK's own retries."""
