"""The finance report as an Excel workbook (XlsxWriter): a summary sheet, then one sheet per
table of :func:`costmodel.adapters.report_layouts.report_tables`, and the notes.

Money cells hold the rounded cents the report shows, in a money number format; header rows are
frozen; each total of a money or count column is a ``=SUM(...)`` formula over the rows above it,
which foots to the contract's total because the rows are the rounded cents that add up to it.
The formula's cached result is the contract's total, so a viewer that does not recalculate
shows the same figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from costmodel.adapters.report_layouts import Table, headline, report_tables, unpriced

__all__ = ["SHEET_NAMES", "write_xlsx"]

MONEY_FORMAT: Final = '"$"#,##0.00;-"$"#,##0.00'
COUNT_FORMAT: Final = "#,##0"
PERCENT_FORMAT: Final = '0.00"%"'
DECIMAL_FORMAT: Final = "#,##0.00"
SHEET_NAMES: Final = {
    "batch_by_model": "Batch by model",
    "batch_by_job": "Batch by job",
    "batch_by_day": "Batch by day",
    "result_types": "Result types",
    "cache": "Caching",
    "prediction": "Prediction",
    "org_by_model": "Org by model",
    "org_by_workspace": "Org by workspace",
    "org_by_tier": "Org by tier",
    "org_by_day": "Org by day",
    "margin": "Gross margin",
}


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _safe(text: str) -> str:
    # A text cell a spreadsheet would run as a formula is written with a leading quote.
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _write_table(book: Any, table: Table, formats: Mapping[str, Any]) -> None:
    sheet = book.add_worksheet(SHEET_NAMES.get(table.key, table.key[:31]))
    sheet.write_string(0, 0, _safe(table.title), formats["title"])
    header_row = 2
    for col, column in enumerate(table.columns):
        sheet.write_string(header_row, col, column.label, formats["header"])
        sheet.set_column(col, col, max(12, min(40, len(column.label) + 4)))
    first = header_row + 1
    percent_row = table.key == "margin"
    for offset, row in enumerate(table.rows):
        r = first + offset
        for col, column in enumerate(table.columns):
            value = row.get(column.field)
            kind = column.kind
            if percent_row and row.get("figure") == "Gross margin %" and kind == "money":
                kind = "percent"
            _write_cell(sheet, r, col, value, kind, formats, missing=unpriced(row))
    if table.total is not None:
        r = first + len(table.rows)
        summed = {c.field for c in table.summed}
        letters = {c.field: _column_letter(i) for i, c in enumerate(table.columns)}
        for col, column in enumerate(table.columns):
            value = table.total.get(column.field)
            pair = (table.differences or {}).get(column.field)
            if pair is not None:
                formula = f"={letters[pair[0]]}{r + 1}-{letters[pair[1]]}{r + 1}"
                cached = 0 if value is None else value
                sheet.write_formula(r, col, formula, formats[f"{column.kind}_total"], cached)
            elif column.field in summed and table.rows:
                letter = _column_letter(col)
                formula = f"=SUM({letter}{first + 1}:{letter}{r})"
                cached = 0 if value is None else value
                sheet.write_formula(r, col, formula, formats[f"{column.kind}_total"], cached)
            else:
                _write_cell(sheet, r, col, value, column.kind, formats, total=True, missing=False)
    sheet.freeze_panes(header_row + 1, 1)


def _write_cell(
    sheet: Any,
    row: int,
    col: int,
    value: Any,
    kind: str,
    formats: Mapping[str, Any],
    *,
    total: bool = False,
    missing: bool = True,
) -> None:
    suffix = "_total" if total else ""
    if value is None:
        text = "unpriced" if kind == "money" and missing else ""
        sheet.write_string(row, col, text, formats["text" + suffix])
    elif isinstance(value, str):
        sheet.write_string(row, col, _safe(value), formats["text" + suffix])
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, formats["text" + suffix])
    else:
        sheet.write_number(row, col, value, formats[kind + suffix])


def write_xlsx(data: Mapping[str, Any], path: Path) -> None:
    """Write the report to ``path`` (which the caller has checked may be written)."""
    import xlsxwriter  # type: ignore[import-untyped]

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    formats: dict[str, Any] = {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "header": book.add_format({"bold": True, "bg_color": "#F1F5F9", "bottom": 1}),
    }
    for kind, number in (
        ("text", None),
        ("money", MONEY_FORMAT),
        ("count", COUNT_FORMAT),
        ("percent", PERCENT_FORMAT),
        ("decimal", DECIMAL_FORMAT),
    ):
        base = {} if number is None else {"num_format": number}
        formats[kind] = book.add_format(base)
        formats[kind + "_total"] = book.add_format({**base, "bold": True, "top": 1})
    summary = book.add_worksheet("Summary")
    summary.set_column(0, 0, 44)
    summary.set_column(1, 1, 60)
    period = data["period"]
    summary.write_string(0, 0, _safe(str(data["title"])), formats["title"])
    summary.write_string(
        1,
        0,
        f"{period['since']} to {period['last_day']} ({period['days']} days), "
        f"{data['currency']}; catalogue checked {data['catalogue_checked']}; source "
        f"{data['source']}" + ("; DEMO DATA, not your usage" if data["demo"] else ""),
    )
    row = 3
    if data["empty"]:
        summary.write_string(row, 0, str(data["empty_message"]))
        row += 1
    else:
        summary.write_string(row, 0, "Figure", formats["header"])
        summary.write_string(row, 1, "Value", formats["header"])
        for label, value in headline(data):
            row += 1
            summary.write_string(row, 0, label)
            summary.write_string(row, 1, _safe(value))
        row += 1
        for table in report_tables(data):
            _write_table(book, table, formats)
    summary.freeze_panes(4, 0)
    notes = book.add_worksheet("Notes")
    notes.set_column(0, 0, 160)
    notes.write_string(0, 0, "Notes", formats["header"])
    extra = []
    if data["prediction"] is not None:
        extra.append(str(data["prediction"]["formula"]))
    if data["batches"] is not None:
        extra += [data["batches"]["operations"]["note"], data["batches"]["cache"]["method"]]
    for index, note in enumerate([*data["notes"], *extra], start=1):
        notes.write_string(index, 0, _safe(str(note)))
    notes.freeze_panes(1, 0)
    book.close()
