"""What every rule reads: desired, current, config, options, and the resolutions they share. Pure.

``plan_context`` resolves, once, what more than one kind's rule needs, so that no rule depends
on another having run first:

- which CSV rows are managed users (matched to an ACTIVE or PENDING member), which are not in the
  workspace, upcoming (start date ahead) or ended (end date passed), and the exceptions that hold;
- the fallback manager, and each managed user's desired manager (the CSV's when usable);
- the mapped USER fields and every mapped cell converted to its field's type (``plan.fields``: a
  cell the field cannot hold is a CsvError, a field past the workspace's caps LimitExceeded);
- the protected groups (holiday and time-off groups, groups named like a CSV country, config), and
  the group members clocksync does not manage (limited members, ids the users list does not show);
- the groups the plan wants, retires and deletes (``plan.groups``);
- with ``--deactivate-missing``, the leavers.

The context is immutable; rules emit actions and notices into an ``Emit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clocksync.config import Config
from clocksync.kinds.base import Action
from clocksync.model import CurrentState, DesiredState, Member, UserSpec, email_key, name_key
from clocksync.plan.fields import MappedFields, mapped_fields
from clocksync.plan.groups import GroupPlan, plan_groups
from clocksync.plan.policy import Exceptions, Standing, exceptions_on, standing
from clocksync.plan.types import Handover, Notice, PlanOptions, Upcoming


@dataclass(frozen=True)
class PlanContext:
    desired: DesiredState
    current: CurrentState
    config: Config
    options: PlanOptions
    managed: Mapping[str, tuple[UserSpec, Member]]  # user id -> row and member, in CSV row order
    unmatched: tuple[UserSpec, ...]  # current rows whose email is no member's
    upcoming: tuple[Upcoming, ...]
    ended: frozenset[str]  # email keys of rows whose end date has passed
    exceptions: Exceptions
    fallback: Member | None  # the ACTIVE fallback manager
    frozen: frozenset[str]  # managed users whose manager, groups and manager roles an exception leaves alone
    manager_of: Mapping[str, Member | None]  # managed user id -> desired manager (None: the fallback's care)
    protected: Mapping[str, tuple[str, ...]]  # group id -> why it is protected
    mapped: MappedFields  # the mapped USER fields and each user's typed values
    unplaced: frozenset[str]  # group members clocksync does not manage: never removed from a group
    groups: GroupPlan
    leavers: tuple[Member, ...]  # to deactivate (--deactivate-missing)
    notices: tuple[Notice, ...]

    def project_name(self, project_id: str) -> str:
        """A project as a reviewer knows it: its name, else (names not read, or not found) its id."""
        return self.current.project_names.get(project_id) or project_id

    def email_of(self, user_id: str) -> str:
        member = self.current.members.get(user_id)
        if member is not None:
            return member.email
        limited = self.current.limited.get(user_id)
        return limited.display_name if limited is not None else user_id


@dataclass
class Emit:
    """What the rules emit. The same change asked for by two rules is one action (the first kept)."""

    actions: dict[str, Action] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)
    sensitive: set[str] = field(default_factory=set)  # custom fields whose values reports hide

    def action(self, action: Action) -> None:
        self.actions.setdefault(action.id, action)

    def note(self, code: str, message: str) -> None:
        self.notices.append(Notice(code=code, message=message))

    def handover(self, handover: Handover) -> None:
        self.handovers.append(handover)

    def hide_values_of(self, names: Iterable[str]) -> None:
        self.sensitive.update(names)


def plan_context(desired: DesiredState, current: CurrentState, config: Config, options: PlanOptions) -> PlanContext:
    """Resolve everything the rules share (see the module doc)."""
    out = Emit()
    mapped = mapped_fields(desired, current, config)
    out.notices += mapped.notices
    unplaced = _unplaced(current, out)
    by_key = current.members_by_key
    fallback = _fallback(config, by_key, out)
    exceptions = exceptions_on(config, options.as_of, set(desired.users) | set(by_key))
    out.notices += exceptions.notices
    managed: dict[str, tuple[UserSpec, Member]] = {}
    unmatched: list[UserSpec] = []
    upcoming: list[Upcoming] = []
    ended: set[str] = set()
    frozen: set[str] = set()
    for spec in sorted(desired.users.values(), key=lambda s: s.row):
        row_standing = standing(spec, options.as_of)
        if row_standing is Standing.UPCOMING:
            upcoming.append(Upcoming(email=spec.email, start=spec.start or "", row=spec.row))
            continue
        if row_standing is Standing.ENDED:
            ended.add(spec.key)
            gated = "" if options.deactivate_missing else "; deactivated with --deactivate-missing"
            out.note("ended", f"{spec.email} (CSV row {spec.row}) ended on {spec.end}: a leaver{gated}")
            continue
        member = by_key.get(spec.key)
        if member is None:
            unmatched.append(spec)
        elif member.status.manageable:
            managed[member.id] = (spec, member)
            if exceptions.ignores(spec.email, "manager"):
                frozen.add(member.id)
        else:
            out.note("inactive_user", f"{spec.email} (CSV row {spec.row}) is "
                     f"{member.status_text or member.status.value} in the workspace: left as it is")
    protected = _protected(desired, current, config)
    manager_of = _managers(managed, frozenset(frozen), frozenset(ended), by_key, fallback, out)
    protected_names = desired.countries | {name_key(n) for n in config.workspace.protected_groups}
    groups = plan_groups(current, config, protected=protected, managed=managed, manager_of=manager_of,
                         fallback=fallback, frozen=frozenset(frozen), delete_unmanaged=options.delete_unmanaged_groups,
                         protected_names=frozenset(protected_names), unplaced=unplaced)
    out.notices += groups.notices
    leavers = _leavers(desired, current, config, options, fallback, frozenset(ended), exceptions, out)
    return PlanContext(
        desired=desired, current=current, config=config, options=options, managed=MappingProxyType(managed),
        unmatched=tuple(unmatched), upcoming=tuple(upcoming), ended=frozenset(ended), exceptions=exceptions,
        fallback=fallback, frozen=frozenset(frozen), manager_of=MappingProxyType(manager_of),
        protected=MappingProxyType(protected), mapped=mapped, unplaced=unplaced, groups=groups, leavers=leavers,
        notices=tuple(out.notices))


def _unplaced(current: CurrentState, out: Emit) -> frozenset[str]:
    """Group members clocksync does not manage: limited members, and ids the users list does not show."""
    in_groups = {uid for g in current.groups.values() for uid in g.member_ids}
    limited = current.limited
    if limited:
        names = sorted((m.name.strip() or m.id) + (f" <{m.email}>" if m.email else "") for m in limited.values())
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        what = "kiosk accounts" if any(m.email for m in limited.values()) else "no email"
        out.note("limited_members", f"{len(limited)} limited member(s) ({what}: {shown}) are outside clocksync's "
                 "management: never matched, moved between groups or deactivated")
    unknown = sorted(in_groups - set(current.members) - set(limited))
    if unknown:
        out.note("unlisted_members", f"{len(unknown)} group member id(s) are not in the API's users list "
                 f"(e.g. {', '.join(unknown[:3])}: deleted or limited accounts): left in their groups")
    return frozenset(in_groups - set(current.members))


def _fallback(config: Config, by_key: Mapping[str, Member], out: Emit) -> Member | None:
    email = config.workspace.fallback_manager_email
    if not email:
        out.note("no_fallback", "workspace.fallback_manager_email is not set: users without a usable manager keep "
                 "their current manager roles")
        return None
    found = by_key.get(email_key(email))
    if found is None:
        out.note("no_fallback", f"fallback manager {email} is not a member of the workspace")
        return None
    if not found.active:
        out.note("no_fallback", f"fallback manager {email} is {found.status.value}, not ACTIVE")
        return None
    return found


def _protected(desired: DesiredState, current: CurrentState, config: Config) -> dict[str, tuple[str, ...]]:
    """Holiday and time-off groups (as read), groups named like a CSV country, groups listed in config."""
    protected = {gid: list(reasons) for gid, reasons in current.protected.items()}
    countries = desired.countries
    configured = {name_key(n) for n in config.workspace.protected_groups}
    for group in current.groups.values():
        if group.key in countries:
            protected.setdefault(group.id, []).append("country in the CSV")
        if group.key in configured:
            protected.setdefault(group.id, []).append("listed in config")
    return {gid: tuple(dict.fromkeys(reasons)) for gid, reasons in protected.items()}


def _managers(managed: Mapping[str, tuple[UserSpec, Member]], frozen: frozenset[str], ended: frozenset[str],
              by_key: Mapping[str, Member], fallback: Member | None, out: Emit) -> dict[str, Member | None]:
    """Each managed user's desired manager: the CSV's when usable, else None (the fallback manager's care)."""
    # What happens to a user whose manager cannot be used (said once, the same way, in every note).
    instead = (f"the fallback manager ({fallback.email}) takes over" if fallback is not None else
               "with no usable fallback manager, their manager roles are left as they are")
    manager_of: dict[str, Member | None] = {}
    for user_id, (spec, member) in managed.items():
        if user_id in frozen:
            continue  # an exception leaves their manager, groups and manager roles alone
        manager = None
        if spec.manager_key:
            candidate = by_key.get(spec.manager_key)
            if spec.manager_key in ended:
                out.note("ended_manager", f"{member.email} (CSV row {spec.row}): manager {spec.manager_key}'s row "
                         f"has ended; {instead}")
            elif candidate is None:
                out.note("unknown_manager", f"{member.email} (CSV row {spec.row}): manager {spec.manager_key} is "
                         f"not a member of the workspace; {instead}")
            elif not candidate.active:
                out.note("inactive_manager", f"{member.email} (CSV row {spec.row}): manager {candidate.email} is "
                         f"{candidate.status.value}; {instead}")
            elif candidate.id != user_id:
                manager = candidate
        manager_of[user_id] = manager
    return manager_of


def _leavers(desired: DesiredState, current: CurrentState, config: Config, options: PlanOptions,
             fallback: Member | None, ended: frozenset[str], exceptions: Exceptions, out: Emit) -> tuple[Member, ...]:
    """Rule 7: ACTIVE members not in the CSV (or whose row ended), except who is never deactivated."""
    if not options.deactivate_missing:
        return ()
    if fallback is None:
        out.note("deactivation_skipped", "no active fallback manager: nobody is deactivated, since what leavers "
                 "manage would have no one to pass to")
        return ()
    keep = (set(desired.users) | desired.manager_keys) - ended
    keep |= {email_key(e) for e in config.workspace.never_deactivate}
    exempt = set(current.owner_ids) | {current.self_id, fallback.id}
    leavers = []
    for member in sorted(current.members.values(), key=lambda m: m.key):
        if not member.active or member.id in exempt or member.key in keep:
            continue
        if exceptions.ignores(member.email, "deactivation"):
            out.note("kept_by_exception", f"{member.email} is not in the CSV but is kept active by an exception")
        elif member.id in current.roles_unknown:
            out.note("management_unknown", f"{member.email} is not in the CSV but is not deactivated: what they "
                     "manage could not be read from the API, so it could not be handed over")
        else:
            leavers.append(member)
    for key in sorted(desired.manager_keys - set(desired.users) - ended):
        named = current.members_by_key.get(key)
        if named is not None and named.active:
            out.note("manager_not_in_csv", f"{named.email} is named as a manager but has no CSV row: kept active")
    return tuple(leavers)
