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

from clocksync.apply.runlog import RunRecord, list_runs
from clocksync.errors import InputError
from clocksync.kinds import Action
from clocksync.kinds.base import UndoContext
from clocksync.plan.diff import Diff, link_needs
from clocksync.plan.file import InputFingerprint, Plan, build_plan
from clocksync.plan.seal import SealKey
from clocksync.plan.types import Notice, PlanOptions

# Outcomes after which the run may have changed the workspace: "applied"; "sent" (the run died
# with the write unanswered), "in flight" (stopped likewise) and "failed" (a write may land before
# its answer is lost) may have. "already in place", "stale", "skipped" and "not run" wrote nothing.
# "started" is what runs before "sent" existed recorded before a write (queued or sent).
WROTE = ("applied", "sent", "in flight", "failed", "started")

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
        objects, names = run.before()
    except (OSError, ValueError, RecursionError, AttributeError) as exc:
        raise InputError(f"{run.path / 'before.json'}: unreadable ({exc.__class__.__name__}); the run cannot be "
                         "undone from its folder") from None
    wrote = [a for a in applied.actions if run.outcomes.get(a.id, {}).get("state") in WROTE]
    created = {aid: str(e["created_id"]) for aid, e in run.outcomes.items() if e.get("created_id")}
    created_groups: dict[str, str | None] = {}
    for action in wrote:
        for key in action.provides():
            if key.startswith("group:"):
                created_groups[key.removeprefix("group:")] = created.get(action.id)
    deleted = {key.removeprefix("group-id:") for a in wrote for key in a.removes()}
    context = UndoContext(before=objects, names=names, created=created, created_groups=created_groups,
                          deleted_groups=deleted, actions=wrote)
    inverses: dict[str, Action] = {}
    notes: list[str] = []
    for action in wrote:
        undone, said = action.undo(context)
        notes += said
        for inverse in undone:
            inverse = inverse.with_id()
            inverses.setdefault(inverse.id, inverse)
    if not run.finished:
        notes.insert(0, f"run {run.run_id} did not finish: its writes in flight when it stopped are taken back "
                        "too, where they landed (the others are already in place)")
    actions = sorted(_linked(list(inverses.values())), key=lambda a: a.sort_key())
    found = Diff(actions, [Notice(code="undo", message=n) for n in notes], [], [], applied.figures)
    return build_plan(found, workspace_id=applied.workspace_id, purpose="undo", options=UNDO_OPTIONS,
                      inputs={"run": InputFingerprint(path=run.run_id, sha256=applied.checksum)},
                      created_at=created_at, safety=applied.safety, api_host=applied.api_host, seal_key=seal_key)


def _linked(actions: list[Action]) -> list[Action]:
    """Each action names what must be applied first: the creates it needs, and a reactivation
    before anything given back to that user; a deactivation after everything taken from them."""
    activations = {getattr(a, "user_id", ""): a.id for a in actions if a.kind_name == "activate_user"}
    deactivations = {getattr(a, "user_id", ""): a for a in actions if a.kind_name == "deactivate_user"}
    linked = []
    for action in link_needs(actions):
        needs = set(action.depends_on)
        for user_id in _users_given(action):
            if user_id in activations and activations[user_id] != action.id:
                needs.add(activations[user_id])
        linked.append(action.model_copy(update={"depends_on": tuple(sorted(needs))}))
    for user_id, deactivation in deactivations.items():
        before = [a.id for a in linked if a.sign == "-" and user_id in _users_given(a) and a.id != deactivation.id]
        index = next(i for i, a in enumerate(linked) if a.id == deactivation.id)
        linked[index] = deactivation.model_copy(
            update={"depends_on": tuple(sorted(set(deactivation.depends_on) | set(before)))})
    return linked


def _users_given(action: Action) -> tuple[str, ...]:
    """The users an action gives something to or takes something from: a role's holder, a member."""
    return tuple(u for u in (getattr(action, "holder_id", None), getattr(action, "user_id", None)) if u)


__all__ = ["build_undo", "find_run"]
