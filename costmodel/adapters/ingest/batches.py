"""Pull the usage of ended Message Batches through the ``anthropic`` SDK into the store.

The only module that imports ``anthropic`` (lazily, inside :func:`pull`, so importing
:mod:`costmodel.adapters.ingest` stays cheap). Credentials and endpoint come from the environment as
the SDK reads them (``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``); the key is never written
anywhere and is scrubbed from every message this module raises.

How a pull goes:

1. The batch list (``client.messages.batches.with_raw_response.list(limit=100)``) is paged
   here, newest first, stopping at the first batch created before ``since``. Every page is
   checked (fields, types, ISO times) and a malformed one is one :class:`ApiError` line; paging
   stops with an error on a cursor seen before or after ``max_pages`` pages, so an API whose
   ``has_more`` never ends cannot hang a pull.
2. Batches still ``in_progress`` or ``canceling`` are counted and left for a later pull;
   batches the store already holds whole are skipped; batches whose results are gone (archived,
   or a 404) are reported by id, remembered, and the pull carries on. Results are kept for
   :data:`RESULTS_RETENTION` after a batch is created, so a batch remembered as gone is tried
   again by later pulls while it is inside that window (a 404 can be passing), and counted in
   one line after it; ``retry_gone`` tries them all again.
3. Each remaining batch's results are streamed (``with_streaming_response.results``, the same
   request ``results()`` makes) as raw bytes into a spool file, never into memory, and then
   stored by the same reader as a saved file (:mod:`costmodel.adapters.ingest.files`) in one store
   transaction. Spooling first means a stream that dies part way (the transport's
   ``RemoteProtocolError`` surfaces while reading, not as an ``anthropic`` error) never opens a
   transaction at all: the batch is reported as failed, the store is as it was, and the next
   pull fetches it again. The spool holds message text, so it is private: a folder of mode
   0700 beside the store (not the shared temp folder), named with the pulling process's id;
   a pull clears the spools of processes that are gone (a ``kill -9`` leaves one behind).
4. A batch stored by an earlier pull is refreshed in place (the same requests change
   nothing); a batch stored from a file is replaced only with ``replace``.

Retries of 429, 500 and 529 answers are the SDK's own (``max_retries``, with its back-off).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from costmodel.adapters.credentials import check_environment, check_key, redact, status_detail
from costmodel.adapters.ingest.files import read_results
from costmodel.core.times import as_utc, parse_moment
from costmodel.errors import ApiError, IngestError

if TYPE_CHECKING:
    from costmodel.adapters.store import Store

__all__ = ["MAX_LIST_PAGES", "RESULTS_RETENTION", "BatchOutcome", "PullReport", "pull"]

_PAGE_SIZE = 100
# How long the API keeps a batch's results: 29 days after the batch is created, not after it
# ended (Anthropic's Message Batches documentation; archived_at marks when they went).
RESULTS_RETENTION: Final = timedelta(days=29)
_RESULTS_KEPT = f"results are kept for {RESULTS_RETENTION.days} days after a batch is created"
# 100 batches a page: 100,000 batches, far more than a pull meets, and a bound on a bad API.
MAX_LIST_PAGES: Final = 1000
_SPOOL_MARK = ".spool-"


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
    # the same requests as a batch stored from a file under another id: not counted twice
    duplicates: list[BatchOutcome] = field(default_factory=list)
    retried_gone: list[str] = field(default_factory=list)  # remembered as gone, tried again

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
                f", {len(self.duplicates)} already stored under another id"
                if self.duplicates
                else ""
            )
            + (
                f" ({len(self.known_unavailable)} more found without results by an earlier "
                f"pull) skipped: past the {RESULTS_RETENTION.days} days results are kept; "
                "--retry-gone tries them again"
                if self.known_unavailable
                else ""
            )
        ]
        lines += [f"duplicate {o.batch_id}: {o.reason}" for o in self.duplicates]
        lines += [f"unavailable {o.batch_id}: {o.reason}" for o in self.unavailable]
        lines += [f"failed {o.batch_id}: {o.reason}" for o in self.failed]
        return lines


def _utc(moment: datetime | date | str | None) -> datetime | None:
    if moment is None:
        return None
    return parse_moment(moment) if isinstance(moment, str) else as_utc(moment)


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
    """Removes the client's secrets (and any URL password, any key) from a text."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        return redact(text, self._secrets)


@dataclass(frozen=True)
class _Listed:
    """One batch from the list, checked: what a pull reads of it."""

    id: str
    processing_status: str
    expected: int
    created_at: datetime
    ended_at: datetime | None
    expires_at: datetime | None
    archived_at: datetime | None
    # The API's own request_counts (processing where it gives it) and cancel time, kept
    # beside the stored lines' counts for batch operations (costmodel.core.ops).
    counts: dict[str, int] = field(default_factory=dict)
    cancel_initiated_at: datetime | None = None


