"""The demo workspace served by ``clocksync emulator`` with no ``--state``.

It fits ``examples/sample_users.csv`` and carries the drift a real workspace has: wrong
capacities, a stale group member, a missing custom field, a direct manager role that should
go, a leaver who is still active (and manages a project), protected country and holiday groups, an
unmanaged group. And what a real workspace holds besides: "Company" is a dropdown (values are
written in its allowed spelling) and a limited member (a kiosk user, no email) sits in Jane Smith's
group, where plans leave them.
"""

from __future__ import annotations

import secrets

from clocksync.emulator.state import (
    CustomField,
    Group,
    Holiday,
    Policy,
    Project,
    Role,
    User,
    Workspace,
    WorkspaceState,
)

DEMO_WORKSPACE_ID = "64a1f0c2e4b0d9a1c0de0001"

# email, name, capacity, status, company, country
_PEOPLE = [
    ("admin@example.com", "Avery Admin", "PT8H", "ACTIVE", None, None),
    ("ops-lead@example.com", "Olivia Ops", "PT8H", "ACTIVE", "Acme Corp", "USA"),
    ("jane.smith@example.com", "Jane Smith", "PT8H", "ACTIVE", "Acme Corp", "USA"),
    ("john.doe@example.com", "John Doe", "PT8H", "ACTIVE", "Acme Corp", "USA"),
    ("maria.garcia@example.com", "Maria Garcia", "PT8H", "ACTIVE", "Acme Corp", "Spain"),
    ("li.wei@example.com", "Li Wei", "PT8H", "ACTIVE", "Acme Corp", "Germany"),
    ("omar.farouk@example.com", "Omar Farouk", "PT8H", "ACTIVE", "Acme GmbH", "Germany"),
    ("ahmed.khan@example.com", "Ahmed Khan", "PT8H", "ACTIVE", "Acme GmbH", "Germany"),
    ("sofia.rossi@example.com", "Sofia Rossi", "PT7H30M", "ACTIVE", "Acme Corp", "Spain"),
    ("noah.brown@example.com", "Noah Brown", "PT8H", "ACTIVE", "Acme Corp", "USA"),
    ("emma.wilson@example.com", "Emma Wilson", "PT4H", "ACTIVE", "Acme Corp", "USA"),
    ("lucas.martin@example.com", "Lucas Martin", "PT6H", "ACTIVE", "Acme Corp", "USA"),
    ("former.manager@example.com", "Frank Former", "PT8H", "INACTIVE", "Acme Corp", "USA"),
    ("pat.leaver@example.com", "Pat Leaver", "PT8H", "ACTIVE", "Acme Corp", "USA"),
]


def demo_workspace(api_key: str | None = None) -> tuple[WorkspaceState, str]:
    """A fresh demo workspace and the API key of its owner (random unless given)."""
    key = api_key or secrets.token_urlsafe(24)
    ws = Workspace(id=DEMO_WORKSPACE_ID, name="Acme (emulated)", owner_id="")
    state = WorkspaceState(ws)
    ids: dict[str, str] = {}
    company = CustomField(id=state.new_id(), name="Company", type="DROPDOWN_SINGLE",
                          allowed_values=["Acme Corp", "Acme GmbH", "Acme Ltd"])
    country = CustomField(id=state.new_id(), name="Country")
    ws.fields = {company.id: company, country.id: country}  # "Global ID" is missing on purpose
    for email, name, capacity, status, comp, ctry in _PEOPLE:
        user = User(id=state.new_id(), email=email, name=name, work_capacity=capacity, membership_status=status)
        if comp:
            user.custom_values[company.id] = comp
        if ctry:
            user.custom_values[country.id] = ctry
        ws.users[user.id] = user
        ids[email] = user.id
    ws.users[ids["li.wei@example.com"]].custom_values[company.id] = "Acme Corp"  # CSV says Acme GmbH
    ws.owner_id = ids["admin@example.com"]
    ws.api_keys = {key: ws.owner_id}

    def group(name: str, *members: str) -> Group:
        g = Group(id=state.new_id(), name=name, user_ids=[ids[m] for m in members])
        ws.groups[g.id] = g
        return g

    kiosk = User(id=state.new_id(), email="", name="Front desk kiosk", account_status="LIMITED")
    ws.users[kiosk.id] = kiosk
    ids["kiosk"] = kiosk.id
    jane_group = group("Jane Smith", "john.doe@example.com", "noah.brown@example.com", "kiosk")  # noah is stale
    usa = group("USA", "ops-lead@example.com", "jane.smith@example.com", "john.doe@example.com")
    germany = group("Germany Holidays", "li.wei@example.com", "omar.farouk@example.com", "ahmed.khan@example.com")
    group("Book club", "maria.garcia@example.com", "pat.leaver@example.com")  # unmanaged
    ws.roles = {
        Role(ids["jane.smith@example.com"], "TEAM_MANAGER", jane_group.id, True),
        Role(ids["jane.smith@example.com"], "TEAM_MANAGER", ids["john.doe@example.com"]),
        Role(ids["pat.leaver@example.com"], "TEAM_MANAGER", ids["john.doe@example.com"]),  # stale
        Role(ids["pat.leaver@example.com"], "TEAM_MANAGER", ids["lucas.martin@example.com"]),
    }
    holiday = Holiday(id=state.new_id(), name="Tag der Deutschen Einheit", user_group_ids=[germany.id],
                      start="2026-10-03")
    ws.holidays = {holiday.id: holiday}
    policy = Policy(id=state.new_id(), name="US vacation", user_group_ids=[usa.id])
    ws.policies = {policy.id: policy}
    project = Project(id=state.new_id(), name="Website relaunch")
    ws.projects = {project.id: project}
    ws.roles.add(Role(ids["pat.leaver@example.com"], "PROJECT_MANAGER", project.id))
    state.writes = 0
    return state, key
