"""What changed between two plans: for a reviewer who approved one plan and is shown a newer one.

deepdiff compares the actions (keyed by their stable ids) and its result is turned at once into
plain data: actions added, actions dropped, and per changed action a list of (field, old, new).
No deepdiff object leaves this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from clocksync.kinds import Action
from clocksync.kinds.base import HIDDEN, Shown
from clocksync.plan.file import Plan

_PATH = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


@dataclass(frozen=True)
class FieldChange:
    field: str  # dotted path inside the action, e.g. "capacity.after" or "fields.Company.after"
    old: Any
    new: Any


@dataclass
class PlanComparison:
    added: list[Action] = field(default_factory=list)
    removed: list[Action] = field(default_factory=list)
    changed: list[tuple[Action, list[FieldChange]]] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _split(path: str) -> list[str]:
    """deepdiff's ``root['a']['b'][0]`` -> ["a", "b", "0"]."""
    return [quoted if quoted else index for quoted, index in _PATH.findall(path)]


def compare_plans(old: Plan, new: Plan) -> PlanComparison:
    """Actions of ``new`` that ``old`` did not have, that it had and ``new`` drops, and that changed."""
    old_actions = {a.id: a for a in old.actions}
    new_actions = {a.id: a for a in new.actions}
    diff = DeepDiff(
        {k: a.model_dump(mode="json") for k, a in old_actions.items()},
        {k: a.model_dump(mode="json") for k, a in new_actions.items()},
        ignore_order=True, verbose_level=2,
    )
    result = PlanComparison(
        added=[new_actions[k] for k in sorted(set(new_actions) - set(old_actions))],
        removed=[old_actions[k] for k in sorted(set(old_actions) - set(new_actions))],
    )
    changes: dict[str, list[FieldChange]] = {}
    for kind in ("values_changed", "type_changes", "dictionary_item_added", "dictionary_item_removed",
                 "iterable_item_added", "iterable_item_removed"):
        for path, detail in dict(diff.get(kind, {})).items():
            parts = _split(path)
            if len(parts) < 2:
                continue  # a whole action added or removed: listed above
            action_id, where = parts[0], ".".join(parts[1:])
            if isinstance(detail, dict) and ("old_value" in detail or "new_value" in detail):
                old_value, new_value = detail.get("old_value"), detail.get("new_value")
            elif kind.endswith("added"):
                old_value, new_value = None, detail
            else:
                old_value, new_value = detail, None
            changes.setdefault(action_id, []).append(FieldChange(where, old_value, new_value))
    result.changed = [(new_actions[k], sorted(v, key=lambda c: c.field)) for k, v in sorted(changes.items())
                      if k in new_actions]
    return result


def render_comparison(comparison: PlanComparison, old_name: str, shown: Shown = HIDDEN) -> str:
    if comparison.same:
        return f"Same actions as {old_name}.\n"
    lines = [f"Changes since {old_name}: {len(comparison.added)} new, {len(comparison.removed)} dropped, "
             f"{len(comparison.changed)} changed action(s)"]
    lines += [f"  + {a.describe(shown)}" for a in comparison.added]
    lines += [f"  - {a.describe(shown)}" for a in comparison.removed]
    for action, fields in comparison.changed:
        lines.append(f"  ~ {action.describe(shown)}")
        lines += [f"      {c.field}: (value hidden)" if action.hides(c.field, shown) else
                  f"      {c.field}: {c.old!r} -> {c.new!r}" for c in fields]
    return "\n".join(lines) + "\n"
