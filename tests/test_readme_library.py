"""The README's "Use costmodel as a library" section runs as written.

Its first code block runs and must print exactly the text block after it; its second defines
``log_batch_costs``, which is run here with a real SDK client against the loopback Batches API
serving generated results, and must log the cost worked out by hand from the generated tokens.
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fake_batches_api import FakeBatch, FakeBatchesAPI

from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.synthetic import Expected, generate

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Use costmodel as a library"


def _blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return re.findall(r"```(\w+)\n(.*?)```", text[start:end], flags=re.DOTALL)


def test_the_worked_example_prints_what_the_readme_shows() -> None:
    blocks = _blocks()
    kinds = [kind for kind, _ in blocks]
    assert kinds == ["python", "text", "python"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0][1], "README.md (library example)", "exec"), {})
    assert out.getvalue() == blocks[1][1]


def test_log_batch_costs_prices_a_real_batch_from_the_catalogue(
    api_env: FakeBatchesAPI, sdk_client: Any
) -> None:
    expected = Expected()
    model = "claude-haiku-4-5-20251001"  # no long-context tier: the cost is linear in tokens
    lines = list(
        generate(120, seed=11, job="claims", expected=expected, models=((model, 1.0, True, True),))
    )
    created = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    api_env.add_batch(FakeBatch("msgbatch_01ReadmeExample", created, lines))
    namespace: dict[str, Any] = {}
    exec(compile(_blocks()[2][1], "README.md (log_batch_costs)", "exec"), namespace)
    events: list[dict[str, Any]] = []

    total = namespace["log_batch_costs"](
        sdk_client, "msgbatch_01ReadmeExample", "claims", events.append
    )

    # By hand: Haiku 4.5's rates on 2026-11-20, halved for batch (every token rate), plus
    # $10 per 1,000 web searches, which the Batches API does not discount.
    rates = bundled_catalogue().model(model).price_on(created.date()).rates
    tokens = expected.tokens_by_model[model]
    per_mtok = {
        "input_tokens": rates.input_mtok,
        "output_tokens": rates.output_mtok,
        "cache_write_5m_tokens": rates.cache_write_5m_mtok,
        "cache_write_1h_tokens": rates.cache_write_1h_mtok,
        "cache_read_tokens": rates.cache_read_mtok,
    }
    by_hand = (
        sum(
            (Decimal(tokens[kind]) * rate / 2 / 10**6 for kind, rate in per_mtok.items()),  # type: ignore[operator]
            Decimal(0),
        )
        + Decimal(tokens["web_search_requests"]) * 10 / 1000
    )
    assert tokens["web_search_requests"] > 0 and tokens["cache_write_1h_tokens"] > 0
    assert total == by_hand
    (event,) = events
    assert Decimal(event["cost_usd"]) == by_hand and event["priced_on"] == "2026-11-20"
    assert event["requests"] == dict(expected.result_types)
    assert event["tokens"] == {
        "input": tokens["input_tokens"],
        "output": tokens["output_tokens"],
    }
    assert set(expected.result_types) - {"succeeded"}  # unbilled lines were in the batch
