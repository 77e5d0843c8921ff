"""USER custom-field values by the field's type: a cell converted, written as the API's JSON type,
compared by value, and shown.

Clockify types a USER field (API-NOTES 5, the spec's ``CustomFieldRequestV1``) and takes its value
as JSON of that type:

========================  ==============================  =========================================
type                      a cell reads                     written as
========================  ==============================  =========================================
``TXT``                   the text                         a string
``NUMBER``                ``10004``, ``-2.5``, ``37,5``    a number (an int when whole)
``CHECKBOX``              yes/no, true/false, 1/0, x       a boolean
``DROPDOWN_SINGLE``       one allowed value, any case      the allowed value in its own spelling
``DROPDOWN_MULTIPLE``     allowed values split on ``;``     a list, in the order the field lists them
``LINK``                  an ``http(s)://`` URL           a string
========================  ==============================  =========================================

A blank cell leaves the value unmanaged, whatever the type (a checkbox too: only an explicit
no/false/0 turns a switch off). In a multi-select cell, empty parts between separators are
ignored (``Go;`` is ``Go``); a cell of separators only (``;``) holds no value and is refused.

Values compare by what they mean, whatever JSON type the API happens to hold them in: numbers by
value (``10004`` is ``10004.0``; ``010003`` is the number 10003), a checkbox that was never set is
off (``false``), dropdown values NFC-normalised and without regard to case, multi-select values as
a set. A value of a type clocksync does not know compares as text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from clocksync.chars import looks_alike, reveal
from clocksync.model import name_key, value_text

FieldValue = str | bool | int | float | list[str] | None  # a USER field value as JSON
MAX_DIGITS = 15  # significant digits a double (the API's number) holds exactly
MULTI_SEPARATOR = ";"

_TRUE = ("yes", "true", "1", "x")
_FALSE = ("no", "false", "0")
_NUMBER = re.compile(r"^[+-]?(\d+)(?:([.,])(\d+))?$", re.ASCII)  # ASCII digits only: what the API reads
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{3})+$", re.ASCII)
_E_NOTATION = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$", re.ASCII)
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


class FieldType(enum.StrEnum):
    TXT = "TXT"
    NUMBER = "NUMBER"
    CHECKBOX = "CHECKBOX"
    DROPDOWN_SINGLE = "DROPDOWN_SINGLE"
    DROPDOWN_MULTIPLE = "DROPDOWN_MULTIPLE"
    LINK = "LINK"

    @classmethod
    def of(cls, text: str | None) -> FieldType | None:
        """The type named by the API, or None for a type clocksync does not know (compared as text)."""
        found = _BY_NAME.get(text or "TXT")  # a dict lookup: this runs for every cell of a large CSV
        return found if found is not None else _BY_NAME.get(str(text).upper())


_BY_NAME: dict[str, FieldType] = {t.value: t for t in FieldType}


class CellError(ValueError):
    """A cell the field cannot hold; the message says why (and, for dropdowns, what is allowed)."""


def _key(text: str) -> str:
    """A dropdown value as it is matched: NFC, whitespace collapsed, invisible characters removed,
    case-folded (``model.name_key``)."""
    return name_key(text)


def allowed_text(allowed: Sequence[str]) -> str:
    """The allowed values of a dropdown, each quoted: a value may hold a comma (``'C, C++'``)."""
    return ", ".join(repr(a) for a in allowed) if allowed else "(none: the field lists no allowed values)"


def parse_number(text: str) -> Decimal:
    """A number cell: digits with an optional decimal point or comma. Raises CellError.

    ``1,234`` and ``1.234`` are refused as ambiguous (a thousands separator or a decimal?), as is
    E-notation (a spreadsheet's rendering of a long ID) and a number with more significant digits
    than the API's numbers hold exactly.
    """
    cell = text.strip()
    if _E_NOTATION.match(cell):
        raise CellError(f"{cell!r} is in E-notation, which loses digits: format the column as text or as a "
                        "plain number")
    if _THOUSANDS.match(cell) and not cell.lstrip("+-").startswith(("0.", "0,")):
        whole = re.sub(r"[.,]", "", cell)
        decimal = (f"; if it is a decimal, give it more or fewer than three decimals ({cell.replace(',', '.')}0)"
                   if len(re.findall(r"[.,]", cell)) == 1 else "")
        raise CellError(f"{cell!r} is ambiguous (a thousands separator or a decimal?): write {whole} if it is a "
                        f"whole number{decimal}")
    match = _NUMBER.match(cell)
    if not match:
        raise CellError(f"{cell!r} is not a number")
    number = Decimal(f"{match.group(1)}.{match.group(3)}" if match.group(3) else match.group(1))
    if cell.startswith("-"):
        number = -number
    digits = len(number.normalize().as_tuple().digits) if number else 1
    if digits > MAX_DIGITS:
        raise CellError(f"{cell!r} has {digits} significant digits; a NUMBER field holds at most {MAX_DIGITS} "
                        "exactly: make the field TXT for IDs this long")
    return number


def _json_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _checkbox(text: str) -> bool:
    word = text.strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(f"{text.strip()!r} is not a checkbox value: use yes/no, true/false, 1/0 or x (a blank "
                    "cell leaves the switch as it is)")


def _link(text: str) -> str:
    cell = text.strip()
    parts = urlsplit(cell)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in cell):
        raise CellError(f"{cell!r} is not a link: expected a URL such as https://example.com/page")
    return cell


def from_cell(field_type: str | None, cell: str, allowed: Sequence[str] = ()) -> FieldValue:
    """A cell as the value a field of ``field_type`` holds, as the JSON the API takes.

    ``cell`` is the cell's text, not blank (a blank cell leaves the value unmanaged: it is never
    converted). Raises CellError for a value the field cannot hold.
    """
    kind = FieldType.of(field_type)
    if kind is FieldType.NUMBER:
        return _json_number(parse_number(cell))
    if kind is FieldType.CHECKBOX:
        return _checkbox(cell)
    if kind is FieldType.LINK:
        return _link(cell)
    if kind in (FieldType.DROPDOWN_SINGLE, FieldType.DROPDOWN_MULTIPLE):
        spelling = {_key(a): a for a in reversed(allowed)}  # the first of two spellings of one key wins
        parts = [cell] if kind is FieldType.DROPDOWN_SINGLE else cell.split(MULTI_SEPARATOR)
        parts = [p.strip() for p in parts if p.strip()]
        if not parts:
            raise CellError(f"{cell!r} holds no value between the {MULTI_SEPARATOR!r} separators")
        unknown = [p for p in parts if _key(p) not in spelling]
        if unknown:
            shown = ", ".join(repr(p) for p in unknown)
            hint = ""
            if kind is FieldType.DROPDOWN_MULTIPLE and any(
                    "," in p and all(_key(q) in spelling for q in p.split(",") if q.strip()) for p in unknown):
                hint = f" (separate several values with {MULTI_SEPARATOR!r}, not ',')"
            raise CellError(f"{shown} {'is' if len(unknown) == 1 else 'are'} not allowed; allowed values: "
                            f"{allowed_text(allowed)}{hint}")
        if kind is FieldType.DROPDOWN_SINGLE:
            return spelling[_key(parts[0])]
        return _in_order(allowed, {_key(p) for p in parts})
    return cell


def _in_order(allowed: Sequence[str], chosen: set[str]) -> list[str]:
    """The allowed values whose keys are ``chosen``, in the field's order, each once."""
    in_order: list[str] = []
    for option in allowed:
        if _key(option) in chosen:
            chosen.discard(_key(option))
            in_order.append(option)
    return in_order


