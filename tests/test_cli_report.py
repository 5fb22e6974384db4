"""`costmodel report` from the command line (costmodel/shells/cli/report.py): every format written from
the demo stores, the xlsx read back (its SUM formulas evaluated from the cell values foot to the
JSON's cents), no file replaced without --force, and bad input as one-line errors. Dates pinned.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner, Result
from report_demo import MONTH, TODAY, demo_stores

from costmodel.shells.cli import main

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_stores(tmp_path_factory.getbasetemp())


@pytest.fixture
def demo_env(stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("COSTMODEL_DEMO_STORE", str(stores[0]))
    monkeypatch.delenv("COSTMODEL_STORE", raising=False)
    return stores


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args], catch_exceptions=False)


def _demo(output: Path, fmt: str, *extra: str) -> Result:
    return _run(
        "--demo",
        "--today",
        TODAY.isoformat(),
        "--month",
        MONTH,
        "--source",
        "all",
        "--scenario",
        "claims-triage",
        "--format",
        fmt,
        "--output",
        str(output),
        *extra,
    )


@pytest.fixture(scope="module")
def written(stores: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    patch = pytest.MonkeyPatch()
    patch.setenv("COSTMODEL_DEMO_STORE", str(stores[0]))
    patch.delenv("COSTMODEL_STORE", raising=False)
    try:
        out = {}
        for fmt, suffix in (
            ("json", "json"),
            ("xlsx", "xlsx"),
            ("markdown", "md"),
            ("html", "html"),
        ):
            path = folder / f"report.{suffix}"
            result = _demo(path, fmt)
            assert result.exit_code == 0, result.output
            assert "demo data" in result.stderr
            out[fmt] = path
        return out
    finally:
        patch.undo()


def test_json_is_the_report_contract(written: dict[str, Path]) -> None:
    data = json.loads(written["json"].read_text())
    assert data["schema"] == "costmodel.report/1"
    assert data["period"] == {
        "since": "2026-11-01",
        "until": "2026-12-01",
        "last_day": "2026-11-30",
        "month": "2026-11",
        "days": 30,
        "label": "November 2026",
    }
    assert data["batches"]["totals"]["cost_billed"] > 0
    assert data["org"] is not None and data["prediction"] is not None
    assert data["margin"] is not None  # from the scenario's business block
    assert data["empty"] is False


def test_the_json_file_equals_usage_summary(
    written: dict[str, Path], stores: tuple[Path, Path]
) -> None:
    data = json.loads(written["json"].read_text())
    out = CliRunner().invoke(
        main,
        [
            "usage",
            "summary",
            "--by",
            "job",
            "--since",
            "2026-11-01",
            "--until",
            "2026-12-01",
            "--store",
            str(stores[0]),
            "--format",
            "json",
        ],
    )
    assert data["batches"]["by_job"] == json.loads(out.stdout)["rows"]


def _xlsx(path: Path) -> dict[str, dict[str, tuple[str | None, str | None, str | None]]]:
    """Every sheet's cells: {sheet: {"B4": (value, formula, style index)}}, strings resolved."""
    with zipfile.ZipFile(path) as book:
        strings = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            strings = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root]
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        sheets: dict[str, dict[str, tuple[str | None, str | None, str | None]]] = {}
        for sheet in workbook.find("m:sheets", NS) or []:
            target = targets[sheet.get(f"{{{NS['r']}}}id")]
            xml = ElementTree.fromstring(book.read("xl/" + str(target).removeprefix("/xl/")))
            cells = {}
            for c in xml.iter(f"{{{NS['m']}}}c"):
                v, f = c.find("m:v", NS), c.find("m:f", NS)
                value = None if v is None else v.text
                if c.get("t") == "s" and value is not None:
                    value = strings[int(value)]
                cells[str(c.get("r"))] = (value, None if f is None else f.text, c.get("s"))
            panes = [p.attrib for p in xml.iter(f"{{{NS['m']}}}pane")]
            cells["__pane__"] = (json.dumps(panes), None, None)
            sheets[str(sheet.get("name"))] = cells
        styles = book.read("xl/styles.xml").decode()
        sheets["__styles__"] = {"xml": (styles, None, None)}
        return sheets


