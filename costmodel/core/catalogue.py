"""The price catalogue: dated, sourced per-model rates loaded from data, never written in code.

Pure: the model only (entries, rates on a date, resolving ids, contracts). Reading the bundled
catalogue (``costmodel/data/anthropic.yaml``) and users' price files is
:mod:`costmodel.adapters.catalogue_files`; :meth:`Catalogue.with_contract` lays a price file's
discounts over the catalogue, after which every cost has a list figure and a contracted figure.

Rates are kept as :class:`decimal.Decimal` exactly as published, in USD per million tokens. Each
model has a price history: an entry holds from its ``from`` date (inclusive) until the next
entry's ``from`` (exclusive), so history is repriced at the rates of its day.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Final

from costmodel.errors import CatalogueError, UnknownModelError, UnpricedError

__all__ = [
    "RATE_FIELDS",
    "STALE_AFTER_DAYS",
    "Catalogue",
    "CodeExecutionRule",
    "Contract",
    "LongContextTier",
    "ModelEntry",
    "PartnerEndpoint",
    "PriceEntry",
    "Rates",
]

# Token rate fields, in the order costs are reported; the unit is in the name.
RATE_FIELDS: Final = (
    "input_mtok",
    "output_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "cache_read_mtok",
)
_ENTRY_FIELDS: Final = frozenset(
    {
        *RATE_FIELDS,
        "from",
        "source",
        "checked",
        "third_party",
        "note",
        "long_context",
        "inference_geo",
        "fast_multiplier",
        "fast_mode",
        "fast_waives_long_context",
        "max_prompt_tokens",
        "web_search_per_1k",
    }
)
_MODEL_FIELDS: Final = frozenset(
    {
        "name",
        "aliases",
        "status",
        "prices",
        "note",
        "retired",
        "unpriced",
        "source",
        "partner_regional_premium",
    }
)
_STATUSES: Final = ("active", "deprecated", "retired", "private")
# What a model does with `speed: "fast"` when an entry has no fast_multiplier.
_FAST_MODES: Final = ("standard_rates", "rejected")
# A pricing day this long after the catalogue's `checked` date gets a note that prices may be stale.
STALE_AFTER_DAYS: Final = 30
_SNAPSHOT_SUFFIX = re.compile(r"(?:-|@)(\d{8})$")
_BEDROCK = re.compile(r"^(?:(us|eu|apac|global|jp|au)\.)?anthropic\.(.+?)(?:-v\d+(?::\d+)?)?$")


@dataclass(frozen=True)
class Rates:
    """USD per million tokens for each kind of token; ``None`` where no price was published."""

    input_mtok: Decimal | None
    output_mtok: Decimal | None
    cache_write_5m_mtok: Decimal | None = None
    cache_write_1h_mtok: Decimal | None = None
    cache_read_mtok: Decimal | None = None

    def as_tuple(self) -> tuple[Decimal | None, ...]:
        return tuple(getattr(self, name) for name in RATE_FIELDS)


@dataclass(frozen=True)
class LongContextTier:
    """Rates that apply to *every* token of a request whose prompt exceeds ``above_prompt_tokens``.

    The prompt is uncached input plus cache writes plus cache reads, as Anthropic counts it.
    """

    above_prompt_tokens: int
    rates: Rates


@dataclass(frozen=True)
class PriceEntry:
    """One model's rates from ``effective_from`` (inclusive) to ``effective_to`` (exclusive)."""

    effective_from: date
    effective_to: date | None
    rates: Rates
    source: str
    checked: date | None
    third_party: frozenset[str] = frozenset()
    long_context: LongContextTier | None = None
    inference_geo: Mapping[str, Decimal] = field(default_factory=dict)
    fast_multiplier: Decimal | None = None
    # Without a multiplier: "standard_rates" (fast requests run and bill at standard rates) or
    # "rejected" (the API refuses them); neither: fast usage is unpriced.
    fast_mode: str | None = None
    # Fast mode billed at its multiplier over the whole window, with no long-context tier.
    fast_waives_long_context: bool = False
    # Prompts over this many tokens are refused by the API on this model and day.
    max_prompt_tokens: int | None = None
    web_search_per_1k: Decimal | None = None
    note: str = ""

    def holds_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    aliases: tuple[str, ...]
    status: str
    prices: tuple[PriceEntry, ...]
    note: str = ""
    retired_on: date | None = None
    # Why a model the catalogue knows has no prices (then ``prices`` is empty).
    unpriced: str = ""
    source: str = ""
    # Bedrock/Vertex regional endpoints carry a premium over global ones for this model.
    partner_regional_premium: bool = False

    def price_on(self, day: date) -> PriceEntry:
        if not self.prices:
            raise UnpricedError(f"{self.id} ({self.name}) cannot be priced: {self.unpriced}")
        for entry in self.prices:
            if entry.holds_on(day):
                return entry
        first = self.prices[0].effective_from
        raise UnpricedError(
            f"{self.id} has no price on {day.isoformat()} (its first price is from "
            f"{first.isoformat()})"
        )

    @property
    def third_party(self) -> bool:
        return any(entry.third_party for entry in self.prices)


