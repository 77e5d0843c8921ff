"""The mapped USER fields at plan time: which exist, which are created, and every mapped cell
converted to its field's type. Pure.

Field types are known only from the workspace, so this runs when the plan is made, before the
differ: a cell the field cannot hold is an input error naming the file, row and column (and, for a
dropdown, the allowed values), raised before anything is written. A mapped name means the field
named exactly so, else the one field whose name differs only in case, spacing or invisible
characters; when two fit equally ("Global ID" and "global id" for "Global Id") the plan is refused
naming both, so a value never goes to a field the plan does not name exactly. The workspace's caps
on USER fields (``ACTIVE_FIELD_CAP`` active, ``TOTAL_FIELD_CAP`` in all; docs/live-api.md) are
checked for the fields the plan would create.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clocksync.config import Config
from clocksync.errors import ConfigError, CsvError, LimitExceeded
from clocksync.fieldvalues import CellError, FieldType, FieldValue, from_cell
from clocksync.model import AmbiguousName, CurrentState, CustomField, DesiredState, pick_named
from clocksync.plan.types import Notice

ACTIVE_FIELD_CAP = 10  # active USER custom fields a workspace may have (INVISIBLE ones counted: the stricter reading)
TOTAL_FIELD_CAP = 50  # USER custom fields in all, INACTIVE ones included
NEW_FIELD_TYPE = "TXT"  # what a mapped field that does not exist is created as (CONTRACT rule 1)
NEW_FIELD_STATUS = "VISIBLE"
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


@dataclass(frozen=True)
class MappedFields:
    """``fields``: each mapped field name (as the config names it) -> its field (None: the plan
    creates it as TXT). ``values``: user key -> mapped name -> the typed desired value.
    ``inactive``: names whose values are not planned (the field is INACTIVE)."""

    fields: MappingProxyType[str, CustomField | None]
    values: MappingProxyType[str, MappingProxyType[str, FieldValue]]
    creates: tuple[str, ...] = ()
    inactive: frozenset[str] = frozenset()
    notices: tuple[Notice, ...] = field(default=())

    def type_of(self, name: str) -> str:
        found = self.fields.get(name)
        return found.type if found is not None else NEW_FIELD_TYPE

    def field_name(self, name: str) -> str:
        """The name a plan writes the mapped ``name`` under: the field's own, exactly (the config's
        for a field the plan creates)."""
        found = self.fields.get(name)
        return found.name if found is not None else name


def check_caps(current: CurrentState, creates: list[str]) -> None:
    """Raise LimitExceeded when creating ``creates`` (VISIBLE fields) passes a cap, with the numbers.

    Active fields are the VISIBLE and INVISIBLE ones: whether Clockify counts INVISIBLE fields
    against its cap of 10 active is unverified, so clocksync counts them (a plan it accepts is
    accepted under either answer)."""
    if not creates:
        return
    visible = sum(1 for f in current.fields.values() if f.status == "VISIBLE")
    active = sum(1 for f in current.fields.values() if f.active)
    total = len(current.fields)
    names = ", ".join(repr(n) for n in creates)
    need = f"field_mapping needs {len(creates)} new USER field(s) ({names}), but the workspace has"
    problems = []
    if active + len(creates) > ACTIVE_FIELD_CAP:
        hidden = (f" ({visible} VISIBLE and {active - visible} INVISIBLE: Clockify may count INVISIBLE fields as "
                  "active, so clocksync does)") if active != visible else ""
        problems.append(f"{need} {active} of its {ACTIVE_FIELD_CAP} active USER fields{hidden}: {active} + "
                        f"{len(creates)} = {active + len(creates)} is over {ACTIVE_FIELD_CAP}; make a field INACTIVE "
                        "in Clockify")
    if total + len(creates) > TOTAL_FIELD_CAP:
        problems.append(f"{need} {total} of its {TOTAL_FIELD_CAP} USER fields in all (INACTIVE ones count): {total} + "
                        f"{len(creates)} = {total + len(creates)} is over {TOTAL_FIELD_CAP}; delete a field in Clockify "
                        "(making it INACTIVE does not lower this count)")
    if problems:
        raise LimitExceeded("; ".join(problems) + "; or map the column to an existing field; nothing was planned")


def resolve_fields(current: CurrentState, config: Config) -> dict[str, CustomField | None]:
    """Each mapped name's field (None: none has the name). Raises ConfigError naming the fields a
    name could mean when two fit it equally."""
    resolved: dict[str, CustomField | None] = {}
    problems = []
    for column, name in config.field_mapping.items():
        try:
            resolved[name] = pick_named(name, ((f, f.name) for f in sorted(current.fields.values(),
                                                                              key=lambda f: f.id)))
        except AmbiguousName as exc:
            found = sorted((f for f in current.fields.values() if f.name in exc.names), key=lambda f: (f.name, f.id))
            shown = " and ".join(f"{f.name!r} ({f.type}, {f.status})" for f in found)
            how = ("map the column to one of them by its exact name, or rename one in Clockify"
                   if len({unicodedata.normalize("NFC", f.name) for f in found}) == len(found)
                   else "rename one in Clockify")
            problems.append(f"field_mapping: column {column!r} maps to {name!r}, but the workspace has "
                            f"{len(found)} USER fields of that name: {shown}; {how}")
    if problems:
        raise ConfigError(f"{config.source or 'config'}: " + "; ".join(problems) + "; nothing was planned")
    return resolved


@dataclass(frozen=True, slots=True)
class _Typed:
    name: str  # the mapped name
    column: str
    type_name: str
    kind: FieldType | None
    allowed: tuple[str, ...]


def _typed_fields(fields: Mapping[str, CustomField | None], config: Config, inactive: set[str]) -> list[_Typed]:
    """(name, column, type, allowed values) of each mapped field whose values are planned, once."""
    column_of: dict[str, str] = {}
    for column, name in config.field_mapping.items():
        column_of.setdefault(name, column)
    out = []
    for name, found in fields.items():
        if name in inactive:
            continue
        type_name = found.type if found is not None else NEW_FIELD_TYPE
        out.append(_Typed(name, column_of[name], type_name, FieldType.of(type_name),
                          found.allowed_values if found is not None else ()))
    return out


def convert_cells(rows: Iterable[tuple[int, Mapping[str, str]]], typed_fields: list[_Typed], sheet: str | None,
                  ) -> tuple[dict[int, dict[str, FieldValue]], list[str], dict[str, list[int]]]:
    """Each row's mapped cells as typed values (by row number), the problems (where, as the loader
    says it: sheet, row, column), and the rows of each NUMBER field whose cells have leading zeros.
    A blank (absent) cell is left out: it leaves the value unmanaged, whatever the type."""
    where = f"sheet {sheet!r}, " if sheet else ""
    problems: list[str] = []
    leading_zeros: dict[str, list[int]] = defaultdict(list)
    values: dict[int, dict[str, FieldValue]] = {}
    for row, cells in rows:
        typed: dict[str, FieldValue] = {}
        for f in typed_fields:
            cell = cells.get(f.name)
            if cell is None:
                continue
            if f.kind is FieldType.TXT:
                typed[f.name] = cell  # text is the cell: no conversion to fail
                continue
            try:
                typed[f.name] = from_cell(f.type_name, cell, f.allowed)
            except CellError as exc:
                problems.append(f"{where}row {row}, column {f.column!r}: {exc} (field {f.name!r} is {f.type_name})")
                continue
            if f.kind is FieldType.NUMBER and _LEADING_ZERO.match(cell.strip()):
                leading_zeros[f.name].append(row)
        values[row] = typed
    return values, problems, leading_zeros


def mapped_fields(desired: DesiredState, current: CurrentState, config: Config) -> MappedFields:
    """The mapped fields and every user's typed values. Raises ConfigError (a name two fields fit),
    CsvError (every bad cell at once) and LimitExceeded (a cap the plan's creates would pass)."""
    names = sorted(dict.fromkeys(config.field_mapping.values()), key=str.casefold)
    resolved = resolve_fields(current, config)
    fields = {name: resolved[name] for name in names}
    creates = [name for name, f in fields.items() if f is None]
    check_caps(current, creates)
    notices: list[Notice] = []
    inactive = {name for name, f in fields.items() if f is not None and f.status == "INACTIVE"}
    typed_fields = _typed_fields(fields, config, inactive)
    column_of = {f.name: f.column for f in typed_fields}
    for name in sorted(inactive, key=str.casefold):
        column = next(c for c, n in config.field_mapping.items() if n == name)
        notices.append(Notice(code="inactive_field", message=(
            f"custom field {name!r} (column {column!r}) is INACTIVE in Clockify: its values are not "
            "planned; activate the field to manage them, or remove it from field_mapping")))
    specs = sorted(desired.users.values(), key=lambda s: s.row)
    by_row, problems, leading_zeros = convert_cells(((s.row, s.fields) for s in specs), typed_fields, desired.sheet)
    if problems:
        raise CsvError(desired.source, problems)
    values = {spec.key: MappingProxyType(by_row[spec.row]) for spec in specs}
    for name, rows in sorted(leading_zeros.items()):
        shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
        notices.append(Notice(code="number_leading_zeros", message=(
            f"column {column_of[name]!r}: {len(rows)} cell(s) with leading zeros (row{'s' if len(rows) > 1 else ''} "
            f"{shown}) are read as numbers for NUMBER field {name!r}, which cannot keep the zeros (010003 is the "
            "number 10003); make the field TXT if they are IDs")))
    return MappedFields(MappingProxyType(fields), MappingProxyType(values), tuple(creates), frozenset(inactive),
                        tuple(notices))
