"""Hostile input, refused: every kind of file costmodel reads, a hostile environment, bad amounts.

The corpus is ``tests/hostile/`` (small files, committed) plus files made here (a file over
1 MB, binary garbage, bytes that are not UTF-8, NUL bytes, a symlink to ``/dev/zero``, a FIFO,
a folder, a ``/proc`` pseudo-file). Each is given to each loader it could reach (scenario,
price file, job mapping, results file), through the library and through the CLI: each must be
refused quickly, in one line that names the file, quotes none of its content, and exits 1.

Inputs that hang or exhaust memory without the fix (an alias bomb, a FIFO, ``/dev/zero``) run
in a child process with a memory cap and a timeout, so without the fix this module fails
instead of taking the machine with it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fake_batches_api import TEST_API_KEY, FakeBatch, FakeBatchesAPI

from costmodel.adapters.catalogue_files import bundled_catalogue, load_price_file
from costmodel.adapters.ingest.files import read_results
from costmodel.adapters.job_maps import load_job_map
from costmodel.adapters.scenario_files import load_scenario
from costmodel.adapters.synthetic import generate
from costmodel.errors import CatalogueError, CostModelError, IngestError, ScenarioError
from costmodel.shells.cli import main

CORPUS = Path(__file__).parent / "hostile"
ROOT = Path(__file__).resolve().parent.parent
KINDS = ("scenario", "price", "jobs", "results")
YAML_KINDS = ("scenario", "price", "jobs")
ERRORS: dict[str, type[CostModelError]] = {
    "scenario": ScenarioError,
    "price": CatalogueError,
    "jobs": CostModelError,
    "results": IngestError,
}
# Words from the corpus files that must never reach a message.
CONTENT = ("CANARY", "20228", "99999", "sk-ant", "daemon", "root:", "lol", "\x00")
QUICK_SECONDS = 2.0  # a refusal takes milliseconds; this is headroom for a busy machine


def load(kind: str, path: Path) -> None:
    """Read ``path`` as a file of ``kind`` with the library."""
    if kind == "scenario":
        load_scenario(path)
    elif kind == "price":
        load_price_file(path, bundled_catalogue())
    elif kind == "jobs":
        load_job_map(path)
    else:
        results = read_results(path)
        results.precheck()
        for _ in results:
            pass


def cli_args(kind: str, path: Path, store: Path) -> list[str]:
    return {
        "scenario": ["run", str(path)],
        "price": ["prices", "--prices", str(path)],
        "jobs": ["usage", "summary", "--store", str(store), "--jobs", str(path)],
        "results": ["usage", "import", "--store", str(store), str(path)],
    }[kind]


def empty_store(folder: Path) -> Path:
    from costmodel.adapters.store import open_store

    path = folder / "usage.duckdb"
    if not path.exists():
        with open_store(path):
            pass
    return path


def assert_refused(message: str, path: Path) -> None:
    """One line that names the file and quotes none of its content."""
    assert message and "\n" not in message.strip(), message
    assert str(path) in message, message
    for word in CONTENT:
        assert word not in message, (word, message)
    assert len(message) < 400, message


# -- the probe: library and CLI in a child process with a memory cap and a timeout -------------
_PROBE = textwrap.dedent(
    """
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    store, tests = sys.argv[1], sys.argv[2]
    sys.path.insert(0, tests)
    from pathlib import Path
    from click.testing import CliRunner
    import test_hostile as t
    from costmodel.shells.cli import main
    for kind, path in json.loads(sys.argv[3]):
        outcome = {}
        start = time.perf_counter()
        try:
            t.load(kind, Path(path))
            outcome["error"] = None
        except Exception as error:
            outcome["error"] = type(error).__name__
            outcome["message"] = str(error)
        outcome["seconds"] = time.perf_counter() - start
        result = CliRunner().invoke(main, t.cli_args(kind, Path(path), Path(store)))
        outcome.update(code=result.exit_code, stdout=result.stdout, stderr=result.stderr)
        print(json.dumps(outcome), flush=True)
    """
)


def probe(cases: list[tuple[str, Path]], tmp_path: Path) -> list[dict[str, Any]]:
    """Load each ``(kind, path)`` through the library, then the CLI, in a capped child process."""
    store = empty_store(tmp_path)
    pairs = json.dumps([(kind, str(path)) for kind, path in cases])
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(store), str(Path(__file__).parent), pairs],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"reading {cases} did not finish in 120 s (got {exc.stdout!r})")
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(outcomes) == len(cases)
    return outcomes


def assert_probe_refused(outcome: dict[str, Any], kind: str, path: Path) -> None:
    assert outcome["error"] == ERRORS[kind].__name__, outcome
    assert_refused(outcome["message"], path)
    assert outcome["seconds"] < QUICK_SECONDS, outcome
    assert outcome["code"] == 1, outcome
    assert outcome["stderr"].startswith("costmodel: error: "), outcome
    assert_refused(outcome["stderr"], path)
    assert "Traceback" not in outcome["stderr"] + outcome["stdout"]


# -- files that hang or exhaust memory without the fix (issue 8, items 8 and 9) ----------------
def test_an_alias_bomb_is_refused_in_milliseconds(tmp_path: Path) -> None:
    cases = [
        ("scenario", CORPUS / "alias-bomb-scenario.yaml"),
        ("price", CORPUS / "alias-bomb-price.yaml"),
        ("jobs", CORPUS / "alias-bomb-jobs.yaml"),
        ("scenario", CORPUS / "merge-bomb-scenario.yaml"),
    ]
    for (kind, path), outcome in zip(cases, probe(cases, tmp_path), strict=True):
        assert_probe_refused(outcome, kind, path)
        assert "alias" in outcome["message"]


def test_a_scenario_whose_price_file_is_a_bomb_fails_fast_in_ci(tmp_path: Path) -> None:
    """The issue's case: `prices:` names the bomb and CI runs `diff --fail-above`."""
    shutil.copy(CORPUS / "alias-bomb-price.yaml", tmp_path / "prices.yaml")
    scenario = tmp_path / "proposed.yaml"
    scenario.write_text(
        "name: proposed\nprices: prices.yaml\nworkloads:\n"
        "  - {name: w, model: claude-haiku-4-5, requests: 10, input_tokens: 10, "
        "output_tokens: 10}\n",
        encoding="utf-8",
    )
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, sys; "
                "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30)); "
                "from costmodel.shells.cli import main; sys.argv[0] = 'costmodel'; main()",
                "diff",
                str(scenario),
                str(scenario),
                "--fail-above",
                "100",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("diff against a scenario naming an alias-bomb price file ran over 60 s")
    seconds = time.perf_counter() - start
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"costmodel: error: {scenario}:2: prices: ")
    assert "prices.yaml:" in line and "alias" in line and "lol" not in line
    assert seconds < 15  # start-up included; the refusal itself takes milliseconds


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def _zero(tmp_path: Path) -> Path:
    path = tmp_path / "zero.yaml"
    path.symlink_to("/dev/zero")
    return path


