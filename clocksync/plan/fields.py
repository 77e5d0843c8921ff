"""The mapped USER fields at plan time: which exist, which are created, and every mapped cell
converted to its field's type. Pure.

Field types are known only from the workspace, so this runs when the plan is made, before the
differ: a cell the field cannot hold is an input error naming the file, row and column (and, for a
dropdown, the allowed values), raised before anything is written. The workspace's caps on USER
fields (``ACTIVE_FIELD_CAP`` VISIBLE, ``TOTAL_FIELD_CAP`` in all; docs/live-api.md) are checked
for the fields the plan would create.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from types import MappingProxyType

from clocksync.config import Config
from clocksync.errors import CsvError, LimitExceeded
from clocksync.fieldvalues import CellError, FieldType, FieldValue, from_cell
from clocksync.model import CurrentState, CustomField, DesiredState, name_key
from clocksync.plan.types import Notice

ACTIVE_FIELD_CAP = 10  # VISIBLE USER custom fields a workspace may have
TOTAL_FIELD_CAP = 50  # USER custom fields in all
NEW_FIELD_TYPE = "TXT"  # what a mapped field that does not exist is created as (CONTRACT rule 1)
NEW_FIELD_STATUS = "VISIBLE"
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


@dataclass(frozen=True)
class MappedFields:
    """``fields``: each mapped field name -> its field (None: the plan creates it as TXT). ``values``:
    user key -> field name -> the typed desired value. ``inactive``: names whose values are not
    planned (the field is INACTIVE)."""

    fields: MappingProxyType[str, CustomField | None]
    values: MappingProxyType[str, MappingProxyType[str, FieldValue]]
    creates: tuple[str, ...] = ()
    inactive: frozenset[str] = frozenset()
    notices: tuple[Notice, ...] = field(default=())

    def type_of(self, name: str) -> str:
        found = self.fields.get(name)
        return found.type if found is not None else NEW_FIELD_TYPE


def check_caps(current: CurrentState, creates: list[str]) -> None:
    """Raise LimitExceeded when creating ``creates`` (VISIBLE fields) passes a cap, with the numbers."""
    if not creates:
        return
    active = sum(1 for f in current.fields.values() if f.active)
    total = len(current.fields)
    names = ", ".join(repr(n) for n in creates)
    problems = []
    if active + len(creates) > ACTIVE_FIELD_CAP:
        problems.append(f"field_mapping needs {len(creates)} new USER field(s) ({names}), but the workspace has "
                        f"{active} of its {ACTIVE_FIELD_CAP} active (VISIBLE) USER fields: {active} + {len(creates)} "
                        f"= {active + len(creates)} is over {ACTIVE_FIELD_CAP}")
    if total + len(creates) > TOTAL_FIELD_CAP:
        problems.append(f"field_mapping needs {len(creates)} new USER field(s) ({names}), but the workspace has "
                        f"{total} of its {TOTAL_FIELD_CAP} USER fields in all: {total} + {len(creates)} = "
                        f"{total + len(creates)} is over {TOTAL_FIELD_CAP}")
    if problems:
        raise LimitExceeded("; ".join(problems) + "; make a field INACTIVE (or delete one) in Clockify, or map "
                            "the column to an existing field; nothing was planned")


def mapped_fields(desired: DesiredState, current: CurrentState, config: Config) -> MappedFields:
    """The mapped fields and every user's typed values. Raises CsvError (every bad cell at once) and
    LimitExceeded (a cap the plan's creates would pass)."""
    existing = current.field_by_name()
    names = sorted(dict.fromkeys(config.field_mapping.values()), key=str.casefold)
    column_of: dict[str, str] = {}
    for column, name in config.field_mapping.items():
        column_of.setdefault(name, column)
    fields = {name: existing.get(name_key(name)) for name in names}
    creates = [name for name, f in fields.items() if f is None]
    check_caps(current, creates)
    notices: list[Notice] = []
    inactive = {name for name, f in fields.items() if f is not None and f.status == "INACTIVE"}
    for name in sorted(inactive, key=str.casefold):
        notices.append(Notice(code="inactive_field", message=(
            f"custom field {name!r} (column {column_of[name]!r}) is INACTIVE in Clockify: its values are not "
            "planned; activate the field to manage them, or remove it from field_mapping")))
    problems: list[str] = []
    sheet = f"sheet {desired.sheet!r}, " if desired.sheet else ""  # where, as the loader says it
    leading_zeros: dict[str, list[int]] = defaultdict(list)
    values: dict[str, MappingProxyType[str, FieldValue]] = {}
    # (name, type as named, type, allowed values) of each field whose values are planned, once.
    typed_fields = [(name, f.type if f is not None else NEW_FIELD_TYPE,
                     FieldType.of(f.type if f is not None else NEW_FIELD_TYPE), f.allowed_values if f is not None else ())
                    for name, f in fields.items() if name not in inactive]
    for spec in sorted(desired.users.values(), key=lambda s: s.row):
        typed: dict[str, FieldValue] = {}
        for name, type_name, kind, allowed in typed_fields:
            cell = spec.fields.get(name)
            if cell is None and kind is FieldType.CHECKBOX:
                cell = ""  # x/blank: a blank checkbox cell is "off"
            if cell is None:
                continue
            if kind is FieldType.TXT:
                typed[name] = cell  # text is the cell: no conversion to fail
                continue
            try:
                typed[name] = from_cell(type_name, cell, allowed)
            except CellError as exc:
                problems.append(f"{sheet}row {spec.row}, column {column_of[name]!r}: {exc} (field {name!r} is "
                                f"{type_name})")
                continue
            if kind is FieldType.NUMBER and _LEADING_ZERO.match(cell.strip()):
                leading_zeros[name].append(spec.row)
        values[spec.key] = MappingProxyType(typed)
    if problems:
        raise CsvError(desired.source, problems)
    for name, rows in sorted(leading_zeros.items()):
        shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
        notices.append(Notice(code="number_leading_zeros", message=(
            f"column {column_of[name]!r}: {len(rows)} cell(s) with leading zeros (row{'s' if len(rows) > 1 else ''} "
            f"{shown}) are numbers for "
            f"NUMBER field {name!r}, which cannot keep the zeros (010003 is 10003, the same value: no change); "
            "make the field TXT if they are IDs")))
    return MappedFields(MappingProxyType(fields), MappingProxyType(values), tuple(creates), frozenset(inactive),
                        tuple(notices))