def _split(ref: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    assert match
    return match.group(1), int(match.group(2))


def test_xlsx_totals_are_sum_formulas_that_foot_to_the_json_cents(written: dict[str, Path]) -> None:
    data = json.loads(written["json"].read_text())
    sheets = _xlsx(written["xlsx"])
    assert '"$"#,##0.00' in html.unescape(sheets["__styles__"]["xml"][0])
    expected_sheets = {
        "Summary",
        "Batch by model",
        "Batch by job",
        "Batch by day",
        "Result types",
        "Caching",
        "Prediction",
        "Org by model",
        "Org by workspace",
        "Org by tier",
        "Org by day",
        "Gross margin",
        "Notes",
    }
    assert expected_sheets <= set(sheets)
    totals_of = {
        "Batch by model": data["batches"]["totals"],
        "Batch by job": data["batches"]["totals"],
        "Batch by day": data["batches"]["totals"],
        "Caching": data["batches"]["cache"]["totals"],
        "Prediction": data["prediction"]["totals"],
        "Org by model": data["org"]["totals"],
        "Org by workspace": data["org"]["totals"],
        "Org by tier": data["org"]["totals"],
        "Org by day": data["org"]["totals"],
    }
    labels = {
        "Billed (batch)": "cost_billed",
        "If sync": "cost_if_sync",
        "Savings": "savings",
        "Succeeded": "succeeded",
        "Saved by caching": "saved",
        "Modelled": "cost_modelled",
        "Measured": "cost_actual",
        "Volume": "volume",
        "Token mix": "mix",
        "Price": "price",
        "Reported": "reported_usd",
        "Catalogue list": "catalogue_list_usd",
        "Sync through batch": "sync_as_batch_usd",
        "Requests": "requests",
    }
    checked = 0
    for name, totals in totals_of.items():
        cells = sheets[name]
        assert json.loads(cells["__pane__"][0])[0]["ySplit"] == "3"  # the header row is frozen
        headers = {
            v: _split(ref)[0]
            for ref, (v, _, _) in cells.items()
            if _split_ok(ref) and _split(ref)[1] == 3
        }
        for label, field in labels.items():
            if label not in headers:
                continue
            column = headers[label]
            formulas = [
                (ref, f) for ref, (_, f, _) in cells.items() if f and _split(ref)[0] == column
            ]
            assert len(formulas) == 1, (name, label)
            ref, formula = formulas[0]
            match = re.fullmatch(r"SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)", formula)
            assert match, formula
            first, last = int(match.group(2)), int(match.group(4))
            assert first == 4 and last == _split(ref)[1] - 1
            summed = sum(
                float(cells[f"{column}{row}"][0] or 0)
                for row in range(first, last + 1)
                if _numeric(cells.get(f"{column}{row}", (None, None, None))[0])
            )
            assert round(summed, 2) == round(float(totals[field]), 2), (name, label)
            assert float(cells[ref][0] or 0) == pytest.approx(float(totals[field]))  # cached
            checked += 1
    assert checked >= 30


def _split_ok(ref: str) -> bool:
    return re.fullmatch(r"[A-Z]+\d+", ref) is not None


def _numeric(value: str | None) -> bool:
    try:
        float(value or "")
    except ValueError:
        return False
    return True


def test_markdown_pastes_into_a_memo(written: dict[str, Path]) -> None:
    text = written["markdown"].read_text()
    data = json.loads(written["json"].read_text())
    assert text.startswith("# Claude inference spend, November 2026")
    billed = data["batches"]["totals"]["cost_billed"]
    assert f"**Billed (batch):** ${billed:,.2f}" in text
    assert "## Batch cost by job" in text and "| **Total** |" in text
    assert "volume + token mix + price" in text
    assert "## Notes" in text


def test_html_is_one_file_with_plotly_inline_and_no_outside_reference(
    written: dict[str, Path],
) -> None:
    text = written["html"].read_text()
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.count("Plotly.newPlot") >= 5
    # The markup (scripts aside: plotly.js holds URLs in strings it never loads; the browser
    # test blocks and counts requests) names nothing outside the file.
    markup = re.sub(r"<script>.*?</script>", "", text, flags=re.S)
    assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?(https?:)?//""", markup)
    assert "<script src" not in text and "<link" not in markup
    assert "cdn.plot.ly" not in markup and "fonts.googleapis" not in text


def test_an_existing_output_is_kept_without_force(demo_env: Any, tmp_path: Path) -> None:
    output = tmp_path / "november.md"
    output.write_text("the memo I wrote by hand")
    result = _demo(output, "markdown")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "already exists; give --force" in result.stderr
    assert output.read_text() == "the memo I wrote by hand"
    assert [p.name for p in tmp_path.iterdir()] == ["november.md"]  # no temporary left
    replaced = _demo(output, "markdown", "--force")
    assert replaced.exit_code == 0, replaced.output
    assert output.read_text().startswith("# Claude inference spend")


def test_a_month_without_data_writes_a_report_that_says_so(demo_env: Any, tmp_path: Path) -> None:
    output = tmp_path / "june.json"
    result = _run(
        "--demo",
        "--today",
        TODAY.isoformat(),
        "--month",
        "2026-06",
        "--format",
        "json",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    assert "No batch results in the store for June 2026" in result.stderr
    data = json.loads(output.read_text())
    assert data["empty"] is True and data["batches"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "--month: no such month '2026-13'"),
        (["--month", "nov"], "--month: expected a month as YYYY-MM"),
        (["--since", "2026-11-10", "--until", "2026-11-01"], "is not before --until"),
        (["--since", "2026-11-31", "--until", "2026-12-01"], "expected a date as YYYY-MM-DD"),
        (["--source", "everything"], "--source: expected one of batches, org, all"),
        (["--format", "pdf"], "--format: expected one of html, xlsx, markdown, json"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    demo_env: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    output = tmp_path / "out.json"
    base = {"--format": "json", "--output": str(output)}
    rest = [x for k, v in base.items() if k not in args for x in (k, v)]
    result = _run("--demo", "--today", TODAY.isoformat(), *args, *rest)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3
    assert "Traceback" not in result.stderr
    assert not output.exists()


def test_a_bad_options_file_is_a_located_one_line_error(demo_env: Any, tmp_path: Path) -> None:
    options = tmp_path / "report.yaml"
    options.write_text("title: November\nbusiness:\n  revenue: lots\n")
    result = _run(
        "--demo",
        "--today",
        TODAY.isoformat(),
        "--options",
        str(options),
        "--format",
        "json",
        "--output",
        str(tmp_path / "out.json"),
    )
    assert result.exit_code == 1
    assert f"{options}:3: business.revenue: expected a number" in result.stderr
    assert result.stderr.count("\n") == 1


def test_options_set_the_title_tolerance_and_business(demo_env: Any, tmp_path: Path) -> None:
    options = tmp_path / "report.yaml"
    options.write_text(
        "title: Acme, November\ntolerance: 2%\nbusiness: {revenue: 20000, other_cogs: 500}\n"
    )
    output = tmp_path / "out.json"
    result = _run(
        "--demo",
        "--today",
        TODAY.isoformat(),
        "--month",
        MONTH,
        "--source",
        "all",
        "--options",
        str(options),
        "--format",
        "json",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text())
    assert data["title"] == "Acme, November"
    assert data["org"]["reconciliation"]["tolerance_pct"] == 2.0
    assert data["margin"]["revenue"] == 20000.0
    assert data["prediction"] is None


def test_a_store_without_an_org_report_says_so_in_a_note(
    stores: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COSTMODEL_STORE", raising=False)
    output = tmp_path / "out.json"
    result = _run(
        "--store",
        str(stores[0]),
        "--month",
        MONTH,
        "--source",
        "all",
        "--format",
        "json",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text())
    assert data["org"] is None and data["batches"] is not None
    assert any(n.startswith("No organisation report in the store") for n in data["notes"])


def test_the_demo_reports_its_own_30_days_by_default(demo_env: Any, tmp_path: Path) -> None:
    output = tmp_path / "demo.json"
    result = _run(
        "--demo", "--today", TODAY.isoformat(), "--format", "json", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text())
    assert (data["period"]["since"], data["period"]["until"]) == ("2026-11-01", "2026-12-01")
    assert data["batches"]["first_day"] == "2026-11-01"
    assert data["batches"]["last_day"] == "2026-11-30"


def test_xlsx_gap_total_is_measured_minus_modelled(written: dict[str, Path]) -> None:
    data = json.loads(written["json"].read_text())
    cells = _xlsx(written["xlsx"])["Prediction"]
    headers = {
        v: _split(ref)[0]
        for ref, (v, _, _) in cells.items()
        if _split_ok(ref) and _split(ref)[1] == 3
    }
    gap = [(ref, f) for ref, (_, f, _) in cells.items() if f and _split(ref)[0] == headers["Gap"]]
    assert len(gap) == 1
    total_ref, formula = gap[0]
    assert float(cells[total_ref][0] or 0) == data["prediction"]["totals"]["difference"]
    match = re.fullmatch(r"([A-Z]+)(\d+)-([A-Z]+)(\d+)", formula)
    assert match and match.group(1) == headers["Measured"] and match.group(3) == headers["Modelled"]
    value = float(cells[f"{match.group(1)}{match.group(2)}"][0] or 0) - float(
        cells[f"{match.group(3)}{match.group(4)}"][0] or 0
    )
    assert round(value, 2) == data["prediction"]["totals"]["difference"]


def test_names_from_the_data_are_text_in_tables_and_charts(written: dict[str, Path]) -> None:
    from costmodel.adapters.report_html import html_report
    from costmodel.adapters.report_layouts import markdown_report

    data = json.loads(written["json"].read_text())
    hostile = '<a href="https://example.com/x">claims</a>|=cmd'
    data["batches"]["by_job"][0]["key"] = hostile
    page = html_report(data)
    assert '<a href="https://example.com' not in page
    assert "\\u003ca href" not in page  # nor as a Plotly label, which reads a few tags
    assert "&lt;a href=&quot;https://example.com/x&quot;&gt;" in page
    assert "claims</a>\\|=cmd" in markdown_report(data)  # a table cell stays one cell


def test_no_store_yet_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSTMODEL_STORE", raising=False)
    missing = tmp_path / "none.duckdb"
    result = _run("--store", str(missing), "--format", "json", "--output", str(tmp_path / "o.json"))
    assert result.exit_code == 1
    assert f"{missing}: no usage store yet" in result.stderr and "--demo" in result.stderr
    assert not missing.exists() and not (tmp_path / "o.json").exists()
