"""Scoped plans (``--only`` / ``--exclude``): keep the actions about some users. Pure.

A user is in scope when their email matches an ``--only`` pattern (if any are given) and no
``--exclude`` pattern; patterns are emails or shell globs, matched without regard to case. An
action about users (its ``subjects``) is kept when any of them is in scope under ``--only`` and
none is excluded. An action about no user (a group or field create, a group deletion) is kept
under ``--only`` only when a kept action needs it, and under ``--exclude`` always. An action whose
prerequisite was left out is left out too (a leaver is never deactivated without their handover).

A pattern that matches nobody in the CSV or the workspace is an error (``check_patterns``): a typo
would otherwise give a plan about nobody, which reads as "no changes" and passes a CI gate.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from clocksync.errors import InputError
from clocksync.kinds import Action
from clocksync.model import email_key


def _matches(email: str, patterns: tuple[str, ...]) -> bool:
    key = email_key(email)
    return any(fnmatchcase(key, email_key(p)) for p in patterns)


def check_patterns(only: tuple[str, ...], exclude: tuple[str, ...], emails: Iterable[str]) -> None:
    """Raise InputError naming each ``--only``/``--exclude`` pattern that matches none of ``emails``
    (the CSV's users and the workspace's members)."""
    if not only and not exclude:
        return
    keys = {email_key(e) for e in emails}
    idle = [f"{flag} {pattern!r}" for flag, patterns in (("--only", only), ("--exclude", exclude))
            for pattern in patterns if not any(fnmatchcase(k, email_key(pattern)) for k in keys)]
    if idle:
        raise InputError(f"{', '.join(idle)} match{'es' if len(idle) == 1 else ''} no user in the CSV or the "
                         "workspace (is it spelled right?); nothing was planned")


def scope_actions(actions: list[Action], only: tuple[str, ...], exclude: tuple[str, ...]) -> tuple[list[Action], int]:
    """The actions kept, and how many were left out."""
    if not only and not exclude:
        return actions, 0
    kept: dict[str, Action] = {}
    for action in actions:
        subjects = action.subjects
        if subjects:
            excluded = any(_matches(s, exclude) for s in subjects)
            wanted = not only or any(_matches(s, only) for s in subjects)
            if wanted and not excluded:
                kept[action.id] = action
        elif not only:
            kept[action.id] = action
    by_id = {a.id: a for a in actions}
    changed = True
    while changed:  # add what kept actions need; drop what lost a prerequisite
        changed = False
        for action in list(kept.values()):
            for dep in action.depends_on:
                needed = by_id.get(dep)
                if needed is not None and dep not in kept and not needed.subjects and only:
                    kept[dep] = needed
                    changed = True
        for action in list(kept.values()):
            if any(dep in by_id and dep not in kept for dep in action.depends_on):
                del kept[action.id]
                changed = True
    result = [a for a in actions if a.id in kept]
    return result, len(actions) - len(result)
