"""``clocksync undo``: an ordinary plan that takes back what an apply run did. Reads only.

The run folder (``apply/runlog.py``) holds the plan the run applied, every object it touched as
it was before the first write, and each action's outcome. Each action that wrote, or may have
written (started but never recorded as ended: a killed run), is asked for its inverse by its own
kind (``Action.undo``). The inverses are ordinary actions: their preconditions are the run's
after-values, so applying the undo plan is stale-checked like any plan, and what someone changed
since the run is named, not overwritten. A deactivated user is reactivated before what was handed
over is given back; groups the run created are deleted with what it put in them; groups it
deleted come back with their members and managers. Custom fields the run created stay.

Mass-change thresholds do not apply to an undo plan (it restores a state the workspace was in
before a reviewed run); its destructive actions still need ``I UNDERSTAND`` at apply.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from clocksync.apply.report import Outcome
from clocksync.apply.runlog import RunRecord, list_runs
from clocksync.errors import InputError
from clocksync.kinds import Action
from clocksync.kinds.base import KeyKind, UndoContext
from clocksync.kinds.live import Ref, Snapshot, parse_snapshot
from clocksync.plan.diff import Diff, link_needs
from clocksync.plan.file import InputFingerprint, Plan, build_plan
from clocksync.plan.seal import SealKey
from clocksync.plan.types import Notice, PlanOptions

UNDO_OPTIONS = PlanOptions(allow_mass_deactivation=True, allow_mass_group_deletion=True, allow_mass_removal=True,
                           allow_mass_field_change=True)


def find_run(log_dir: Path, run_id: str | None) -> RunRecord:
    """The run to undo: ``run_id``, else the latest run in ``log_dir``. Raises InputError."""
    runs = list_runs(log_dir)
    if not runs:
        raise InputError(f"no apply runs in {log_dir / '.clocksync' / 'runs'}: nothing to undo "
                         "(use --log-dir to point at the folder the apply wrote its logs to)")
    if run_id is None:
        return runs[-1]
    for run in runs:
        if run.run_id == run_id:
            return run
    known = ", ".join(r.run_id for r in runs[-5:])
    raise InputError(f"no run {run_id!r} in {log_dir}; the latest are: {known} (see clocksync history)")


def _run_plan(run: RunRecord, seal_key: SealKey) -> Plan:
    try:
        plan = TypeAdapter(Plan).validate_python(run.plan_data())
    except (OSError, ValueError, RecursionError, ValidationError) as exc:
        raise InputError(f"{run.path / 'plan.json'}: unreadable ({exc.__class__.__name__}); "
                         "the run cannot be undone from its folder") from None
    if plan.checksum != plan.body_checksum() or not plan.seal_verifies(seal_key):
        raise InputError(f"{run.path / 'plan.json'}: the seal does not match: the run folder was edited, or the run "
                         "was made with another API key or workspace; undo it with the key that applied it")
    return plan


def build_undo(run: RunRecord, *, created_at: str, seal_key: SealKey) -> Plan:
    """The plan that takes back what ``run`` did, sealed with ``seal_key`` (the key of the run's own
    plan must verify too). Raises InputError."""
    applied = _run_plan(run, seal_key)
    try:
        saved, names = run.before()
        objects: dict[Ref, Snapshot | None] = {}
        for text, data in saved.items():
            ref = Ref.parse(text)
            if ref is not None:
                objects[ref] = parse_snapshot(ref, data)
    except (OSError, ValueError, RecursionError, AttributeError) as exc:  # ValidationError is a ValueError
        raise InputError(f"{run.path / 'before.json'}: unreadable ({exc.__class__.__name__}); the run cannot be "
                         "undone from its folder") from None
    wrote = [a for a in applied.actions if _may_have_written(run.outcomes.get(a.id, {}).get("state"))]
    created = {aid: str(e["created_id"]) for aid, e in run.outcomes.items() if e.get("created_id")}
    created_groups: dict[str, str | None] = {}
    for action in wrote:
        for key in action.provides():
            if key.kind is KeyKind.GROUP:
                created_groups[key.ident] = created.get(action.id)
    deleted = {key.ident for a in wrote for key in a.removes() if key.kind is KeyKind.GROUP_ID}
    context = UndoContext(before=objects, names=names, created=created, created_groups=created_groups,
                          deleted_groups=deleted, actions=wrote)
    inverses: dict[str, Action] = {}
    notes: list[str] = []
    for action in wrote:
        undone, said = action.undo(context)
        notes += said
        for inverse in undone:
            inverses.setdefault(inverse.id, inverse)
    if not run.finished:
        notes.insert(0, f"run {run.run_id} did not finish: its writes in flight when it stopped are taken back "
                        "too, where they landed (the others are already in place)")
    # Each waits for the creates it needs, for the reactivation of its user (what is given back to
    # them), and a deactivation for everything taken from the user: Action.needs / provides.
    actions = sorted(link_needs(inverses.values()), key=lambda a: a.sort_key())
    found = Diff(actions, [Notice(code="undo", message=n) for n in notes], [], [], applied.figures,
                 sensitive_fields=list(applied.sensitive_fields))
    return build_plan(found, workspace_id=applied.workspace_id, purpose="undo", options=UNDO_OPTIONS,
                      inputs={"run": InputFingerprint(path=run.run_id, sha256=applied.checksum)},
                      created_at=created_at, safety=applied.safety, api_host=applied.api_host, seal_key=seal_key)


def _may_have_written(state: object) -> bool:
    """Whether an action whose last run-folder entry is ``state`` may have changed the workspace."""
    return isinstance(state, str) and state in set(Outcome) and Outcome(state).may_have_written


__all__ = ["build_undo", "find_run"]
