"""Which groups a plan wants, resolved once for the group, membership and role kinds. Pure.

- **Desired groups**: a manager group per active manager in the CSV (named by
  ``groups.name_template``; two that would share a name are told apart by the manager's email),
  the fallback group for users without a usable manager. Each is matched to the workspace's group
  of that name (not a protected one; of duplicates, the one its manager manages). One whose name
  is a protected group's is left unmanaged, with a warning.
  Then the groups of ``group_rules`` (``kinds/group_rule.py``): one per distinct value of a rule's
  column, its members exactly the managed users with that value; a name a manager group or an
  earlier rule already has is left to it, with a warning; a protected group of that name only
  under ``into_protected``: CSV users are added, and a CSV user whose value names another holiday or
  time-off group (or config-listed group) of the rule moves there; nobody else leaves. A group
  protected only because a CSV cell names it is added to, never emptied, with a notice.
- **Retired groups**: groups clocksync made earlier (a group its TEAM_MANAGER's display name names,
  the fallback group's name, a rule's name for a value no row has) that are no longer desired: they
  lose their members (and managers, except a rule's without a configured manager).
- **Deleted groups**: neither managed nor protected, with ``--delete-unmanaged-groups``.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clocksync.config import Config
from clocksync.kinds.group_rule import GROUP_RULES, GroupRule, RuleValues
from clocksync.model import CurrentState, Group, Member, UserSpec, email_key, name_key
from clocksync.names import fit_name
from clocksync.plan.types import Notice

_Note = Callable[[str, str], None]


class GroupOrigin(enum.StrEnum):
    MANAGER = "manager"  # the group of a manager in the CSV
    FALLBACK = "fallback"  # workspace.fallback_group_name, under the fallback manager
    RULE = "rule"  # a group of group_rules


@dataclass(frozen=True)
class DesiredGroup:
    """A group the plan wants, and the workspace group it manages (``existing``; None: to create).

    ``manager`` holds TEAM_MANAGER over it (None: its managers are left alone). ``keep``: current
    members never removed (users an exception leaves alone).
    """

    name: str
    origin: GroupOrigin
    manager: Member | None
    member_ids: frozenset[str]
    existing: Group | None
    why_in: str  # why a member belongs, as the plan says it
    why_out: str  # why anyone else leaves
    keep: frozenset[str] = frozenset()
    into_protected: bool = False  # a protected group an into_protected rule fills: add and move only
    no_manager: bool = False  # a rule's group whose rule names no manager: nobody holds TEAM_MANAGER over it

    @property
    def key(self) -> str:
        return name_key(self.name)


@dataclass(frozen=True)
class RetiredGroup:
    """A group clocksync made earlier that is no longer desired: its members leave, and its managers
    when ``revoke_managers``."""

    group: Group
    reason: str
    revoke_managers: bool = True


@dataclass(frozen=True)
class GroupPlan:
    desired: tuple[DesiredGroup, ...]
    retired: tuple[RetiredGroup, ...]  # made by clocksync earlier, no longer desired: emptied
    deleted: tuple[Group, ...]  # unmanaged, and --delete-unmanaged-groups
    managed_ids: frozenset[str]  # current groups the plan manages (desired or retired)
    manager_email: Mapping[str, str]  # managed current group id -> email of its desired manager
    notices: tuple[Notice, ...] = ()


def group_name(config: Config, manager: Member, disambiguate: bool = False) -> str:
    """A manager group's name: ``groups.name_template``; with ``disambiguate``, the email appended;
    within the API's length (``names.fit_name``: the README's rule)."""
    name = config.groups.name_template.format(
        display_name=manager.display_name, name=manager.name.strip() or manager.email, email=manager.email)
    return fit_name(name, f" ({manager.email})" if disambiguate else "")


@dataclass
class _Wanted:
    name: str
    origin: GroupOrigin
    manager: Member
    member_ids: set[str] = field(default_factory=set)


def plan_groups(current: CurrentState, config: Config, *, protected: Mapping[str, tuple[str, ...]],
                managed: Mapping[str, tuple[UserSpec, Member]], manager_of: Mapping[str, Member | None],
                fallback: Member | None, frozen: frozenset[str], delete_unmanaged: bool,
                protected_names: frozenset[str] = frozenset(), unplaced: frozenset[str] = frozenset()) -> GroupPlan:
    """Resolve the desired, retired and deleted groups (see the module doc)."""
    notices: list[Notice] = []

    def note(code: str, message: str) -> None:
        notices.append(Notice(code=code, message=message))

    wanted = _manager_groups(config, manager_of, fallback, note, current)
    protected_by_key = {current.groups[g].key: current.groups[g].name for g in protected if g in current.groups}
    desired: list[DesiredGroup] = []
    keep = frozen | unplaced  # members no manager group moves
    for key in sorted(wanted):
        want = wanted[key]
        if key in protected_by_key:
            note("protected_collision", f"manager group {want.name!r} (manager {want.manager.email}) has the name "
                 f"of protected group {protected_by_key[key]!r}: its members and roles are not managed; rename the "
                 "manager or the protected group")
            continue
        existing = _pick(current, want.name, want.manager, protected, note)
        desired.append(DesiredGroup(
            name=want.name, origin=want.origin, manager=want.manager, member_ids=frozenset(want.member_ids),
            existing=existing, why_in=f"reports to {want.manager.email}",
            why_out=f"does not report to {want.manager.email}", keep=keep))
    taken = set(wanted) | {name_key(config.workspace.fallback_group_name)}
    rules = config.value(GROUP_RULES)
    silent: set[int] = set()  # rules whose column is blank in every row: their groups are left as they are
    for index, rule in enumerate(rules):
        groups = _rule_groups(current, rule, index, managed, protected, protected_names, taken, note, keep)
        if groups is None:
            silent.add(index)
            continue
        desired += groups
    in_use = {d.existing.id for d in desired if d.existing is not None}
    manager_email = {d.existing.id: d.manager.email for d in desired if d.existing is not None and d.manager}
    desired_keys = {d.key for d in desired}
    retired: list[RetiredGroup] = []
    deleted: list[Group] = []
    for group in sorted(current.groups.values(), key=lambda g: (g.key, g.id)):
        if group.id in protected or group.id in in_use:
            continue
        if _made_by_clocksync(current, config, group):
            in_use.add(group.id)
            if group.key not in desired_keys:  # else a duplicate of a desired group, noted in _pick
                retired.append(RetiredGroup(group, "manager group no longer desired"))
            continue
        made_by_index = next((i for i, r in enumerate(rules) if r.value_of(group.name)), None)
        if made_by_index is not None:
            made_by = rules[made_by_index]
            in_use.add(group.id)
            if group.key not in desired_keys and made_by_index not in silent:
                retired.append(RetiredGroup(group, f"no row has this {made_by.column} any more",
                                            revoke_managers=made_by.manager is not None))
        elif delete_unmanaged:
            kept = group.member_ids & unplaced
            if kept:
                note("limited_in_group", f"unmanaged group {group.name!r} is not deleted: it holds {len(kept)} "
                     "member(s) clocksync does not manage (limited members, or accounts the API does not list), "
                     "who would lose it")
                continue
            deleted.append(group)
    return GroupPlan(tuple(desired), tuple(retired), tuple(deleted), frozenset(in_use),
                     MappingProxyType(manager_email), tuple(notices))


def _rule_groups(current: CurrentState, rule: GroupRule, index: int, managed: Mapping[str, tuple[UserSpec, Member]],
                 protected: Mapping[str, tuple[str, ...]], protected_names: frozenset[str], taken: set[str],
                 note: _Note, left_alone: frozenset[str]) -> list[DesiredGroup] | None:
    """The groups of one rule: one per distinct value (NFC, any case) of its column among the managed
    users. ``left_alone``: members never moved (not managed, or an exception holds their groups).

    None (with a notice) when the column is blank in every managed row: an emptied or shifted column
    is read as a mistake, not as "nobody belongs", and the rule's groups are left as they are."""
    by_value: dict[str, tuple[str, set[str]]] = {}  # value key -> (first row's spelling, user ids)
    value_of: dict[str, str] = {}  # user id -> value key
    for user_id, (spec, _) in managed.items():
        if user_id in left_alone:
            continue
        cells = spec.value(RuleValues)
        value = cells.values[index] if cells is not None and index < len(cells.values) else None
        if value:
            key = name_key(value)
            by_value.setdefault(key, (value, set()))[1].add(user_id)
            value_of[user_id] = key
    if not by_value and managed:
        note("rule_column_blank", f"group rule on {rule.column!r}: the column is blank in every row, so the "
             "rule's groups are left as they are; fill the column, or remove the rule to stop managing them")
        return None
    manager = None
    if rule.manager:
        manager = current.members_by_key.get(email_key(rule.manager))
        if manager is None or not manager.active:
            note("rule_manager", f"group rule on {rule.column!r}: manager {rule.manager} is not an active member; "
                 "its groups are kept without a manager")
            manager = None
    # The values whose group is a holiday/time-off group (or one the config lists): the groups the rule
    # moves users between. A user whose value names another group is added there, never taken out.
    holiday_values = {key for key, (value, _) in by_value.items()
                      if _holiday_group(current, name_key(fit_name(rule.group_name(value))), protected)}
    groups: list[DesiredGroup] = []
    for key, (value, members) in sorted(by_value.items()):
        name = fit_name(rule.group_name(value))
        group_key = name_key(name)
        why_in, why_out = f"{rule.column} is {value}", f"{rule.column} is not {value}"
        if group_key in taken:
            note("group_name_collision", f"group rule on {rule.column!r}: a group named {name!r} is already "
                 "wanted (a manager group, the fallback group or an earlier rule); this rule leaves it")
            continue
        taken.add(group_key)
        candidates = current.groups_by_key.get(group_key, ())
        open_groups = [g for g in candidates if g.id not in protected]
        target = next((g for g in candidates if g.id in protected), None) if not open_groups else None
        if target is not None or (not candidates and group_key in protected_names):
            if not rule.into_protected:
                note("protected_collision", f"group rule on {rule.column!r}: group {name!r} is protected (a holiday "
                     "or time-off group, a CSV country, or listed in config): its members are not managed; add "
                     "into_protected: true to the rule to put CSV users into it")
                continue
            # Only a holiday/time-off group (or one the config lists) gives up members, and only those the
            # rule moves to another of its protected groups: a group protected only because a CSV cell names
            # it (a typo, a value from another export) is added to, never emptied.
            movable: set[str] = set()
            if target is not None and key in holiday_values:
                movable = {uid for uid in target.member_ids if value_of.get(uid, key) != key
                           and value_of.get(uid) in holiday_values} - left_alone
            elif target is not None:
                note("rule_fills_group", f"group rule on {rule.column!r}: {value!r} ({_rows_of(managed, members)}) "
                     f"names the existing group {target.name!r}, which is no holiday or time-off group: CSV users "
                     "are added to it and nobody is removed; check the cells if that group is not meant")
            groups.append(DesiredGroup(
                name=target.name if target else name, origin=GroupOrigin.RULE, manager=None,
                member_ids=frozenset(members), existing=target, why_in=why_in, why_out=why_out,
                keep=(target.member_ids - movable) if target else frozenset(), into_protected=True))
            continue
        existing = _pick(current, name, manager, protected, note) if open_groups else None
        leaving = existing.member_ids - members - left_alone if existing is not None else frozenset()
        if existing is not None and leaving and rule.value_of(existing.name) is None:
            note("rule_adopts_group", f"group rule on {rule.column!r}: {value!r} ({_rows_of(managed, members)}) "
                 f"names the existing group {existing.name!r}, which a rule named just {{value}} cannot tell it "
                 f"made: the rule manages it, and {len(leaving)} member(s) leave it; give the rule text around "
                 "{value} (\"Dept: {value}\") if that group is not the rule's")
        groups.append(DesiredGroup(name=name, origin=GroupOrigin.RULE, manager=manager,
                                   member_ids=frozenset(members), existing=existing, why_in=why_in, why_out=why_out,
                                   keep=left_alone, no_manager=rule.manager is None))
    return groups


