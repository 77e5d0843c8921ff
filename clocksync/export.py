"""``clocksync export``: the workspace as a users CSV and a config, to adopt clocksync on it. Reads only.

Rows: every ACTIVE member. The manager column is the member's one direct TEAM_MANAGER; members in
the fallback group under the fallback manager get a blank manager (that is what a blank cell
means). Weekly hours are the daily capacity x 5; there is one column per USER custom field. The
config maps the columns to the fields and carries the fallback settings: those of ``--config``
when given, else guessed and commented as guessed.

A member with no manager, or with several, cannot be a plain row (a blank manager means "the
fallback manager"): they get a blank manager and an ``ignore: [manager]`` exception in the config,
so plans leave their manager, groups and manager roles as they are. On a workspace clocksync has
converged, planning from the export changes nothing. A value a spreadsheet would run as a formula
is written with a leading apostrophe, which the loader removes (``sanitize.export_cell``). What
the CSV cannot express is returned as notes: those members, invited members, groups outside the
model, PROJECT_MANAGER roles.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from clocksync.chars import reveal
from clocksync.clockify.client import ClockifyClient
from clocksync.config import Config, load_config
from clocksync.durations import WORKING_DAYS_PER_WEEK, whole_minutes
from clocksync.errors import InputError
from clocksync.fieldvalues import reads_back as typed_reads_back
from clocksync.fieldvalues import to_cell
from clocksync.files import write_private
from clocksync.kinds.base import ExportColumns
from clocksync.load.current import load_current, load_profiles
from clocksync.load.desired import MAX_CELL, reads_back
from clocksync.model import (
    CurrentState,
    CustomField,
    MemberStatus,
    email_key,
    name_key,
)
from clocksync.preflight import preflight
from clocksync.sanitize import export_cell


@dataclass
class Export:
    """``table``: the users file as rows of text cells, the header first; written as a CSV
    (``csv_text``) or a workbook (``xlsx_bytes``)."""

    table: list[list[str]]
    config_text: str
    rows: int
    notes: list[str] = field(default_factory=list)

    @property
    def csv_text(self) -> str:
        return csv_text(self.table)

    def xlsx_bytes(self, hours_column: str) -> bytes:
        """The table as an .xlsx workbook: every cell a text cell (so no value becomes a formula and
        an ID keeps its leading zeros), but the hours, which are numbers."""
        from clocksync.export_xlsx import workbook_bytes  # openpyxl is imported only when asked for

        return workbook_bytes(self.table, number_columns={hours_column})


@dataclass(frozen=True)
class _Unexpressed:
    email: str
    reason: str


def weekly_hours(daily_seconds: int) -> str:
    """Daily capacity -> the weekly-hours cell that reads back to that capacity in whole minutes
    (the precision at which a plan compares capacities)."""
    hours = Decimal(whole_minutes(daily_seconds) * WORKING_DAYS_PER_WEEK) / Decimal(3600)
    text = f"{hours:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


@dataclass
class _Fallback:
    email: str
    group: str
    guessed: str = ""  # why, when guessed


def _fallback(state: CurrentState, config: Config | None) -> _Fallback:
    if config is not None and config.workspace.fallback_manager_email:
        return _Fallback(config.workspace.fallback_manager_email, config.workspace.fallback_group_name)
    direct = state.direct_managers
    candidates = []
    for group in state.groups.values():
        holders = state.group_managers.get(group.id, ())
        if group.id in state.protected or len(holders) != 1:
            continue
        holder = state.members.get(next(iter(holders)))
        if holder is None or name_key(group.name) == name_key(holder.display_name):
            continue
        if all(holder.id in direct.get(uid, ()) for uid in group.member_ids):
            candidates.append((len(group.member_ids), group.name, holder))
    if not candidates:
        return _Fallback("", "Other functions", "no group looks like a fallback group: set both by hand")
    size, name, holder = max(candidates, key=lambda c: (c[0], c[1]))
    return _Fallback(holder.email, name, f"{holder.email} manages {name!r} ({size} members), the largest group "
                                          "not named after its manager")


async def export_workspace(client: ClockifyClient, config: Config | None) -> Export:
    """Read the workspace and write it as a CSV and a config. Raises ClockifyError, PreflightError."""
    report = await preflight(client)
    lists = await load_current(client, self_id=report.user_id)
    # Profiles of the active members only, known once the lists are read: read them, not the lists again.
    profiles, warnings = await load_profiles(client, {m.id for m in lists.members.values() if m.active})
    state = dataclasses.replace(lists, profiles=MappingProxyType(profiles), warnings=lists.warnings + tuple(warnings))
    return build_export(state, config)


def build_export(state: CurrentState, config: Config | None) -> Export:
    """The export of a read workspace (pure)."""
    cols = (config or Config()).csv
    direct = state.direct_managers
    fallback = _fallback(state, config)
    inactive_keys = {name_key(f.name) for f in state.fields.values() if f.status == "INACTIVE"}
    mapping = {c: f for c, f in config.field_mapping.items() if name_key(f) not in inactive_keys} if config else {}
    column_of = {name_key(f): column for column, f in mapping.items()}
    # INACTIVE fields stay out: a plan does not manage their values (it would only warn about them).
    fields = sorted((f for f in state.fields.values() if f.status != "INACTIVE"), key=lambda f: name_key(f.name))
    # A field named like a formula gets a column name a spreadsheet shows as text (config maps it back).
    field_columns = [(f, column_of.get(name_key(f.name), export_cell(f.name))) for f in fields]
    existing = {name_key(f.name) for f in state.fields.values()}
    # Mapped fields the workspace does not have yet: empty columns (a plan creates the field, sets nothing).
    field_columns += [(CustomField(id="", name=name), column) for column, name in mapping.items()
                      if name_key(name) not in existing]
    for f, column in field_columns:
        mapping.setdefault(column, f.name)
    fallback_group = next((g for g in state.groups.values() if name_key(g.name) == name_key(fallback.group)), None)
    by_email = state.members_by_key
    fallback_member = by_email.get(email_key(fallback.email)) if fallback.email else None
    notes: list[str] = []
    unexpressed: list[_Unexpressed] = []
    kinds = [column for kind in ExportColumns.registry for column in kind.columns(state, config or Config())]
    table = [[cols.email_column, cols.manager_column, cols.hours_column, *(c for _, c in field_columns),
              *(header for header, _ in kinds)]]
    rows = 0
    for member in sorted(state.members.values(), key=lambda m: m.key):
        if member.status is MemberStatus.PENDING:
            notes.append(f"{member.email} is invited (PENDING): not in the CSV; add a row when they join")
        if not member.active:
            continue
        holders = sorted((_email(state, h), h) for h in direct.get(member.id, ()) if h != member.id)
        is_fallback = fallback_member is not None and member.id == fallback_member.id
        manager = holders[0][0] if len(holders) == 1 else ""
        if len(holders) > 1:
            names = ", ".join(email for email, _ in holders)
            unexpressed.append(_Unexpressed(member.email, f"{len(holders)} direct managers ({names})"))
        elif not holders and not is_fallback:
            unexpressed.append(_Unexpressed(member.email, "no manager"))
        in_fallback_group = fallback_group is not None and member.id in fallback_group.member_ids
        if len(holders) == 1 and fallback_member is not None and holders[0][1] == fallback_member.id \
                and in_fallback_group:
            manager = ""  # blank: the fallback group under the fallback manager
        profile = state.profiles.get(member.id)
        hours = weekly_hours(profile.capacity_seconds) if profile and profile.capacity_seconds is not None else ""
        values = profile.shown if profile else {}
        field_cells = []
        for f, column in field_columns:
            held = values.get(f.id)
            value = to_cell(f.type, held)
            if value and not typed_reads_back(f.type, held, f.allowed_values):
                notes.append(f"{member.email}: {f.name} holds {reveal(value[:60])}, which is not a value of its type "
                             f"{f.type}{' (allowed: ' + ', '.join(f.allowed_values) + ')' if f.allowed_values else ''}"
                             f": column {column!r} left blank, so plans leave it alone; correct it in the workspace")
                value = ""
            if value and not reads_back(value):  # left blank (unmanaged), so a plan from the export changes nothing
                notes.append(f"{member.email}: {f.name} holds {reveal(value[:60])}, which a users file cannot hold "
                             f"as it is (invisible or control characters, more than {MAX_CELL} characters, or a value "
                             f"the loader refuses): column {column!r} left blank, so plans leave it alone; correct it "
                             "in the workspace")
                value = ""
            field_cells.append(value)
        cells = [member.email, manager, hours, *field_cells, *(cell(member) for _, cell in kinds)]
        table.append([export_cell(cell) for cell in cells])  # the loader reads each back unchanged
        rows += 1
    notes += [f"{u.email} has {u.reason}: a CSV row holds one manager; exported with a blank manager and an "
              "exception that leaves their manager, groups and manager roles as they are" for u in unexpressed]
    notes += _outside_the_model(state, fallback)
    inactive = sorted(f.name for f in state.fields.values() if f.status == "INACTIVE")
    if inactive:
        notes.append(f"USER field(s) {', '.join(map(repr, inactive))} are INACTIVE: not exported (plans do not "
                     "manage an inactive field's values)")
    if state.limited:
        notes.append(f"{len(state.limited)} limited member(s) (no email) cannot be CSV rows: not exported; plans "
                     "leave them as they are")
    text = _config_text(state, config, mapping, fallback, field_columns, unexpressed)
    return Export(table, text, rows, notes)


def csv_text(table: list[list[str]]) -> str:
    """Rows as CSV text, lines ending in CRLF (RFC 4180): a value holding a CR or LF is quoted, so
    it reads back as one cell (with LF alone as the line end, a bare CR would split the row)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return buffer.getvalue()


