"""The differ: (desired, current, config, options) -> the plan's actions and notices. Pure: no I/O, no clock.

It implements the domain rules of CONTRACT.md: profiles, manager groups, manager roles, the
fallback manager, managed / protected / unmanaged groups, and gated deactivation. It emits the
plan's own types (``clocksync.kinds`` actions, ``clocksync.plan.types``), sorted and linked:
each action names what must be applied before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from clocksync.config import Config
from clocksync.durations import format_duration, whole_minutes
from clocksync.fieldvalues import same
from clocksync.kinds.base import Action, Change, FieldChange
from clocksync.kinds.custom_field import CreateCustomField
from clocksync.kinds.group import CreateGroup, DeleteGroup
from clocksync.kinds.membership import AddMember, RemoveMember
from clocksync.kinds.profile import UpdateProfile
from clocksync.kinds.role import GrantRole, RevokeRole
from clocksync.kinds.user_status import DeactivateUser, InviteUser
from clocksync.model import (
    PROJECT_MANAGER,
    TEAM_MANAGER,
    CurrentState,
    DesiredState,
    Group,
    Member,
    MemberStatus,
    RoleGrant,
    UserSpec,
    email_key,
    name_key,
)
from clocksync.names import fit_name
from clocksync.plan.fields import NEW_FIELD_STATUS, NEW_FIELD_TYPE, mapped_fields
from clocksync.plan.policy import Standing, exceptions_on, standing
from clocksync.plan.scope import check_patterns, scope_actions
from clocksync.plan.types import (
    Handover,
    HandoverItem,
    HeldException,
    Notice,
    PlanOptions,
    ProtectedGroup,
    Upcoming,
    WorkspaceFigures,
)


@dataclass
class Diff:
    """What the differ found: sorted actions, notices, protected groups, unmatched CSV users, sizes,
    the exceptions that held, upcoming hires, and what each leaver hands over."""

    actions: list[Action]
    notices: list[Notice]
    protected: list[ProtectedGroup]
    unmatched: list[str]
    figures: WorkspaceFigures
    exceptions: list[HeldException] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)


@dataclass
class _DesiredGroup:
    name: str
    manager: Member
    member_ids: set[str] = field(default_factory=set)
    blocked: bool = False  # its name is a protected group's


class _Differ:
    def __init__(self, desired: DesiredState, current: CurrentState, config: Config, options: PlanOptions) -> None:
        self.desired = desired
        self.current = current
        self.config = config
        self.options = options
        self.by_key = current.member_by_key()
        self.notices: list[Notice] = []
        self.actions: dict[str, Action] = {}
        self.unmatched: list[str] = []
        self.managed: dict[str, tuple[UserSpec, Member]] = {}
        self.protected: dict[str, list[str]] = {k: list(v) for k, v in current.protected.items()}
        self.groups_by_key: dict[str, list[Group]] = defaultdict(list)
        for group in sorted(current.groups.values(), key=lambda g: g.id):
            self.groups_by_key[group.key].append(group)
        self.group_holders: dict[str, set[str]] = defaultdict(set)  # group id -> TEAM_MANAGER holders
        self.direct_holders: dict[str, set[str]] = defaultdict(set)  # user id -> direct TEAM_MANAGER holders
        self.roles_by_holder: dict[str, list[RoleGrant]] = defaultdict(list)
        self.deleting: set[str] = set()  # groups this plan deletes: their members need no removal
        self.cleanup_of: dict[str, list[str]] = defaultdict(list)  # user id -> ids of revokes/removals of theirs
        self.groups_of: dict[str, list[Group]] = defaultdict(list)  # user id -> groups they are in
        for group in sorted(current.groups.values(), key=lambda g: (g.key, g.id)):
            for member_id in group.member_ids:
                self.groups_of[member_id].append(group)
        # A tuple key: sorting the dataclasses themselves calls a Python-level __lt__ per comparison.
        for grant in sorted(current.roles, key=lambda g: (g.holder_id, g.role, g.entity_id, g.via_group)):
            self.roles_by_holder[grant.holder_id].append(grant)
            if grant.role == TEAM_MANAGER:
                (self.group_holders if grant.via_group else self.direct_holders)[grant.entity_id].add(grant.holder_id)
        fallback_email = config.workspace.fallback_manager_email
        self.fallback = self.by_key.get(email_key(fallback_email)) if fallback_email else None
        if not fallback_email:
            self.note("no_fallback", "workspace.fallback_manager_email is not set: users without a usable "
                      "manager keep their current manager roles")
        elif self.fallback is None:
            self.note("no_fallback", f"fallback manager {fallback_email} is not a member of the workspace")
        elif not self.fallback.active:
            self.note("no_fallback", f"fallback manager {fallback_email} is {self.fallback.status.value}, not ACTIVE")
            self.fallback = None
        self.as_of = options.as_of
        self.exceptions = exceptions_on(config, self.as_of, set(desired.users) | set(self.by_key))
        self.notices += self.exceptions.notices
        self.upcoming: list[Upcoming] = []
        self.ended: set[str] = set()  # email keys of rows whose end date has passed
        self.frozen: set[str] = set()  # ids of managed users whose manager is left alone (exception)
        self.manager_of: dict[str, Member | None] = {}
        self.group_manager: dict[str, str] = {}  # managed group id -> email of its desired manager
        self.handovers: dict[str, Handover] = {}
        self.mapped = mapped_fields(desired, current, config)
        self.notices += self.mapped.notices
        # Group members clocksync does not manage: limited members, and ids the users list does not show.
        in_groups = {uid for g in current.groups.values() for uid in g.member_ids}
        self.unplaced = frozenset(in_groups - set(current.members))
        self.note_unmanaged_members(in_groups)

    # ------------------------------------------------------------------ helpers

    def note(self, code: str, message: str) -> None:
        self.notices.append(Notice(code=code, message=message))

    def add(self, action: Action, cleanup_of: str | None = None) -> Action:
        """Record an action once; the same change asked for by two rules is one action.

        ``cleanup_of``: the user whose roles or groups this action takes away (a deactivation of
        that user then waits for it).
        """
        action = action.with_id()
        if action.id not in self.actions:
            self.actions[action.id] = action
            if cleanup_of is not None:
                self.cleanup_of[cleanup_of].append(action.id)
        return self.actions[action.id]

    def email_of(self, user_id: str) -> str:
        member = self.current.members.get(user_id)
        if member is not None:
            return member.email
        limited = self.current.limited.get(user_id)
        return limited.display_name if limited is not None else user_id

    def project_name(self, project_id: str) -> str:
        """A project as a reviewer knows it: its name, else (names not read, or not found) its id."""
        return self.current.project_names.get(project_id) or project_id

    def group_name(self, manager: Member, disambiguate: bool = False) -> str:
        """The manager's group name, within the API's length (``names.fit_name``: the README's rule)."""
        name = self.config.groups.name_template.format(
            display_name=manager.display_name, name=manager.name.strip() or manager.email, email=manager.email
        )
        return fit_name(name, f" ({manager.email})" if disambiguate else "")

    def note_unmanaged_members(self, in_groups: set[str]) -> None:
        limited = self.current.limited
        if limited:
            names = sorted(m.name.strip() or m.id for m in limited.values())
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            self.note("limited_members", f"{len(limited)} limited member(s) (no email: {shown}) are outside "
                      "clocksync's management: never matched, moved between groups or deactivated")
        unknown = sorted(in_groups - set(self.current.members) - set(limited))
        if unknown:
            self.note("unlisted_members", f"{len(unknown)} group member id(s) are not in the API's users list "
                      f"(e.g. {', '.join(unknown[:3])}: deleted or limited accounts): left in their groups")

    # ------------------------------------------------------------------ rules

    def run(self) -> Diff:
        check_patterns(self.options.only, self.options.exclude,
                       [*(u.email for u in self.desired.users.values()), *(m.email for m in self.current.members.values())])
        self.match_users()
        self.protect_by_name()
        self.profiles()
        manager_of = self.manager_of = self.resolve_managers()
        desired_groups = self.desired_groups(manager_of)
        managed_ids = self.reconcile_groups(desired_groups)
        self.direct_roles(manager_of)
        if self.options.deactivate_missing:
            self.deactivations(managed_ids)
        actions = sorted(link_needs(self.actions.values()), key=lambda a: a.sort_key())
        actions, left_out = scope_actions(actions, self.options.only, self.options.exclude)
        if self.options.scoped:
            self.note("scope", f"scoped plan ({self.options.scope_text()}): {left_out} action(s) about other users "
                      "left out; the thresholds judge the whole workspace")
        deactivated = {a.target for a in actions if a.counts_as == "deactivation"}
        protected = [
            ProtectedGroup(id=gid, name=self.current.groups[gid].name, reasons=tuple(dict.fromkeys(reasons)))
            for gid, reasons in sorted(self.protected.items(), key=lambda kv: kv[0])
            if gid in self.current.groups
        ]
        protected.sort(key=lambda p: p.name.casefold())
        return Diff(
            actions=actions,
            notices=self.notices + [Notice(code="current_state", message=w) for w in self.current.warnings],
            protected=protected,
            unmatched=self.unmatched,
            figures=WorkspaceFigures(
                active_members=sum(1 for m in self.current.members.values() if m.active),
                total_groups=len(self.current.groups),
                managed_members=len(self.managed),
                csv_rows=len(self.desired.users),
                limited_members=len(self.current.limited),
            ),
            exceptions=list(self.exceptions.held),
            upcoming=self.upcoming,
            handovers=[h for email, h in sorted(self.handovers.items()) if email in deactivated],
        )

    def match_users(self) -> None:
        for spec in sorted(self.desired.users.values(), key=lambda s: s.row):
            row_standing = standing(spec, self.as_of)
            if row_standing is Standing.UPCOMING:
                self.upcoming.append(Upcoming(email=spec.email, start=spec.start or "", row=spec.row))
                continue
            if row_standing is Standing.ENDED:
                self.ended.add(spec.key)
                gated = "" if self.options.deactivate_missing else "; deactivated with --deactivate-missing"
                self.note("ended", f"{spec.email} (CSV row {spec.row}) ended on {spec.end}: a leaver{gated}")
                continue
            member = self.by_key.get(spec.key)
            if member is None:
                self.unmatched.append(spec.email)
                if self.config.invite.missing_users:
                    self.add(InviteUser(email=spec.email, send_email=self.config.invite.send_email,
                                        reason=f"CSV row {spec.row}"))
                else:
                    self.note("unmatched_user", f"{spec.email} (CSV row {spec.row}) is not a member of the workspace")
            elif member.status.manageable:
                self.managed[member.id] = (spec, member)
                if self.exceptions.ignores(spec.email, "manager"):
                    self.frozen.add(member.id)
            else:
                self.note("inactive_user", f"{spec.email} (CSV row {spec.row}) is "
                          f"{member.status_text or member.status.value} in the workspace: left as it is")

    def protect_by_name(self) -> None:
        countries = self.desired.countries
        configured = {name_key(n) for n in self.config.workspace.protected_groups}
        for group in self.current.groups.values():
            if group.key in countries:
                self.protected.setdefault(group.id, []).append("country in the CSV")
            if group.key in configured:
                self.protected.setdefault(group.id, []).append("listed in config")

    def profiles(self) -> None:
        mapped = self.mapped
        for name in mapped.creates:
            self.add(CreateCustomField(field_name=name, field_type=NEW_FIELD_TYPE, field_status=NEW_FIELD_STATUS,
                                       reason="mapped in field_mapping"))
        readonly: dict[str, list[str]] = defaultdict(list)
        # Each mapped field's id (None: created by this plan) and type, once rather than per user.
        where = {name: (f.id if f is not None else None, mapped.type_of(name)) for name, f in mapped.fields.items()}
        no_values: dict[str, object] = {}
        for user_id, (spec, member) in sorted(self.managed.items(), key=lambda kv: kv[1][0].row):
            profile = self.current.profiles.get(user_id)
            if profile is None:
                if spec.capacity_seconds is not None or spec.fields:
                    self.note("no_profile", f"{member.email}: member profile was not read")
                continue
            capacity = None
            unreadable = profile.capacity_text is not None and profile.capacity_seconds is None
            managed_capacity = spec.capacity_seconds is not None and not self.exceptions.ignores(spec.email, "capacity")
            # Compared in whole minutes, the precision of a desired capacity: a capacity set to the
            # second elsewhere is not rewritten for a difference nobody sees.
            live = None if profile.capacity_seconds is None else whole_minutes(profile.capacity_seconds)
            if managed_capacity and live != spec.capacity_seconds and not unreadable:
                capacity = Change(before=profile.capacity_text, after=format_duration(spec.capacity_seconds or 0))
            changes: dict[str, FieldChange] = {}
            shown = profile.shown
            for name, value in mapped.values.get(spec.key, no_values).items():
                field_id, kind = where[name]
                current_value = shown.get(field_id) if field_id is not None else None
                if not same(kind, current_value, value) and not self.exceptions.ignores(spec.email, name):
                    changes[name] = FieldChange(before=current_value, after=value)
            if capacity or changes:
                self.add(UpdateProfile(user_id=user_id, email=member.email, capacity=capacity, fields=changes,
                                       reason=f"CSV row {spec.row}"))
                if member.id in self.current.owner_ids:
                    readonly["owner"].append(member.email)
                elif member.status is MemberStatus.PENDING:
                    readonly["pending"].append(member.email)
        for who, what in (("owner", "the workspace owner's profile"), ("pending", "the profile of a member who "
                                                                                 "has not joined yet (PENDING)")):
            if readonly[who]:
                self.note(f"{who}_profile", f"{', '.join(readonly[who])}: a change to {what} is planned, but "
                          "Clockify may refuse it (unverified, docs/live-api.md); if it does, that action fails "
                          "with Clockify's message and the rest of the plan still lands")

    @property
    def instead(self) -> str:
        """What happens to a user whose manager cannot be used (said once, the same way, in every note)."""
        if self.fallback is not None:
            return f"the fallback manager ({self.fallback.email}) takes over"
        return "with no usable fallback manager, their manager roles are left as they are"

    def resolve_managers(self) -> dict[str, Member | None]:
        """Each managed user's desired manager: the CSV's when usable, else the fallback manager."""
        manager_of: dict[str, Member | None] = {}
        for user_id, (spec, member) in self.managed.items():
            if user_id in self.frozen:
                continue  # an exception leaves their manager, groups and manager roles alone
            manager = None
            if spec.manager_key:
                candidate = self.by_key.get(spec.manager_key)
                if spec.manager_key in self.ended:
                    self.note("ended_manager", f"{member.email} (CSV row {spec.row}): manager {spec.manager_key}'s "
                              f"row has ended; {self.instead}")
                elif candidate is None:
                    self.note("unknown_manager", f"{member.email} (CSV row {spec.row}): manager {spec.manager_key} "
                              f"is not a member of the workspace; {self.instead}")
                elif not candidate.active:
                    self.note("inactive_manager", f"{member.email} (CSV row {spec.row}): manager "
                              f"{candidate.email} is {candidate.status.value}; {self.instead}")
                elif candidate.id != user_id:
                    manager = candidate
            manager_of[user_id] = manager
        return manager_of

    def desired_groups(self, manager_of: dict[str, Member | None]) -> dict[str, _DesiredGroup]:
        managers = {m.id: m for m in manager_of.values() if m is not None}
        names = {mid: self.group_name(m) for mid, m in managers.items()}
        fallback_name = self.config.workspace.fallback_group_name
        key_count: dict[str, int] = defaultdict(int)
        for name in names.values():
            key_count[name_key(name)] += 1
        key_count[name_key(fallback_name)] += 1
        for mid, name in names.items():
            if key_count[name_key(name)] > 1:
                self.note("group_name_collision", f"two manager groups would be named {name!r}; "
                          f"{managers[mid].email}'s is named with the email")
                names[mid] = self.group_name(managers[mid], disambiguate=True)
        groups: dict[str, _DesiredGroup] = {}
        for user_id, manager in manager_of.items():
            if manager is not None:
                key = names[manager.id]
            elif self.fallback is not None:
                if self.fallback.id == user_id:
                    continue  # the fallback manager does not manage themself
                manager, key = self.fallback, fallback_name
            else:
                continue
            group = groups.setdefault(name_key(key), _DesiredGroup(key, manager))
            group.member_ids.add(user_id)
        protected_keys = {self.current.groups[g].key: self.current.groups[g].name
                          for g in self.protected if g in self.current.groups}
        for key, group in groups.items():
            if key in protected_keys:
                group.blocked = True
                self.note("protected_collision", f"manager group {group.name!r} (manager {group.manager.email}) has "
                          f"the name of protected group {protected_keys[key]!r}: its members and roles are not "
                          "managed; rename the manager or the protected group")
        return groups

    def pick_group(self, desired: _DesiredGroup) -> Group | None:
        candidates = [g for g in self.groups_by_key.get(name_key(desired.name), []) if g.id not in self.protected]
        if len(candidates) > 1:
            self.note("duplicate_group", f"{len(candidates)} groups are named {desired.name!r}; managing "
                      f"{candidates[0].id}")
            managed = [g for g in candidates if desired.manager.id in self.group_holders.get(g.id, set())]
            return (managed or candidates)[0]
        return candidates[0] if candidates else None

    def reconcile_groups(self, desired: dict[str, _DesiredGroup]) -> set[str]:
        """Create, fill and empty manager groups; returns the ids of managed current groups."""
        managed_ids: set[str] = set()
        for key in sorted(desired):
            group = desired[key]
            if group.blocked:
                continue
            manager = group.manager
            existing = self.pick_group(group)
            if existing is None:
                self.add(CreateGroup(group_name=group.name, reason=f"manager group of {manager.email}"))
                for uid in sorted(group.member_ids, key=self.email_of):
                    self.add(AddMember(group_name=group.name, user_id=uid, email=self.email_of(uid),
                                       reason=f"reports to {manager.email}"))
                self.add(GrantRole(holder_id=manager.id, holder_email=manager.email, entity_kind="group",
                                   entity_name=group.name, reason="manages this group"))
                continue
            managed_ids.add(existing.id)
            for uid in sorted(group.member_ids - existing.member_ids, key=self.email_of):
                self.add(AddMember(group_name=existing.name, group_id=existing.id, user_id=uid,
                                   email=self.email_of(uid), reason=f"reports to {manager.email}"))
            self.group_manager[existing.id] = manager.email
            for uid in sorted(existing.member_ids - group.member_ids - self.frozen - self.unplaced, key=self.email_of):
                self.add(RemoveMember(group_name=existing.name, group_id=existing.id, user_id=uid,
                                      email=self.email_of(uid), reason=f"does not report to {manager.email}"),
                         cleanup_of=uid)
            holders = self.group_holders.get(existing.id, set())
            if manager.id not in holders:
                self.add(GrantRole(holder_id=manager.id, holder_email=manager.email, entity_kind="group",
                                   entity_id=existing.id, entity_name=existing.name, reason="manages this group"))
            for holder in sorted(holders - {manager.id}):
                self.add(RevokeRole(holder_id=holder, holder_email=self.email_of(holder), entity_kind="group",
                                    entity_id=existing.id, entity_name=existing.name,
                                    reason=f"the group's manager is {manager.email}"), cleanup_of=holder)
        desired_keys = {k for k, g in desired.items() if not g.blocked}
        for existing_group in sorted(self.current.groups.values(), key=lambda g: (g.key, g.id)):
            if existing_group.id in self.protected or existing_group.id in managed_ids:
                continue
            if self.made_by_us(existing_group):
                managed_ids.add(existing_group.id)
                if existing_group.key in desired_keys:
                    continue  # a duplicate of a desired group; noted in pick_group
                for uid in sorted(existing_group.member_ids - self.frozen - self.unplaced, key=self.email_of):
                    self.add(RemoveMember(group_name=existing_group.name, group_id=existing_group.id, user_id=uid,
                                          email=self.email_of(uid), reason="manager group no longer desired"),
                             cleanup_of=uid)
                for holder in sorted(self.group_holders.get(existing_group.id, set())):
                    self.add(RevokeRole(holder_id=holder, holder_email=self.email_of(holder), entity_kind="group",
                                        entity_id=existing_group.id, entity_name=existing_group.name,
                                        reason="manager group no longer desired"), cleanup_of=holder)
            elif self.options.delete_unmanaged_groups:
                kept = existing_group.member_ids & self.unplaced
                if kept:
                    self.note("limited_in_group", f"unmanaged group {existing_group.name!r} is not deleted: it holds "
                              f"{len(kept)} member(s) clocksync does not manage (limited members, or accounts the "
                              "API does not list), who would lose it")
                    continue
                self.deleting.add(existing_group.id)
                self.add(DeleteGroup(group_id=existing_group.id, group_name=existing_group.name,
                                     member_ids=tuple(sorted(existing_group.member_ids)),
                                     reason="unmanaged (--delete-unmanaged-groups)"))
        return managed_ids

    def made_by_us(self, group: Group) -> bool:
        """Rule 4: a group that one of its TEAM_MANAGERs manages and that carries their name."""
        for holder in self.group_holders.get(group.id, set()):
            member = self.current.members.get(holder)
            if member is None:
                continue
            if group.key in (name_key(self.group_name(member)), name_key(self.group_name(member, True))):
                return True
        fallback_key = name_key(self.config.workspace.fallback_group_name)
        return group.key == fallback_key

    def direct_roles(self, manager_of: dict[str, Member | None]) -> None:
        for user_id in sorted(manager_of, key=self.email_of):
            manager = manager_of[user_id]
            if manager is None:
                if self.fallback is None or self.fallback.id == user_id:
                    continue  # no usable manager: leave the roles as they are
                manager = self.fallback
            member = self.current.members[user_id]
            holders = self.direct_holders.get(user_id, set())
            if manager.id not in holders:
                self.add(GrantRole(holder_id=manager.id, holder_email=manager.email, entity_kind="user",
                                   entity_id=user_id, entity_name=member.email, reason="desired manager"))
            for holder in sorted(holders - {manager.id}):
                self.add(RevokeRole(holder_id=holder, holder_email=self.email_of(holder), entity_kind="user",
                                    entity_id=user_id, entity_name=member.email,
                                    reason=f"{member.email}'s manager is {manager.email}"), cleanup_of=holder)

    def deactivations(self, managed_group_ids: set[str]) -> None:
        if self.fallback is None:
            self.note("deactivation_skipped", "no active fallback manager: nobody is deactivated, since what "
                      "leavers manage would have no one to pass to")
            return
        fallback = self.fallback
        keep = (set(self.desired.users) | self.desired.manager_keys) - self.ended
        keep |= {email_key(e) for e in self.config.workspace.never_deactivate}
        exempt = set(self.current.owner_ids) | {self.current.self_id, fallback.id}
        for member in sorted(self.current.members.values(), key=lambda m: m.key):
            if not member.active or member.id in exempt or member.key in keep:
                continue
            if self.exceptions.ignores(member.email, "deactivation"):
                self.note("kept_by_exception", f"{member.email} is not in the CSV but is kept active by an exception")
                continue
            if member.id in self.current.roles_unknown:
                self.note("management_unknown", f"{member.email} is not in the CSV but is not deactivated: what "
                          "they manage could not be read from the API, so it could not be handed over")
                continue
            self.leaver(member, fallback, managed_group_ids)
        for key in sorted(self.desired.manager_keys - set(self.desired.users) - self.ended):
            named = self.by_key.get(key)
            if named is not None and named.active:
                self.note("manager_not_in_csv", f"{named.email} is named as a manager but has no CSV row: "
                          "kept active")

    def leaver(self, leaver: Member, fallback: Member, managed_group_ids: set[str]) -> None:
        """Rule 7: pass on what the leaver manages, take them out of groups, then deactivate."""
        mine: set[str] = set()
        items: list[HandoverItem] = []
        for grant in self.roles_by_holder.get(leaver.id, []):
            items += self.handed_over(grant, fallback, managed_group_ids)
            if grant.role == TEAM_MANAGER and not grant.via_group:
                if grant.entity_id in self.managed:
                    continue  # rule 3 already gives this user their desired manager
                kind = "user"
                name = self.email_of(grant.entity_id)
                has = fallback.id in self.direct_holders.get(grant.entity_id, set())
                if grant.entity_id == fallback.id:
                    has = True  # nobody manages themself
            elif grant.role == TEAM_MANAGER:
                group = self.current.groups.get(grant.entity_id)
                if group is None:
                    continue
                if grant.entity_id in self.protected:
                    self.note("protected_role", f"{leaver.email} manages protected group {group.name!r}: "
                              "that role is left for a person to pass on")
                    continue
                if grant.entity_id in managed_group_ids:
                    continue  # the group's desired manager is set by the group rules
                kind, name = "group", group.name
                has = fallback.id in self.group_holders.get(grant.entity_id, set())
            elif grant.role == PROJECT_MANAGER:
                kind, name = "project", self.project_name(grant.entity_id)
                has = any(g.role == PROJECT_MANAGER and g.entity_id == grant.entity_id
                          for g in self.roles_by_holder.get(fallback.id, []))
            else:
                continue
            if not has:
                mine.add(self.add(GrantRole(role=grant.role, holder_id=fallback.id, holder_email=fallback.email,  # type: ignore[arg-type]
                                   entity_kind=kind, entity_id=grant.entity_id, entity_name=name,  # type: ignore[arg-type]
                                   reason=f"passed on from leaver {leaver.email}")).id)
            mine.add(self.add(RevokeRole(role=grant.role, holder_id=leaver.id, holder_email=leaver.email,  # type: ignore[arg-type]
                                entity_kind=kind, entity_id=grant.entity_id, entity_name=name,  # type: ignore[arg-type]
                                reason=f"{leaver.email} leaves"), cleanup_of=leaver.id).id)
        for group in self.groups_of.get(leaver.id, []):
            if group.id not in self.protected and group.id not in self.deleting:
                mine.add(self.add(RemoveMember(group_name=group.name, group_id=group.id, user_id=leaver.id,
                                      email=leaver.email, reason=f"{leaver.email} leaves"), cleanup_of=leaver.id).id)
        order = {"report": 0, "group": 1, "project": 2}
        items.sort(key=lambda i: (order.get(i.what, 3), i.name.casefold()))
        self.handovers[leaver.email] = Handover(email=leaver.email, items=tuple(items))
        concerned = mine | set(self.cleanup_of.get(leaver.id, []))
        self.add(DeactivateUser(user_id=leaver.id, email=leaver.email, depends_on=tuple(sorted(concerned)),
                                reason="ACTIVE in the workspace, not in the CSV (--deactivate-missing)"))

    def handed_over(self, grant: RoleGrant, fallback: Member, managed_group_ids: set[str]) -> list[HandoverItem]:
        """Who inherits what one grant of a leaver gives them (the handover report)."""
        if grant.role == TEAM_MANAGER and not grant.via_group:
            if grant.entity_id not in self.current.members and grant.entity_id not in self.current.limited:
                return []
            if grant.entity_id in self.managed and grant.entity_id not in self.frozen:
                manager = self.manager_of.get(grant.entity_id) or fallback
                heir = f"{manager.email} (their manager in the CSV)" if self.manager_of.get(grant.entity_id) else \
                    f"{fallback.email} (fallback manager)"
            elif grant.entity_id in self.frozen:
                heir = "left as it is (an exception holds their manager)"
            else:
                heir = f"{fallback.email} (fallback manager)"
            return [HandoverItem(what="report", name=self.email_of(grant.entity_id), to=heir)]
        if grant.role == TEAM_MANAGER:
            group = self.current.groups.get(grant.entity_id)
            if group is None:
                return []
            if grant.entity_id in self.protected:
                return [HandoverItem(what="group", name=group.name, to="nobody: a protected group; pass it on by hand")]
            if grant.entity_id in managed_group_ids:
                group_heir = self.group_manager.get(group.id)
                to = f"{group_heir} (the group's manager in the CSV)" if group_heir else "nobody: no longer a manager group"
                return [HandoverItem(what="group", name=group.name, to=to)]
            return [HandoverItem(what="group", name=group.name, to=f"{fallback.email} (fallback manager)")]
        if grant.role == PROJECT_MANAGER:
            return [HandoverItem(what="project", name=self.project_name(grant.entity_id),
                                 to=f"{fallback.email} (fallback manager)")]
        return []



def link_needs(actions: Iterable[Action]) -> list[Action]:
    """The actions, each naming what must be applied before it: the creates it ``needs``, and for a
    subtractive action (leaving a group, losing a manager, a deactivation) every additive action
    that gives the same user (or group, or project) what replaces it. Failure containment: when an
    addition fails or is skipped, what it was to replace is not taken away, so nobody is left
    without a group or a manager half-way (``takes`` / ``gives``)."""
    actions = list(actions)
    providers = {key: a.id for a in actions for key in a.provides()}
    givers: dict[str, list[str]] = defaultdict(list)
    for action in actions:
        for key in action.gives():
            givers[key].append(action.id)
    linked = []
    for action in actions:
        needs = set(action.depends_on) | {providers[key] for key in action.needs() if key in providers}
        needs |= {giver for key in action.takes() for giver in givers.get(key, ()) if giver != action.id}
        linked.append(action if needs == set(action.depends_on)
                      else action.model_copy(update={"depends_on": tuple(sorted(needs))}))
    return linked


def diff(desired: DesiredState, current: CurrentState, config: Config, options: PlanOptions | None = None) -> Diff:
    """Everything that must change in ``current`` for it to match ``desired``."""
    return _Differ(desired, current, config, options or PlanOptions()).run()


__all__ = ["Diff", "diff", "link_needs"]
