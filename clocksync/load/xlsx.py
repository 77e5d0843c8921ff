"""An Excel workbook (.xlsx) as a table of text cells, read with openpyxl in read-only mode.

The sheet is the first one, or ``csv.sheet``. Each cell becomes the text a person sees in Excel,
so a workbook and the CSV Excel saves from it are read alike:
- text stays text (an ID typed as text keeps its leading zeros);
- a whole number is written without ``.0`` (``12345.0`` -> ``12345``); another number with up to
  15 significant digits, as Excel keeps them, never in exponent notation; a whole number of 16 or
  more digits has lost digits in Excel and is written in E-notation, which the loader refuses in a
  mapped column ("format the column as text");
- a date cell is an ISO date (``2027-03-31``); a date with a time keeps the time, which a date
  column refuses; an elapsed-time cell (``[h]:mm``) is its hours (``37:30`` -> ``37.5``);
- a boolean is ``TRUE`` or ``FALSE``, as Excel shows it and writes it to a CSV;
- a formula is read as the value Excel last calculated (what the sheet shows); a formula that was
  never calculated (a workbook written by a program and not opened since) is read as its formula
  text, and an error value (``#N/A``) as its text, both of which the loader refuses;
- merged cells are reported (``Table.merged``): the loader refuses a merge in a column it reads
  rather than read the rows under the first as empty.
"""

from __future__ import annotations

import datetime
import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.exceptions import InvalidFileException

from clocksync.errors import CsvError
from clocksync.load.table import E_NOTATION, Table
from clocksync.model import name_key
from clocksync.sanitize import visible

EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number

# What openpyxl raises on a file that is not a readable workbook (a damaged ZIP, missing parts,
# malformed XML, values it cannot convert, a damaged deflate stream inside the ZIP, a ZIP feature
# zipfile does not implement, an encrypted member).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, InvalidFileException, KeyError, ValueError, TypeError,
               OSError, EOFError, ParseError, zlib.error, NotImplementedError, RuntimeError)


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 10 ** EXCEL_DIGITS:
        return str(int(value))
    if value.is_integer():
        return f"{value:.{EXCEL_DIGITS - 1}E}".replace("E+0", "E+")  # what Excel shows: digits were lost
    return format(Decimal(format(value, f".{EXCEL_DIGITS}g")), "f")


def cell_text(value: Any) -> str:
    """A cell value as openpyxl gives it -> the text a person sees in Excel."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _number(value.total_seconds() / 3600)
    return str(value)


_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.DOTALL)
_VALUE = re.compile(rb"<v>[^<]+</v>")
# A formula whose cached result is text, even empty: Excel writes =IF(...,"",...) that calculated to
# "" as t="str" with an empty <v>. A program that never calculated it writes no type and <v/>.
_TEXT_RESULT = re.compile(rb'\bt="str"')


def _sheet_xml(raw: bytes, part: str) -> bytes:
    try:
        return zipfile.ZipFile(io.BytesIO(raw)).read(part)
    except _UNREADABLE:  # a damaged part: the workbook read reports it
        return b""


def uncalculated_formulas(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column) -> ``=formula`` of each formula cell of the sheet with no calculated value.

    openpyxl reads such a cell as empty; read as empty, a manager cell would silently send the
    reports to the fallback manager. A formula that calculated to the empty text (``t="str"`` and
    an empty ``<v>``, as Excel writes ``=IF(x,"",...)``) has a value: it reads as blank."""
    if b"<f" not in xml:
        return {}  # no formula at all: the common case, no scan
    found: dict[tuple[int, int], str] = {}
    for cell in _CELL.finditer(xml):
        body = cell.group(2) or b""
        formula = _FORMULA.search(body)
        ref = _REF.search(cell.group(1))
        if formula is None or ref is None or _VALUE.search(body) or (_TEXT_RESULT.search(cell.group(1))
                                                                     and b"<v" in body):
            continue
        text = html.unescape((formula.group(1) or b"").decode("utf-8", "replace")) or "(a shared formula)"
        found[coordinate_to_tuple(ref.group(1).decode())] = "=" + text
    return found


