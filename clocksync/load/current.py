"""Clockify (through the client) -> ``CurrentState``. The only loader that does HTTP.

Lists are read concurrently; member profiles (one request per user, there is no list endpoint)
only for the users the caller names, concurrently under the client's rate limiter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType

from clocksync.chars import reveal
from clocksync.clockify.client import ClockifyClient
from clocksync.clockify.schemas import WireGroup, WireProfile, WireUser
from clocksync.errors import ApiStatusError
from clocksync.kinds.profile import read_profile
from clocksync.model import (
    PROJECT_MANAGER,
    TEAM_MANAGER,
    CurrentState,
    CustomField,
    Group,
    LimitedMember,
    Member,
    MemberStatus,
    Profile,
    RoleGrant,
    StatePart,
)

logger = logging.getLogger(__name__)

_OWNER_ROLES = {"OWNER", "WORKSPACE_OWN"}
_KNOWN_ROLES = {TEAM_MANAGER, PROJECT_MANAGER, "WORKSPACE_ADMIN", *_OWNER_ROLES}


@dataclass
class RoleReading:
    grants: frozenset[RoleGrant]
    owners: set[str]
    unknown: set[str]  # members whose roles could not be established
    warnings: list[str]


def roles_from(users: Iterable[WireUser], groups: Iterable[WireGroup]) -> RoleReading:
    """Manager roles from ``include-roles`` and group ``teamManagers``, in every shape seen in public.

    Group grants come from each group's ``teamManagers`` (the authority on who manages a group);
    in the ``roles`` array an entity is a group grant when its id is a known group's, whatever its
    ``source`` says (present, null or absent). A direct TEAM_MANAGER entity must be a known member.
    A member with no ``roles`` in the answer, or with an entity that is neither a member nor a
    group, has roles clocksync cannot establish: they are listed in ``unknown``.
    """
    users = list(users)
    groups = list(groups)
    group_ids = {g.id for g in groups}
    member_ids = {u.id for u in users}
    reading = RoleReading(frozenset(), set(), set(), [])
    grants: set[RoleGrant] = set()
    for user in users:
        if user.roles is None:
            reading.unknown.add(user.id)
            continue
        for role in user.roles:
            name = role.name
            if name in _OWNER_ROLES:
                reading.owners.add(user.id)
            if name not in _KNOWN_ROLES:
                reading.warnings.append(f"user {user.email or user.id}: role {name!r} is not one clocksync "
                                        "knows; it is left alone")
                continue
            if name not in (TEAM_MANAGER, PROJECT_MANAGER):
                continue
            for entity in role.targets():
                target = entity.target
                if not target:
                    continue  # a role with no entity ("ghost" roles public code has seen)
                if name == PROJECT_MANAGER:
                    grants.add(RoleGrant(user.id, name, target))
                elif target in group_ids:
                    continue  # a group grant: read from the group's teamManagers
                elif target in member_ids and not entity.says_group:
                    grants.add(RoleGrant(user.id, name, target))
                else:
                    reading.unknown.add(user.id)
                    reading.warnings.append(
                        f"user {user.email or user.id}: manages {target}, which is neither a member nor a "
                        "group clocksync can see; what they manage cannot be established")
    for group in groups:
        for manager in group.team_managers:
            grants.add(RoleGrant(manager.id, TEAM_MANAGER, group.id, True))
    reading.grants = frozenset(grants)
    return reading


ProfileProgress = Callable[[int, int], None]


async def load_profiles(
    client: ClockifyClient, user_ids: Iterable[str], progress: ProfileProgress | None = None
) -> tuple[dict[str, Profile], list[str]]:
    """One GET per user (there is no list endpoint), concurrently; ``progress(done, total)`` after each."""
    ids = sorted(set(user_ids))
    done = 0

    async def one(user_id: str) -> WireProfile | ApiStatusError:
        nonlocal done
        try:
            wire: WireProfile | ApiStatusError = await client.get_member_profile(user_id)
        except ApiStatusError as exc:
            if exc.status is None or exc.status >= 500 or exc.status in (401, 429):
                raise  # transient or fatal for the whole run, not about this user
            wire = exc  # e.g. an invited user whose profile the API will not show
        done += 1
        if progress:
            progress(done, len(ids))
        return wire

    wires = await asyncio.gather(*(one(i) for i in ids))
    profiles: dict[str, Profile] = {}
    warnings: list[str] = []
    for user_id, wire in zip(ids, wires, strict=True):
        if isinstance(wire, ApiStatusError):
            warnings.append(f"user {user_id}: member profile could not be read ({wire}); its capacity and "
                            "fields are left as they are")
            continue
        profiles[user_id], warning = read_profile(wire)
        if warning:
            warnings.append(f"user {wire.email or user_id}: {warning}")
    return profiles, warnings


def address_warnings(members: Iterable[Member]) -> list[str]:
    """Warnings for members whose address is not as it is shown (invisible characters, spaces
    around: an account an earlier tool invited from an unclean cell) and for addresses that two
    members show alike. Such an account is matched by the address it shows (``model.email_key``);
    of two alike, clocksync manages the one whose address is as shown (``CurrentState.members_by_key``)
    and leaves the other alone, reported here so it can be removed in Clockify."""
    by_key: dict[str, list[Member]] = {}
    for member in members:
        if member.email:
            by_key.setdefault(member.key, []).append(member)
    warnings = []
    for alike in by_key.values():
        alike.sort(key=lambda m: (m.email != m.shown_email, m.id))
        first = alike[0]
        if len(alike) > 1:
            listed = "; ".join(f"{m.id} ({m.status.value}, {reveal(m.email)})" for m in alike)
            warnings.append(f"{len(alike)} members show the same address {first.shown_email}: {listed}. clocksync "
                            f"manages {first.id} and leaves the others alone: remove the leftover account in Clockify")
        elif first.email != first.shown_email:
            warnings.append(f"member {first.id} ({first.status.value}) has the address {reveal(first.email)}, which "
                            f"holds characters a person does not see; clocksync matches it as {first.shown_email} "
                            "(an invitation an earlier version sent from an unclean cell? if so, invite the person "
                            "again and remove this account in Clockify)")
    return warnings


async def load_project_names(client: ClockifyClient) -> dict[str, str]:
    """Project id -> name, archived projects included (one request per ``api.page_size`` projects).

    Read only for a handover: the projects a leaver manages are named by their names.
    """
    return {p.id: p.name for p in await client.list_projects() if p.name}


async def _self_id(client: ClockifyClient, known: str | None) -> str:
    return known if known is not None else (await client.get_current_user()).id


async def load_current(
    client: ClockifyClient,
    *,
    profile_keys: Iterable[str] = (),
    profile_ids: Iterable[str] = (),
    progress: ProfileProgress | None = None,
    self_id: str | None = None,
) -> CurrentState:
    """Read the workspace. Profiles are read for members whose email key is in ``profile_keys``
    (skipping inactive ones) and for every id in ``profile_ids``: those are known in advance, so
    they are read concurrently with the lists rather than after them. ``self_id`` (the key's user,
    when preflight already read it) saves a request.
    """
    # Tasks rather than one gather so that each result keeps its type.
    me_task = asyncio.create_task(_self_id(client, self_id))
    users_task = asyncio.create_task(client.list_users())
    limited_task = asyncio.create_task(client.list_users(account_status="LIMITED"))
    groups_task = asyncio.create_task(client.list_groups())
    fields_task = asyncio.create_task(client.list_custom_fields("USER"))
    holidays_task = asyncio.create_task(client.list_holidays())
    policies_task = asyncio.create_task(client.list_time_off_policies())
    owners_task = asyncio.create_task(client.find_owners())
    known_task = asyncio.create_task(load_profiles(client, set(profile_ids), progress))
    tasks = [me_task, users_task, limited_task, groups_task, fields_task, holidays_task, policies_task, owners_task,
             known_task]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    me_id, users, groups, fields = me_task.result(), users_task.result(), groups_task.result(), fields_task.result()
    holidays, policies, owners = holidays_task.result(), policies_task.result(), owners_task.result()
    members: dict[str, Member] = {}
    limited: dict[str, LimitedMember] = {}
    warnings: list[str] = []
    listed = {u.id: u for u in [*users, *limited_task.result()]}  # whichever way the API lists them, once each
    for u in listed.values():
        if u.limited:
            limited[u.id] = LimitedMember(u.id, u.name or "", (u.email or "").strip())
            continue
        member = members[u.id] = Member.read(u.id, u.email, u.name or "", u.workspace_status(client.workspace_id))
        if member.status is MemberStatus.UNKNOWN:
            warnings.append(f"{u.email or u.id} has membership status {member.status_text!r}, which clocksync does "
                            "not know: left alone")
    warnings += address_warnings(members.values())
    reading = roles_from(listed.values(), groups)
    warnings += reading.warnings
    wanted_keys = set(profile_keys)
    known, known_warnings = known_task.result()
    ids = {m.id for m in members.values() if m.key in wanted_keys and m.status.manageable} - set(known)
    profiles, profile_warnings = await load_profiles(client, ids, progress) if ids else ({}, [])
    profiles.update((uid, p) for uid, p in known.items() if uid in members)
    warnings += known_warnings + profile_warnings
    protected: dict[str, list[str]] = {}
    for holiday in holidays:
        for group_id in holiday.user_group_ids:
            protected.setdefault(group_id, []).append(f"holiday {holiday.name!r}")
    for policy in policies:
        for group_id in policy.user_group_ids:
            protected.setdefault(group_id, []).append(f"time-off policy {policy.name!r}")
    logger.debug("load_current: members=%d groups=%d profiles=%d", len(members), len(groups), len(profiles))
    return CurrentState(
        workspace_id=client.workspace_id,
        self_id=me_id,
        owner_ids=frozenset(reading.owners | {o.id for o in owners}),
        members=MappingProxyType(members),
        roles=reading.grants,
        groups=MappingProxyType({g.id: Group(g.id, g.name, frozenset(g.user_ids)) for g in groups}),
        fields=MappingProxyType({f.id: CustomField(f.id, f.name, f.type or "TXT", f.status or "VISIBLE",
                                                   tuple(f.allowed_values), bool(f.required))
                                 for f in fields}),
        profiles=MappingProxyType(profiles),
        protected=MappingProxyType({k: tuple(v) for k, v in protected.items()}),
        warnings=tuple(warnings),
        roles_unknown=frozenset(reading.unknown),
        parts=MappingProxyType({part: part.read(users, client.workspace_id) for part in StatePart.registry}),
        limited=MappingProxyType(limited),
    )
