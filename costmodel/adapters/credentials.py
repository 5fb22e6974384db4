"""Credentials from the environment: checked before they are used, never shown.

costmodel reads its secrets (an API key, a token, a base URL that may carry a user and a
password) only from the environment, as the ``anthropic`` SDK does. Two things here:

- :func:`redact` masks anything secret in a text before it is printed or raised: the values
  of the credential variables, the ``user:password@`` part of any URL, and anything shaped
  like an Anthropic key or an ``Authorization`` header value. The CLI runs every message it
  prints through it, and :mod:`costmodel.adapters.ingest.batches` every message it raises.
- :func:`check_environment` refuses a key with stray whitespace (a trailing newline from
  ``$(cat keyfile)``, a carriage return from a Windows editor) in one line that names the
  variable and never its value; sent as is, such a key fails as a confusing connection error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import unquote

from costmodel.errors import ApiError

__all__ = [
    "KEY_VARIABLES",
    "URL_VARIABLES",
    "check_environment",
    "check_key",
    "redact",
    "status_detail",
]

# Every variable costmodel (through the SDK) reads a secret from.
KEY_VARIABLES: Final = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_ADMIN_KEY")
URL_VARIABLES: Final = ("ANTHROPIC_BASE_URL",)
REDACTED: Final = "[redacted]"

# scheme://user:password@host: the userinfo runs to the last @ before the path.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#]*@")
_KEY_SHAPED = re.compile(r"\bsk-ant-[A-Za-z0-9_\-]+")
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic|x-api-key:?)(\s+|=)[A-Za-z0-9._~+/=\-]+")
_SHORTEST_SECRET: Final = 4  # below this a "secret" would mask ordinary words


def _secrets_in(environ: Mapping[str, str]) -> list[str]:
    """The secret strings the environment holds: key values, URL users and passwords."""
    found: list[str] = []
    for name in KEY_VARIABLES:
        value = environ.get(name)
        if value:
            found += [value, value.strip()]
    for name in URL_VARIABLES:
        value = environ.get(name) or ""
        scheme_end = value.find("://")
        # The last @ anywhere: a password may hold an unescaped / or ?, and masking a little
        # too much of a URL costs nothing.
        at = value.rfind("@")
        if scheme_end >= 0 and at > scheme_end:
            userinfo = value[scheme_end + 3 : at]
            for part in (userinfo, *userinfo.split(":", 1)):
                found += [part, unquote(part)]
    return found


def redact(
    text: str, secrets: Iterable[str | None] = (), *, environ: Mapping[str, str] | None = None
) -> str:
    """``text`` with every credential masked as ``[redacted]``.

    Masks the given ``secrets``, the credential variables' values in ``environ`` (default: the
    process environment), URL userinfo, and key- and header-shaped tokens.

    >>> redact("cannot reach http://ops:hunter2@10.0.0.1:8080/v1", environ={})
    'cannot reach http://[redacted]@10.0.0.1:8080/v1'
    >>> redact("refused sk-ant-api03-abc_DEF-123", environ={})
    'refused [redacted]'
    """
    env = os.environ if environ is None else environ
    candidates = {s for s in (*secrets, *_secrets_in(env)) if s and len(s) >= _SHORTEST_SECRET}
    # Longest first, so a password inside a longer secret does not leave the rest behind.
    for secret in sorted(candidates, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        escaped = secret.encode("unicode_escape").decode("ascii")
        if escaped != secret:  # as a repr or an HTTP library shows it: key\n -> key\\n
            text = text.replace(escaped, REDACTED)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def check_key(name: str, value: str | None) -> None:
    """Raise :class:`ApiError` if a key has leading or trailing whitespace; never shows it."""
    if value and value != value.strip():
        where = "a trailing" if value[-1].isspace() else "a leading"
        kind = _whitespace_name(value[-1] if value[-1].isspace() else value[0])
        raise ApiError(
            f"{name} has stray whitespace ({where} {kind}); expected the value alone: set it "
            "again without it (a key read from a file often ends in a newline)"
        )


def _whitespace_name(char: str) -> str:
    return {"\n": "newline", "\r": "carriage return", "\t": "tab", " ": "space"}.get(
        char, "whitespace character"
    )


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """:func:`check_key` for every credential variable set, and the base URL likewise."""
    env = os.environ if environ is None else environ
    for name in (*KEY_VARIABLES, *URL_VARIABLES):
        check_key(name, env.get(name))


def status_detail(exc: Any, scrub: Callable[[str], str]) -> str:
    """``HTTP 529 overloaded_error: <message>`` from an SDK status error, short, with the API's
    message passed through ``scrub`` (a :func:`redact` over the client's secrets)."""
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
