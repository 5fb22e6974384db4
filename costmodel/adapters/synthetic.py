"""Synthetic Message Batches results in the real wire format: the demo store, tests, benchmarks.

Each line is what ``client.messages.batches.results()`` streams: ``{"custom_id": ..., "result":
{"type": ...}}`` with a full ``message`` (content, stop reason, usage) for succeeded lines and
the standard error envelope for errored ones. Lines come out of request order, as the API
returns them. Everything is seeded, so a test can regenerate the same file and knows the
totals it must read back (:class:`Expected`).

The model mix stays inside what the bundled catalogue can price: Sonnet 3.5 has no 1-hour
cache-write rate (so it only writes 5-minute caches, in the older usage shape without the
``cache_creation`` breakdown or ``server_tool_use``, so it never searches either) and Haiku 5.5
has no web-search fee (so it never searches).
"""

from __future__ import annotations

import json
import random
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from costmodel.core.usage import COUNT_COLUMNS

# (model as the API reports it, share of succeeded lines, may write 1h caches, may web-search)
MODELS: Final = (
    ("claude-sonnet-4-5-20250929", 0.40, True, True),
    ("claude-opus-4-6", 0.15, True, True),
    ("claude-haiku-5-5", 0.35, True, False),
    ("claude-3-5-sonnet-20241022", 0.10, False, False),
)
# The older API's usage object: no cache_creation breakdown, no server_tool_use, no tier fields.
LEGACY_USAGE_MODELS: Final = frozenset({"claude-3-5-sonnet-20241022"})
ERROR_TYPES: Final = (
    "invalid_request_error",
    "overloaded_error",
    "api_error",
    "rate_limit_error",
)
TOKEN_FIELDS: Final = COUNT_COLUMNS  # the counts a reader must read back
_WORDS: Final = (
    "the", "batch", "finished", "and", "the", "summary", "reads", "well", "enough", "for",
    "the", "report", "that", "follows", "with", "figures", "on", "cost", "cache", "reads",
    "and", "writes", "across", "the", "models", "we", "compared", "this", "week",
)  # fmt: skip


@dataclass
class Expected:
    """What a reader must get back from the generated lines."""

    lines: int = 0
    result_types: Counter[str] = field(default_factory=Counter)
    tokens_by_model: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    custom_ids: list[str] = field(default_factory=list)

    def tokens(self, name: str) -> int:
        return sum(counts[name] for counts in self.tokens_by_model.values())


def usage_object(
    *,
    input_tokens: int,
    output_tokens: int,
    cache_write_5m: int = 0,
    cache_write_1h: int = 0,
    cache_read: int = 0,
    web_search: int = 0,
    web_fetch: int = 0,
    legacy: bool = False,
    inference_geo: str = "global",
) -> dict[str, Any]:
    """A ``usage`` object as the API writes it (``legacy``: the shape before cache TTLs)."""
    if legacy:
        return {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_write_5m,
            "cache_read_input_tokens": cache_read,
        }
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_write_5m + cache_write_1h,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache_write_5m,
            "ephemeral_1h_input_tokens": cache_write_1h,
        },
        "server_tool_use": {"web_search_requests": web_search, "web_fetch_requests": web_fetch},
        "service_tier": "batch",
        "inference_geo": inference_geo,
        "speed": "standard",
        "output_tokens_details": {"thinking_tokens": output_tokens // 4},
    }


def succeeded_line(custom_id: str, model: str, usage: dict[str, Any], text: str = "Hello!") -> str:
    message = {
        "id": f"msg_01Gen{zlib.crc32(custom_id.encode()):010d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "stop_details": None,
        "container": None,
        "usage": usage,
    }
    return _dumps({"custom_id": custom_id, "result": {"type": "succeeded", "message": message}})


def errored_line(custom_id: str, error_type: str = "invalid_request_error") -> str:
    error = {
        "type": "error",
        "error": {"type": error_type, "message": f"generated {error_type} for {custom_id}"},
        "request_id": "req_01GeneratedForTests",
    }
    return _dumps({"custom_id": custom_id, "result": {"type": "errored", "error": error}})


def bare_line(custom_id: str, result_type: str) -> str:
    """A canceled or expired line: those carry only their type."""
    return _dumps({"custom_id": custom_id, "result": {"type": result_type}})


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Profile:
    """A workload's typical request: mean uncached input and output tokens per request."""

    input_tokens: float
    output_tokens: float
    spread: float = 0.25  # relative standard deviation of each count


def _random_usage(
    rng: random.Random, model: str, one_hour: bool, search: bool, profile: Profile | None = None
) -> dict[str, int]:
    if profile is None:
        input_tokens = int(rng.lognormvariate(7.0, 1.2)) + 1
        # (not on Sonnet 4.5: the API has refused its prompts over 200K since 2026-04-30)
        if rng.random() < 0.004 and not model.startswith(("claude-3", "claude-sonnet-4-5")):
            input_tokens += 210_000  # a few long-context requests above the 200K threshold
        output_tokens = int(rng.lognormvariate(5.5, 1.0)) + 1
    else:
        input_tokens = max(
            1, round(rng.gauss(profile.input_tokens, profile.input_tokens * profile.spread))
        )
        output_tokens = max(
            1, round(rng.gauss(profile.output_tokens, profile.output_tokens * profile.spread))
        )
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_write_5m": 0,
        "cache_write_1h": 0,
        "cache_read": 0,
        "web_search": 0,
    }
    draw = rng.random()
    if draw < 0.40:
        usage["cache_read"] = int(rng.lognormvariate(8.0, 0.8))
    elif draw < 0.50:
        usage["cache_write_5m"] = int(rng.lognormvariate(8.0, 0.8))
    elif draw < 0.55 and one_hour:
        usage["cache_write_1h"] = int(rng.lognormvariate(8.0, 0.8))
    if search and rng.random() < 0.02:
        usage["web_search"] = rng.randint(1, 5)
    return usage