def held_as(field_type: str | None, value: Any, allowed: Sequence[str] = ()) -> Any:
    """A value the API holds, as the field takes it in a write: ``value`` itself when it fits the
    field's type, else its own form where the meaning is certain (``"true"`` -> ``true``,
    ``"10004"`` -> ``10004``, ``"engineering"`` -> ``"Engineering"``, ``"Python; Go"`` ->
    ``["Python", "Go"]``). Raises CellError (why) for a value the field cannot hold: a dropdown
    value no longer allowed, text that is no number (or a number whose leading zeros would be
    lost), a checkbox word clocksync does not read, a link that is no http(s) URL.

    Unset values (None, "", []) and values of a type clocksync does not know are returned as they are.
    """
    kind = FieldType.of(field_type)
    if kind is None or is_unset(value):
        return value
    if kind is FieldType.TXT:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            return _number_text(value)
        raise CellError(f"{shown(value)} is not text")
    if kind is FieldType.NUMBER:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            if _LEADING_ZERO.match(value.strip()):
                raise CellError(f"{value!r} has leading zeros, which a number cannot keep")
            return _json_number(parse_number(value))
        raise CellError(f"{shown(value)} is not a number")
    if kind is FieldType.CHECKBOX:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().casefold() in _TRUE + _FALSE:
            return _checkbox(value)
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise CellError(f"{shown(value)} is not true or false")
    if kind is FieldType.LINK:
        if isinstance(value, str):
            return _link(value)
        raise CellError(f"{shown(value)} is not a link")
    spelling = {_key(a): a for a in reversed(allowed)}
    if kind is FieldType.DROPDOWN_SINGLE:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str) and _key(value) in spelling:
            return value if value in allowed else spelling[_key(value)]
        raise CellError(f"{shown(value)} is not one of the allowed values ({allowed_text(allowed)})")
    items: list[Any]
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = next((parts for parts in ([value], value.split(MULTI_SEPARATOR), value.split(","))
                      if all(_key(p) in spelling for p in parts if p.strip())), [value])
    else:
        items = [value]
    unknown = [v for v in items if not isinstance(v, str) or (v.strip() and _key(v) not in spelling)]
    if unknown:
        raise CellError(f"{', '.join(shown(v) for v in unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                        f"among the allowed values ({allowed_text(allowed)})")
    if isinstance(value, list) and all(v in allowed for v in value):
        return value
    return _in_order(allowed, {_key(v) for v in items if v.strip()})


def comparable(field_type: str | None, value: Any) -> Hashable:
    """What a value means for a field of ``field_type``: equal for equal meanings (None: unset).

    Lenient about what the API holds (a number sent as text, a list for a single dropdown): a
    value that does not fit the type compares as its text, so it differs from every typed value.
    """
    return _comparable(FieldType.of(field_type), value)


def _comparable(kind: FieldType | None, value: Any) -> Hashable:
    if kind is FieldType.TXT or kind is FieldType.LINK:
        return value_text(value)
    if kind is FieldType.CHECKBOX:
        if value is None or value == "":
            return False  # a switch never set is off
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            try:
                return _checkbox(value)
            except CellError:
                pass
        return ("text", value_text(value))
    if value is None or value == "" or value == []:
        return None
    if kind is FieldType.NUMBER:
        if isinstance(value, bool):
            return ("text", value_text(value))
        if isinstance(value, int | float):
            return Decimal(repr(value)).normalize() if value == value else ("text", "nan")
        try:
            return parse_number(str(value)).normalize()
        except CellError:
            return ("text", value_text(value))
    if kind is FieldType.DROPDOWN_SINGLE:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        return _key(value) if isinstance(value, str) else ("text", value_text(value))
    if kind is FieldType.DROPDOWN_MULTIPLE:
        items = value if isinstance(value, list) else str(value).split(MULTI_SEPARATOR)
        keys = frozenset(_key(str(v)) for v in items if str(v).strip())
        return keys or None
    return value_text(value)


def same(field_type: str | None, a: Any, b: Any) -> bool:
    """Whether two values mean the same for a field of ``field_type``."""
    if a == b and type(a) is type(b):
        return True  # the common case of a large plan: nothing changed
    kind = FieldType.of(field_type)
    return _comparable(kind, a) == _comparable(kind, b)


def is_unset(value: Any) -> bool:
    """Whether a value is "no value" (a checkbox that is off counts as set: it shows as off)."""
    return value is None or value == "" or value == []


def shown(value: Any) -> str:
    """A value as a reviewer reads it in a plan line: text quoted, with what a person does not see
    escaped (``chars.reveal``: ``'US\\ufe0fA'``), numbers and booleans bare."""
    if value is None or value == "" or value == []:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, list):  # each value quoted: a value may hold a comma or a separator
        return "[" + ", ".join(shown(str(v)) for v in value) + "]"
    text = str(value)
    if "'" in text and '"' not in text:  # quoted as Python would: "O'Brien"
        return '"' + reveal(text)[1:-1].replace("\\'", "'") + '"'
    return reveal(text)


