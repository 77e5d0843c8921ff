"""Group rules: one group per value of an HR column, members exactly the rows with that value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from clocksync.config import load_config
from clocksync.errors import ConfigError, TooMuchChange
from clocksync.kinds.group import CreateGroup
from clocksync.kinds.group_rule import GroupRule, RuleValues
from clocksync.kinds.membership import AddMember, RemoveMember
from clocksync.kinds.role import GrantRole, RevokeRole
from clocksync.model import UserSpec
from clocksync.plan.diff import Diff, diff
from clocksync.plan.file import InputFingerprint, build_plan
from clocksync.plan.safety import check_thresholds
from clocksync.plan.seal import SealKey
from clocksync.plan.types import PlanOptions
from tests.factories import config, current, desired, group, member, spec, tm, uid

OWNER = member("owner@example.com", "Owner")
OPS = member("ops@example.com", "Ops")
PEOPLE = [member(f"{n}@example.com", n.title()) for n in ("ann", "bob", "cid", "dee", "eve")]
DEPT = {"rules": [{"column": "Department", "name": "Dept: {value}"}]}


def row(email: str, *values: str | None, manager: str = "ops@example.com") -> UserSpec:
    return replace(spec(email, manager), values=MappingProxyType({RuleValues: RuleValues(tuple(values))}))


def plan(rows: list[UserSpec], rules: list[dict[str, Any]], groups: list[Any] = (), roles: set[Any] = frozenset(),
         protected: dict[str, tuple[str, ...]] | None = None, **options: Any) -> Diff:
    state = current([OWNER, OPS, *PEOPLE], groups=list(groups), roles=set(roles), protected=protected)
    return diff(desired(spec("ops@example.com"), *rows), state, config(group_rules=rules), PlanOptions(**options))


def of(found: Diff, kind: type) -> set[tuple[str, ...]]:
    out = set()
    for a in found.actions:
        if isinstance(a, kind):
            if isinstance(a, CreateGroup):
                out.add((a.group_name,))
            elif isinstance(a, AddMember | RemoveMember):
                out.add((a.group_name, a.email))
            else:
                out.add((a.entity_name, a.holder_email))
    return out


def test_one_group_per_value_members_exactly_the_rows_with_it() -> None:
    found = plan([row("ann@example.com", "Sales"), row("bob@example.com", "sales "), row("cid@example.com", "SALES"),
                  row("dee@example.com", "Engineering"), row("eve@example.com", None)], DEPT["rules"])
    assert of(found, CreateGroup) >= {("Dept: Sales",), ("Dept: Engineering",)}, "named after the first row's spelling"
    rule_adds = {a for a in of(found, AddMember) if a[0].startswith("Dept:")}
    assert rule_adds == {("Dept: Sales", "ann@example.com"), ("Dept: Sales", "bob@example.com"),
                         ("Dept: Sales", "cid@example.com"), ("Dept: Engineering", "dee@example.com")}
    assert not [a for a in of(found, GrantRole) if a[0].startswith("Dept:")], "no manager unless configured"


def test_values_match_in_nfc_and_any_case() -> None:
    composed, decomposed = "Z\u00fcrich", "Zu\u0308rich"
    found = plan([row("ann@example.com", composed), row("bob@example.com", decomposed.upper())], DEPT["rules"])
    assert {a for a in of(found, CreateGroup) if a[0].startswith("Dept:")} == {(f"Dept: {composed}",)}


def test_an_existing_group_is_filled_and_emptied_of_everyone_else() -> None:
    sales = group("g-sales", "Dept: Sales", "ann@example.com", "eve@example.com", "owner@example.com")
    found = plan([row("ann@example.com", "Sales"), row("bob@example.com", "Sales"), row("eve@example.com", None)],
                 DEPT["rules"], groups=[sales])
    assert ("Dept: Sales",) not in of(found, CreateGroup)
    assert of(found, AddMember) >= {("Dept: Sales", "bob@example.com")}
    assert {r for r in of(found, RemoveMember) if r[0] == "Dept: Sales"} == {
        ("Dept: Sales", "eve@example.com"), ("Dept: Sales", "owner@example.com")}, "a blank cell or no row: not a member"


def test_a_configured_manager_manages_each_group_and_nobody_else_does() -> None:
    sales = group("g-sales", "Dept: Sales", "ann@example.com")
    rules = [{"column": "Department", "name": "Dept: {value}", "manager": "ops@example.com"}]
    found = plan([row("ann@example.com", "Sales"), row("bob@example.com", "Ops")], rules, groups=[sales],
                 roles={tm("bob@example.com", "g-sales", True)})
    assert {g for g in of(found, GrantRole) if g[0].startswith("Dept:")} == {("Dept: Sales", "ops@example.com"),
                                                                           ("Dept: Ops", "ops@example.com")}
    assert ("Dept: Sales", "bob@example.com") in of(found, RevokeRole)


@pytest.mark.parametrize(("manager", "unusable"), [(None, False), ("gone@example.com", True)])
def test_a_rule_without_a_manager_takes_the_role_away(manager: str | None, unusable: bool) -> None:
    """Attack on issue 22 (F3): a rule's `manager:` removed, the old manager kept TEAM_MANAGER over every
    group of the rule while the README says 'no manager unless the rule names one'. A configured manager
    who is not an active member is reported, and the roles are left as they are."""
    sales = group("g-sales", "Dept: Sales", "ann@example.com")
    rule = {"column": "Department", "name": "Dept: {value}", **({"manager": manager} if manager else {})}
    found = plan([row("ann@example.com", "Sales")], [rule], groups=[sales], roles={tm("bob@example.com", "g-sales", True)})
    revoked = {r for r in of(found, RevokeRole) if r[0] == "Dept: Sales"}
    assert revoked == (set() if unusable else {("Dept: Sales", "bob@example.com")})
    assert not [g for g in of(found, GrantRole) if g[0] == "Dept: Sales"]


def test_a_group_of_a_value_no_row_has_is_emptied_not_deleted() -> None:
    old = group("g-old", "dept:  legacy", "ann@example.com")
    plain = group("g-usa", "USA", "bob@example.com")
    found = plan([row("ann@example.com", "Sales")], DEPT["rules"], groups=[old, plain],
                 delete_unmanaged_groups=True)
    assert ("dept:  legacy", "ann@example.com") in of(found, RemoveMember)
    assert not [a for a in found.actions if a.kind_name == "delete_group" and a.target == "dept:  legacy"]
    assert [a for a in found.actions if a.kind_name == "delete_group" and a.target == "USA"], "others stay unmanaged"


def test_a_name_already_wanted_is_left_to_its_first_claim() -> None:
    rules = [{"column": "Team", "name": "{value}"}]
    found = plan([row("ann@example.com", "Ops")], rules)  # "Ops" is the manager group of ops@example.com
    assert {(n.code, "Ops" in n.message) for n in found.notices} >= {("group_name_collision", True)}


COUNTRY = [{"column": "Country", "name": "{value}", "into_protected": True, "manager": "ops@example.com"}]
HOLIDAYS = {"g-de": ("holiday 'Tag der Einheit'",), "g-es": ("time-off policy 'ES'",)}


def protected_groups() -> list[Any]:
    return [group("g-de", "Germany", "ann@example.com", "bob@example.com", "owner@example.com", "eve@example.com"),
            group("g-es", "Spain", "cid@example.com")]


def test_into_protected_adds_and_moves_csv_users_and_nothing_else() -> None:
    rows = [row("ann@example.com", "Germany"), row("bob@example.com", "Spain"), row("cid@example.com", "Spain"),
            row("dee@example.com", "Germany"), row("eve@example.com", None)]
    found = plan(rows, COUNTRY, groups=protected_groups(), protected=HOLIDAYS)
    assert {a for a in of(found, AddMember) if a[0] in ("Germany", "Spain")} == {
        ("Spain", "bob@example.com"), ("Germany", "dee@example.com")}
    assert {a for a in of(found, RemoveMember) if a[0] in ("Germany", "Spain")} == {("Germany", "bob@example.com")}, \
        "bob moves; the owner (no row) and eve (blank) stay"
    assert all(a.into_protected for a in found.actions if isinstance(a, AddMember | RemoveMember)
               and a.group_name in ("Germany", "Spain"))
    assert not [a for a in found.actions if getattr(a, "entity_name", "") in ("Germany", "Spain")], "no manager there"
    assert not [a for a in found.actions if a.kind_name in ("delete_group", "create_group") and
                a.target in ("Germany", "Spain")]


def test_without_into_protected_a_protected_group_is_left_alone_with_a_warning() -> None:
    rules = [{"column": "Country", "name": "{value}"}]
    found = plan([row("dee@example.com", "Germany")], rules, groups=protected_groups(), protected=HOLIDAYS)
    assert not [a for a in found.actions if getattr(a, "group_name", "") == "Germany"]
    assert any(n.code == "protected_collision" and "into_protected" in n.message for n in found.notices)


def test_a_value_named_like_a_csv_country_gets_no_manager_even_when_created() -> None:
    rows = [replace(row("ann@example.com", "France"), country="France")]
    found = plan(rows, COUNTRY)
    assert ("France",) in of(found, CreateGroup)
    assert not [g for g in of(found, GrantRole) if g[0] == "France"]


def test_the_membership_threshold_covers_rule_groups() -> None:
    people = [member(f"p{i}@example.com") for i in range(40)]
    groups = [group("g-sales", "Dept: Sales", *(p.email for p in people))]
    rows = [row(p.email, "Engineering") for p in people]  # the column shifted: everyone moves
    state = current([OWNER, OPS, *people], groups=groups)
    found = diff(desired(spec("ops@example.com"), *rows), state, config(group_rules=DEPT["rules"]), PlanOptions())
    built = build_plan(found, workspace_id="ws", inputs={"csv": InputFingerprint(path="u.csv", sha256="0")},
                       options=PlanOptions(), created_at="2026-12-01T00:00:00Z", api_host="x",
                       seal_key=SealKey.derive("k", "ws"))
    with pytest.raises(TooMuchChange, match="too many membership removals"):
        check_thresholds(built)


@pytest.mark.parametrize(("rules", "message"), [
    ('[{column: Dept, name: "Dept"}]', "must use {value}"),
    ('[{column: Dept, name: "{dept}"}]', "must use {value}"),
    ('[{column: Dept, name: "{value"}]', "not a name template"),
    ('[{column: " ", name: "{value}"}]', "must name a column"),
    ('[{column: Dept, manager: "nobody"}]', "not an email address"),
    ('[{column: Dept, into_protectd: true}]', "unknown key"),
    ('{column: Dept}', "valid tuple"),
])
def test_bad_rules_name_key_and_line(tmp_path: Path, rules: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"workspace:\n  fallback_manager_email: ops@example.com\ngroup_rules: {rules}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, required=True)
    assert "line 3, key group_rules" in str(caught.value) and message in str(caught.value)


def test_a_rule_reads_its_value_back_from_a_group_name() -> None:
    rule = GroupRule(column="D", name="Dept: {value}")
    assert rule.value_of("dept:  Sales ") == "Sales"
    assert rule.value_of("Department: Sales") is None
    assert GroupRule(column="D").value_of("Sales") is None, "a bare {value} names any group: it cannot tell"
    assert uid("ann@example.com") == PEOPLE[0].id


def test_an_exception_on_someones_manager_leaves_their_rule_groups_alone_too() -> None:
    sales = group("g-sales", "Dept: Sales", "bob@example.com")
    rules = [{"email": "ann@example.com", "ignore": ["manager"], "reason": "two teams"},
             {"email": "bob@example.com", "ignore": ["manager"], "reason": "two teams"}]
    state = current([OWNER, OPS, *PEOPLE], groups=[sales])
    found = diff(desired(spec("ops@example.com"), row("ann@example.com", "Sales"), row("bob@example.com", "Ops")),
                 state, config(group_rules=DEPT["rules"], exceptions=rules), PlanOptions())
    assert not [a for a in found.actions if isinstance(a, AddMember | RemoveMember)
                and a.email in ("ann@example.com", "bob@example.com")]


def test_into_protected_takes_nobody_out_of_a_holiday_group_for_a_value_that_names_no_other() -> None:
    """Attack on issue 22 (F3a): one row naming the holiday group 'Germany Holidays' must not take out
    the people hand-placed there whose own value ('Germany') names no holiday group of the rule."""
    holidays = {"g-deh": ("holiday 'Tag der Einheit'",), "g-es": ("time-off policy 'ES'",)}
    groups = [group("g-deh", "Germany Holidays", "ann@example.com", "bob@example.com", "cid@example.com"),
              group("g-es", "Spain", "dee@example.com")]
    rows = [row("ann@example.com", "Germany"), row("bob@example.com", "Spain"), row("cid@example.com", "Germany"),
            row("eve@example.com", "Germany Holidays")]
    found = plan(rows, COUNTRY, groups=groups, protected=holidays)
    removed = {a for a in of(found, RemoveMember) if a[0] in ("Germany Holidays", "Spain")}
    assert removed == {("Germany Holidays", "bob@example.com")}, "bob moves to Spain; ann and cid stay"
    assert {a for a in of(found, AddMember) if a[0] in ("Germany Holidays", "Spain")} == {
        ("Germany Holidays", "eve@example.com"), ("Spain", "bob@example.com")}


def test_into_protected_never_empties_a_group_a_cell_happens_to_name() -> None:
    """Attack on issue 22 (F3b): a country cell 'Book club' names an unrelated group, protected only as a
    CSV country: the rule adds the row's user and removes nobody, and says so."""
    groups = [*protected_groups(), group("g-book", "Book club", "ann@example.com", "dee@example.com")]
    rows = [replace(row("ann@example.com", "Spain"), country="Spain"), row("dee@example.com", None),
            replace(row("eve@example.com", "Book club"), country="Book club")]
    found = plan(rows, COUNTRY, groups=groups, protected=HOLIDAYS)
    assert not [a for a in of(found, RemoveMember) if a[0] == "Book club"], "ann (Spain) stays in the book club"
    assert ("Book club", "eve@example.com") in of(found, AddMember)
    assert ("Spain", "ann@example.com") in of(found, AddMember)
    notice = next(n for n in found.notices if n.code == "rule_fills_group")
    assert "'Book club'" in notice.message and "no holiday or time-off group" in notice.message


