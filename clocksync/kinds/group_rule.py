"""Group rules: groups from an HR attribute (department, location, country), like IdP group rules.

```yaml
group_rules:
  - column: "Department"
    name: "Dept: {value}"            # one group per distinct value of the column
    manager: "ops-lead@example.com"  # optional: holds TEAM_MANAGER over each of the rule's groups
  - column: "Country (Label)"
    name: "{value}"
    into_protected: true             # may put CSV users into protected (holiday/time-off) groups
```

Each rule makes one group per distinct value of its column among the managed users (values
compared in NFC without regard to case; the group is named after the first row's spelling), whose
members are exactly the users with that value; a blank cell is no value. Its groups have no
manager unless ``manager`` names one. Groups the rule made earlier for a value no row has any more
are emptied (recognised by the literal text of ``name`` around ``{value}``; a rule named just
``{value}`` cannot recognise them, so it leaves them).

A group of a rule that has a protected group's name is left alone, with a warning, unless the rule
says ``into_protected: true``: then CSV users with that value are added to it, and a CSV user whose
value names another of the rule's holiday or time-off groups (or config-listed groups) moves there;
nobody else is removed, and it is never deleted, renamed or given a manager. An existing group that
is protected only because a CSV cell names it (a typo, a value from another export naming an
unrelated group) is only added to, with a notice. The resolution is in ``plan/groups.py``; the groups' creates,
members and manager roles are the group, membership and role kinds' actions.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator

from clocksync.columns import Cells, RowValue
from clocksync.config import Config, ConfigKey, config_email, config_key
from clocksync.kinds.base import ExportColumns
from clocksync.model import CurrentState, Member, name_key


class GroupRule(BaseModel):
    """One rule of ``group_rules``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    column: str
    name: str = "{value}"
    manager: str | None = None  # email of the member who manages the rule's groups
    into_protected: bool = False

    @field_validator("column")
    @classmethod
    def _column(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a column of the users file")
        return value.strip()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"is not a name template ({exc}); write {{value}} where the cell goes") from None
        if fields != {"value"}:
            raise ValueError("must use {value} (the cell's text) and nothing else, e.g. \"Dept: {value}\"")
        return value

    @field_validator("manager")
    @classmethod
    def _manager(cls, value: str | None) -> str | None:
        return config_email(value) if value is not None else None

    def group_name(self, value: str) -> str:
        return self.name.format(value=value).strip()

    def value_of(self, group_name: str) -> str | None:
        """The value a group of this rule was named after, as the name spells it; None when the name
        is not the rule's, or the rule cannot tell (a template of just ``{value}`` names any group)."""
        pattern = _pattern(self.name)
        found = pattern.match(group_name) if pattern is not None else None
        return found.group(1).strip() if found else None


def _pattern(template: str) -> re.Pattern[str] | None:
    """A regex of the names a template makes: its literal text in any case and spacing around ``{value}``."""
    prefix, _, suffix = template.partition("{value}")

    def literal(text: str) -> str:
        words = text.replace("{{", "{").replace("}}", "}").split()
        return r"\s+".join(re.escape(w) for w in words)

    if not prefix.strip() and not suffix.strip():
        return None
    head = literal(prefix) + (r"\s*" if prefix[-1:].isspace() or not prefix else "")
    tail = (r"\s*" if suffix[:1].isspace() or not suffix else "") + literal(suffix)
    return re.compile(r"^\s*" + head + r"(.+?)" + tail + r"\s*$", re.IGNORECASE | re.DOTALL)


GROUP_RULES: ConfigKey[tuple[GroupRule, ...]] = config_key("group_rules", tuple[GroupRule, ...], ())


@dataclass(frozen=True)
class RuleValues(RowValue):
    """A row's cell in each rule's column (None: blank), in the order of ``group_rules``."""

    values: tuple[str | None, ...]

    @classmethod
    def columns(cls, config: Config) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.column for r in config.value(GROUP_RULES)))

    @classmethod
    def required_columns(cls, config: Config) -> dict[str, str]:
        """Every rule's column: a rule whose column is missing would empty every group it made."""
        named: dict[str, str] = {}
        for i, rule in enumerate(config.value(GROUP_RULES)):
            named.setdefault(rule.column, f"group_rules.{i}.column")
        return named

    @classmethod
    def read(cls, cell: Cells, config: Config) -> RuleValues | None:
        rules = config.value(GROUP_RULES)
        if not rules:
            return None
        return cls(tuple(cell(r.column) or None for r in rules))


class RuleColumns(ExportColumns):
    """``clocksync export`` writes each rule's column from the rule's group each member is in (a
    column the field mapping exports already is left to it), and the rules themselves."""

    @classmethod
    def columns(cls, state: CurrentState, config: Config) -> list[tuple[str, Callable[[Member], str]]]:
        exported = {name_key(c) for c in config.field_mapping}
        columns: list[tuple[str, Callable[[Member], str]]] = []
        for rule in config.value(GROUP_RULES):
            if name_key(rule.column) in exported:
                continue
            exported.add(name_key(rule.column))
            columns.append((rule.column, _values_from_groups(state, rule)))
        return columns

    @classmethod
    def top_lines(cls, config: Config, state: CurrentState) -> list[str]:
        rules = config.value(GROUP_RULES)
        if not rules:
            return []
        lines = ["group_rules:  # groups from HR attributes"]
        for rule in rules:
            lines += [f"  - column: {json.dumps(rule.column, ensure_ascii=False)}",
                      f"    name: {json.dumps(rule.name, ensure_ascii=False)}"]
            if rule.manager:
                lines.append(f"    manager: {json.dumps(rule.manager, ensure_ascii=False)}")
            if rule.into_protected:
                lines.append("    into_protected: true")
        return lines


def _values_from_groups(state: CurrentState, rule: GroupRule) -> Callable[[Member], str]:
    """A member's value of the rule: the one rule group they are in gives it back (else blank)."""
    def cell(member: Member) -> str:
        values = {name_key(v): v for g in state.groups_of.get(member.id, ()) if (v := rule.value_of(g.name))}
        return next(iter(values.values())) if len(values) == 1 else ""
    return cell