def _email(state: CurrentState, user_id: str) -> str:
    member = state.members.get(user_id)
    return member.email if member else user_id


def _outside_the_model(state: CurrentState, fallback: _Fallback) -> list[str]:
    """Groups that are neither manager groups, the fallback group nor protected; project roles."""
    managers = state.group_managers
    notes = []
    for group in sorted(state.groups.values(), key=lambda g: name_key(g.name)):
        if group.id in state.protected or name_key(group.name) == name_key(fallback.group):
            continue
        holders = [state.members[h] for h in managers.get(group.id, ()) if h in state.members]
        if len(holders) == 1 and name_key(group.name) == name_key(holders[0].display_name):
            continue
        size = len(group.member_ids)
        notes.append(f"group {group.name!r} ({size} member{'' if size == 1 else 's'}) is not a manager group: the CSV cannot "
                     "express it; plans leave it alone (or delete it with --delete-unmanaged-groups)")
    projects = sorted((h, p) for p, holders in state.project_managers.items() for h in holders)
    if projects:
        notes.append(f"{len(projects)} PROJECT_MANAGER role(s) are outside the CSV model; plans leave them alone")
    return notes


def _config_text(state: CurrentState, config: Config | None, mapping: dict[str, str], fallback: _Fallback,
                 field_columns: list[tuple[CustomField, str]], unexpressed: list[_Unexpressed]) -> str:
    base = config or Config()
    cols = base.csv
    country = cols.country_column
    country_note = ""
    if config is None or country not in mapping:
        guess = next((c for _, c in field_columns if "country" in c.casefold()), None)
        if guess:
            country, country_note = guess, "  # guessed: the column named like a country; groups named like its values are protected"
    guessed = f"  # guessed: {fallback.guessed}" if fallback.guessed else ""
    review = "Review the lines marked guessed before the first plan; o" if guessed or country_note else "O"
    lines = [
        f"# Written by clocksync export from workspace {state.workspace_id}.",
        f"# {review}ther settings keep their defaults (see clocksync init for all of them).",
        "workspace:",
        f"  fallback_manager_email: {_q(fallback.email)}{guessed}",
        f"  fallback_group_name: {_q(fallback.group)}{guessed and '  # guessed with the manager above'}",
        f"  protected_groups: {json.dumps(list(base.workspace.protected_groups), ensure_ascii=False)}",
        f"  never_deactivate: {json.dumps(list(base.workspace.never_deactivate), ensure_ascii=False)}",
        "field_mapping:  # CSV column -> Clockify USER custom field",
        *(f"  {_q(column)}: {_q(name)}" for column, name in mapping.items()),
        "csv:",
        f"  email_column: {_q(cols.email_column)}",
        f"  manager_column: {_q(cols.manager_column)}",
        f"  hours_column: {_q(cols.hours_column)}",
        f"  country_column: {_q(country)}{country_note}",
        *(line for kind in ExportColumns.registry for line in kind.csv_lines(base)),
        "groups:",
        f"  name_template: {_q(base.groups.name_template)}",
        *(line for kind in ExportColumns.registry for line in kind.top_lines(base, state)),
    ]
    if not mapping:
        lines[lines.index("field_mapping:  # CSV column -> Clockify USER custom field")] = "field_mapping: {}"
    kept = [r for r in base.exceptions if email_key(r.email) not in {email_key(u.email) for u in unexpressed}]
    if kept or unexpressed:
        lines.append("exceptions:  # what plans leave alone, per user")
    for rule in kept:
        lines += [f"  - email: {_q(rule.email)}", f"    ignore: {json.dumps(list(rule.ignore), ensure_ascii=False)}",
                  f"    reason: {_q(rule.reason)}"] + ([f"    until: {rule.until.isoformat()}"] if rule.until else [])
    for u in unexpressed:
        lines += [f"  - email: {_q(u.email)}", "    ignore: [manager]",
                  f"    reason: {_q(f'exported: {u.reason} in the workspace; a CSV row holds one manager')}"]
    return "\n".join(lines) + "\n"


def write_export(export: Export, out_dir: Path, *, force: bool, fmt: str = "csv") -> list[Path]:
    """Write users.csv (``fmt`` "csv") or users.xlsx ("xlsx") and config.yaml into ``out_dir``.
    Raises InputError for a non-empty folder."""
    check_out_dir(out_dir, force=force)
    paths = [out_dir / f"users.{fmt}", out_dir / "config.yaml"]
    # Owner-only and never through a symlink in the folder: --force replaces a planted link, it
    # does not write to where it points.
    write_private(paths[0], export.xlsx_bytes(export.table[0][2]) if fmt == "xlsx" else export.csv_text)
    write_private(paths[1], export.config_text)
    load_config(paths[1], required=True)  # what was written reads back
    return paths


def check_out_dir(out_dir: Path, *, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise InputError(f"{out_dir} is not empty: not overwriting anything there (use --force)")