def test_a_column_blank_in_every_row_leaves_the_rules_groups_as_they_are() -> None:
    """Final attack (F2): an emptied or shifted Department column emptied every group of the rule
    (8 removals, under the threshold). Blank in every row is read as a mistake, with a notice."""
    sales = group("g-sales", "Dept: Sales", "ann@example.com", "bob@example.com")
    ops = group("g-ops", "Dept: Ops", "cid@example.com")
    found = plan([row("ann@example.com", None), row("bob@example.com", None), row("cid@example.com", "")],
                 DEPT["rules"], groups=[sales, ops])
    assert not [a for a in of(found, RemoveMember) if a[0].startswith("Dept:")]
    assert not [a for a in of(found, AddMember) if a[0].startswith("Dept:")]
    notice = next(n for n in found.notices if n.code == "rule_column_blank")
    assert "'Department'" in notice.message and "left as they are" in notice.message
    one_value = plan([row("ann@example.com", "Sales"), row("bob@example.com", None), row("cid@example.com", None)],
                     DEPT["rules"], groups=[sales, ops])
    assert {a for a in of(one_value, RemoveMember) if a[0].startswith("Dept:")} == {
        ("Dept: Sales", "bob@example.com"), ("Dept: Ops", "cid@example.com")}, "one value: the rule holds"


def test_a_bare_value_rule_says_when_it_takes_members_out_of_an_existing_group() -> None:
    """Final attack (F1): a rule named just {value} cannot tell its groups from a hand-made one that a
    cell happens to name; the plan says so when members would leave it."""
    club = group("g-club", "Book club", "ann@example.com", "dee@example.com")
    rules = [{"column": "Department", "name": "{value}"}]
    found = plan([row("ann@example.com", "Sales"), row("eve@example.com", "Book club")], rules, groups=[club])
    notice = next(n for n in found.notices if n.code == "rule_adopts_group")
    assert "'Book club'" in notice.message and "2 member(s) leave it" in notice.message
    quiet = plan([row("ann@example.com", "Book club")], rules, groups=[group("g-club", "Book club", "ann@example.com")])
    assert not [n for n in quiet.notices if n.code == "rule_adopts_group"], "nobody leaves: nothing to say"
