"""Renderers: one result object in, text out, as a table, JSON, CSV or markdown.

Results (see :mod:`costmodel.report`) provide ``to_dict()`` for JSON, ``sections()`` for the
human formats, ``notes`` for the footnotes that say what the figures rest on, and optionally
``csv_frame()`` for a machine-friendly CSV (plain numbers, contract column names).
"""

from __future__ import annotations

import io
import json
import math
import shutil
from decimal import Decimal
from typing import Any, Final, Protocol

import pandas as pd

from costmodel.money import format_money, format_percent, format_points

__all__ = ["FORMATS", "Renderable", "render", "strict", "to_json"]

FORMATS: Final = ("table", "json", "csv", "markdown")


class Renderable(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def notes(self) -> tuple[str, ...]: ...

    def to_dict(self) -> dict[str, Any]: ...

    def sections(self) -> list[Any]: ...


def render(
    result: Renderable, fmt: str = "table", *, currency: str | None = None, width: int | None = None
) -> str:
    """Render ``result`` in ``fmt`` (one of :data:`FORMATS`)."""
    currency = currency or result.to_dict().get("currency") or "USD"
    if fmt == "json":
        return to_json(result.to_dict())
    if fmt == "csv":
        frame = result.csv_frame() if hasattr(result, "csv_frame") else result.sections()[0].frame
        return _safe_cells(frame).to_csv(index=False, lineterminator="\n")
    if fmt == "markdown":
        return _markdown(result, currency)
    if fmt == "table":
        return _table(result, currency, width)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def strict(value: Any) -> Any:
    """``value`` with every non-finite float as ``None`` and Decimals as numbers: strict JSON
    (an unknown figure is ``null``, and the result's notes say why)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict(item) for item in value]
    return value


def to_json(data: dict[str, Any]) -> str:
    """Strict JSON (RFC 8259): never NaN or Infinity."""
    return json.dumps(strict(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV injection").
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run are prefixed with ``'``; numbers are left as
    they are (a negative amount is a number, not a formula), so only ``str`` values change."""

    def safe(value: object) -> object:
        if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
            return "'" + value
        return value

    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column].dtype):
            out[column] = out[column].map(safe)
    out.columns = [safe(str(c)) for c in out.columns]
    return out


def _cell(section: Any, column: str, value: object, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column in section.money:
        if isinstance(value, str):  # "unpriced"
            return value
        return format_money(value, currency)  # type: ignore[arg-type]
    if column in section.percent:
        return format_percent(float(value))  # type: ignore[arg-type]
    if column in section.points:
        return format_points(float(value))  # type: ignore[arg-type]
    if column in section.counts:
        return format_count(float(value))  # type: ignore[arg-type]
    return str(value)


def format_count(number: float) -> str:
    """Counts for people: whole numbers with separators up to a million, then 12.3M / 4.5B.

    Exact counts stay in the CSV and JSON outputs; a table only has to be read.
    """
    if abs(number) >= 1e9:
        return f"{number / 1e9:,.1f}B"
    if abs(number) >= 1e6:
        return f"{number / 1e6:,.1f}M"
    return f"{number:,.0f}" if abs(number) >= 100 or number.is_integer() else f"{number:,.2f}"


def _rows(section: Any, currency: str) -> list[list[str]]:
    frame: pd.DataFrame = section.frame
    return [
        [
            _cell(section, column, value, currency)
            for column, value in zip(frame.columns, row, strict=True)
        ]
        for row in frame.itertuples(index=False)
    ]


def _numeric(section: Any, column: str) -> bool:
    kinds = (
        *section.money,
        *section.percent,
        *section.points,
        *section.counts,
        *getattr(section, "figures", ()),
    )
    return column in kinds


def _table(result: Renderable, currency: str, width: int | None) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    # The terminal's width when there is one (COLUMNS honoured); wide enough for a file.
    width = width or shutil.get_terminal_size(fallback=(160, 24)).columns
    console = Console(
        file=buffer, width=width, force_terminal=False, color_system=None, highlight=False
    )
    for section in result.sections():
        table = Table(title=section.title, title_justify="left", show_lines=False)
        rows = _rows(section, currency)
        for position, column in enumerate(section.frame.columns):
            widest = max((len(row[position]) for row in rows), default=1)
            numeric = _numeric(section, column)
            table.add_column(
                str(column),
                justify="right" if numeric else "left",
                # A number is never broken across lines (its column is at least as wide as its
                # widest figure); headers and names wrap when the terminal is narrow.
                min_width=widest if numeric else min(24, widest),
                overflow="fold",
            )
        for index, row in enumerate(rows):
            is_total = index == len(rows) - 1 and row and row[0] == "Total"
            table.add_row(
                *row,
                end_section=index == len(rows) - 2 and rows[-1][0] == "Total",
                style="bold" if is_total else None,
            )
        console.print(table)
    for note in result.notes:
        console.print(Text(f"Note: {note}"))
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(result: Renderable, currency: str) -> str:
    out: list[str] = []
    for section in result.sections():
        frame: pd.DataFrame = section.frame
        out.append(f"### {_escape(section.title)}\n")
        out.append("| " + " | ".join(_escape(str(c)) for c in frame.columns) + " |")
        out.append(
            "|" + "|".join("---:" if _numeric(section, c) else "---" for c in frame.columns) + "|"
        )
        for row in _rows(section, currency):
            cells = [_escape(cell) for cell in row]
            if cells and cells[0] == "Total":
                cells = [f"**{cell}**" if cell else cell for cell in cells]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    for note in result.notes:
        out.append(f"- {_escape(note)}")
    return "\n".join(out).rstrip() + "\n"
