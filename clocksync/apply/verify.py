"""Whole-object verification: each object a run changed, compared in full after the run.

``expected`` is the object as read before the run plus the planned changes (the executor's view);
``found`` is what the API shows afterwards (a write's own answer where the API returns the whole
object, else a re-read). Every field that differs is a discrepancy, classified against ``before``:

- the plan changed it and it still has its old value: **not in effect**;
- the plan did not change it and it moved: **collateral change** (a value the run did not name);
- anything else: **unexpected value**.

Lists (a group's members, a user's roles) are judged element by element: a planned addition that
is missing, or a planned removal still there, is not in effect; any other element that appeared
or vanished is collateral. Pure: snapshots in, discrepancies out.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clocksync.kinds.live import Snapshot


class Finding(enum.StrEnum):
    """What a discrepancy means, judged against the object before the run."""

    NOT_IN_EFFECT = "not in effect"
    COLLATERAL = "collateral change"
    UNEXPECTED = "unexpected value"
    NOT_VERIFIED = "not verified"


NOT_IN_EFFECT = Finding.NOT_IN_EFFECT
COLLATERAL = Finding.COLLATERAL
UNEXPECTED = Finding.UNEXPECTED


@dataclass(frozen=True)
class Discrepancy:
    """``expected``/``found`` are values; for a list (``delta``) the elements missing and extra."""

    field: str
    expected: Any
    found: Any
    kind: Finding
    delta: bool = False


def _flatten(snapshot: Snapshot | None) -> dict[str, Any]:
    """Every field of the object, a collection as a list (compared element by element)."""
    if snapshot is None:
        return {"exists": False}
    flat: dict[str, Any] = {"exists": True}
    for key, value in snapshot.flat().items():
        flat[key] = list(value) if isinstance(value, tuple | frozenset) else value
    return flat


def compare(before: Snapshot | None, expected: Snapshot | None, found: Snapshot | None) -> list[Discrepancy]:
    """Every field where ``found`` differs from ``expected``."""
    was, want, got = _flatten(before), _flatten(expected), _flatten(found)
    problems = []
    for key in sorted(set(want) | set(got)):
        if want.get(key) == got.get(key):
            continue
        if isinstance(want.get(key), list) and isinstance(got.get(key), list):
            problems += _compare_list(key, was.get(key) or [], want[key], got[key])
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


def _hashable(value: Any) -> Any:
    """A list element as a set member (a list value of a multi-select field as a tuple)."""
    return tuple(value) if isinstance(value, list) else value


def _compare_list(key: str, before: list[Any], expected: list[Any], found: list[Any]) -> list[Discrepancy]:
    # Sets of the elements: a 10,000-member group is compared in linear time, not quadratic.
    was, want, got = ({_hashable(v) for v in values} for values in (before, expected, found))
    missing = [v for v in expected if _hashable(v) not in got]
    extra = [v for v in found if _hashable(v) not in want]
    by_kind: dict[Finding, tuple[list[Any], list[Any]]] = {NOT_IN_EFFECT: ([], []), COLLATERAL: ([], [])}
    for value in missing:  # expected, absent: a planned addition (not in effect) or a removal by someone
        by_kind[COLLATERAL if _hashable(value) in was else NOT_IN_EFFECT][0].append(value)
    for value in extra:  # absent from the expectation, present: a planned removal not done, or an addition
        by_kind[NOT_IN_EFFECT if _hashable(value) in was else COLLATERAL][1].append(value)
    return [Discrepancy(key, gone, came, kind, delta=True) for kind, (gone, came) in by_kind.items() if gone or came]


def describe_values(discrepancy: Discrepancy, name: Callable[[str], str] = str) -> tuple[str, str]:
    """The expected and the found value as audit text; for a list, what is missing and what is extra.
    ``name`` turns an id into what a reviewer recognises (an email, a group name)."""
    if discrepancy.delta:
        missing = sorted(_item(v, name) for v in discrepancy.expected)
        extra = sorted(_item(v, name) for v in discrepancy.found)
        return (f"missing: {', '.join(missing) or '-'}", f"extra: {', '.join(extra) or '-'}")
    return _text(discrepancy.expected), _text(discrepancy.found)


def _item(value: Any, name: Callable[[str], str]) -> str:
    """An element as a reviewer reads it: an element that knows its text (a held role), else an id."""
    text = getattr(value, "text", None)
    return str(text(name)) if callable(text) else name(str(value))


def _text(value: Any) -> str:
    return "(unset)" if value is None else str(value)
