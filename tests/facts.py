"""A workspace by names, not ids: what comparing states before and after needs (ids of re-created
groups differ; the facts do not)."""

from __future__ import annotations

from typing import Any

from clocksync.durations import parse_duration
from clocksync.emulator.state import WorkspaceState


def facts(state: WorkspaceState) -> dict[str, Any]:
    """The workspace by names, not ids: what a comparison of states before and after needs."""
    ws = state.ws
    # A limited member has no email: named as clocksync names them.
    email = {u.id: u.email or f"{u.name} (limited member)" for u in ws.users.values()}
    field = {f.id: f.name for f in ws.fields.values()}
    group = {g.id: g.name for g in ws.groups.values()}
    project = {p.id: p.name for p in ws.projects.values()}
    users = {email[u.id]: {"capacity": parse_duration(u.work_capacity), "days": list(u.working_days),
                       "week": u.week_start, "status": u.membership_status,
                       "fields": {field[k]: v for k, v in u.custom_values.items()
                                  if k in field and v is not None and v != ""}}
             for u in ws.users.values()}
    groups = {g.name: sorted(email[i] for i in g.user_ids) for g in ws.groups.values()}
    roles = {(email[r.user_id], r.role, "group" if r.via_group else "user" if r.entity_id in email else "project",
              group.get(r.entity_id) if r.via_group else email.get(r.entity_id) or project.get(r.entity_id, r.entity_id))
             for r in ws.roles}
    return {"users": users, "groups": groups, "roles": roles, "fields": sorted(field.values())}