def _rows_of(managed: Mapping[str, tuple[UserSpec, Member]], user_ids: set[str]) -> str:
    """``CSV row(s) 3, 7, 9 ...``: the first five rows of some managed users, for a notice."""
    rows = sorted(managed[uid][0].row for uid in user_ids)
    return f"CSV row(s) {', '.join(map(str, rows[:5]))}" + (" ..." if len(rows) > 5 else "")


def _holiday_group(current: CurrentState, group_key: str, protected: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether the workspace's group(s) of this name are holiday or time-off groups, or listed in config
    (not only named like a CSV country)."""
    candidates = current.groups_by_key.get(group_key, ())
    return bool(candidates) and all(g.id in current.protected or "listed in config" in protected.get(g.id, ())
                                    for g in candidates)


def _manager_groups(config: Config, manager_of: Mapping[str, Member | None], fallback: Member | None,
                    note: _Note, current: CurrentState) -> dict[str, _Wanted]:
    managers = {m.id: m for m in manager_of.values() if m is not None}
    names = {mid: group_name(config, m) for mid, m in managers.items()}
    fallback_name = config.workspace.fallback_group_name
    fallback_key = name_key(fallback_name)
    sharing: dict[str, list[str]] = defaultdict(list)  # name key -> the managers whose group it would name
    for mid in sorted(names, key=lambda m: (managers[m].key, m)):
        sharing[name_key(names[mid])].append(mid)
    for key, mids in sharing.items():
        if len(mids) == 1 and key != fallback_key:
            # A group told apart by email keeps that name while it exists: a namesake who leaves
            # does not make clocksync replace it with a group of the plain name.
            told_apart = group_name(config, managers[mids[0]], disambiguate=True)
            if not _manages(current, mids[0], key) and _manages(current, mids[0], name_key(told_apart)):
                names[mids[0]] = told_apart
            continue
        # A group that has the name keeps it: a namesake who arrives is the one told apart by email.
        keeper = None if key == fallback_key else next((m for m in mids if _manages(current, m, key)), None)
        told = [m for m in mids if m != keeper]
        count = len(mids) + (key == fallback_key)
        kept = (f"; {managers[keeper].email}'s group has the name and keeps it" if keeper is not None
                else "; one is the fallback group" if key == fallback_key else "")
        whose = ", ".join(managers[m].email for m in told)
        note("group_name_collision", f"{count} groups would be named {names[mids[0]]!r}{kept}: " + (
            f"the group of {whose} is named with the email" if len(told) == 1
            else f"the groups of {whose} are named with their emails"))
        for mid in told:
            names[mid] = group_name(config, managers[mid], disambiguate=True)
    groups: dict[str, _Wanted] = {}
    by_manager: dict[str, set[str]] = {}  # manager id ("": the fallback group) -> its members' ids
    for user_id, manager in manager_of.items():
        slot, origin = (manager.id if manager else ""), GroupOrigin.MANAGER
        if manager is None:
            if fallback is None or fallback.id == user_id:  # the fallback manager does not manage themself
                continue
            manager, origin = fallback, GroupOrigin.FALLBACK
        members = by_manager.get(slot)
        if members is None:  # the first of this manager's users: find or make their group once
            name = names[manager.id] if origin is GroupOrigin.MANAGER else fallback_name
            members = by_manager[slot] = groups.setdefault(name_key(name), _Wanted(name, origin, manager)).member_ids
        members.add(user_id)
    return groups


def _manages(current: CurrentState, manager_id: str, key: str) -> bool:
    """Whether a workspace group named ``key`` (a name key) has ``manager_id`` as a TEAM_MANAGER."""
    return any(manager_id in current.group_managers.get(g.id, ()) for g in current.groups_by_key.get(key, ()))


def _pick(current: CurrentState, name: str, manager: Member | None, protected: Mapping[str, tuple[str, ...]],
          note: _Note) -> Group | None:
    """The workspace group a desired group manages: of several with its name, the one its manager manages."""
    candidates = [g for g in current.groups_by_key.get(name_key(name), ()) if g.id not in protected]
    if len(candidates) > 1:
        note("duplicate_group", f"{len(candidates)} groups are named {name!r}; managing {candidates[0].id}")
        managed = [g for g in candidates if manager and manager.id in current.group_managers.get(g.id, ())]
        return (managed or candidates)[0]
    return candidates[0] if candidates else None


def _made_by_clocksync(current: CurrentState, config: Config, group: Group) -> bool:
    """Rule 4: a group that one of its TEAM_MANAGERs manages and that carries their name, or the fallback group."""
    for holder in current.group_managers.get(group.id, ()):
        member = current.members.get(holder)
        if member is not None and group.key in (name_key(group_name(config, member)),
                                                name_key(group_name(config, member, True))):
            return True
    return group.key == name_key(config.workspace.fallback_group_name)
