"""Clockify (through the client) -> ``CurrentState``. The only loader that does HTTP.

Lists are read concurrently; member profiles (one request per user, there is no list endpoint)
only for the users the caller names, concurrently under the client's rate limiter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from types import MappingProxyType

from clocksync.clockify.client import ClockifyClient
from clocksync.clockify.schemas import WireGroup, WireProfile, WireUser
from clocksync.durations import parse_duration
from clocksync.errors import ApiStatusError
from clocksync.model import (
    PROJECT_MANAGER,
    TEAM_MANAGER,
    CurrentState,
    CustomField,
    Group,
    Member,
    Profile,
    RoleGrant,
    value_text,
)

logger = logging.getLogger(__name__)

_OWNER_ROLES = {"OWNER", "WORKSPACE_OWN"}


def roles_from(users: Iterable[WireUser], groups: Iterable[WireGroup]) -> tuple[frozenset[RoleGrant], set[str]]:
    """Manager roles from ``include-roles`` and group ``teamManagers``, plus the owners seen."""
    grants: set[RoleGrant] = set()
    owners: set[str] = set()
    for user in users:
        for role in user.roles:
            name = role.name
            if name in _OWNER_ROLES:
                owners.add(user.id)
            if name not in (TEAM_MANAGER, PROJECT_MANAGER):
                continue
            for entity in role.targets():
                if entity.target:
                    grants.add(RoleGrant(user.id, name, entity.target, name == TEAM_MANAGER and entity.via_group))
    for group in groups:
        for manager in group.team_managers:
            grants.add(RoleGrant(manager.id, TEAM_MANAGER, group.id, True))
    return frozenset(grants), owners


def profile_from(wire: WireProfile) -> tuple[Profile, str | None]:
    """A domain profile, and a warning when the capacity cannot be read."""
    seconds = None
    warning = None
    if wire.work_capacity:
        try:
            seconds = parse_duration(wire.work_capacity)
        except ValueError:
            warning = f"unreadable work capacity {wire.work_capacity!r}"
    values = {v.custom_field_id: value_text(v.value) for v in wire.values if v.custom_field_id}
    return Profile(seconds, wire.work_capacity, MappingProxyType(values)), warning


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
        profiles[user_id], warning = profile_from(wire)
        if warning:
            warnings.append(f"user {wire.email or user_id}: {warning}")
    return profiles, warnings


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
    (skipping inactive ones) and for every id in ``profile_ids``. ``self_id`` (the key's user, when
    preflight already read it) saves a request.
    """
    # Tasks rather than one gather so that each result keeps its type.
    me_task = asyncio.create_task(_self_id(client, self_id))
    users_task = asyncio.create_task(client.list_users())
    groups_task = asyncio.create_task(client.list_groups())
    fields_task = asyncio.create_task(client.list_custom_fields("USER"))
    holidays_task = asyncio.create_task(client.list_holidays())
    policies_task = asyncio.create_task(client.list_time_off_policies())
    owners_task = asyncio.create_task(client.find_owners())
    tasks = [me_task, users_task, groups_task, fields_task, holidays_task, policies_task, owners_task]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    me_id, users, groups, fields = me_task.result(), users_task.result(), groups_task.result(), fields_task.result()
    holidays, policies, owners = holidays_task.result(), policies_task.result(), owners_task.result()
    members = {
        u.id: Member(u.id, u.email, u.name or "", u.workspace_status(client.workspace_id)) for u in users
    }
    grants, owners_seen = roles_from(users, groups)
    wanted_keys = set(profile_keys)
    ids = {m.id for m in members.values() if m.key in wanted_keys and m.status in ("ACTIVE", "PENDING")}
    ids |= {i for i in profile_ids if i in members}
    profiles, warnings = await load_profiles(client, ids, progress)
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
        owner_ids=frozenset(owners_seen | {o.id for o in owners}),
        members=MappingProxyType(members),
        roles=grants,
        groups=MappingProxyType({g.id: Group(g.id, g.name, frozenset(g.user_ids)) for g in groups}),
        fields=MappingProxyType({f.id: CustomField(f.id, f.name, f.type or "TXT", f.status or "VISIBLE")
                                 for f in fields}),
        profiles=MappingProxyType(profiles),
        protected=MappingProxyType({k: tuple(v) for k, v in protected.items()}),
        warnings=tuple(warnings),
    )
