"""The plan's own value types. The differ emits them and the plan file stores them: one family."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanOptions(Frozen):
    """How a plan was asked for (``clocksync plan`` flags)."""

    deactivate_missing: bool = False
    delete_unmanaged_groups: bool = False
    allow_mass_deactivation: bool = False
    allow_mass_group_deletion: bool = False
    allow_mass_removal: bool = False


class Notice(Frozen):
    """A warning for the reviewer: ``code`` is stable (for scripts), ``message`` is for people."""

    code: str
    message: str


class ProtectedGroup(Frozen):
    id: str
    name: str
    reasons: tuple[str, ...]


class WorkspaceFigures(Frozen):
    """Sizes the safety thresholds are measured against."""

    active_members: int = 0
    total_groups: int = 0
    managed_members: int = 0
    csv_rows: int = 0


class Summary(Frozen):
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
