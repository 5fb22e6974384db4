"""A loopback Usage and Cost Analytics API: a real HTTP server the real ``anthropic`` SDK pulls.

It serves ``GET /v1/organizations/analytics/usage`` and ``GET /v1/organizations/analytics/cost``
in the documented wire format, from facts (:mod:`costmodel.adapters.synthetic_org`):

- query parameters as the SDK sends them: ``starting_at`` (required), ``ending_at``
  (exclusive), ``time_bucket_width``, ``group_by[]`` (at most 5, ``cost_type`` and
  ``token_type`` not counted), the list filters ``workspace_ids[]``, ``models[]``,
  ``service_tiers[]``, ``api_key_ids[]``, ``limit`` (1-1000) and ``page``;
- the documented limits answered with 400 ``invalid_request_error``: a start before
  2026-01-01 or more than 365 days before the server's ``now``, a range over 31 days,
  ``time_bucket_width`` without ``ending_at``, more than five dimensions;
- pages of at most ``min(limit, page_cap)`` rows with ``has_more``, an opaque ``next_page``
  and ``data_refreshed_at``; cost rows fanned out by ``cost_type`` / ``token_type`` do not count
  toward ``limit``, as the API says (a page holds whole groups).

Requests must carry ``Authorization: Bearer <key>`` and the beta header
``analytics-usage-cost-2026-08-24``. Faults are scripted per path: N answers of 429/500/529
(with a short ``retry-after-ms`` so the SDK's real back-off stays quick), and a response cut
off mid-body (the full ``Content-Length`` is declared, part is sent, the connection closes).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from costmodel.adapters.synthetic_org import OrgFact, cost_rows, iso, usage_rows
from tests.loopback import LoopbackServer

TEST_ADMIN_KEY = "sk-ant-admin01-fake-Kq2vX9pLm4Tz7Rw-never-store-me"
BETA = "analytics-usage-cost-2026-08-24"
EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_FILTERS = {
    "workspace_ids[]": "workspace_id",
    "models[]": "model",
    "service_tiers[]": "service_tier",
    "api_key_ids[]": "api_key_id",
    "context_windows[]": "context_window",
    "inference_geos[]": "inference_geo",
    "speeds[]": "speed",
}
_FANOUT = ("cost_type", "token_type")


@dataclass
class Fault:
    path_contains: str
    status: int = 0  # 0: cut the body off part way
    times: int = 1
    page: int | None = None  # only on this page number (0 = first page), any page if None


@dataclass
class LoggedRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0


@dataclass
class FakeAnalyticsAPI(LoopbackServer[LoggedRequest]):
    """Start with :meth:`start` (or ``with``); point the SDK at :attr:`base_url`."""

    facts: list[OrgFact] = field(default_factory=list)
    now: datetime = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    api_key: str = TEST_ADMIN_KEY
    page_cap: int = 1000
    refreshed_at: datetime = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    log: list[LoggedRequest] = field(default_factory=list)
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- set-up ---------------------------------------------------------------------------------
    def fail(self, path_contains: str, status: int, times: int = 1) -> None:
        with self._lock:
            self._faults.append(Fault(path_contains, status=status, times=times))

    def drop(self, path_contains: str, *, times: int = 1, page: int | None = None) -> None:
        """Cut the next ``times`` answers off in the middle of the body: on the first page of a
        query (``page=0``), on a later page (``page=1``) or on any (``None``)."""
        with self._lock:
            self._faults.append(Fault(path_contains, times=times, page=page))

    def handler_base(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def take_fault(self, path: str, page: int) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.path_contains in path
                    and fault.times > 0
                    and (fault.page is None or fault.page == page)
                ):
                    fault.times -= 1
                    return fault
        return None

    # -- the API --------------------------------------------------------------------------------
    def answer(self, kind: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        def bad(message: str) -> tuple[int, dict[str, Any]]:
            return 400, _error_body(400, message)

        if "starting_at" not in query:
            return bad("starting_at: Field required")
        try:
            start = _moment(query["starting_at"][0])
            end = _moment(query["ending_at"][0]) if "ending_at" in query else None
        except ValueError as exc:
            return bad(f"invalid timestamp: {exc}")
        width = query.get("time_bucket_width", [None])[0]
        if width is not None and width not in ("1d", "1h", "1m"):
            return bad(f"time_bucket_width: unknown value {width!r}")
        if width is not None and end is None:
            return bad("ending_at is required when time_bucket_width is set")
        if start < EARLIEST:
            return bad("starting_at must be no earlier than 2026-01-01T00:00:00Z")
        if start < self.now - timedelta(days=365):
            return bad("starting_at must be within the last 365 days")
        if end is None:
            end = min(self.now, start + timedelta(days=31)).replace(minute=0, second=0)
        if end <= start:
            return bad("ending_at must be after starting_at")
        if end - start > timedelta(days=31):
            return bad("the range may span at most 31 days")
        if width == "1m" and end - start > timedelta(hours=24):
            return bad("with time_bucket_width=1m the range may span at most 24 hours")
        group_by = query.get("group_by[]", [])
        counted = [g for g in group_by if g not in _FANOUT]
        if len(counted) > 5:
            return bad(f"group_by: at most 5 dimensions, got {len(counted)}")
        if kind == "usage" and any(g in _FANOUT for g in group_by):
            return bad("group_by: cost_type and token_type are for the cost endpoint only")
        limit = int(query.get("limit", ["20"])[0])
        if not 1 <= limit <= 1000:
            return bad("limit: expected 1 to 1000")
        filters = {dim: query[name] for name, dim in _FILTERS.items() if name in query}
        build = usage_rows if kind == "usage" else cost_rows
        rows = build(
            self.facts, start=start, end=end, group_by=group_by, bucket=width, filters=filters
        )
        offset = _decode_page(query["page"][0]) if "page" in query else 0
        size = min(limit, self.page_cap)
        # A page holds `size` groups; fan-out rows of one group stay together (cost endpoint).
        groups = _group_boundaries(rows, kind)
        chosen = groups[offset : offset + size]
        page_rows = [rows[i] for span in chosen for i in span]
        more = offset + size < len(groups)
        return 200, {
            "data": page_rows,
            "has_more": more,
            "next_page": _encode_page(offset + size) if more else None,
            "data_refreshed_at": iso(self.refreshed_at),
        }


def _group_boundaries(rows: list[dict[str, Any]], kind: str) -> list[list[int]]:
    spans: list[list[int]] = []
    previous: tuple[Any, ...] | None = None
    for i, row in enumerate(rows):
        group = row["group"]
        key = (
            row["starting_at"],
            *(str(v) for k, v in group.items() if kind == "usage" or k not in _FANOUT),
        )
        if key != previous or kind == "usage":
            spans.append([])
        spans[-1].append(i)
        previous = key
    return spans


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; expected RFC 3339")
    return moment.astimezone(UTC)


def _encode_page(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"offset={offset}".encode()).decode().rstrip("=")


def _decode_page(token: str) -> int:
    raw = token.removeprefix("page_")
    raw += "=" * (-len(raw) % 4)
    return int(base64.urlsafe_b64decode(raw).decode().split("=")[1])


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": "req_fake_analytics",
    }


class _Handler(BaseHTTPRequestHandler):
    api: FakeAnalyticsAPI
    protocol_version = "HTTP/1.1"
    _entry: LoggedRequest

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        entry = LoggedRequest(url.path, query, {k.lower(): v for k, v in self.headers.items()})
        self.api.log.append(entry)
        self._entry = entry
        self._route(url.path, query)

    def _route(self, path: str, query: dict[str, list[str]]) -> int:
        if self.headers.get("Authorization") != f"Bearer {self.api.api_key}":
            return self._send(401, _error_body(401, "invalid x-api-key"))
        if BETA not in (self.headers.get("anthropic-beta") or ""):
            return self._send(400, _error_body(400, f"this endpoint needs the {BETA} beta"))
        kind = path.rstrip("/").rsplit("/", 1)[-1]
        if path.rstrip("/") not in (
            "/v1/organizations/analytics/usage",
            "/v1/organizations/analytics/cost",
        ):
            return self._send(404, _error_body(404, f"no route {path}"))
        page = _decode_page(query["page"][0]) if "page" in query else 0
        fault = self.api.take_fault(path, 0 if page == 0 else 1)
        if fault is not None and fault.status:
            return self._send(fault.status, _error_body(fault.status, f"injected {fault.status}"))
        status, body = self.api.answer(kind, query)
        return self._send(status, body, cut=fault is not None)

    def _send(self, status: int, payload: dict[str, Any], *, cut: bool = False) -> int:
        data = json.dumps(payload).encode()
        # Logged before the answer goes out: the client may act on it before this thread runs on.
        self._entry.status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_fake_analytics")
        if status >= 400:
            self.send_header("retry-after-ms", "5")
        self.end_headers()
        if cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()
            return status
        self.wfile.write(data)
        return status