def _proc(tmp_path: Path) -> Path:
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc here")
    return Path("/proc/self/status")


SPECIAL_FILES: dict[str, Callable[[Path], Path]] = {
    "a FIFO": _fifo,
    "a symlink to /dev/zero": _zero,
    "/proc/self/status": _proc,
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("what", list(SPECIAL_FILES))
def test_only_regular_files_are_opened(what: str, tmp_path: Path) -> None:
    path = SPECIAL_FILES[what](tmp_path)
    cases = [(kind, path) for kind in KINDS]
    for (kind, _), outcome in zip(cases, probe(cases, tmp_path), strict=True):
        assert_probe_refused(outcome, kind, path)
        assert "not a regular file" in outcome["message"]


# -- files that are refused on main too, but must still be one clean line -----------------------
def _huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    line = b"# " + b"x" * 1021 + b"\n"  # 1 KB a line: 1 MB and one line more
    path.write_bytes(b"name: huge\n" + line * 1024)
    return path


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.bin"
    path.write_bytes(random.Random(8).randbytes(4096))
    return path


def _latin1(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Café\ndiscounts: []\nclaims: ['c-*']\n".encode("latin-1"))
    return path


def _nul(tmp_path: Path) -> Path:
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"name: a\x00b\ndiscounts: []\n")
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.yaml"
    path.mkdir()
    return path


def _corpus(name: str) -> Callable[[Path], Path]:
    return lambda _tmp: CORPUS / name


BAD_YAML: dict[str, Callable[[Path], Path]] = {
    "over 1 MB": _huge,
    "binary garbage": _binary,
    "not UTF-8": _latin1,
    "a NUL byte": _nul,
    "a folder": _folder,
    "nested 200 deep": _corpus("deep-nesting.yaml"),
    "a python tag": _corpus("python-tag.yaml"),
    "an alias inside itself": _corpus("self-alias.yaml"),
    "shadow-like content": _corpus("shadow-like.yaml"),
}


@pytest.mark.parametrize("what", list(BAD_YAML))
@pytest.mark.parametrize("kind", YAML_KINDS)
def test_hostile_yaml_files_are_one_line_quoting_nothing(
    kind: str, what: str, tmp_path: Path
) -> None:
    path = BAD_YAML[what](tmp_path)
    start = time.perf_counter()
    with pytest.raises(ERRORS[kind]) as caught:
        load(kind, path)
    assert time.perf_counter() - start < QUICK_SECONDS
    assert_refused(str(caught.value), path)
    result = CliRunner().invoke(main, cli_args(kind, path, empty_store(tmp_path)))
    if what == "a folder" and kind != "scenario":  # click's own check of --prices and --jobs
        assert result.exit_code == 2 and "is a directory" in result.stderr
        return
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("costmodel: error: ")
    assert_refused(result.stderr, path)


def test_a_file_over_the_limit_says_so(tmp_path: Path) -> None:
    path = _huge(tmp_path)
    for kind in YAML_KINDS:
        with pytest.raises(ERRORS[kind], match=r"is 1\.0 MB; expected .* of at most 1 MB"):
            load(kind, path)


@pytest.mark.parametrize(
    ("kind", "name"), [("price", "duplicate-keys-price.yaml"), ("jobs", "duplicate-keys-jobs.yaml")]
)
def test_a_key_given_twice_is_refused_not_silently_replaced(kind: str, name: str) -> None:
    with pytest.raises(ERRORS[kind]) as caught:
        load(kind, CORPUS / name)
    message = str(caught.value)
    assert (
        f"{CORPUS / name}:" in message and "given twice" in message and "first on line" in message
    )


def test_shadow_like_content_is_not_a_price_file_nor_a_scenario() -> None:
    path = CORPUS / "shadow-like.yaml"
    with pytest.raises(CatalogueError, match="not a price file"):
        load("price", path)
    with pytest.raises(ScenarioError, match="not a scenario"):
        load("scenario", path)


def test_an_unknown_key_that_is_not_a_name_is_located_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("name: Acme\ndiscounts: []\nroot:$6$CANARY:20228::\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_price_file(path, bundled_catalogue())
    assert "an unknown key (line 3)" in str(caught.value)
    assert_refused(str(caught.value), path)
    path.write_text("name: Acme\ndiscount: []\n", encoding="utf-8")  # a typo is still named
    with pytest.raises(CatalogueError, match=r"unknown key 'discount' \(line 2\)"):
        load_price_file(path, bundled_catalogue())


def test_a_long_value_is_quoted_short(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    secret = "CANARY" * 200
    path.write_text(
        f"name: s\nworkloads:\n  - {{name: w, model: claude-haiku-4-5, requests: {secret}, "
        "input_tokens: 1, output_tokens: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert secret not in str(caught.value) and len(str(caught.value)) < 300


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", [["usage", "summary"], ["usage", "import", "x.jsonl"]])
def test_a_store_that_is_not_a_regular_file_is_refused(command: list[str], tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "costmodel", *command, "--store", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"costmodel: error: {fifo}: is a named pipe (FIFO), not a regular file; expected the "
        "path of a usage store (a DuckDB file)\n"
    )


# -- results files -------------------------------------------------------------------------------
def test_a_results_file_with_nul_bytes_is_refused_by_line(tmp_path: Path) -> None:
    good = list(generate(3, seed=1))
    path = tmp_path / "msgbatch_01Nul_results.jsonl"
    path.write_bytes(
        (good[0] + "\n").encode() + b'{"custom_id": "a\x00CANARY"}\n' + b"\x00" * 64 + b"\n"
    )
    with pytest.raises(IngestError) as caught:
        load("results", path)
    assert "line 2" in str(caught.value) and "line 3" in str(caught.value)
    assert_refused(str(caught.value), path)
    result = CliRunner().invoke(main, cli_args("results", path, empty_store(tmp_path)))
    assert result.exit_code == 1 and "CANARY" not in result.output


@pytest.mark.parametrize("what", ["binary garbage", "shadow-like content", "a folder"])
def test_a_results_file_that_is_not_one_is_refused(what: str, tmp_path: Path) -> None:
    path = BAD_YAML[what](tmp_path)
    with pytest.raises(IngestError) as caught:
        load("results", path)
    assert str(path) in str(caught.value) and "CANARY" not in str(caught.value)


# -- the environment: credentials never shown, stray whitespace named (item 10) ----------------
def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pull(tmp_path: Path, **env: str | None) -> Any:
    """``costmodel usage pull`` in this process, with ``env`` as the shell's environment."""
    return CliRunner(env={"ANTHROPIC_AUTH_TOKEN": None, **env}).invoke(
        main, ["usage", "pull", "--max-retries", "0", "--store", str(tmp_path / "pull.duckdb")]
    )


@pytest.mark.parametrize("where", ["the loopback API", "a dead port"])
def test_a_password_in_the_base_url_is_never_printed(
    where: str, tmp_path: Path, fake_api: FakeBatchesAPI
) -> None:
    port = fake_api.base_url.rsplit(":", 1)[1] if where == "the loopback API" else _dead_port()
    password = "hunter2-CANARY-pw"
    done = _pull(
        tmp_path,
        ANTHROPIC_API_KEY=TEST_API_KEY,
        ANTHROPIC_BASE_URL=f"http://ops:{password}@127.0.0.1:{port}",
    )
    assert done.exit_code == 1
    assert done.stderr.startswith("costmodel: error: ") and len(done.stderr.splitlines()) == 1
    for secret in (password, TEST_API_KEY, "ops:"):
        assert secret not in done.stdout + done.stderr, done.stderr


def test_a_failed_download_names_no_credential(tmp_path: Path, api_env: FakeBatchesAPI) -> None:
    api_env.add_batch(FakeBatch("msgbatch_01Cut", time_start(), list(generate(40, seed=3))))
    api_env.drop_stream("msgbatch_01Cut", times=5)
    done = _pull(tmp_path, ANTHROPIC_API_KEY=TEST_API_KEY, ANTHROPIC_BASE_URL=api_env.base_url)
    assert done.exit_code == 1 and "failed msgbatch_01Cut" in done.stderr
    assert TEST_API_KEY not in done.stdout + done.stderr


def time_start() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("variable", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
@pytest.mark.parametrize("stray", ["\n", "\r", "\r\n", " ", "\t", "lead "])
def test_a_key_with_stray_whitespace_is_named_before_any_request(
    variable: str, stray: str, tmp_path: Path, fake_api: FakeBatchesAPI
) -> None:
    key = f" {TEST_API_KEY}" if stray == "lead " else TEST_API_KEY + stray
    env: dict[str, str | None] = {
        "ANTHROPIC_BASE_URL": fake_api.base_url,
        "ANTHROPIC_API_KEY": TEST_API_KEY,
    }
    env[variable] = key
    done = _pull(tmp_path, **env)
    assert done.exit_code == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"costmodel: error: {variable} has stray whitespace (a ")
    assert TEST_API_KEY not in done.stdout + done.stderr
    assert fake_api.log == []  # refused before any request


def test_a_control_character_in_a_message_cannot_break_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad\x1b[2J\nname.yaml"
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr
    assert "\\x1b[2J\\x0aname.yaml" in result.stderr


# -- amounts (item 11) ---------------------------------------------------------------------------
BASELINE = ROOT / "scenarios" / "claims-case-study.yaml"  # $26.25 a month on the batch plan
PROPOSED = ROOT / "scenarios" / "claims-triage.yaml"  # $206.25: a rise of $180.00


@pytest.mark.parametrize(
    "amount", ["nan", "NaN", "inf", "-inf", "Infinity", "-1", "-0.01", "1e400", "snan", "", "abc"]
)
def test_a_budget_that_is_not_a_finite_amount_is_refused(amount: str) -> None:
    result = CliRunner().invoke(
        main, ["diff", str(BASELINE), str(PROPOSED), "--fail-above", amount]
    )
    assert result.exit_code == 2, result.output
    assert "--fail-above" in result.stderr
    assert result.stdout == ""  # refused before anything is computed or printed


@pytest.mark.parametrize(("amount", "code"), [("179.99", 3), ("180", 0), ("180.00", 0), ("0", 3)])
def test_the_budget_gate_compares_at_the_cent(amount: str, code: int) -> None:
    result = CliRunner().invoke(
        main, ["diff", str(BASELINE), str(PROPOSED), "--fail-above", amount]
    )
    assert result.exit_code == code, result.output
    if code == 3:
        assert "monthly cost rises by $180.00, above the budget of" in result.stderr
