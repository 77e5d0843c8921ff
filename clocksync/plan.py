"""The plan file: versioned JSON of typed actions, with a checksum that ``apply`` verifies.

A plan holds the workspace id, fingerprints of its inputs (sha256 of the CSV and config), the
options it was made with, the actions, a summary and the notices. No secrets, and personal data
limited to what a reviewer needs (emails, names of groups). The JSON Schema of this format is
``Plan.model_json_schema()`` (published as ``docs/plan.schema.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from clocksync import __version__
from clocksync.actions import Action, _Action
from clocksync.config import SafetyConfig
from clocksync.diff import DiffResult
from clocksync.errors import PlanFileError, TooMuchChange

FORMAT = "clocksync-plan"
FORMAT_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputFingerprint(_Frozen):
    path: str
    sha256: str


class PlanOptions(_Frozen):
    deactivate_missing: bool = False
    delete_unmanaged_groups: bool = False
    allow_mass_deactivation: bool = False
    allow_mass_group_deletion: bool = False
    allow_mass_removal: bool = False


class PlanNotice(_Frozen):
    code: str
    message: str


class PlanProtectedGroup(_Frozen):
    id: str
    name: str
    reasons: tuple[str, ...]


class Summary(_Frozen):
    add: int = 0
    change: int = 0
    remove: int = 0
    destructive: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.add + self.change + self.remove

    def line(self) -> str:
        return (f"Plan: {self.add} to add, {self.change} to change, {self.remove} to remove"
                f" ({self.destructive} destructive).")


class WorkspaceFigures(_Frozen):
    """Sizes the safety thresholds are measured against."""

    active_members: int = 0
    total_groups: int = 0
    managed_members: int = 0
    csv_rows: int = 0


class Plan(_Frozen):
    format: Literal["clocksync-plan"] = "clocksync-plan"
    format_version: Literal[1] = 1
    tool_version: str = __version__
    created_at: str
    workspace_id: str
    inputs: dict[str, InputFingerprint]
    options: PlanOptions
    safety: SafetyConfig = SafetyConfig()  # the thresholds the plan was checked against
    figures: WorkspaceFigures
    summary: Summary
    notices: tuple[PlanNotice, ...] = ()
    protected_groups: tuple[PlanProtectedGroup, ...] = ()
    unmatched_users: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    checksum: str = ""

    @property
    def destructive_actions(self) -> list[_Action]:
        return [a for a in self.actions if a.destructive]

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def body_checksum(self) -> str:
        return "sha256:" + hashlib.sha256(_canonical(self.model_dump(mode="json", exclude={"checksum"}))).hexdigest()

    def sealed(self) -> Plan:
        return self.model_copy(update={"checksum": self.body_checksum()})


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def summarize(actions: list[_Action] | tuple[_Action, ...]) -> Summary:
    by_kind: dict[str, int] = {}
    add = change = remove = destructive = 0
    for action in actions:
        by_kind[action.kind_name()] = by_kind.get(action.kind_name(), 0) + 1
        if action.sign == "+":
            add += 1
        elif action.sign == "~":
            change += 1
        else:
            remove += 1
        destructive += action.destructive
    return Summary(add=add, change=change, remove=remove, destructive=destructive, by_kind=dict(sorted(by_kind.items())))


def build_plan(
    result: DiffResult,
    *,
    workspace_id: str,
    inputs: dict[str, InputFingerprint],
    options: PlanOptions,
    csv_rows: int,
    created_at: str,
    safety: SafetyConfig | None = None,
) -> Plan:
    """Seal the differ's result into a plan."""
    plan = Plan(
        safety=safety or SafetyConfig(),
        created_at=created_at,
        workspace_id=workspace_id,
        inputs=inputs,
        options=options,
        figures=WorkspaceFigures(active_members=result.active_members, total_groups=result.total_groups,
                                 managed_members=result.managed_members, csv_rows=csv_rows),
        summary=summarize(result.actions),
        notices=tuple(PlanNotice(code=n.code, message=n.message) for n in result.notices),
        protected_groups=tuple(PlanProtectedGroup(id=p.id, name=p.name, reasons=p.reasons) for p in result.protected),
        unmatched_users=tuple(result.unmatched),
        actions=tuple(result.actions),  # type: ignore[arg-type]
    )
    return plan.sealed()


def check_thresholds(plan: Plan) -> None:
    """Refuse mass changes past both a share and a count, unless the plan was made with the override.

    The thresholds are the plan's own (those of the config it was made with, sealed by its
    checksum), so apply judges a plan exactly as plan did. Raises TooMuchChange with the numbers
    and the way out.
    """
    figures, opts, safety = plan.figures, plan.options, plan.safety
    counts = plan.summary.by_kind
    deactivations = counts.get("deactivate_user", 0)
    checks = [
        (deactivations, figures.active_members,
         safety.max_deactivation_share, safety.min_deactivation_count, opts.allow_mass_deactivation,
         "deactivations", "active members", "--allow-mass-deactivation"),
        (counts.get("delete_group", 0), figures.total_groups,
         safety.max_group_deletion_share, safety.min_group_deletion_count, opts.allow_mass_group_deletion,
         "group deletions", "groups", "--allow-mass-group-deletion"),
        (counts.get("remove_member", 0), max(figures.managed_members, 1),
         safety.max_membership_removal_share, safety.min_membership_removal_count, opts.allow_mass_removal,
         "membership removals", "managed users", "--allow-mass-removal"),
    ]
    problems = []
    for count, base, share, minimum, allowed, what, of, flag in checks:
        if allowed or count < minimum or base == 0:
            continue
        if count / base > share:
            problems.append(f"too many {what}: {count / base:.0%} is over {share:.0%} ({count}/{base} {of}); "
                            f"re-plan with {flag} if this is intended")
    if (not opts.allow_mass_deactivation and deactivations >= safety.min_deactivation_count
            and figures.csv_rows < figures.active_members * safety.min_csv_share):
        problems.append(
            f"the CSV looks truncated: {figures.csv_rows} rows for {figures.active_members} active members "
            f"(under {safety.min_csv_share:.0%}) with --deactivate-missing; re-plan with "
            "--allow-mass-deactivation if this is intended")
    if problems:
        raise TooMuchChange("; ".join(problems))


def save_plan(plan: Plan, path: Path) -> None:
    """Write atomically (temp file, then rename), so a reader never sees half a plan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


_PLAN = TypeAdapter(Plan)


def load_plan(path: Path) -> Plan:
    """Read a plan and verify its format and checksum. Raises PlanFileError."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not a UTF-8 text file") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}); is the file truncated?") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanFileError(f"{path}: not a clocksync plan")
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(f"{path}: plan format version {data.get('format_version')!r} is not supported "
                            f"(this clocksync reads version {FORMAT_VERSION}); make a new plan")
    try:
        plan = _PLAN.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path}: key {where}: {first['msg']} (the plan was edited or is damaged)") from None
    if plan.checksum != plan.body_checksum():
        raise PlanFileError(f"{path}: checksum mismatch: the plan was changed after it was made; make a new plan")
    return plan
