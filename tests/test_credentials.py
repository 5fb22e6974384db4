"""Credentials: masked in every message, checked for stray whitespace before use."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import pytest
from fake_batches_api import TEST_API_KEY, FakeBatchesAPI
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import costmodel.adapters.credentials
from costmodel.adapters.credentials import check_environment, check_key, redact
from costmodel.adapters.ingest.batches import pull
from costmodel.adapters.store import Store
from costmodel.errors import ApiError


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("http://user:password@127.0.0.1:9", "password"),
        ("https://only-a-user@proxy.example:8443/v1", "only-a-user"),
        ("http://ops:p@ss@host", "p@ss"),
        ("http://ops:p%40ss%2Fw0rd@host/path", "p%40ss%2Fw0rd"),
        ("HTTP://Ops:Secret1@Host", "Secret1"),
    ],
)
def test_url_userinfo_is_masked_in_any_text(url: str, secret: str) -> None:
    text = redact(f"listing batches failed: cannot reach {url}: Connection error.", environ={})
    assert secret not in text and "[redacted]@" in text
    assert text.lower().startswith("listing batches failed: cannot reach http")


def test_the_environments_credentials_are_masked_however_they_are_quoted() -> None:
    environ = {
        "ANTHROPIC_API_KEY": "plain-key-without-prefix\n",
        "ANTHROPIC_BASE_URL": "http://ops:s3cr3t/with?odd#chars@127.0.0.1:9",
    }
    for shown in (
        "header value b'Bearer plain-key-without-prefix\\n' is illegal",
        "sent plain-key-without-prefix\n as is",
        "password s3cr3t/with?odd#chars somewhere",
        "decoded: s3cr3t/with?odd#chars",
    ):
        masked = redact(shown, environ=environ)
        assert "plain-key-without-prefix" not in masked and "s3cr3t" not in masked, masked


def test_key_and_header_shaped_tokens_are_masked() -> None:
    text = redact(
        "sk-ant-api03-AbC_dEf-123 then Authorization: Bearer abc.def-ghi and x-api-key: k3y-k3y",
        environ={},
    )
    assert "AbC_dEf" not in text and "abc.def-ghi" not in text and "k3y-k3y" not in text


def test_ordinary_text_is_left_alone() -> None:
    text = "s.yaml:3: workloads[0].model: unknown model 'claude-x'; see https://docs.example/a"
    assert redact(text, environ={"ANTHROPIC_API_KEY": "abc"}) == text  # too short to mask words


@given(
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="@"),
        min_size=4,
        max_size=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_no_password_survives_in_the_base_url(password: str) -> None:
    url = f"http://ops:{password}@127.0.0.1:9"
    masked = redact(f"cannot reach {url}: Connection error.", environ={"ANTHROPIC_BASE_URL": url})
    # A password that is part of the message's own words (or of the mask) is found there
    # whatever redact does: only the others can tell a leak.
    assume(password not in _AROUND)
    assert password not in masked


_AROUND = "cannot reach http://ops:[redacted]@127.0.0.1:9: Connection error."


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("key\n", "a trailing newline"),
        ("key\r", "a trailing carriage return"),
        ("key\r\n", "a trailing newline"),
        (" key", "a leading space"),
        ("\tkey", "a leading tab"),
        ("key\u00a0", "a trailing whitespace character"),
    ],
)
def test_stray_whitespace_is_named_without_the_key(value: str, said: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_key("ANTHROPIC_API_KEY", value)
    message = str(caught.value)
    assert message.startswith(f"ANTHROPIC_API_KEY has stray whitespace ({said})")
    assert "key\n" not in message and "\n" not in message
    check_key("ANTHROPIC_API_KEY", "key")  # a clean key passes
    check_key("ANTHROPIC_API_KEY", None)


def test_every_credential_variable_is_checked() -> None:
    check_environment({"ANTHROPIC_API_KEY": "k", "PATH": " odd "})
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        with pytest.raises(ApiError, match=f"^{name} has stray whitespace"):
            check_environment({name: "value\n"})


def test_a_client_with_a_stray_newline_in_its_key_is_refused_before_any_request(
    fake_api: FakeBatchesAPI, store: Store
) -> None:
    import anthropic

    client: Any = anthropic.Anthropic(api_key=TEST_API_KEY + "\n", base_url=fake_api.base_url)
    with pytest.raises(ApiError, match="ANTHROPIC_API_KEY has stray whitespace") as caught:
        pull(store, client=client, progress=False)
    assert TEST_API_KEY not in str(caught.value)
    assert fake_api.log == []


def test_an_unreachable_api_names_no_password(
    monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://ops:hunter2pw@127.0.0.1:{port}")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(ApiError) as caught:
        pull(store, max_retries=0, progress=False)
    assert "hunter2pw" not in str(caught.value) and "cannot reach" in str(caught.value)


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(costmodel.adapters.credentials).failed == 0