_NUM_FMT = re.compile(rb'<numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.DOTALL)
_XF = re.compile(rb"<xf\b([^>]*?)/?>")
_NUM_FMT_ID = re.compile(rb'\bnumFmtId="(\d+)"')
_OPEN_CELL = re.compile(rb"<c\b([^>]*?)/?>")
_STYLE = re.compile(rb'\bs="(\d+)"')
_TYPE = re.compile(rb'\bt="(\w+)"')
# A digit pattern: 0 (a digit, a zero when there is none) and # (a digit when there is one), with
# literal text between them (- space / ( ), "quoted", \escaped). No decimals, grouping or sections.
_LITERAL = re.compile(r'"[^"]*"|\\.|[-\s/()]')


def digit_pattern(code: str) -> str | None:
    """``code`` as a digit pattern (``00000``, ``000-00-0000``, ``"ID "000000``), or None when it is
    any other number format (decimals, grouping, dates, colours, sections)."""
    rest = _LITERAL.sub("", code)
    return code if rest and set(rest) <= {"0", "#"} and "0" in rest else None


def format_digits(number: int, code: str) -> str:
    """A whole number shown through a digit pattern, as Excel shows it (``123`` in ``00000`` is
    ``00123``; digits beyond the pattern go before it)."""
    tokens = re.findall(r'"[^"]*"|\\.|.', code)
    digits = list(str(number))
    out: list[str] = []
    placeholders = [i for i, t in enumerate(tokens) if t in ("0", "#")]
    for i in reversed(range(len(tokens))):
        token = tokens[i]
        if token in ("0", "#"):
            if digits:
                out.append(digits.pop())
            elif token == "0":
                out.append("0")
            if i == placeholders[0] and digits:
                out.append("".join(digits)[::-1])
                digits = []
        else:
            out.append((token[1:-1] if token.startswith('"') else token[-1])[::-1])
    return "".join(out)[::-1]


def padded_styles(raw: bytes) -> dict[int, str]:
    """Cell style index -> digit pattern, for the styles whose number format is one (xl/styles.xml).

    A number in such a cell is shown with its zeros (``00123``), which Excel's own CSV keeps: so
    does clocksync, or the workbook and its CSV would differ."""
    styles = _sheet_xml(raw, "xl/styles.xml")
    if not styles:
        return {}
    codes = {int(i): html.unescape(c.decode("utf-8", "replace")) for i, c in _NUM_FMT.findall(styles)}
    patterns = {i: p for i, c in codes.items() if (p := digit_pattern(c))}
    if not patterns:
        return {}
    xfs = _CELL_XFS.search(styles)
    found: dict[int, str] = {}
    for index, xf in enumerate(_XF.finditer(xfs.group(1) if xfs else b"")):
        number_format = _NUM_FMT_ID.search(xf.group(1))
        if number_format and int(number_format.group(1)) in patterns:
            found[index] = patterns[int(number_format.group(1))]
    return found


def padded_cells(xml: bytes, styles: dict[int, str]) -> dict[tuple[int, int], str]:
    """(row, column from 1) -> digit pattern of each number cell whose style shows one."""
    if not styles:
        return {}
    wanted = {str(i).encode() for i in styles}
    found: dict[tuple[int, int], str] = {}
    for cell in _OPEN_CELL.finditer(xml):
        attributes = cell.group(1)
        style = _STYLE.search(attributes)
        if style is None or style.group(1) not in wanted:
            continue
        kind = _TYPE.search(attributes)
        ref = _REF.search(attributes)
        if ref is not None and (kind is None or kind.group(1) == b"n"):
            found[coordinate_to_tuple(ref.group(1).decode())] = styles[int(style.group(1))]
    return found


_MERGE = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]+[0-9]+):([A-Z]+[0-9]+)"')


def merged_cells(xml: bytes) -> dict[tuple[int, int], str]:
    """(row, column index from 0) -> ``B2:B5`` for each cell a merge covers, but its first (which
    holds the value). A person sees the value across the merge; openpyxl reads the others as empty."""
    found: dict[tuple[int, int], str] = {}
    for match in _MERGE.finditer(xml):
        first, last = (coordinate_to_tuple(g.decode()) for g in match.groups())
        shown = f"{match.group(1).decode()}:{match.group(2).decode()}"
        for row in range(first[0], last[0] + 1):
            for column in range(first[1], last[1] + 1):
                if (row, column) != first:
                    found[(row, column - 1)] = shown
    return found


