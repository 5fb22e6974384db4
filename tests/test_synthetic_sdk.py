"""Every generated results line (costmodel/adapters/synthetic.py) is one the SDK itself accepts.

The generator stands in for the API in the demo store, the benchmarks and most ingest tests, so
its lines are held to the SDK's own ``MessageBatchIndividualResponse`` type: each must validate,
and carry no field the type does not declare (pydantic keeps unknown fields as "extra", which
would mean the generator invents API fields the readers then learn to expect).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from anthropic.types.messages import MessageBatchIndividualResponse
from pydantic import BaseModel

from costmodel.adapters.ingest.files import parse_line
from costmodel.adapters.synthetic import MODELS, Profile, generate
from costmodel.shells.costing import cost_of

ON = date(2026, 11, 24)


def _extra_fields(model: Any, where: str = "line") -> list[str]:
    """Every field, at any depth, that the SDK type does not declare."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        found += [f"{where}.{key}" for key in (model.model_extra or {})]
        for name in type(model).model_fields:
            found += _extra_fields(getattr(model, name), f"{where}.{name}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            found += _extra_fields(item, f"{where}[{i}]")
    return found


@pytest.mark.parametrize(
    "options",
    [
        {"seed": 1},  # every model of the default mix, the legacy usage shape included
        {"seed": 2, "errored": 0.2, "expired": 0.1, "canceled": 0.1},
        {"seed": 3, "profile": Profile(15_000, 800), "text_words": 200},
    ],
    ids=["mix", "unbilled", "profile"],
)
def test_every_generated_line_validates_as_the_sdks_type(options: dict[str, Any]) -> None:
    kinds: set[str] = set()
    models: set[str] = set()
    priced = 0
    for line in generate(300, **options):
        response = MessageBatchIndividualResponse.model_validate_json(line)
        assert _extra_fields(response) == [], line
        raw = json.loads(line)
        assert response.custom_id == raw["custom_id"]
        kinds.add(response.result.type)
        if response.result.type == "succeeded":
            models.add(response.result.message.model)
            # The SDK's object, its JSON and the project's own reader agree on the counts (a
            # sample of the lines is priced: pricing one response at a time is the slow part).
            if priced < 12:
                assert cost_of(response, on=ON).total == cost_of(raw, on=ON).total
                priced += 1
            row = parse_line(line)
            assert (row[4], row[5]) == (
                response.result.message.usage.input_tokens,
                response.result.message.usage.output_tokens,
            )
    assert "succeeded" in kinds
    if options.get("errored"):
        assert kinds == {"succeeded", "errored", "expired", "canceled"}
    if "profile" not in options:
        assert models == {name for name, *_ in MODELS}


def test_a_field_the_sdk_does_not_declare_is_found() -> None:
    line = json.loads(next(generate(1, seed=4, errored=0, expired=0, canceled=0)))
    line["result"]["message"]["usage"]["invented_tokens"] = 5
    response = MessageBatchIndividualResponse.model_validate(line)
    assert _extra_fields(response) == ["line.result.message.usage.invented_tokens"]