class _Malformed(Exception):
    pass


def _field(item: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = item.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Malformed(
            f"{where}.{key}: expected {_KIND_NAMES.get(kind, 'a value')}, got "
            f"{json.dumps(value)[:40]}"
        )
    return value


_KIND_NAMES: Final[dict[Any, str]] = {
    str: "a string",
    int: "a whole number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
    (str, type(None)): "a string or null",
}


def _moment(item: Mapping[str, Any], key: str, where: str, *, required: bool) -> datetime | None:
    value = _field(item, key, str if required else (str, type(None)), where)
    if value is None:
        return None
    try:
        return _utc(value)
    except ValueError:
        raise _Malformed(f"{where}.{key}: expected an ISO time, got {value[:40]!r}") from None


def _listed(item: Any, where: str) -> _Listed:
    if not isinstance(item, dict):
        raise _Malformed(f"{where}: expected a batch object, got {json.dumps(item)[:40]}")
    batch_id = _field(item, "id", str, where)
    if not batch_id:
        raise _Malformed(f"{where}.id: empty")
    counts = _field(item, "request_counts", dict, where)
    expected = 0
    reported: dict[str, int] = {}
    for kind in ("succeeded", "errored", "canceled", "expired"):
        n = _field(counts, kind, int, f"{where}.request_counts")
        if n < 0:
            raise _Malformed(f"{where}.request_counts.{kind}: negative ({n})")
        expected += n
        reported[kind] = n
    processing = counts.get("processing")
    if processing is not None:
        processing = _field(counts, "processing", int, f"{where}.request_counts")
        if processing < 0:
            raise _Malformed(f"{where}.request_counts.processing: negative ({processing})")
        reported["processing"] = processing
    return _Listed(
        id=batch_id,
        processing_status=_field(item, "processing_status", str, where),
        expected=expected,
        created_at=_moment(item, "created_at", where, required=True),  # type: ignore[arg-type]
        ended_at=_moment(item, "ended_at", where, required=False),
        expires_at=_moment(item, "expires_at", where, required=False),
        archived_at=_moment(item, "archived_at", where, required=False),
        counts=reported,
        cancel_initiated_at=_moment(item, "cancel_initiated_at", where, required=False),
    )


def _page(raw: Any, number: int) -> tuple[list[Any], bool, str | None]:
    """``data``, ``has_more`` and ``last_id`` of one list page (raw bytes), checked."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Malformed(f"page {number} is not JSON") from None
    if not isinstance(body, dict):
        raise _Malformed(f"page {number} is not a JSON object")
    where = f"page {number}"
    data = _field(body, "data", list, where)
    has_more = _field(body, "has_more", bool, where)
    last_id = _field(body, "last_id", (str, type(None)), where)
    return data, has_more, last_id


def _error_detail(exc: Any, scrub: _Scrubber) -> str:
    """``HTTP 529 overloaded_error: <message>`` from an SDK status error, key-free and short."""
    return status_detail(exc, scrub)


def pull(
    store: Store,
    *,
    client: Any = None,
    since: datetime | date | str | None = None,
    workspace_id: str | None = None,
    max_retries: int | None = None,
    progress: bool = True,
    spool_dir: Path | str | None = None,
    retry_gone: bool = False,
    replace: bool = False,
    max_pages: int = MAX_LIST_PAGES,
    now: datetime | None = None,
) -> PullReport:
    """Store the usage of every ended batch not yet stored whole; see the module docstring.

    ``client``: an ``anthropic.Anthropic`` (default: one built from the environment).
    ``since``: skip batches created before it. ``workspace_id``: sent as the SDK sends it, for
    keys that can act on several workspaces. ``max_retries``: the SDK's retries of 429/5xx.
    ``progress``: bars for batches and lines on stderr (only when it is a terminal).
    ``spool_dir``: where results are spooled while they download (default: beside the store).
    ``retry_gone``: try again every batch remembered as without results, however old.
    ``replace``: let pulled results replace a batch stored from a file under the same id.
    ``max_pages``: the most list pages to read. ``now``: the clock, for the retention window.
    Raises :class:`ApiError` when the key is missing or refused, or listing fails.
    """
    from costmodel.optional import require

    anthropic = require("anthropic", extra="api")
    tqdm = require("tqdm", extra="api").tqdm

    client = _client(anthropic, client, max_retries)
    scrub = _Scrubber([getattr(client, "api_key", None), getattr(client, "auth_token", None)])

    refused = partial(_refused, anthropic, client, scrub)

    scope = {} if workspace_id is None else {"workspace_id": workspace_id}
    start = _utc(since)
    clock = as_utc(now) if now is not None else datetime.now(UTC)
    report = PullReport()
    show = progress and sys.stderr.isatty()
    spool_root = Path(spool_dir) if spool_dir is not None else store.path.parent
    _clear_stale_spools(spool_root, store.path.name)

    try:
        listed = _list_batches(client, scope, start, max_pages, report)
    except _Malformed as exc:
        raise ApiError(f"listing batches: malformed answer from the API: {exc}") from None
    except anthropic.APIError as exc:  # the SDK wraps transport failures as APIConnectionError
        raise refused(exc, "listing batches") from None
    except TypeError as exc:
        if "authentication" not in str(exc):
            raise
        raise refused(exc, "listing batches") from None

    known_unavailable = store.unavailable()
    noted: list[tuple[BatchOutcome, _Listed]] = []
    with tqdm(
        total=len(listed), unit="batch", desc="batches", disable=not show, file=sys.stderr
    ) as bar:
        for batch in listed:
            expected = batch.expected
            if _settled(batch, store, known_unavailable, retry_gone, clock, report):
                bar.update(1)
                continue
            if batch.archived_at is not None and not retry_gone:
                when = batch.archived_at
                outcome = BatchOutcome(
                    batch.id, f"results archived on {when:%Y-%m-%d} ({_RESULTS_KEPT})"
                )
                report.unavailable.append(outcome)
                noted.append((outcome, batch))
            else:
                if batch.id in known_unavailable:
                    report.retried_gone.append(batch.id)
                try:
                    gone = _pull_batch(
                        store,
                        client,
                        batch,
                        expected,
                        scope,
                        report,
                        show,
                        spool_root,
                        scrub,
                        replace,
                    )
                except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
                    raise refused(exc, f"fetching results of {batch.id}") from None
                if gone is not None:
                    noted.append((gone, batch))
            bar.update(1)
    for outcome, batch in noted:
        store.note_unavailable(outcome.batch_id, outcome.reason, created_at=batch.created_at)
    return report


def _refused(anthropic: Any, client: Any, scrub: _Scrubber, exc: Exception, doing: str) -> ApiError:
    """The one-line error for a failure while ``doing`` something, credentials scrubbed."""
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
    # The base URL may carry user:password@: scrubbed with the rest.
    return ApiError(scrub(f"{doing} failed: cannot reach {client.base_url}: {exc}"))


def _settled(
    batch: _Listed,
    store: Store,
    known_unavailable: Container[str],
    retry_gone: bool,
    clock: datetime,
    report: PullReport,
) -> bool:
    """Whether the batch needs no request at all (still in progress, stored whole, or known
    to have no results and past the retention window), noted in ``report`` if so."""
    if batch.processing_status != "ended":
        report.in_progress.append(batch.id)
    elif store.has_complete_batch(batch.id, expected_requests=batch.expected):
        report.already_stored.append(batch.id)
    elif (
        batch.id in known_unavailable
        and not retry_gone
        and clock - batch.created_at >= RESULTS_RETENTION
    ):
        report.known_unavailable.append(batch.id)
    else:
        return False
    return True


def _client(anthropic: Any, client: Any, max_retries: int | None) -> Any:
    """The client to pull with (built from the environment when none is given), its
    credentials checked before any request."""
    if client is None:
        # Before any request: a key with a trailing newline would fail as a connection error.
        check_environment()
        try:
            client = (
                anthropic.Anthropic()
                if max_retries is None
                else anthropic.Anthropic(max_retries=max_retries)
            )
        except anthropic.AnthropicError as exc:
            raise ApiError(redact(f"cannot set up the Anthropic client: {exc}")) from None
    elif max_retries is not None:
        client = client.with_options(max_retries=max_retries)
    for variable, attribute in (
        ("ANTHROPIC_API_KEY", "api_key"),
        ("ANTHROPIC_AUTH_TOKEN", "auth_token"),
    ):
        value = getattr(client, attribute, None)
        check_key(variable, value if isinstance(value, str) else None)
    if not any(getattr(client, name, None) for name in ("api_key", "auth_token", "credentials")):
        raise ApiError("no API key: set ANTHROPIC_API_KEY in the environment")
    return client


def _list_batches(
    client: Any,
    scope: dict[str, str],
    start: datetime | None,
    max_pages: int,
    report: PullReport,
) -> list[_Listed]:
    """Every batch created since ``start``, newest first, page by page (counted in
    ``report.listed``). Raises :class:`_Malformed` for an answer that breaks the format, and
    :class:`ApiError` for a listing that repeats itself or runs past ``max_pages``."""
    listed: list[_Listed] = []
    cursors: set[str] = set()
    cursor: str | None = None
    number = 0
    while True:
        number += 1
        paging = {"after_id": cursor} if cursor is not None else {}
        raw = client.messages.batches.with_raw_response.list(limit=_PAGE_SIZE, **paging, **scope)
        data, has_more, last_id = _page(raw.http_response.content, number)
        older = False
        for index, item in enumerate(data):
            batch = _listed(item, f"page {number}: data[{index}]")
            report.listed += 1
            if start is not None and batch.created_at < start:
                older = True  # newest first: every later batch is older still
                break
            listed.append(batch)
        if older or not has_more:
            return listed
        if not last_id or not data:
            raise _Malformed(f"page {number} says more follow but gives no last_id")
        if last_id in cursors:
            raise ApiError(
                f"listing batches: the API repeated the page after {last_id} (page "
                f"{number}); stopped, nothing pulled"
            )
        if number >= max_pages:
            raise ApiError(
                f"listing batches: still more after {max_pages} pages "
                f"({report.listed} batches); stopped, nothing pulled (--since narrows it)"
            )
        cursors.add(last_id)
        cursor = last_id


def _spool_owner(folder: Path, store_name: str) -> int | None:
    """The process id a spool folder of this store was made by, or None if it is not one."""
    prefix = f".{store_name}{_SPOOL_MARK}"
    if not folder.name.startswith(prefix):
        return None
    pid = folder.name[len(prefix) :].split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def _clear_stale_spools(root: Path, store_name: str) -> None:
    """Remove spools left by pulls that died (``kill -9``): their process is gone."""
    if not root.is_dir():
        return
    for folder in root.glob(f".{store_name}{_SPOOL_MARK}*"):
        pid = _spool_owner(folder, store_name)
        if pid is None or not folder.is_dir():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # alive, someone else's


def _pull_batch(
    store: Store,
    client: Any,
    batch: _Listed,
    expected: int,
    scope: dict[str, str],
    report: PullReport,
    show: bool,
    spool_root: Path,
    scrub: _Scrubber,
    replace: bool,
) -> BatchOutcome | None:
    """Fetch and store one batch; the outcome to remember when its results are gone."""
    from costmodel.optional import require

    anthropic = require("anthropic", extra="api")
    tqdm = require("tqdm", extra="api").tqdm

    from costmodel.adapters.store import DuplicateBatchError

    try:
        spool_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        report.failed.append(BatchOutcome(batch.id, f"cannot spool the results: {exc.strerror}"))
        return None
    # mkdtemp makes the folder 0700: the message text in the spool is for this process only.
    with tempfile.TemporaryDirectory(
        prefix=f".{store.path.name}{_SPOOL_MARK}{os.getpid()}-", dir=spool_root
    ) as folder:
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
                os.fdopen(os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out,
            ):
                for piece in _body(response):
                    out.write(piece)
                    lines.update(piece.count(b"\n"))
        except anthropic.NotFoundError:
            gone = BatchOutcome(batch.id, f"results not found (404); {_RESULTS_KEPT}")
            report.unavailable.append(gone)
            return gone
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError):
            raise
        except anthropic.APIStatusError as exc:
            report.failed.append(
                BatchOutcome(batch.id, f"after retries: {_error_detail(exc, scrub)}")
            )
            return None
        except (anthropic.AnthropicError, _BrokenOff) as exc:
            # Includes a stream cut off part way: nothing was stored, the next pull retries.
            report.failed.append(
                BatchOutcome(batch.id, f"results download broke off: {scrub(str(exc))[:200]}")
            )
            return None
        except OSError as exc:
            report.failed.append(
                BatchOutcome(batch.id, f"cannot spool the results: {exc.strerror}")
            )
            return None

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
            "cancel_initiated_at": batch.cancel_initiated_at,
            "reported_counts": batch.counts,
            "processing_status": batch.processing_status,
            "expected_requests": expected,
        }
        stored = store.stored_batch(batch.id)
        # A batch this pull's kind stored itself is refreshed in place; one from a file only
        # with the user's say.
        own = stored is not None and stored["source"] == "api"
        try:
            written = store.write_batch(meta, results, replace=replace or own)
        except DuplicateBatchError as exc:
            report.duplicates.append(BatchOutcome(batch.id, str(exc)))
            return None
        except IngestError as exc:
            report.failed.append(BatchOutcome(batch.id, str(exc)))
            return None
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
        return None
    report.pulled.append(BatchOutcome(batch.id, rows=written.rows, counts=written.counts))
    return None