@dataclass(frozen=True)
class Contract:
    """A user's negotiated terms: a price factor per (model id, tier), from a price file."""

    name: str
    source: str
    as_of: date | None
    factors: Mapping[tuple[str, str], Decimal]

    def factor(self, model_id: str, tier: str) -> Decimal:
        return self.factors.get(
            (model_id, tier),
            self.factors.get(
                (model_id, "*"),
                self.factors.get(("*", tier), self.factors.get(("*", "*"), Decimal(1))),
            ),
        )


@dataclass(frozen=True)
class CodeExecutionRule:
    """Code execution's time charge: per container-hour past a monthly free allowance.

    It is free for requests that also use web search or web fetch; batch does not discount it.
    """

    per_container_hour: Decimal
    free_hours_per_month: Decimal
    source: str


@dataclass(frozen=True)
class PartnerEndpoint:
    """How a Bedrock or Vertex AI model id names its endpoint."""

    platform: str
    endpoint: str  # "global", "regional" or "unknown" (a Vertex id does not say)


@dataclass(frozen=True)
class Catalogue:
    """An immutable set of priced models with the rules that hold across them."""

    models: Mapping[str, ModelEntry]
    batch_multiplier: Decimal
    batch_discounts_web_search: bool
    checked: date
    source: str
    contract: Contract | None = None
    code_execution: CodeExecutionRule | None = None
    partner_regional_multiplier: Decimal | None = None
    partner_source: str = ""
    _aliases: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        aliases: dict[str, str] = {}
        for model in self.models.values():
            for name in (model.id, *model.aliases):
                owner = aliases.setdefault(name, model.id)
                if owner != model.id:
                    raise CatalogueError(
                        f"{self.source}: {name!r} names both {owner} and {model.id}"
                    )
        object.__setattr__(self, "_aliases", aliases)

    # -- lookup -------------------------------------------------------------------------------
    def resolve(self, name: str, *, context: str = "") -> str:
        """The catalogue id a model name refers to, as usage data writes it.

        Exact ids and listed aliases first; then the forms providers add around an id: a dated
        snapshot suffix (``-20250929``, Vertex's ``@20250929``) and Bedrock's
        ``us.anthropic.<id>-v1:0``. Never a fuzzy match: an unknown name is an error with the
        closest known names as suggestions.
        """
        found = self._lookup(name)
        if found is None:
            raise UnknownModelError(name, self.suggest(name), context=context)
        return found

    def _lookup(self, name: str) -> str | None:
        name = name.strip()
        if name in self._aliases:
            return self._aliases[name]
        candidate = name
        bedrock = _BEDROCK.match(candidate)
        if bedrock:
            candidate = bedrock.group(2)
            if candidate in self._aliases:
                return self._aliases[candidate]
        stripped = _SNAPSHOT_SUFFIX.sub("", candidate)
        if stripped != candidate and stripped in self._aliases:
            return self._aliases[stripped]
        return None

    def knows(self, name: str) -> bool:
        return self._lookup(name) is not None

    def partner_endpoint(self, name: str) -> PartnerEndpoint | None:
        """The partner platform and endpoint kind a model name is written for, if any.

        A name the catalogue lists exactly (an id, an alias, a private model in a price file)
        is taken at its word; otherwise Bedrock's ``[geo.]anthropic.<id>`` and Vertex AI's
        ``<id>@<date>`` forms are partner ids. Bedrock's ``global.`` profile is the global
        endpoint; its other prefixes and bare in-region ids are regional. A Vertex id does not
        say which endpoint served it.
        """
        name = name.strip()
        if name in self._aliases:
            return None
        bedrock = _BEDROCK.match(name)
        if bedrock:
            return PartnerEndpoint(
                "Amazon Bedrock", "global" if bedrock.group(1) == "global" else "regional"
            )
        if "@" in name:
            return PartnerEndpoint("Google Cloud Vertex AI", "unknown")
        return None

    def prices_may_be_stale(self, on: date) -> bool:
        """Whether ``on`` is more than :data:`STALE_AFTER_DAYS` days after ``checked``."""
        return (on - self.checked).days > STALE_AFTER_DAYS

    def stale_note(self, on: date) -> str | None:
        """The note every output carries when pricing on ``on`` may rest on stale prices."""
        if not self.prices_may_be_stale(on):
            return None
        return (
            f"Prices may be stale: the catalogue was last checked on "
            f"{self.checked.isoformat()}, more than {STALE_AFTER_DAYS} days before "
            f"{on.isoformat()}; check Anthropic's pricing page for changes since."
        )

    def suggest(self, name: str, n: int = 3) -> list[str]:
        names = sorted(self._aliases)
        return difflib.get_close_matches(name, names, n=n, cutoff=0.5)

    def model(self, name: str) -> ModelEntry:
        return self.models[self.resolve(name)]

    def rates_for(self, name: str, on: date) -> PriceEntry:
        return self.model(name).price_on(on)

    def contract_factor(self, model_id: str, tier: str) -> Decimal:
        return Decimal(1) if self.contract is None else self.contract.factor(model_id, tier)

    # -- overlays -----------------------------------------------------------------------------
    def with_contract(
        self, contract: Contract, private_models: Iterable[ModelEntry] = ()
    ) -> Catalogue:
        """This catalogue with a user's negotiated factors and private models laid over it."""
        models = dict(self.models)
        for model in private_models:
            models[model.id] = model
        for model_id, _tier in contract.factors:
            if model_id != "*" and model_id not in models:
                raise UnknownModelError(model_id, self.suggest(model_id), context=contract.source)
        return replace(self, models=models, contract=contract, _aliases={})
