"""The reader every user file goes through: its limits at their edges, its API, its messages."""

from __future__ import annotations

import doctest
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costmodel.adapters.user_files
from costmodel.adapters.user_files import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YamlMapping,
    check_regular_file,
    compose_yaml,
    line_of,
    load_yaml,
    read_bytes,
    read_text,
    read_yaml,
    shown_key,
    shown_value,
)
from costmodel.errors import CostModelError, ScenarioError


def refused(text: str) -> str:
    with pytest.raises(CostModelError) as caught:
        load_yaml(text, "f.yaml")
    return str(caught.value)


# -- sizes ---------------------------------------------------------------------------------------
def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a" * MAX_FILE_BYTES)
    assert len(read_bytes(path, kind="price file")) == MAX_FILE_BYTES
    path.write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    with pytest.raises(
        CostModelError, match=r"f\.yaml: is 1\.0 MB; expected a price file of at most 1 MB"
    ):
        read_bytes(path, kind="price file")


def test_the_limit_can_be_set_per_call(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"12345")
    assert read_bytes(path, kind="x file", limit=5) == b"12345"
    with pytest.raises(CostModelError, match="at most"):
        read_bytes(path, kind="x file", limit=4)


def test_errors_are_raised_as_the_callers_kind(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file; expected the path of a scenario"):
        read_text(tmp_path / "nowhere.yaml", kind="scenario file", error=ScenarioError)
    with pytest.raises(ScenarioError, match="invalid YAML"):
        compose_yaml("a: [", "s.yaml", error=ScenarioError)


def test_a_bad_utf8_byte_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"name: ok\nnote: fine\nbad: caf\xe9\n")
    with pytest.raises(CostModelError, match=r"f\.yaml:3: cannot read as UTF-8"):
        read_text(path, kind="price file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_refused_by_what_they_are(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")
    for path, what in [
        (fifo, "a named pipe"),
        (link, "a character device"),
        (tmp_path, "a folder"),
    ]:
        for check in (
            lambda p: check_regular_file(p, kind="results file"),
            lambda p: read_bytes(p, kind="results file"),
        ):
            start = time.perf_counter()
            with pytest.raises(CostModelError, match=f"is {what}.*, not a regular file"):
                check(path)
            assert time.perf_counter() - start < 1


def test_a_missing_file_and_a_path_through_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(CostModelError, match="no such file"):
        check_regular_file(tmp_path / "nope", kind="results file")
    with pytest.raises(CostModelError, match="no such file"):
        check_regular_file(tmp_path / "plain" / "inside", kind="results file")
    check_regular_file(tmp_path / "plain", kind="results file")  # a regular file passes


