"""Synthetic workspaces and CSVs of N users with a realistic share of drift, for benchmarks.

The workspace starts converged with its CSV, then drifts: some capacities, custom fields, working
days, week starts, hourly rates, cost rates and departments (a group rule) change in the CSV, some
people move to another manager, a few leave (still ACTIVE, gone from the CSV) and a few are hired
(in the CSV, not yet in the workspace). Deterministic for a given N and seed.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from clocksync.config import Config
from clocksync.emulator.state import (
    CustomField,
    Group,
    Holiday,
    Role,
    User,
    Workspace,
    WorkspaceState,
)
from clocksync.kinds.member_rate import MemberRates, Rates
from clocksync.model import CurrentState, DesiredState, Member, Profile, RoleGrant
from clocksync.model import CustomField as DomainField
from clocksync.model import Group as DomainGroup
from clocksync.plan.diff import diff
from clocksync.plan.file import InputFingerprint, Plan, build_plan
from clocksync.plan.seal import SealKey
from clocksync.plan.types import PlanOptions

COUNTRIES = ["USA", "Germany", "Spain", "India", "Brazil"]
DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "Marketing", "Operations", "Legal", "Research"]
HEADER = ["NTID email", "Manager NTID email", "Weekly Working Hours", "Company (Label)", "Country (Label)", "Global Id",
          "Department", "Working Days", "Week Start", "Hourly Rate", "Cost Rate"]
TEAM_SIZE = 8
DEPARTMENT_GROUP = "Dept: {value}"  # the group rule of bench_config_yaml


def _hourly(index: int) -> int:
    return 8000 + (index % 40) * 100  # hundredths


def _cost(index: int) -> int:
    return 4000 + (index % 20) * 50


def _amount(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


@dataclass(frozen=True)
class Drift:
    capacity: float = 0.10  # share of users whose weekly hours change
    field: float = 0.05  # share whose Global Id changes
    move: float = 0.05  # share who change manager
    leave: float = 0.01  # share gone from the CSV (deactivated with --deactivate-missing)
    hire: float = 0.01  # share in the CSV but not yet in the workspace
    schedule: float = 0.05  # share whose working days (and, for half of them, week start) change
    rate: float = 0.05  # share whose hourly rate changes (and as many whose cost rate changes)
    department: float = 0.05  # share who change department (leave one rule group for another)


@dataclass
class Workload:
    state: WorkspaceState
    csv_text: str
    api_key: str
    n_users: int


def generate(n: int, *, seed: int = 1, drift: Drift | None = None, api_key: str = "bench-key") -> Workload:
    drift = drift or Drift()
    rng = random.Random(seed)
    ws = Workspace(id=f"{seed:08x}bench{n:011d}"[:24].ljust(24, "0"), name=f"bench {n}", owner_id="")
    state = WorkspaceState(ws)
    fields = {name: CustomField(id=state.new_id(), name=name) for name in ("Company", "Country", "Global ID")}
    ws.fields = {f.id: f for f in fields.values()}
    owner = User(id=state.new_id(), email="owner@bench.example", name="Owner")
    ws.users[owner.id] = owner
    ws.owner_id = owner.id
    ws.api_keys = {api_key: owner.id}
    people: list[User] = []
    for i in range(n):
        user = User(id=state.new_id(), email=f"user{i:06d}@bench.example", name=f"User {i:06d}")
        country = COUNTRIES[i % len(COUNTRIES)]
        user.custom_values = {fields["Company"].id: "Acme", fields["Country"].id: country,
                              fields["Global ID"].id: str(100000 + i)}
        user.hourly_rate, user.cost_rate = _hourly(i), _cost(i)
        ws.users[user.id] = user
        people.append(user)
    fallback = people[0]
    managers = people[:: TEAM_SIZE]
    manager_ids = {m.id for m in managers}
    manager_of: dict[str, User] = {}
    for index, user in enumerate(people):
        if user is fallback:
            continue
        if user.id in manager_ids:
            manager_of[user.id] = fallback
        else:
            manager_of[user.id] = managers[(index // TEAM_SIZE) % len(managers)]
    # Converged groups and roles.
    groups: dict[str, Group] = {}
    for user_id, manager in manager_of.items():
        group = groups.get(manager.id)
        if group is None:
            group = Group(id=state.new_id(), name=manager.name)
            groups[manager.id] = group
            ws.roles.add(Role(manager.id, "TEAM_MANAGER", group.id, True))
        group.user_ids.append(user_id)
        ws.roles.add(Role(manager.id, "TEAM_MANAGER", user_id))
    ws.groups = {g.id: g for g in groups.values()}
    for country in COUNTRIES:
        g = Group(id=state.new_id(), name=country, user_ids=[u.id for i, u in enumerate(people)
                                                               if COUNTRIES[i % len(COUNTRIES)] == country][:500])
        ws.groups[g.id] = g
    for d, department in enumerate(DEPARTMENTS):
        g = Group(id=state.new_id(), name=DEPARTMENT_GROUP.format(value=department),
                  user_ids=[u.id for i, u in enumerate(people) if i % len(DEPARTMENTS) == d])
        ws.groups[g.id] = g
    holiday = Holiday(id=state.new_id(), name="Bank holiday",
                      user_group_ids=[next(g.id for g in ws.groups.values() if g.name == "Germany")])
    ws.holidays = {holiday.id: holiday}
    # The CSV, with drift.
    rows = []
    for index, user in enumerate(people):
        if user is not fallback and rng.random() < drift.leave:
            continue  # a leaver: still ACTIVE in the workspace
        manager = manager_of.get(user.id)
        if manager is not None and manager is not fallback and rng.random() < drift.move:
            manager = rng.choice(managers)
            if manager is user:
                manager = fallback
        hours = "32" if rng.random() < drift.capacity else "40"
        global_id = str(100000 + index) if rng.random() >= drift.field else str(900000 + index)
        department = DEPARTMENTS[index % len(DEPARTMENTS)]
        if rng.random() < drift.department:
            department = DEPARTMENTS[(index + 1 + rng.randrange(len(DEPARTMENTS) - 1)) % len(DEPARTMENTS)]
        days, week_start = "Mon-Fri", "Monday"
        if rng.random() < drift.schedule:
            days, week_start = "Mon-Thu", rng.choice(["Monday", "Sunday"])
        hourly = _hourly(index) + (500 if rng.random() < drift.rate else 0)
        cost = _cost(index) + (250 if rng.random() < drift.rate else 0)
        rows.append([user.email, manager.email if manager else "", hours, "Acme", COUNTRIES[index % len(COUNTRIES)],
                     global_id, department, days, week_start, _amount(hourly), _amount(cost)])
    for j in range(int(n * drift.hire)):
        rows.append([f"hire{j:05d}@bench.example", fallback.email, "40", "Acme", "USA", str(500000 + j),
                     DEPARTMENTS[j % len(DEPARTMENTS)], "Mon-Fri", "Monday", "80.00", "40.00"])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    state.writes = 0
    return Workload(state, buffer.getvalue(), api_key, n)


def bench_config_yaml(fallback_email: str = "user000000@bench.example") -> str:
    return (
        "workspace:\n"
        f"  fallback_manager_email: \"{fallback_email}\"\n"
        "  fallback_group_name: \"Other functions\"\n"
        "field_mapping:\n"
        "  \"Company (Label)\": \"Company\"\n"
        "  \"Country (Label)\": \"Country\"\n"
        "  \"Global Id\": \"Global ID\"\n"
        "group_rules:\n"
        "  - column: \"Department\"\n"
        f"    name: \"{DEPARTMENT_GROUP}\"\n"
        "api:\n"
        "  page_size: 5000\n"
        "  concurrency: 16\n"
    )


def write_workdir(folder: Path, workload: Workload, *, concurrency: int = 16) -> None:
    """The workload as files: ``state.json`` (for ``clocksync emulator --state``), ``users.csv`` and
    ``config.yaml`` (with ``api.concurrency``)."""
    workload.state.save(folder / "state.json")
    (folder / "users.csv").write_text(workload.csv_text)
    (folder / "config.yaml").write_text(bench_config_yaml().replace("concurrency: 16", f"concurrency: {concurrency}"))


def current_from(state: WorkspaceState) -> CurrentState:
    """The domain view of an emulator state without HTTP (for timing the differ alone)."""
    ws = state.ws
    return CurrentState(
        workspace_id=ws.id,
        self_id=ws.owner_id,
        owner_ids=frozenset({ws.owner_id}),
        members=MappingProxyType({u.id: Member.read(u.id, u.email, u.name, u.membership_status)
                                  for u in ws.users.values()}),
        roles=frozenset(RoleGrant(r.user_id, r.role, r.entity_id, r.via_group) for r in ws.roles),
        groups=MappingProxyType({g.id: DomainGroup(g.id, g.name, frozenset(g.user_ids)) for g in ws.groups.values()}),
        fields=MappingProxyType({f.id: DomainField(f.id, f.name) for f in ws.fields.values()}),
        profiles=MappingProxyType({
            u.id: Profile(8 * 3600, u.work_capacity, MappingProxyType(dict(u.custom_values)),
                          working_days=tuple(u.working_days), week_start=u.week_start)
            for u in ws.users.values()
        }),
        protected=MappingProxyType({gid: ("holiday",) for h in ws.holidays.values() for gid in h.user_group_ids}),
        parts=MappingProxyType({MemberRates: MemberRates({u.id: Rates(u.hourly_rate, u.cost_rate)
                                                         for u in ws.users.values()}, ws.currency)}),
    )


def offline_inputs(n: int, seed: int = 3) -> tuple[DesiredState, CurrentState, Config]:
    """The desired and current state of an n-user workload, without HTTP (for timing and rendering)."""
    import tempfile
    from pathlib import Path

    from clocksync.config import load_config
    from clocksync.load.desired import load_desired

    workload = generate(n, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "users.csv").write_text(workload.csv_text)
        (Path(tmp) / "config.yaml").write_text(bench_config_yaml())
        config = load_config(Path(tmp) / "config.yaml", required=True)
        desired = load_desired(Path(tmp) / "users.csv", config)
    return desired, current_from(workload.state), config


def offline_plan(n: int, seed: int = 3) -> Plan:
    """The sealed plan of an n-user workload (with --deactivate-missing), made without HTTP."""
    desired, current, config = offline_inputs(n, seed)
    options = PlanOptions(deactivate_missing=True, as_of="2026-11-27")
    return build_plan(diff(desired, current, config, options), workspace_id=current.workspace_id,
                      inputs={"csv": InputFingerprint(path="users.csv", sha256=desired.sha256)}, options=options,
                      created_at="2026-11-27T12:00:00Z", api_host="127.0.0.1",
                      seal_key=SealKey.derive("offline", current.workspace_id))