def generate(
    n: int,
    *,
    seed: int = 0,
    job: str = "job",
    errored: float = 0.01,
    expired: float = 0.003,
    canceled: float = 0.002,
    text_words: int = 12,
    shuffle: bool = True,
    expected: Expected | None = None,
    models: tuple[tuple[str, float, bool, bool], ...] = MODELS,
    profile: Profile | None = None,
    error_types: tuple[str, ...] = ERROR_TYPES,
) -> Iterator[str]:
    """``n`` results lines (no newline), custom ids ``{job}-{i}``, out of order when ``shuffle``.

    ``text_words`` sets the size of each succeeded message's text (the benchmark uses about
    200 words, near the 1.6 KB per line real files average). Totals go into ``expected``.
    ``models``: (model, share, may write 1h caches, may web-search) tuples; ``profile``: a
    workload's typical request sizes (default: a broad mix of sizes); ``error_types``: what
    an errored line's ``error.error.type`` is drawn from (repeat one to weight it).
    """
    rng = random.Random(seed)
    order = list(range(n))
    if shuffle:
        rng.shuffle(order)
    names = [m[0] for m in models]
    weights = [m[1] for m in models]
    traits = {m[0]: (m[2], m[3]) for m in models}
    texts = [" ".join(rng.choices(_WORDS, k=text_words)) for _ in range(64)]
    for index in order:
        custom_id = f"{job}-{index}"
        draw = rng.random()
        if draw < errored:
            kind, line = "errored", errored_line(custom_id, rng.choice(error_types))
        elif draw < errored + expired:
            kind, line = "expired", bare_line(custom_id, "expired")
        elif draw < errored + expired + canceled:
            kind, line = "canceled", bare_line(custom_id, "canceled")
        else:
            kind = "succeeded"
            model = rng.choices(names, weights)[0]
            one_hour, search = traits[model]
            counts = _random_usage(rng, model, one_hour, search, profile)
            usage = usage_object(
                input_tokens=counts["input_tokens"],
                output_tokens=counts["output_tokens"],
                cache_write_5m=counts["cache_write_5m"],
                cache_write_1h=counts["cache_write_1h"],
                cache_read=counts["cache_read"],
                web_search=counts["web_search"],
                legacy=model in LEGACY_USAGE_MODELS,
            )
            line = succeeded_line(custom_id, model, usage, rng.choice(texts))
            if expected is not None:
                tally = expected.tokens_by_model[model]
                tally["input_tokens"] += counts["input_tokens"]
                tally["output_tokens"] += counts["output_tokens"]
                tally["cache_write_5m_tokens"] += counts["cache_write_5m"]
                tally["cache_write_1h_tokens"] += counts["cache_write_1h"]
                tally["cache_read_tokens"] += counts["cache_read"]
                tally["web_search_requests"] += counts["web_search"]
        if expected is not None:
            expected.lines += 1
            expected.result_types[kind] += 1
            expected.custom_ids.append(custom_id)
        yield line


# When the Batches API is busiest (UTC, weekdays): the US working day over Europe's afternoon.
PEAK_HOURS: Final = range(13, 21)
BUSINESS_HOURS: Final = range(8, 18)
BATCH_LIFETIME: Final = timedelta(hours=24)  # the API expires what is unfinished by then


@dataclass(frozen=True)
class BatchTimes:
    """A generated batch's times, as the API would report them (naive UTC)."""

    created_at: datetime
    ended_at: datetime
    expires_at: datetime

    @property
    def expired(self) -> bool:
        """Ran out of time: the API ends such a batch at its expiry, the rest expired."""
        return self.ended_at >= self.expires_at


def batch_times(created_at: datetime, seed: int) -> BatchTimes:
    """Plausible times for a batch created at ``created_at`` (UTC), the same for a seed.

    Off-peak a batch ends in well under 4 hours (1-4 h in business hours, 0.3-2.5 h at
    night and at weekends); at peak (:data:`PEAK_HOURS` on weekdays) about half take 12 to
    26 hours, and those past 24 hours expired. These shapes echo what is said of the API
    (1-4 hours in business hours, 12-24 at peak) so the Operations page has something to
    check; they are not measurements.
    """
    rng = random.Random(seed)
    weekday = created_at.weekday() < 5
    if weekday and created_at.hour in PEAK_HOURS and rng.random() < 0.5:
        hours = rng.uniform(12, 26)
    elif weekday and created_at.hour in BUSINESS_HOURS:
        hours = rng.uniform(1, 4)
    else:
        hours = rng.uniform(0.3, 2.5)
    expires = created_at + BATCH_LIFETIME
    ended = min(created_at + timedelta(seconds=round(hours * 3600)), expires)
    return BatchTimes(created_at, ended, expires)


def write_results(path: Path | str, n: int, **options: Any) -> Expected:
    """Write ``n`` generated lines to ``path`` (one per line, newline-terminated)."""
    expected = Expected()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as out:
        buffer: list[str] = []
        for line in generate(n, expected=expected, **options):
            buffer.append(line)
            if len(buffer) >= 10_000:
                out.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            out.write("\n".join(buffer) + "\n")
    return expected