def shown_change(before: Any, after: Any) -> str:
    """``'USA' -> 'US\\ufe0fA'`` for a plan line: both values as ``shown``, and, when the two
    look the same to a reader, why they differ (``chars.looks_alike``)."""
    line = f"{shown(before)} -> {shown(after)}"
    if isinstance(before, str) and isinstance(after, str):
        alike = looks_alike(before, after)
        if alike:
            line += f" ({alike})"
    return line


def audit_text(value: Any) -> str:
    """A value as the audit CSV shows it: like ``shown`` but text unquoted."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value:
        return f"{MULTI_SEPARATOR} ".join(str(v) for v in value)
    return shown(value)


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)).normalize(), "f") if isinstance(value, float) else str(value)


def to_cell(field_type: str | None, value: Any) -> str:
    """A value as the CSV cell that ``from_cell`` reads back to the same value (``export``)."""
    if value is None or value == [] or value == "":
        return ""
    kind = FieldType.of(field_type)
    if kind is FieldType.CHECKBOX:
        meaning = comparable(kind, value)
        return ("yes" if meaning else "no") if isinstance(meaning, bool) else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, list):
        return f"{MULTI_SEPARATOR} ".join(str(v) for v in value)
    return str(value)


def reads_back(field_type: str | None, value: Any, allowed: Sequence[str] = ()) -> bool:
    """Whether ``to_cell(value)`` is a cell ``from_cell`` reads as the same value for this field (a
    dropdown value no longer allowed, or text in a NUMBER field, is not)."""
    cell = to_cell(field_type, value)
    if not cell:
        return True  # a blank cell: the value is unset, and a blank cell leaves it so
    try:
        return same(field_type, from_cell(field_type, cell, allowed), value)
    except CellError:
        return False
