"""Whole-object verification: each object a run changed, compared in full after the run.

``expected`` is the object as read before the run plus the planned changes (the executor's view);
``found`` is what the API shows afterwards (a write's own answer where the API returns the whole
object, else a re-read). Every field that differs is a discrepancy, classified against ``before``:

- the plan changed it and it still has its old value: **not in effect**;
- the plan did not change it and it moved: **collateral change** (a value the run did not name);
- anything else: **unexpected value**.

Pure: snapshots in, discrepancies out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clocksync.apply.view import Snapshot

NOT_IN_EFFECT = "not in effect"
COLLATERAL = "collateral change"
UNEXPECTED = "unexpected value"


@dataclass(frozen=True)
class Discrepancy:
    field: str
    expected: Any
    found: Any
    kind: str


def _flatten(snapshot: Snapshot | None) -> dict[str, Any]:
    """Top-level keys, with nested mappings (a profile's custom fields) spread out as ``fields.Name``."""
    if snapshot is None:
        return {"exists": False}
    flat: dict[str, Any] = {"exists": True}
    for key, value in snapshot.items():
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def compare(before: Snapshot | None, expected: Snapshot | None, found: Snapshot | None) -> list[Discrepancy]:
    """Every field where ``found`` differs from ``expected``."""
    was, want, got = _flatten(before), _flatten(expected), _flatten(found)
    problems = []
    for key in sorted(set(want) | set(got)):
        if want.get(key) == got.get(key):
            continue
        planned = was.get(key) != want.get(key)
        if planned and got.get(key) == was.get(key):
            kind = NOT_IN_EFFECT
        elif not planned:
            kind = COLLATERAL
        else:
            kind = UNEXPECTED
        problems.append(Discrepancy(key, want.get(key), got.get(key), kind))
    return problems


def describe_values(expected: Any, found: Any, name: Callable[[str], str] = str) -> tuple[str, str]:
    """The two values as audit text; for lists, only what is missing and what is extra.
    ``name`` turns an id into what a reviewer recognises (an email, a group name)."""
    if isinstance(expected, list) and isinstance(found, list):
        want = [_item(v, name) for v in expected]
        got = [_item(v, name) for v in found]
        missing = [v for v in want if v not in got]
        extra = [v for v in got if v not in want]
        return (f"missing: {', '.join(missing) or '-'}", f"extra: {', '.join(extra) or '-'}")
    return _text(expected), _text(found)


def _item(value: Any, name: Callable[[str], str]) -> str:
    if isinstance(value, dict):  # a role: {"role", "kind", "id"}
        return f"{value.get('role')} over {value.get('kind')} {name(str(value.get('id')))}"
    return name(str(value))


def _text(value: Any) -> str:
    return "(unset)" if value is None else str(value)
