"""Pull the usage of ended Message Batches through the ``anthropic`` SDK into the store.

The only module that imports ``anthropic`` (lazily, inside :func:`pull`, so importing
:mod:`costmodel.ingest` stays cheap). Credentials and endpoint come from the environment as
the SDK reads them (``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``); the key is never written
anywhere and is scrubbed from every message this module raises.

How a pull goes:

1. ``client.messages.batches.list(limit=100)`` is followed through every page (newest first),
   stopping at the first batch created before ``since``.
2. Batches still ``in_progress`` or ``canceling`` are counted and left for a later pull;
   batches the store already holds whole are skipped; batches whose results are gone (archived,
   or a 404: results are kept 29 days) are reported by id, and the pull carries on.
3. Each remaining batch's results are streamed (``with_streaming_response.results``, the same
   request ``results()`` makes) as raw bytes into a temporary file, never into memory, and
   then stored by the same reader as a saved file (:mod:`costmodel.ingest.files`) in one store
   transaction. Spooling first means a stream that dies part way (the transport's
   ``RemoteProtocolError`` surfaces while reading, not as an ``anthropic`` error) never opens a
   transaction at all: the batch is reported as failed, the store is as it was, and the next
   pull fetches it again.

Retries of 429, 500 and 529 answers are the SDK's own (``max_retries``, with its back-off).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costmodel.errors import ApiError, IngestError
from costmodel.ingest.files import read_results

if TYPE_CHECKING:
    from costmodel.store import Store

__all__ = ["BatchOutcome", "PullReport", "pull"]

_PAGE_SIZE = 100
_RESULTS_KEPT = "results are kept for 29 days after a batch is created"


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    reason: str = ""
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class PullReport:
    """What a pull did, batch by batch. ``ok`` is false when a batch could not be stored."""

    listed: int = 0
    pulled: list[BatchOutcome] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)  # picked up by a later pull
    already_stored: list[str] = field(default_factory=list)
    unavailable: list[BatchOutcome] = field(default_factory=list)  # results gone: skipped
    # found without results by an earlier pull: reported then, skipped quietly now
    known_unavailable: list[str] = field(default_factory=list)
    failed: list[BatchOutcome] = field(default_factory=list)  # retried by the next pull

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unavailable

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def describe(self) -> list[str]:
        """One line per outcome, for the CLI."""
        rows = sum(outcome.rows for outcome in self.pulled)
        lines = [
            f"{self.listed} batches listed: {len(self.pulled)} pulled ({rows} requests), "
            f"{len(self.already_stored)} already stored, {len(self.in_progress)} still in "
            f"progress, {len(self.unavailable)} unavailable, {len(self.failed)} failed"
            + (
                f" ({len(self.known_unavailable)} more found without results by an earlier pull)"
                if self.known_unavailable
                else ""
            )
        ]
        lines += [f"unavailable {o.batch_id}: {o.reason}" for o in self.unavailable]
        lines += [f"failed {o.batch_id}: {o.reason}" for o in self.failed]
        return lines


def _utc(moment: datetime | date | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _BrokenOff(Exception):
    """The results body stopped part way (connection reset, short body, bad encoding)."""


def _body(response: Any) -> Iterator[bytes]:
    """The results body in pieces; a read that fails part way raises :class:`_BrokenOff`.

    The SDK wraps failures of the request itself (as ``APIConnectionError``) but not of reading
    a streamed body, which raise its HTTP transport's own errors. Naming those would tie this
    module to a package the SDK uses internally, so every error raised while the SDK hands over
    the next piece counts as a broken download: nothing is stored and the next pull retries.
    """
    pieces = iter(response.iter_bytes())
    while True:
        try:
            piece = next(pieces)
        except StopIteration:
            return
        except Exception as exc:  # only the SDK's body read runs inside this try
            raise _BrokenOff(f"{type(exc).__name__}: {exc}") from exc
        yield piece


class _Scrubber:
    """Removes the client's secrets from any text before it reaches a message."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def _error_detail(exc: Any, scrub: _Scrubber) -> str:
    """``HTTP 529 overloaded_error: <message>`` from an SDK status error, key-free and short."""
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    kind = inner.get("type") if isinstance(inner, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    text = f"HTTP {getattr(exc, 'status_code', '?')}"
    if kind:
        text += f" {kind}"
    if message:
        text += f": {scrub(str(message))[:200]}"
    return text


def pull(
    store: Store,
    *,
    client: Any = None,
    since: datetime | date | str | None = None,
    workspace_id: str | None = None,
    max_retries: int | None = None,
    progress: bool = True,
    spool_dir: Path | str | None = None,
) -> PullReport:
    """Store the usage of every ended batch not yet stored whole; see the module docstring.

    ``client``: an ``anthropic.Anthropic`` (default: one built from the environment).
    ``since``: skip batches created before it. ``workspace_id``: sent as the SDK sends it, for
    keys that can act on several workspaces. ``max_retries``: the SDK's retries of 429/5xx.
    ``progress``: bars for batches and lines on stderr (only when it is a terminal).
    ``spool_dir``: where results are spooled while they download (default: the temp folder).
    Raises :class:`ApiError` when the key is missing or refused, or listing fails.
    """
    from costmodel.optional import require

    anthropic = require("anthropic", extra="api")
    tqdm = require("tqdm", extra="api").tqdm

    if client is None:
        try:
            client = (
                anthropic.Anthropic()
                if max_retries is None
                else anthropic.Anthropic(max_retries=max_retries)
            )
        except anthropic.AnthropicError as exc:
            raise ApiError(f"cannot set up the Anthropic client: {exc}") from None
    elif max_retries is not None:
        client = client.with_options(max_retries=max_retries)
    scrub = _Scrubber([getattr(client, "api_key", None), getattr(client, "auth_token", None)])
    if not any(getattr(client, name, None) for name in ("api_key", "auth_token", "credentials")):
        raise ApiError("no API key: set ANTHROPIC_API_KEY in the environment")

    def refused(exc: Exception, doing: str) -> ApiError:
        if isinstance(exc, anthropic.AuthenticationError):
            return ApiError(
                f"the API refused the key while {doing} ({_error_detail(exc, scrub)}); "
                "check ANTHROPIC_API_KEY"
            )
        if isinstance(exc, anthropic.PermissionDeniedError):
            return ApiError(f"the key may not do this ({doing}: {_error_detail(exc, scrub)})")
        if isinstance(exc, anthropic.APIStatusError):
            return ApiError(f"{doing} failed after retries: {_error_detail(exc, scrub)}")
        if isinstance(exc, TypeError):  # the SDK's way of saying it has no credentials
            return ApiError("no API key: set ANTHROPIC_API_KEY in the environment")
        return ApiError(f"{doing} failed: cannot reach {client.base_url}: {scrub(str(exc))}")

    scope = {} if workspace_id is None else {"workspace_id": workspace_id}
    start = _utc(since)
    report = PullReport()
    show = progress and sys.stderr.isatty()

    listed: list[Any] = []
    try:
        for batch in client.messages.batches.list(limit=_PAGE_SIZE, **scope):
            report.listed += 1
            if start is not None and _utc(batch.created_at) < start:  # type: ignore[operator]
                break  # newest first: every later batch is older still
            listed.append(batch)
    except anthropic.APIError as exc:  # the SDK wraps transport failures as APIConnectionError
        raise refused(exc, "listing batches") from None
    except TypeError as exc:
        if "authentication" not in str(exc):
            raise
        raise refused(exc, "listing batches") from None

    known_unavailable = store.unavailable()
    with tqdm(
        total=len(listed), unit="batch", desc="batches", disable=not show, file=sys.stderr
    ) as bar:
        for batch in listed:
            counts = batch.request_counts
            expected = counts.succeeded + counts.errored + counts.canceled + counts.expired
            if batch.processing_status != "ended":
                report.in_progress.append(batch.id)
            elif store.has_complete_batch(batch.id, expected_requests=expected):
                report.already_stored.append(batch.id)
            elif batch.id in known_unavailable:
                report.known_unavailable.append(batch.id)
            elif batch.archived_at is not None:
                when = _utc(batch.archived_at)
                report.unavailable.append(
                    BatchOutcome(batch.id, f"results archived on {when:%Y-%m-%d} ({_RESULTS_KEPT})")
                )
            else:
                try:
                    _pull_batch(
                        store, client, batch, expected, scope, report, show, spool_dir, scrub
                    )
                except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
                    raise refused(exc, f"fetching results of {batch.id}") from None
            bar.update(1)
    for outcome in report.unavailable:
        store.note_unavailable(outcome.batch_id, outcome.reason)
    return report


def _pull_batch(
    store: Store,
    client: Any,
    batch: Any,
    expected: int,
    scope: dict[str, str],
    report: PullReport,
    show: bool,
    spool_dir: Path | str | None,
    scrub: _Scrubber,
) -> None:
    from costmodel.optional import require

    anthropic = require("anthropic", extra="api")
    tqdm = require("tqdm", extra="api").tqdm

    with tempfile.TemporaryDirectory(prefix="costmodel-pull-", dir=spool_dir) as folder:
        spool = Path(folder) / f"{batch.id}.jsonl"
        try:
            with (
                tqdm(
                    total=expected,
                    unit="line",
                    desc=batch.id,
                    leave=False,
                    disable=not show,
                    file=sys.stderr,
                ) as lines,
                client.messages.batches.with_streaming_response.results(
                    batch.id, **scope
                ) as response,
                spool.open("wb") as out,
            ):
                for piece in _body(response):
                    out.write(piece)
                    lines.update(piece.count(b"\n"))
        except anthropic.NotFoundError:
            report.unavailable.append(
                BatchOutcome(batch.id, f"results not found (404); {_RESULTS_KEPT}")
            )
            return
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError):
            raise
        except anthropic.APIStatusError as exc:
            report.failed.append(
                BatchOutcome(batch.id, f"after retries: {_error_detail(exc, scrub)}")
            )
            return
        except (anthropic.AnthropicError, _BrokenOff) as exc:
            # Includes a stream cut off part way: nothing was stored, the next pull retries.
            report.failed.append(
                BatchOutcome(batch.id, f"results download broke off: {scrub(str(exc))[:200]}")
            )
            return
        except OSError as exc:
            report.failed.append(
                BatchOutcome(batch.id, f"cannot spool the results: {exc.strerror}")
            )
            return

        results = read_results(
            spool,
            batch_id=batch.id,
            created_at=batch.created_at,
            ended_at=batch.ended_at,
            name=f"results of {batch.id}",
        )
        meta = {
            **results.batch_meta(),
            "source": "api",
            "expires_at": batch.expires_at,
            "archived_at": batch.archived_at,
            "expected_requests": expected,
        }
        try:
            written = store.write_batch(meta, results)
        except IngestError as exc:
            report.failed.append(BatchOutcome(batch.id, str(exc)))
            return
    if not written.complete:
        report.failed.append(
            BatchOutcome(
                batch.id,
                f"stored {written.rows} of the {expected} requests the API counts; "
                "the next pull fetches it again",
                written.rows,
                written.counts,
            )
        )
        return
    report.pulled.append(BatchOutcome(batch.id, rows=written.rows, counts=written.counts))
