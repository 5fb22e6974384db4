"""Renderers: one result object in, text out, as a table, JSON, CSV or markdown.

Results (see :mod:`costmodel.core.report`) provide ``to_dict()`` for JSON, ``sections()`` for the
human formats, ``notes`` for the footnotes that say what the figures rest on, and optionally
``csv_frame()`` for a machine-friendly CSV (plain numbers, contract column names).
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Protocol

import pandas as pd

from costmodel.core.money import format_money, format_percent, format_points
from costmodel.errors import InvalidArgumentError

__all__ = ["FORMATS", "Renderable", "clean_text", "render", "strict", "to_json"]

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
        return _safe_cells(_clean_frame(frame)).to_csv(index=False, lineterminator="\n")
    if fmt == "markdown":
        return _markdown(result, currency)
    if fmt == "table":
        return _table(result, currency, width)
    raise InvalidArgumentError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


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
            clean_text(_cell(section, column, value, currency))
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
    from rich.text import Text

    buffer = io.StringIO()
    # The terminal's width when there is one (COLUMNS honoured); wide enough for a file.
    width = width or shutil.get_terminal_size(fallback=(160, 24)).columns
    # No markup or emoji codes: a workload called "[/x]" or ":smile:" is shown as written.
    console = Console(
        file=buffer,
        width=width,
        force_terminal=False,
        color_system=None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    for section in result.sections():
        for table in _layout(section, currency, width):
            console.print(table)
    for note in result.notes:
        console.print(Text(f"Note: {clean_text(note)}"))
    return buffer.getvalue()


# A text cell (a name, a file, a URL) may fold onto further lines, down to this many characters;
# a number never folds and a header breaks only between words.
_TEXT_FLOOR: Final = 12


@dataclass(frozen=True)
class _Fit:
    """How wide one column can be drawn: ``full`` keeps its header on one line, ``need`` lets
    the header wrap between words, ``floor`` also folds long text cells."""

    full: int
    need: int
    floor: int


def _fit(header: str, cells: list[str], numeric: bool) -> _Fit:
    from rich.cells import cell_len

    widest = max((cell_len(cell) for cell in cells), default=0)
    word = max((cell_len(part) for part in header.split()), default=1)
    need = max(widest, word, 1)
    floor = need if numeric else max(word, min(widest, _TEXT_FLOOR), 1)
    return _Fit(full=max(cell_len(header), need), need=need, floor=floor)


def _span(widths: Sequence[int]) -> int:
    """A table's width on screen: each column's text, one space either side, and the rules."""
    return sum(widths) + 3 * len(widths) + 1


def _pack(fits: Sequence[_Fit], limit: int) -> list[list[int]]:
    """Columns in order, as many to a table as fit in ``limit``; each table starts with the key."""
    parts: list[list[int]] = []
    current = [0]
    for index in range(1, len(fits)):
        if len(current) > 1 and _span([fits[i].need for i in (*current, index)]) > limit:
            parts.append(current)
            current = [0]
        current.append(index)
    parts.append(current)
    return parts


def _split(fits: Sequence[_Fit], width: int) -> list[list[int]] | None:
    """Column positions for each table a section is drawn as, or None when it cannot fit.

    Columns keep their order; every table starts with the key column (the first: workload,
    model, job, scenario...) so each row can be read on its own. The fewest tables that fit,
    as evenly wide as can be, so related columns (sync, batch plan, savings) stay together.
    """
    parts = _pack(fits, width)
    for limit in range(_span([fit.need for fit in fits]) // len(parts), width):
        even = _pack(fits, limit)
        if len(even) == len(parts):
            parts = even
            break
    if any(_span([fits[i].floor for i in part]) > width for part in parts):
        return None
    return parts


def _widths(fits: Sequence[_Fit], width: int) -> list[int]:
    """Widths for one table that fits: text folds first if needed, then headers unwrap."""
    widths = [fit.need for fit in fits]
    while _span(widths) > width:  # fold the text column with the most room to give
        index = max(range(len(fits)), key=lambda i: widths[i] - fits[i].floor)
        if widths[index] <= fits[index].floor:
            break
        widths[index] -= 1
    # Spare width unwraps headers onto one line, those that need least first; a header only
    # partly unwrapped would still take two lines, so a column gets all it needs or nothing.
    for index in sorted(range(len(fits)), key=lambda i: fits[i].full - widths[i]):
        if fits[index].full - widths[index] <= width - _span(widths):
            widths[index] = fits[index].full
    return widths


def _layout(section: Any, currency: str, width: int) -> list[Any]:
    """A section as one or more rich tables, none wider than ``width``, no column cut.

    A section too wide for the terminal is split into several tables, each repeating the key
    column; a terminal too narrow even for that gets one record per row instead.
    """
    headers = [clean_text(str(column)) for column in section.frame.columns]
    rows = _rows(section, currency)
    numeric = [_numeric(section, column) for column in section.frame.columns]
    fits = [_fit(header, [row[i] for row in rows], numeric[i]) for i, header in enumerate(headers)]
    title = clean_text(section.title)
    parts = _split(fits, width)
    if parts is None:
        return [_records(title, headers, rows, numeric)]
    tables = []
    for number, part in enumerate(parts, start=1):
        caption = title if len(parts) == 1 else f"{title}, part {number} of {len(parts)}"
        widths = _widths([fits[i] for i in part], width)
        tables.append(
            _draw(
                caption,
                [headers[i] for i in part],
                [[row[i] for i in part] for row in rows],
                [numeric[i] for i in part],
                widths,
            )
        )
    return tables


def _total_row(rows: Sequence[Sequence[str]], index: int) -> bool:
    return index == len(rows) - 1 and bool(rows[index]) and rows[index][0] == "Total"


def _draw(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    widths: Sequence[int],
) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left", show_lines=False)
    for header, is_number, column_width in zip(headers, numeric, widths, strict=True):
        table.add_column(
            Text(header),
            justify="right" if is_number else "left",
            width=column_width,
            # Numbers never fold: a numeric column is as wide as its widest figure. Text does.
            overflow="fold",
        )
    for index, row in enumerate(rows):
        table.add_row(
            *(Text(cell) for cell in row),
            end_section=index == len(rows) - 2 and _total_row(rows, len(rows) - 1),
            style="bold" if _total_row(rows, index) else None,
        )
    return table


def _records(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]
) -> Any:
    """One block per row, a header and its value on each line: the layout of last resort."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left", show_header=False)
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    for index, row in enumerate(rows):
        style = "bold" if _total_row(rows, index) else None
        for position, (header, cell) in enumerate(zip(headers, row, strict=True)):
            table.add_row(
                Text(header),
                Text(cell, justify="right" if numeric[position] else "left"),
                style=style,
                end_section=position == len(headers) - 1,
            )
    return table


# C0 and C1 controls and DEL (a terminal acts on them: ESC [2J clears the screen) and the bidi
# embedding, override and isolate marks (they reorder what a reader sees).
_UNSAFE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Line breaks of every kind, which would break a table row or a CSV record.
_BREAKS: Final = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")


def clean_text(text: str) -> str:
    """User-supplied text made safe to print: line breaks become a space and every other control
    or bidi character is shown escaped (``\\x1b``, ``\\u202e``), so it cannot act on the terminal
    and two names that differ only by one still look different."""
    return _UNSAFE.sub(_visible, _BREAKS.sub(" ", text))


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV frame with :func:`clean_text` applied to its header and every text cell."""
    cleaned = frame.rename(columns=lambda column: clean_text(str(column)))
    for column in cleaned.columns:
        if not pd.api.types.is_numeric_dtype(cleaned[column]):
            cleaned[column] = cleaned[column].map(
                lambda value: clean_text(value) if isinstance(value, str) else value
            )
    return cleaned


def _escape(text: str) -> str:
    return clean_text(text).replace("|", "\\|")


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
