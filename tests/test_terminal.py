"""The CLI in a real pseudo-terminal: every table complete and readable at 80, 100 and 120
columns, and no control character from user input reaching the screen, a markdown file or a CSV.

Each command runs as a child process whose stdout is a pty of a set size (``TIOCSWINSZ``), as in
a terminal window; nothing is patched. What a table must hold comes from the same command's
markdown output, which does not depend on the terminal: every header and every cell of every
section must appear whole in the terminal's tables.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from costmodel.adapters.render import FORMATS, clean_text, render
from costmodel.adapters.synthetic import succeeded_line, usage_object, write_results
from costmodel.core.layouts import Section
from costmodel.shells.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
CLAIMS = SCENARIOS / "claims-triage.yaml"
WIDTHS = (80, 100, 120)
DAY = "2026-11-24"


# -- running the CLI ------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def in_terminal(args: Sequence[str], columns: int, timeout: float = 120) -> tuple[int, str, str]:
    """Run ``costmodel ARGS`` with stdout on a pty ``columns`` wide; (status, stdout, stderr)."""
    master, slave = os.openpty()
    # The size is set before the child starts, so it is there when the child asks for it.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "costmodel", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=_env(),
        cwd=ROOT,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            proc.kill()
            pytest.fail(f"costmodel {' '.join(args)} did not finish in {timeout}s")
        stderr = proc.stderr.read() if proc.stderr else b""
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.stderr:
            proc.stderr.close()
    # The terminal turns each newline into CR LF.
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    return code, out, stderr.decode()


def in_process(args: Sequence[str]) -> tuple[int, str, str]:
    """The command run in this process, its output captured (not a terminal)."""
    # COLUMNS pins the table width, whatever runs the tests.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def piped(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The command as a child process writing to a pipe."""
    proc = subprocess.run(
        [sys.executable, "-m", "costmodel", *args],
        capture_output=True,
        text=True,
        env=env or _env(),
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


# -- reading the output ---------------------------------------------------------------------------
@dataclass
class Drawn:
    """One table as drawn: each column's header (its lines joined) and its body lines' cells."""

    headers: list[str]
    lines: list[list[str]] = field(default_factory=list)


def drawn_tables(text: str) -> list[Drawn]:
    tables: list[Drawn] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith(("┏", "┌")):
            index += 1
            continue
        header_lines: list[list[str]] = []
        body: list[list[str]] = []
        target = header_lines if lines[index].startswith("┏") else body
        index += 1
        while not lines[index].startswith("└"):
            line = lines[index]
            if line.startswith("┡"):
                target = body
            elif not line.startswith("├"):
                rule = "┃" if line.startswith("┃") else "│"
                target.append([cell.strip() for cell in line.split(rule)[1:-1]])
            index += 1
        headers = [
            " ".join(part for part in column if part) for column in zip(*header_lines, strict=True)
        ]
        tables.append(Drawn(headers, body))
        index += 1
    return tables


@dataclass
class Expected:
    title: str
    headers: list[str]
    rows: list[list[str]]


def markdown_sections(text: str) -> list[Expected]:
    """The sections of ``--format markdown`` output: title, headers, cells (bold removed)."""
    sections: list[Expected] = []
    for line in text.splitlines():
        if line.startswith("### "):
            sections.append(Expected(line[4:], [], []))
        elif line.startswith("|") and sections:
            cells = [
                cell.strip().replace("\\|", "|").removeprefix("**").removesuffix("**")
                for cell in re.split(r"(?<!\\)\|", line)[1:-1]
            ]
            if all(set(cell) <= set("-:") for cell in cells):
                continue
            if not sections[-1].headers:
                sections[-1].headers = cells
            else:
                sections[-1].rows.append(cells)
    return sections


FIGURE = re.compile(r"^[-+]?[$€£]?[-+]?\d[\d,.]*[%*MB]?( pp| [A-Z]{3})?$")


def assert_complete(out: str, expected: list[Expected], width: int) -> None:
    """Every line fits; every header is whole; every figure is in one cell; text is all there."""
    too_wide = [line for line in out.splitlines() if cell_len(line) > width]
    assert not too_wide, f"lines wider than {width}: {too_wide[:3]}"
    tables = drawn_tables(out)
    assert tables, out
    drawn_headers = [header for table in tables for header in table.headers]
    wanted_headers = {header for section in expected for header in section.headers}
    # A header broken inside a word ("Reques ts") is not one of the headers.
    assert set(drawn_headers) == wanted_headers, out
    keys = {section.headers[0] for section in expected}
    assert all(table.headers[0] in keys for table in tables), out  # each part keeps its key
    cells = {cell for table in tables for line in table.lines for cell in line}
    columns = "".join(
        "".join(line[position] for line in table.lines).replace(" ", "")
        for table in tables
        for position in range(len(table.headers))
    )
    flat = " ".join(out.split())
    for section in expected:
        assert " ".join(section.title.split()) in flat, section.title
        for row in section.rows:
            for cell in row:
                if FIGURE.match(cell):
                    assert cell in cells, f"{cell!r} is not whole in any cell:\n{out}"
                else:
                    assert cell.replace(" ", "") in columns, f"{cell!r} missing:\n{out}"


# -- the commands ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built the way a user builds one, a contract price file and a fitted scenario."""
    folder = tmp_path_factory.mktemp("terminal")
    store = folder / "usage.duckdb"
    for name, job, day, seed in (
        ("msgbatch_01Claims_results.jsonl", "claims-triage-nightly", "2026-11-02", 1),
        ("msgbatch_01Review_results.jsonl", "contract-review", "2026-11-09", 2),
    ):
        write_results(folder / name, 300, job=job, seed=seed)
        code, _, err = in_process(
            ["usage", "import", str(folder / name), "--created-at", day, "--store", str(store)]
        )
        assert code == 0, err
    code, fitted, err = in_process(["usage", "calibrate", "--store", str(store)])
    assert code == 0, err
    (folder / "fitted.yaml").write_text(fitted)
    (folder / "prices.yaml").write_text(
        "name: Acme MSA\ndiscounts:\n  - {model: claude-3-5-sonnet, percent: 20}\n"
    )
    return folder


def commands(folder: Path) -> dict[str, list[str]]:
    store = ["--store", str(folder / "usage.duckdb")]
    # reference.yaml is in EUR; compare takes one currency.
    every = [str(path) for path in sorted(SCENARIOS.glob("*.yaml")) if path.stem != "reference"]
    return {
        "run": ["run", str(CLAIMS), "--on", DAY],
        "run-contract": ["run", str(CLAIMS), "--on", DAY, "--prices", str(folder / "prices.yaml")],
        "run-actual": ["run", str(folder / "fitted.yaml"), "--actual", *store],
        "compare": ["compare", *every, "--on", DAY],
        "diff": ["diff", str(CLAIMS), str(SCENARIOS / "claims-case-study.yaml"), "--on", DAY],
        "prices": ["prices", "--on", DAY],
        "prices-model": ["prices", "claude-sonnet-4-5"],
        **{f"summary-{by}": ["usage", "summary", "--by", by, *store] for by in ("model", "job")},
        "summary-batch": ["usage", "summary", "--by", "batch", *store],
        "summary-day": ["usage", "summary", "--by", "day", *store],
    }


NAMES = (
    "run",
    "run-contract",
    "run-actual",
    "compare",
    "diff",
    "prices",
    "prices-model",
    "summary-model",
    "summary-job",
    "summary-batch",
    "summary-day",
)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", NAMES)
def test_every_table_is_complete_in_a_terminal(workspace: Path, name: str, width: int) -> None:
    args = commands(workspace)[name]
    code, markdown, err = in_process([*args, "--format", "markdown"])
    assert code == 0, err
    code, out, err = in_terminal(args, width)
    assert code == 0, err
    assert_complete(out, markdown_sections(markdown), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_run_shows_the_worked_example_whole(width: int) -> None:
    code, out, err = in_terminal(["run", str(CLAIMS), "--on", DAY], width)
    assert code == 0, err
    cells = {cell for table in drawn_tables(out) for line in table.lines for cell in line}
    assert {"$412.50", "$206.25", "$2,475.00", "+0.21 pp", "89.59%", "89.79%"} <= cells
    headers = {header for table in drawn_tables(out) for header in table.headers}
    assert {"Requests", "Sync", "Batch plan", "Savings", "Input tokens"} <= headers


@pytest.mark.parametrize("scenario", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_scenario_fits_80_columns(scenario: Path) -> None:
    args = ["run", str(scenario), "--on", DAY]
    code, markdown, err = in_process([*args, "--format", "markdown"])
    assert code == 0, err
    code, out, err = in_terminal(args, 80)
    assert code == 0, err
    assert_complete(out, markdown_sections(markdown), 80)


def test_a_pipe_gets_complete_tables_and_columns_is_honoured(workspace: Path) -> None:
    args = commands(workspace)["summary-job"]
    _, markdown, _ = in_process([*args, "--format", "markdown"])
    expected = markdown_sections(markdown)
    env = _env()
    code, out, err = piped(args, env)  # no terminal: as wide as a file needs (160)
    assert code == 0, err
    assert_complete(out, expected, 160)
    code, narrow, err = piped(args, {**env, "COLUMNS": "80"})
    assert code == 0, err
    assert_complete(narrow, expected, 80)
    assert narrow == in_terminal(args, 80)[1]


@pytest.mark.parametrize("fmt", ["markdown", "csv"])
def test_other_formats_do_not_depend_on_the_terminal(workspace: Path, fmt: str) -> None:
    for name in ("run", "summary-model"):
        args = [*commands(workspace)[name], "--format", fmt]
        wide = in_process(args)[1]
        for width in (80, 120):
            assert in_terminal(args, width)[1] == wide


def test_a_terminal_too_narrow_for_any_table_gets_one_record_per_row() -> None:
    code, out, err = in_terminal(["run", str(CLAIMS), "--on", DAY], 30)
    assert code == 0, err
    assert all(cell_len(line) <= 30 for line in out.splitlines()), out
    for figure in ("$412.50", "$206.25", "50,000", "100.0M"):
        assert figure in out


# -- control characters ---------------------------------------------------------------------------
HOSTILE = ("\x00", "\x1b", "\x07", "\x7f", "\x9b", "\u202e", "\u2066", "\r")


def _raw(text: str) -> list[str]:
    """The characters in ``text`` that a terminal or a reader's eye would act on."""
    return [
        char
        for char in text
        if (unicodedata.category(char) == "Cc" and char != "\n")
        or char in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    ]


EVIL_SCENARIO = r"""
name: "Evil\0 \e[2J\a \u202eplan\x9b"
description: "desc\0\e[2J\a\u202e"
workloads:
  - name: "wl\0\e[2J\a\u202e\x7f\u2066x\nsecond line"
    model: claude-3-5-sonnet
    requests: 500
    input_tokens: 20
    output_tokens: 15
  - name: "[/x] :smile: [bold]y"
    model: claude-3-5-sonnet
    requests: 500
    input_tokens: 20
    output_tokens: 15
"""


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_a_hostile_scenario_cannot_reach_the_terminal(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(EVIL_SCENARIO)
    code, out, err = in_process(["run", str(path), "--format", fmt])
    assert code == 0, err
    assert not _raw(out), _raw(out)
    # Shown escaped, so the reader sees that something odd is in the name.
    assert r"wl\x00\x1b[2J\x07\u202e\x7f\u2066x second line" in out
    # Rich markup and emoji codes in a name are text, not styling.
    assert "[/x] :smile: [bold]y" in out
    if fmt == "table":
        code, shown, err = in_terminal(["run", str(path)], 80)
        assert code == 0, err
        assert not _raw(shown) and r"\x1b[2J" in shown


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_hostile_custom_ids_cannot_reach_the_terminal(tmp_path: Path, fmt: str) -> None:
    job = "ev\x00il\x1b[2J\x07\u202e\x9b"
    lines = [
        succeeded_line(
            f"{job}-{n}",
            "claude-3-5-sonnet-20241022",
            usage_object(input_tokens=100, output_tokens=10),
        )
        for n in range(3)
    ]
    results = tmp_path / "msgbatch_01Evil_results.jsonl"
    results.write_text("\n".join(lines) + "\n")
    store = ["--store", str(tmp_path / "usage.duckdb")]
    code, _, err = in_process(["usage", "import", str(results), "--created-at", DAY, *store])
    assert code == 0, err
    code, out, err = in_process(["usage", "summary", "--by", "job", *store, "--format", fmt])
    assert code == 0, err
    assert not _raw(out), _raw(out)
    assert r"ev\x00il\x1b[2J\x07\u202e\x9b" in out


@dataclass(frozen=True)
class _Result:
    """A result as the renderers read it, with user text in every place text can be."""

    text: str

    @property
    def title(self) -> str:
        return self.text

    @property
    def notes(self) -> tuple[str, ...]:
        return (f"about {self.text}",)

    def to_dict(self) -> dict[str, object]:
        return {"currency": "USD"}

    def sections(self) -> list[Section]:
        frame = pd.DataFrame({self.text: [self.text, "Total"], "Cost": [1.5, 1.5]})
        return [Section(self.text, frame, money=("Cost",))]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
@pytest.mark.parametrize("char", HOSTILE)
def test_every_renderer_escapes_titles_headers_cells_and_notes(fmt: str, char: str) -> None:
    out = render(_Result(f"a{char}b"), fmt, width=80)
    assert not _raw(out)
    assert "$1.50" in out or "1.5" in out


@given(st.text())
def test_clean_text_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    cleaned = clean_text(text)
    assert not _raw(cleaned) and "\n" not in cleaned
    assert clean_text(cleaned) == cleaned
    # Ordinary text, accents and wide characters are untouched.
    assert clean_text("Réclamations 請求 $412.50 (batch)") == "Réclamations 請求 $412.50 (batch)"