# -- aliases and nesting -------------------------------------------------------------------------
def _fan(levels: int, width: int) -> str:
    """Anchors a0..a{levels}, each a list of ``width`` aliases to the one before."""
    lines = ["a0: &a0 x"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_aliases_are_counted_by_what_they_stand_for() -> None:
    # Each level-i alias stands for 1 + width + width^2 ... values; this file's aliases stand
    # for just under the limit in all, the same with one more alias just over it.
    width = 10
    text = _fan(4, width)  # 10 + 10*11 + 10*111 + 10*1111 = 12,340 values
    assert load_yaml(text, "f.yaml")["a4"][0][0][0][0] == "x"
    room = (MAX_ALIAS_VALUES - 12_340) // 11_111  # more aliases to a4 that still fit
    many = "".join(f"b{i}: *a4\n" for i in range(room))
    assert len(load_yaml(text + many, "f.yaml")) == 5 + room  # under the limit
    message = refused(text + many + "over: *a4\n")
    assert f"more than {MAX_ALIAS_VALUES:,} values" in message
    assert message.startswith("f.yaml:")


def test_a_billion_laughs_is_refused_in_milliseconds() -> None:
    start = time.perf_counter()
    message = refused(_fan(9, 9))
    assert time.perf_counter() - start < 0.5
    assert "alias" in message


def test_merge_keys_still_share_values() -> None:
    data = load_yaml("base: &b {model: m, tokens: 1}\nw: {<<: *b, tokens: 2}\n", "f.yaml")
    assert data["w"] == {"model": "m", "tokens": 2}
    assert line_of(data["w"], "tokens") == 2 and line_of(data["w"], "model") == 1


def test_nesting_is_bounded_at_its_limit() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_yaml(at_limit, "f.yaml") is not None
    deeper = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert f"nested more than {MAX_DEPTH} levels deep" in refused(deeper)


def test_aliases_cannot_nest_past_the_limit_either() -> None:
    half = MAX_DEPTH // 2 + 2
    text = f"a: &a {'[' * half}x{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    assert "more than 64 levels deep" in refused(text)


@pytest.mark.parametrize("text", ["a: &x [*x]", "a: &x {<<: *x}", "a: &x {b: [1, {c: *x}]}"])
def test_an_alias_inside_its_own_value_is_refused(text: str) -> None:
    assert "refers to the value that contains it" in refused(text)


# -- keys, tags and lines ------------------------------------------------------------------------
def test_a_key_given_twice_names_both_lines_even_through_quoting() -> None:
    message = refused("name: a\nother: 1\n'name': b\n")
    assert message.startswith("f.yaml:3: 'name' is given twice (first on line 1)")
    # A merged key overridden by the mapping's own is not a duplicate.
    assert load_yaml("d: &d {a: 1}\ne: {<<: *d, a: 2}\n", "f.yaml")["e"] == {"a": 2}


def test_unsafe_tags_are_refused_with_their_line() -> None:
    message = refused("ok: 1\nx: !!python/object/apply:os.system ['echo no']\n")
    assert message.startswith("f.yaml:2: cannot read this value")


def test_mappings_know_their_lines() -> None:
    data = load_yaml("name: a\n\nmodels:\n  m:\n    prices: []\n", "f.yaml")
    assert isinstance(data, YamlMapping) and data == {"name": "a", "models": {"m": {"prices": []}}}
    assert line_of(data) == 1 and line_of(data, "models") == 3
    assert line_of(data["models"]["m"], "prices") == 5
    assert line_of({"plain": 1}, "plain") is None


def test_an_empty_document_is_none() -> None:
    assert load_yaml("", "f.yaml") is None
    assert load_yaml("# only a comment\n", "f.yaml") is None


def test_read_yaml_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text("claims: ['claim-*']\n", encoding="utf-8")
    assert read_yaml(path, kind="job mapping file") == {"claims": ["claim-*"]}


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(costmodel.adapters.user_files).failed == 0


# -- what may be quoted --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("discount", "'discount'"),
        ("input_tokns", "'input_tokns'"),
        ("claude-sonnet-4.5", "'claude-sonnet-4.5'"),
        ("root:$6$abc:19000::", None),
        ("x" * 65, None),
        ("has space", None),
        ("\x1b[31m", None),
        (12, None),
    ],
)
def test_a_key_is_quoted_only_if_it_reads_as_a_name(key: object, shown: str | None) -> None:
    assert shown_key(key) == shown


def test_a_value_is_quoted_short_and_escaped() -> None:
    assert shown_value("abc") == "'abc'"
    assert shown_value("x" * 100) == "'" + "x" * 40 + "'..."
    assert "\x1b" not in shown_value("\x1b[2J") and "\n" not in shown_value("a\nb")
    assert "\u202e" not in shown_value("\u202eevil") and "\u202e" not in shown_value(["\u202e"])
    assert shown_value(15) == "15"


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_are_data_or_one_located_line(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        load_yaml(text, "fuzz.yaml")
    except CostModelError as error:
        assert str(error).startswith("fuzz.yaml") and "\n" not in str(error)


@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*<! \n'\"#|>?,")), max_size=120))
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_yaml_punctuation_is_data_or_one_located_line(text: str) -> None:
    try:
        load_yaml(text, "fuzz.yaml")
    except CostModelError as error:
        assert str(error).startswith("fuzz.yaml") and "\n" not in str(error)
