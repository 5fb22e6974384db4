"""A loopback Message Batches API: a real HTTP server the real ``anthropic`` SDK talks to.

It serves the three endpoints a pull uses, in the documented wire format:

- ``GET /v1/messages/batches``: newest first, paged with ``limit`` / ``after_id`` /
  ``before_id`` and answered with ``data``, ``has_more``, ``first_id``, ``last_id``. It hands
  back at most ``page_cap`` items whatever ``limit`` asks for, which is legal and makes the SDK
  follow ``has_more``.
- ``GET /v1/messages/batches/{id}``: the ``MessageBatch`` object, whose ``results_url`` is an
  absolute URL on this server once the batch has ended.
- ``GET /v1/messages/batches/{id}/results``: the ``.jsonl`` body, in whatever order the batch's
  lines were given (tests give them out of request order).

Requests must carry ``Authorization: Bearer <api_key>`` (what SDK 2.x sends); anything else is
answered 401. Faults are injected per path: N answers of 429/500/529 before success (with a
``retry-after-ms`` header so the SDK's real back-off stays short), 404 for results that are
gone, and a results body cut off part way (headers declare the full ``Content-Length``, half
the body is sent, the connection is closed), a results body sent slowly (``slow_stream``,
to kill a pull part way), and list answers replaced wholesale (``list_answer``: a callable
given the query that returns the page as a dict, or raw bytes for a body that is not even
JSON) to serve malformed or never-ending pages. Every request is logged for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackServer

TEST_API_KEY = "sk-ant-api03-fake-key-Zq8t1YVbRwN3kP0sXh7C-never-store-me"

_ERROR_TYPES = {
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FakeBatch:
    """One batch as the server holds it; ``lines`` are its results, one JSON text each."""

    id: str
    created_at: datetime
    lines: list[str] = field(default_factory=list)
    processing_status: str = "ended"
    ended_at: datetime | None = None
    archived_at: datetime | None = None
    results_gone: bool = False  # answer 404 on the results URL (kept 29 days only)
    counts: dict[str, int] | None = None  # request_counts to report instead of the lines' own
    # As the API: 24 hours after creation unless given; a batch that ran out of time ends
    # then (give ended_at=expires_at, its unfinished requests as expired lines).
    expires_at: datetime | None = None
    cancel_initiated_at: datetime | None = None  # set when a cancel was asked

    def __post_init__(self) -> None:
        if self.expires_at is None:
            self.expires_at = self.created_at + timedelta(hours=24)
        if self.ended_at is None and self.processing_status == "ended":
            self.ended_at = self.created_at + timedelta(minutes=42)

    def body(self) -> bytes:
        return "".join(line + "\n" for line in self.lines).encode()

    def request_counts(self) -> dict[str, int]:
        if self.counts is not None:
            return dict(self.counts)
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.processing_status != "ended":
            counts["processing"] = len(self.lines)
            return counts
        for line in self.lines:
            kind = json.loads(line)["result"]["type"]
            counts[kind] += 1
        return counts


@dataclass
class Fault:
    path_contains: str
    status: int = 0  # an HTTP error answer; 0 with drop_after set means cut the body off
    times: int = 1
    drop_after: float | None = None  # fraction of the results body sent before closing


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0


class FakeBatchesAPI(LoopbackServer[LoggedRequest]):
    """Start with :meth:`start` (or as a context manager); point the SDK at :attr:`base_url`."""

    def __init__(self, *, api_key: str = TEST_API_KEY, page_cap: int = 2) -> None:
        self.api_key = api_key
        self.page_cap = page_cap
        self._batches: dict[str, FakeBatch] = {}
        self._faults: list[Fault] = []
        self.list_answer: Callable[[dict[str, list[str]]], dict[str, Any] | bytes] | None = None
        self._slow: dict[str, float] = {}
        self._lock = threading.Lock()
        self.log: list[LoggedRequest] = []
        self._server: ThreadingHTTPServer | None = None

    # -- set-up --------------------------------------------------------------------------------
    def add_batch(self, batch: FakeBatch) -> FakeBatch:
        with self._lock:
            self._batches[batch.id] = batch
        return batch

    def batch(self, batch_id: str) -> FakeBatch:
        return self._batches[batch_id]

    def fail(self, path_contains: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests whose path contains ``path_contains`` with ``status``."""
        with self._lock:
            self._faults.append(Fault(path_contains, status=status, times=times))

    def drop_stream(self, batch_id: str, *, after: float = 0.5, times: int = 1) -> None:
        """Cut the next ``times`` results downloads of ``batch_id`` off after ``after`` of the body."""
        with self._lock:
            self._faults.append(Fault(f"/{batch_id}/results", times=times, drop_after=after))

    def slow_stream(self, batch_id: str, *, seconds_per_kb: float) -> None:
        """Send ``batch_id``'s results 1 KB at a time, pausing ``seconds_per_kb`` after each."""
        self._slow[batch_id] = seconds_per_kb

    def handler_base(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # -- wire format ---------------------------------------------------------------------------
    def batch_object(self, batch: FakeBatch) -> dict[str, Any]:
        ended = batch.processing_status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.processing_status,
            "request_counts": batch.request_counts(),
            "created_at": _iso(batch.created_at),
            "expires_at": _iso(batch.expires_at),
            "ended_at": _iso(batch.ended_at) if ended else None,
            "cancel_initiated_at": _iso(batch.cancel_initiated_at),
            "archived_at": _iso(batch.archived_at),
            "results_url": (
                f"{self.base_url}/v1/messages/batches/{batch.id}/results" if ended else None
            ),
        }

    def _ordered(self) -> list[FakeBatch]:
        return sorted(self._batches.values(), key=lambda b: b.created_at, reverse=True)

    def list_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["20"])[0])
        batches = self._ordered()
        ids = [b.id for b in batches]
        if "after_id" in query:
            start = ids.index(query["after_id"][0]) + 1
            window = batches[start:]
        elif "before_id" in query:
            window = batches[: ids.index(query["before_id"][0])][::-1]
        else:
            window = batches
        page = window[: min(limit, self.page_cap)]
        if "before_id" in query:
            page = page[::-1]
        has_more = len(window) > len(page)
        return {
            "data": [self.batch_object(b) for b in page],
            "has_more": has_more,
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
        }

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path_contains in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    api: FakeBatchesAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; the request log is in FakeBatchesAPI.log

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        entry = LoggedRequest(
            "GET", url.path, parse_qs(url.query), {k.lower(): v for k, v in self.headers.items()}
        )
        self.api.log.append(entry)
        entry.status = self._answer(url.path, entry.query)

    def _answer(self, path: str, query: dict[str, list[str]]) -> int:
        if self.headers.get("Authorization") != f"Bearer {self.api.api_key}":
            return self._error(401, "invalid x-api-key")
        fault = self.api.take_fault(path)
        if fault is not None and fault.status:
            return self._error(fault.status, f"injected {fault.status}")
        parts = path.strip("/").split("/")
        if parts[:3] != ["v1", "messages", "batches"]:
            return self._error(404, f"no route {path}")
        if len(parts) == 3:
            if self.api.list_answer is not None:
                answer = self.api.list_answer(query)
                if isinstance(answer, bytes):
                    return self._raw(200, answer)
                return self._json(200, answer)
            return self._json(200, self.api.list_page(query))
        batch = self.api._batches.get(parts[3])
        if batch is None:
            return self._error(404, f"no batch {parts[3]}")
        if len(parts) == 4:
            return self._json(200, self.api.batch_object(batch))
        if len(parts) == 5 and parts[4] == "results":
            if batch.results_gone or batch.processing_status != "ended":
                return self._error(404, f"results for {batch.id} are not available")
            return self._results(
                batch.body(), fault.drop_after if fault else None, self.api._slow.get(batch.id)
            )
        return self._error(404, f"no route {path}")

    def _results(self, body: bytes, drop_after: float | None, slow: float | None = None) -> int:
        self.send_response(200)
        self.send_header("Content-Type", "application/binary")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if slow is not None:
            try:
                for piece in _pieces(body, 1024):
                    self.wfile.write(piece)
                    self.wfile.flush()
                    time.sleep(slow)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client was killed part way: what the slow stream is for
            return 200
        if drop_after is None:
            for piece in _pieces(body, 64 * 1024):
                self.wfile.write(piece)
            return 200
        # Declare the whole body, send part of it, and hang up: the client sees the stream die.
        self.wfile.write(body[: int(len(body) * drop_after)])
        self.wfile.flush()
        self.close_connection = True
        self.connection.close()
        return 200

    def _json(
        self, status: int, payload: dict[str, Any], headers: Iterable[tuple[str, str]] = ()
    ) -> int:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_fake_0001")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        return status

    def _raw(self, status: int, data: bytes) -> int:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return status

    def _error(self, status: int, message: str) -> int:
        payload = {
            "type": "error",
            "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message},
            "request_id": "req_fake_0001",
        }
        # A short retry-after keeps the SDK's real retry loop fast without patching it.
        return self._json(status, payload, [("retry-after-ms", "5")])


def _pieces(body: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]