def read_workbook(path: Path, raw: bytes, sheet: str) -> Table:
    """The sheet as a table. Raises CsvError for an unreadable workbook or an unknown sheet."""
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except _UNREADABLE as exc:
        first_line = visible((str(exc).splitlines() or [""])[0])  # openpyxl explains over several lines
        raise CsvError(str(path), [f"not a readable Excel workbook (.xlsx): {type(exc).__name__}: {first_line}"[:300]]
                       ) from None
    names = book.sheetnames
    if not names:
        raise CsvError(str(path), ["the workbook has no sheet"])
    listed = ", ".join(f"{n!r}{'' if _visible(book[n]) else ' (hidden)'}" for n in names)
    if sheet:
        found = next((n for n in names if n == sheet), None) or next(
            (n for n in names if name_key(n) == name_key(sheet)), None)
        if found is None:
            raise CsvError(str(path), [f"no sheet named {sheet!r} (csv.sheet); the workbook has: {listed}"])
    else:  # the first sheet a person sees: a hidden one (an old copy, a lookup) is not the users
        found = next((n for n in names if _visible(book[n]) and hasattr(book[n], "iter_rows")), None)
        if found is None:
            raise CsvError(str(path), [f"the workbook has no visible sheet of cells (it has: {listed}); name the "
                                       "sheet to read with csv.sheet"])
    worksheet = book[found]
    if not hasattr(worksheet, "iter_rows"):
        raise CsvError(str(path), [f"sheet {found!r} is a chart, not a table of cells; the workbook has: {listed}"])
    worksheet.reset_dimensions()  # some writers record a wrong size: read every row that is there
    rows = worksheet.iter_rows(values_only=True)
    try:
        first = next(rows, None)
    except _UNREADABLE as exc:
        raise CsvError(str(path), [f"sheet {found!r}: cannot read the header: {type(exc).__name__}"]) from None
    if first is None:
        book.close()
        raise CsvError(str(path), [f"sheet {found!r} is empty"])

    formulas: dict[int, list[tuple[int, str]]] = {}
    xml = _sheet_xml(raw, getattr(worksheet, "_worksheet_path", ""))
    for (r, c), formula in uncalculated_formulas(xml).items():
        formulas.setdefault(r, []).append((c, formula))
    padded: dict[int, list[tuple[int, str]]] = {}
    for (r, c), pattern in padded_cells(xml, padded_styles(raw)).items():
        padded.setdefault(r, []).append((c, pattern))
    literal: set[tuple[int, int]] = set()

    def text_of(row_number: int, values: tuple[Any, ...]) -> list[str]:
        texts = [cell_text(v) for v in values]
        for c, formula in formulas.get(row_number, ()):
            texts += [""] * (c - len(texts))
            texts[c - 1] = formula
        for c, pattern in padded.get(row_number, ()):
            value = values[c - 1] if c <= len(values) else None
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 \
                    and float(value).is_integer() and abs(value) < 10 ** EXCEL_DIGITS:
                texts[c - 1] = format_digits(int(value), pattern)
        for c, value in enumerate(values):
            if isinstance(value, str) and E_NOTATION.match(value.strip()):
                literal.add((row_number, c))  # typed as text: the text, not a number Excel turned
        return texts

    def body() -> Iterator[tuple[int, list[str]]]:
        row_number = 1
        try:
            for row_number, row in enumerate(rows, start=2):
                yield row_number, text_of(row_number, row)
        except _UNREADABLE as exc:
            raise CsvError(str(path), [f"sheet {found!r}, row {row_number + 1}: unreadable: "
                                       f"{type(exc).__name__}"]) from None
        finally:
            book.close()

    return Table(text_of(1, first), body(), sheet=found, merged=merged_cells(xml), literal=literal)


def _visible(sheet: Any) -> bool:
    return getattr(sheet, "sheet_state", "visible") == "visible"
