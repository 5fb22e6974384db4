"""Loading the price catalogue and users' price files (the file-reading half of the catalogue).

The bundled catalogue is ``costmodel/data/anthropic.yaml``; its header documents every key. A
user's price file (a negotiated discount, a private model) is laid over it with
:func:`load_price_file` (:meth:`costmodel.core.catalogue.Catalogue.with_contract`), after which
every cost has a list figure and a contracted figure. The model itself, rates on a date and
resolving ids, is :mod:`costmodel.core.catalogue`, which reads nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from costmodel.adapters.user_files import line_of, load_yaml, read_yaml, shown_key, shown_value
from costmodel.core.catalogue import (
    _ENTRY_FIELDS,
    _FAST_MODES,
    _MODEL_FIELDS,
    _STATUSES,
    RATE_FIELDS,
    Catalogue,
    CodeExecutionRule,
    Contract,
    LongContextTier,
    ModelEntry,
    PriceEntry,
    Rates,
)
from costmodel.errors import CatalogueError, located

if TYPE_CHECKING:
    from costmodel.core.scenario import Scenario

__all__ = ["bundled_catalogue", "catalogue_for", "load_catalogue", "load_price_file"]


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CatalogueError(f"{where}: expected a number, got {shown_value(value)}")
    try:
        # str() first: a YAML float such as 0.3 must become Decimal("0.3"), not its binary value.
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise CatalogueError(f"{where}: expected a number, got {shown_value(value)}") from exc
    if not result.is_finite() or result < 0:
        raise CatalogueError(f"{where}: expected a price of 0 or more, got {shown_value(value)}")
    return result


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CatalogueError(
            f"{where}: expected a date as YYYY-MM-DD, got {shown_value(value)}"
        ) from exc


def _rates(raw: Mapping[str, Any], where: str) -> Rates:
    values = {
        name: (_decimal(raw[name], f"{where}.{name}") if raw.get(name) is not None else None)
        for name in RATE_FIELDS
    }
    return Rates(**values)


def _check_keys(raw: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = set(allowed)
    unknown = sorted(set(raw) - allowed, key=str)
    if unknown:
        # Name a key only if it reads as one: never quote a line of some other file.
        line = line_of(raw, unknown[0])
        at = f" (line {line})" if line is not None else ""
        said = shown_key(unknown[0])
        raise CatalogueError(
            f"{where}: {f'unknown key {said}' if said else 'an unknown key'}{at}; allowed keys "
            f"are {', '.join(sorted(allowed))}"
        )


def _price_entry(raw: Any, where: str) -> PriceEntry:
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a mapping of rates")
    _check_keys(raw, _ENTRY_FIELDS, where)
    for required in ("from", "source", "input_mtok", "output_mtok"):
        if raw.get(required) is None:
            raise CatalogueError(f"{where}: missing {required!r}")
    third_party = raw.get("third_party") or []
    if not isinstance(third_party, list) or not set(third_party) <= {
        *RATE_FIELDS,
        "long_context",
        "fast_multiplier",
        "fast_mode",
        "web_search_per_1k",
        "inference_geo",
    }:
        raise CatalogueError(f"{where}.third_party: expected a list of rate field names")
    long_context = None
    if raw.get("long_context") is not None:
        tier = raw["long_context"]
        _check_keys(tier, {"above_prompt_tokens", *RATE_FIELDS}, f"{where}.long_context")
        threshold = tier.get("above_prompt_tokens")
        if not isinstance(threshold, int) or threshold <= 0:
            raise CatalogueError(
                f"{where}.long_context.above_prompt_tokens: expected a positive integer"
            )
        long_context = LongContextTier(threshold, _rates(tier, f"{where}.long_context"))
    geo = {
        str(key): _decimal(value, f"{where}.inference_geo.{key}")
        for key, value in (raw.get("inference_geo") or {}).items()
    }
    fast_mode = raw.get("fast_mode")
    if fast_mode is not None:
        if fast_mode not in _FAST_MODES:
            raise CatalogueError(
                f"{where}.fast_mode: expected one of {', '.join(_FAST_MODES)}, got {fast_mode!r}"
            )
        if raw.get("fast_multiplier") is not None:
            raise CatalogueError(f"{where}: fast_mode and fast_multiplier cannot both be set")
    max_prompt = raw.get("max_prompt_tokens")
    if max_prompt is not None and (
        isinstance(max_prompt, bool) or not isinstance(max_prompt, int) or max_prompt <= 0
    ):
        raise CatalogueError(f"{where}.max_prompt_tokens: expected a positive integer")
    if (
        max_prompt is not None
        and long_context is not None
        and long_context.above_prompt_tokens >= max_prompt
    ):
        raise CatalogueError(
            f"{where}: long_context.above_prompt_tokens must be below max_prompt_tokens"
        )
    if raw.get("fast_waives_long_context") and (
        long_context is None or raw.get("fast_multiplier") is None
    ):
        raise CatalogueError(
            f"{where}.fast_waives_long_context: needs both long_context and fast_multiplier"
        )
    return PriceEntry(
        effective_from=_date(raw["from"], f"{where}.from"),
        effective_to=None,
        rates=_rates(raw, where),
        source=str(raw["source"]),
        checked=_date(raw["checked"], f"{where}.checked") if raw.get("checked") else None,
        third_party=frozenset(third_party),
        long_context=long_context,
        inference_geo=geo,
        fast_multiplier=(
            _decimal(raw["fast_multiplier"], f"{where}.fast_multiplier")
            if raw.get("fast_multiplier") is not None
            else None
        ),
        fast_mode=fast_mode,
        fast_waives_long_context=bool(raw.get("fast_waives_long_context", False)),
        max_prompt_tokens=max_prompt,
        web_search_per_1k=(
            _decimal(raw["web_search_per_1k"], f"{where}.web_search_per_1k")
            if raw.get("web_search_per_1k") is not None
            else None
        ),
        note=str(raw.get("note") or ""),
    )


def _model_entry(
    model_id: str, raw: Any, where: str, *, default_status: str = "active"
) -> ModelEntry:
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a mapping with name, aliases and prices")
    _check_keys(raw, _MODEL_FIELDS, where)
    status = str(raw.get("status", default_status))
    if status not in _STATUSES:
        raise CatalogueError(
            f"{where}.status: expected one of {', '.join(_STATUSES)}, got {shown_value(status)}"
        )
    prices_raw = raw.get("prices")
    unpriced = str(raw.get("unpriced") or "")
    if unpriced:
        # A model known to exist with no published price: usage of it resolves, then is
        # reported as unpriced with this reason rather than as an unknown model.
        if prices_raw:
            raise CatalogueError(f"{where}: a model with 'unpriced' cannot also have prices")
        if not str(raw.get("source") or "").startswith("https://"):
            raise CatalogueError(f"{where}.source: an unpriced model needs the URL naming it")
        prices_raw = []
    elif not isinstance(prices_raw, list) or not prices_raw:
        raise CatalogueError(f"{where}.prices: expected a list of dated price entries")
    entries = sorted(
        (_price_entry(item, f"{where}.prices[{i}]") for i, item in enumerate(prices_raw)),
        key=lambda entry: entry.effective_from,
    )
    for earlier, later in itertools.pairwise(entries):
        if earlier.effective_from == later.effective_from:
            raise CatalogueError(f"{where}.prices: two entries start on {later.effective_from}")
    # Each entry holds until the next one starts: closing the intervals here keeps lookups simple.
    closed = tuple(
        replace(entry, effective_to=entries[i + 1].effective_from if i + 1 < len(entries) else None)
        for i, entry in enumerate(entries)
    )
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise CatalogueError(f"{where}.aliases: expected a list of model names")
    return ModelEntry(
        id=model_id,
        name=str(raw.get("name", model_id)),
        aliases=tuple(aliases),
        status=status,
        prices=closed,
        note=str(raw.get("note") or ""),
        retired_on=_date(raw["retired"], f"{where}.retired") if raw.get("retired") else None,
        unpriced=unpriced,
        source=str(raw.get("source") or ""),
        partner_regional_premium=bool(raw.get("partner_regional_premium", False)),
    )


def _read_yaml(path: Path | str, text: str | None = None, *, kind: str = "price catalogue") -> Any:
    # One reader for every file: regular files only, 1 MB, aliases and nesting bounded.
    if text is None:
        return read_yaml(path, kind=kind, error=CatalogueError)
    return load_yaml(text, str(path), error=CatalogueError)


def load_catalogue(path: Path | str, *, text: str | None = None) -> Catalogue:
    """Load and validate a catalogue file in the bundled format.

    >>> catalogue = load_catalogue("prices.yaml", text='''
    ... checked: 2026-11-24
    ... rules: {batch: {multiplier: 0.5}}
    ... models:
    ...   house-model:
    ...     name: House model
    ...     prices:
    ...       - {from: 2026-01-01, input_mtok: 2, output_mtok: 8, source: https://example.com}
    ... ''')
    >>> catalogue.batch_multiplier, catalogue.models["house-model"].prices[0].rates.output_mtok
    (Decimal('0.5'), Decimal('8'))
    """
    raw = _read_yaml(path, text)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("models"), Mapping):
        raise CatalogueError(f"{path}: expected a mapping with a 'models' section")
    rules = raw.get("rules") or {}
    batch = rules.get("batch") or {}
    if batch.get("multiplier") is None:
        raise CatalogueError(f"{path}: rules.batch.multiplier: missing")
    models = {
        str(model_id): _model_entry(str(model_id), body, f"{path}: models.{model_id}")
        for model_id, body in raw["models"].items()
    }
    partner = rules.get("partner_platforms") or {}
    return Catalogue(
        models=models,
        batch_multiplier=_decimal(batch["multiplier"], f"{path}: rules.batch.multiplier"),
        batch_discounts_web_search=bool(batch.get("discounts_web_search", False)),
        checked=_date(raw.get("checked"), f"{path}: checked"),
        source=str(path),
        code_execution=_code_execution(
            rules.get("code_execution"), f"{path}: rules.code_execution"
        ),
        partner_regional_multiplier=(
            _decimal(partner["regional_multiplier"], f"{path}: rules.partner_platforms")
            if partner.get("regional_multiplier") is not None
            else None
        ),
        partner_source=str(partner.get("source") or ""),
    )


def _code_execution(raw: Any, where: str) -> CodeExecutionRule | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a mapping")
    _check_keys(raw, {"per_container_hour", "free_hours_per_month", "source"}, where)
    for required in ("per_container_hour", "free_hours_per_month", "source"):
        if raw.get(required) is None:
            raise CatalogueError(f"{where}: missing {required!r}")
    return CodeExecutionRule(
        per_container_hour=_decimal(raw["per_container_hour"], f"{where}.per_container_hour"),
        free_hours_per_month=_decimal(raw["free_hours_per_month"], f"{where}.free_hours_per_month"),
        source=str(raw["source"]),
    )


@cache
def bundled_catalogue() -> Catalogue:
    """The catalogue shipped with costmodel (loaded once per process).

    >>> from datetime import date
    >>> bundled_catalogue().model("claude-haiku-4-5").price_on(date(2026, 11, 24)).rates.input_mtok
    Decimal('1')
    """
    text = resources.files("costmodel").joinpath("data/anthropic.yaml").read_text(encoding="utf-8")
    return load_catalogue("costmodel/data/anthropic.yaml", text=text)


_PRICE_FILE_KEYS: Final = frozenset({"name", "as_of", "discounts", "models"})
_DISCOUNT_KEYS: Final = frozenset({"model", "models", "tier", "tiers", "percent"})


def load_price_file(path: Path | str, base: Catalogue) -> Catalogue:
    """Lay a user's price file over ``base``: negotiated discounts and private models.

    The format is documented in the README (``Your own prices``)::

        name: Acme enterprise agreement
        as_of: 2026-10-01
        discounts:
          - {model: claude-sonnet-4-5, percent: 15}        # every tier
          - {model: "*", tier: batch, percent: 5}           # every model, batch only
        models:                                             # private models, catalogue format
          acme-finetune: {name: ..., prices: [...]}

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "acme.yaml"
    ...     _ = path.write_text("name: Acme\\ndiscounts: [{model: claude-haiku-4-5, percent: 15}]")
    ...     load_price_file(path, bundled_catalogue()).contract_factor("claude-haiku-4-5", "batch")
    Decimal('0.85')
    """
    raw = _read_yaml(path, kind="price file")
    if not isinstance(raw, Mapping) or not set(raw) & _PRICE_FILE_KEYS:
        # Some other file (a config, /etc/shadow): one line that quotes none of it.
        raise CatalogueError(
            located(
                "not a price file; expected a mapping with 'discounts' and/or 'models' (and "
                "optionally 'name' and 'as_of')",
                file=path,
                line=line_of(raw) if isinstance(raw, Mapping) else None,
            )
        )
    _check_keys(raw, _PRICE_FILE_KEYS, str(path))
    private = [
        _model_entry(str(model_id), body, f"{path}: models.{model_id}", default_status="private")
        for model_id, body in (raw.get("models") or {}).items()
    ]
    known = {m.id for m in private}
    factors: dict[tuple[str, str], Decimal] = {}
    discounts = raw.get("discounts") or []
    if not isinstance(discounts, list):
        raise CatalogueError(f"{path}: discounts: expected a list")
    for i, item in enumerate(discounts):
        where = f"{path}: discounts[{i}]"
        if not isinstance(item, Mapping):
            raise CatalogueError(f"{where}: expected a mapping with model and percent")
        _check_keys(item, _DISCOUNT_KEYS, where)
        percent = _decimal(item.get("percent"), f"{where}.percent")
        if percent > 100:
            raise CatalogueError(
                f"{where}.percent: expected 0 to 100, got {shown_value(item.get('percent'))}"
            )
        model_names = item.get("models", item.get("model", "*"))
        model_names = [model_names] if isinstance(model_names, str) else list(model_names)
        tiers = item.get("tiers", item.get("tier", "*"))
        tiers = [tiers] if isinstance(tiers, str) else list(tiers)
        for tier in tiers:
            if tier not in ("*", "standard", "batch"):
                raise CatalogueError(
                    f"{where}.tier: expected standard, batch or '*', got {shown_value(tier)}"
                )
        for name in model_names:
            model_id = name if name == "*" or name in known else base.resolve(name, context=where)
            for tier in tiers:
                factors[(model_id, tier)] = (100 - percent) / 100
    contract = Contract(
        name=str(raw.get("name") or Path(path).stem),
        source=str(path),
        as_of=_date(raw["as_of"], f"{path}: as_of") if raw.get("as_of") else None,
        factors=factors,
    )
    return base.with_contract(contract, private)


def catalogue_for(scenario: Scenario | None = None, prices: str | Path | None = None) -> Catalogue:
    """The bundled catalogue with the user's price file laid over it, if one is named.

    A price file given on the command line wins over the one a scenario names.
    """
    catalogue = bundled_catalogue()
    chosen = prices if prices is not None else (scenario.prices if scenario else None)
    return load_price_file(chosen, catalogue) if chosen else catalogue
