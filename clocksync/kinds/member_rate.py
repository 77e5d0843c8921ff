"""Member rates: each member's billable (hourly) and cost rate, one PUT per rate.

- **Desired**: the optional columns ``csv.hourly_rate_column`` and ``csv.cost_rate_column`` hold an
  amount in the workspace currency (``85.50``, ``85,50``, ``85``); ``csv.rates_since_column`` an
  optional ISO date the rates apply from. A blank cell leaves that rate unmanaged; the exception
  keyword ``rates`` leaves both alone.
- **Amounts** are integers of hundredths on the wire (``85.50`` -> 8550: the spec's
  ``HourlyRateRequestV1.amount``, an int32 of at least 0), for every currency: Clockify's currency
  is a free-text label (up to 100 characters), and its rates carry two decimals whatever the label
  (docs/live-api.md). A cell with more than two decimals is an input error, never rounded: a
  rounded rate is a wrong invoice.
- **Current**: read from the users list clocksync reads anyway (``memberships=WORKSPACE``: the
  workspace membership's ``hourlyRate`` / ``costRate``), so rates cost no request of their own.
- **Write**: ``PUT /users/{userId}/hourly-rate`` or ``/cost-rate`` (setHourlyRateForUser,
  setCostRateForUser) with ``{"amount", "since"}``. A since-date after the plan's day waits: the
  rate is planned on or after that day (the plan says so), so what Clockify shows as the current
  rate always matches what the plan reads back.
- **Sensitive**: reports say that a rate changes, never the amounts (``clocksync show
  --show-sensitive`` shows them); the plan file and the audit CSV keep them.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from clocksync.clockify.client import ClockifyClient
from clocksync.clockify.schemas import WireUser
from clocksync.columns import Cells, ColumnError, RowValue
from clocksync.config import Config, config_key, exception_keyword
from clocksync.kinds.base import (
    HIDDEN,
    READY,
    Action,
    Answer,
    ExportColumns,
    Handler,
    Key,
    KeyKind,
    Shown,
    Sign,
    UndoContext,
    UserAction,
    ValueChange,
    Verdict,
    in_place,
    rule,
    stale,
)
from clocksync.kinds.live import LiveView, ObjectKind, Ref, Snapshot
from clocksync.model import CurrentState, Member, StatePart

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext

HOURLY_RATE_COLUMN = config_key("hourly_rate_column", str, "Hourly Rate", section="csv")
COST_RATE_COLUMN = config_key("cost_rate_column", str, "Cost Rate", section="csv")
RATES_SINCE_COLUMN = config_key("rates_since_column", str, "Rates Since", section="csv")
RATES = exception_keyword("rates")  # exceptions: leave someone's rates alone

MAX_AMOUNT = 2**31 - 1  # the spec's int32
_AMOUNT = re.compile(r"^(?P<units>[0-9]+)(?:[.,](?P<cents>[0-9]+))?$")


class RateKind(enum.StrEnum):
    """Which rate: the path segment of its PUT, and how reports name it."""

    HOURLY = "hourly-rate"
    COST = "cost-rate"

    @property
    def label(self) -> str:
        return "hourly rate" if self is RateKind.HOURLY else "cost rate"


def parse_amount(text: str) -> int:
    """A rate cell -> hundredths: ``85.50``, ``85,50`` -> 8550; ``85`` -> 8500. Raises ValueError."""
    cleaned = text.strip()
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError(f"{cleaned!r} is not an amount: write a number in the workspace currency, e.g. 85.50 "
                         "(no currency sign, no thousands separator)")
    cents = match.group("cents") or ""
    if len(cents) > 2:
        raise ValueError(f"{cleaned!r} has more than two decimals: Clockify keeps rates in hundredths, and "
                         "clocksync does not round a rate")
    try:
        amount = int(Decimal(f"{match.group('units')}.{cents or '0'}") * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"{cleaned!r} is not an amount") from None
    if amount > MAX_AMOUNT:
        raise ValueError(f"{cleaned!r} is more than Clockify holds ({format_amount(MAX_AMOUNT)})")
    return amount


def format_amount(amount: int | None) -> str:
    """Hundredths as the cell that reads back to them: 8550 -> ``85.50``."""
    if amount is None:
        return ""
    return f"{amount // 100}.{amount % 100:02d}"


# ---------------------------------------------------------------------- desired and current


@dataclass(frozen=True)
class DesiredRates(RowValue):
    """A row's rates in hundredths (None: the cell is blank, the rate unmanaged) and since-date."""

    hourly: int | None
    cost: int | None
    since: str | None  # ISO date

    def amount(self, which: RateKind) -> int | None:
        return self.hourly if which is RateKind.HOURLY else self.cost

    @classmethod
    def columns(cls, config: Config) -> tuple[str, ...]:
        return (config.value(HOURLY_RATE_COLUMN), config.value(COST_RATE_COLUMN), config.value(RATES_SINCE_COLUMN))

    @classmethod
    def required_columns(cls, config: Config) -> dict[str, str]:
        return config.names(HOURLY_RATE_COLUMN, COST_RATE_COLUMN, RATES_SINCE_COLUMN)

    @classmethod
    def read(cls, cell: Cells, config: Config) -> DesiredRates | None:
        hourly_column, cost_column, since_column = cls.columns(config)
        amounts: list[int | None] = []
        for column in (hourly_column, cost_column):
            text = cell(column)
            try:
                amounts.append(parse_amount(text) if text else None)
            except ValueError as exc:
                raise ColumnError(column, str(exc)) from None
        since_text = cell(since_column)
        since = None
        if since_text:
            try:
                since = datetime.date.fromisoformat(since_text).isoformat() if len(since_text) == 10 else None
            except ValueError:
                since = None
            if since is None:
                raise ColumnError(since_column, f"not a date: {since_text[:40]!r} (expected YYYY-MM-DD)")
        if amounts == [None, None]:
            return None
        return cls(amounts[0], amounts[1], since)


@dataclass(frozen=True)
class Rates:
    hourly: int | None = None
    cost: int | None = None

    def amount(self, which: RateKind) -> int | None:
        return self.hourly if which is RateKind.HOURLY else self.cost


@dataclass
class MemberRates(StatePart):
    """Each member's rates as the users list shows them (their workspace membership), and the currency."""

    by_user: dict[str, Rates] = field(default_factory=dict)
    currency: str | None = None

    @classmethod
    def read(cls, users: Sequence[WireUser], workspace_id: str) -> Self:
        part = cls()
        for user in users:
            for membership in user.memberships:
                if membership.membership_type == "WORKSPACE" and membership.target_id == workspace_id:
                    hourly, cost = membership.hourly_rate, membership.cost_rate
                    part.by_user[user.id] = Rates(hourly.amount if hourly else None, cost.amount if cost else None)
                    part.currency = part.currency or (hourly.currency if hourly else None)
        return part

    def copy(self) -> Self:
        return type(self)(dict(self.by_user), self.currency)

    def amount(self, user_id: str, which: RateKind) -> int | None:
        return self.by_user.get(user_id, Rates()).amount(which)


def _live(view: LiveView) -> MemberRates:
    part = view.part(MemberRates)
    if part is None:  # a view of a state read without it (a test's literal model): no rates known
        part = view.parts[MemberRates] = MemberRates()
    return part


class RatesSnapshot(Snapshot):
    """A member's rates whole (hundredths)."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.RATES
    email: str
    hourly: int | None = None
    cost: int | None = None

    @classmethod
    def read(cls, view: LiveView, ident: str) -> RatesSnapshot | None:
        if ident not in view.members:
            return None
        rates = _live(view).by_user.get(ident, Rates())
        return cls(email=view.email_of(ident), hourly=rates.hourly, cost=rates.cost)

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        return f"rates of {view.email_of(ident)}"

    @classmethod
    def hides(cls, field: str, shown: Shown) -> bool:
        return field in ("hourly", "cost") and shown.hides()


# ---------------------------------------------------------------------- the action


class SetMemberRate(UserAction):
    """Set one of a member's rates (hundredths); ``before`` is what the plan expects to find."""

    kind: Literal["set_member_rate"] = "set_member_rate"
    step: ClassVar[int] = 1
    order: ClassVar[int] = 3
    sign: ClassVar[Sign] = Sign.CHANGE
    user_id: str
    rate: RateKind
    before: int | None
    after: int
    since: str | None = None  # ISO date the rate applies from

    @property
    def identity(self) -> str:
        return f"rate|{self.user_id}|{self.rate.value}"

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"{self.email}: {self.line(shown)}"

    def line(self, shown: Shown = HIDDEN) -> str:
        since = f" from {self.since}" if self.since else ""
        if shown.hides():
            return f"{self.rate.label} changes{since} (amounts hidden)"
        return f"{self.rate.label} {format_amount(self.before) or '(unset)'} -> {format_amount(self.after)}{since}"

    def hides(self, path: str, shown: Shown) -> bool:
        return path in ("before", "after") and shown.hides()

    def audit(self) -> tuple[str, str]:
        return (f"{self.rate.label}={format_amount(self.before) or '(unset)'}",
                f"{self.rate.label}={format_amount(self.after)}" + (f" from {self.since}" if self.since else ""))

    def needs(self) -> tuple[Key, ...]:
        return (Key(KeyKind.ACTIVE, self.user_id),)

    def value_changes(self) -> tuple[ValueChange, ...]:
        return (ValueChange(self.rate.label, format_amount(self.before) or None, format_amount(self.after),
                            sensitive=True),)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        before = run.snapshot(RatesSnapshot, self.user_id)
        amount = None if before is None else (before.hourly if self.rate is RateKind.HOURLY else before.cost)
        if amount is None:
            return [], [f"{self.email}: the {self.rate.label} was unset before the run and cannot be unset through "
                        "the API; it stays as the run set it"]
        return [SetMemberRate(user_id=self.user_id, email=self.email, rate=self.rate, before=self.after, after=amount,
                              since=self.since, reason=f"undo: restore {self.email}'s {self.rate.label}")], []


# ---------------------------------------------------------------------- the rule


@rule(order=3)
def member_rates(ctx: PlanContext, out: Emit) -> None:
    """Each managed user's hourly and cost rates equal the CSV (exceptions aside); a since-date after
    the plan's day waits for that day."""
    current = ctx.current.part(MemberRates) or MemberRates()
    waiting = 0
    for user_id, (spec, member) in ctx.managed.items():
        wanted = spec.value(DesiredRates)
        if wanted is None or ctx.exceptions.ignores(spec.email, RATES):
            continue
        for which in RateKind:
            after, before = wanted.amount(which), current.amount(user_id, which)
            if after is None or after == before:
                continue
            if wanted.since and ctx.options.as_of and wanted.since > ctx.options.as_of:
                waiting += 1
                continue
            out.action(SetMemberRate(user_id=user_id, email=member.email, rate=which, before=before, after=after,
                                     since=wanted.since, reason=f"CSV row {spec.row}"))
    if waiting:
        out.note("rates_upcoming", f"{waiting} rate change(s) apply from a date after {ctx.options.as_of}: they are "
                 "planned on or after that day")


# ---------------------------------------------------------------------- apply


class MemberRateHandler(Handler[SetMemberRate]):
    handles = (SetMemberRate,)

    def touches(self, action: SetMemberRate, view: LiveView) -> tuple[Ref, ...]:
        return (Ref(ObjectKind.RATES, action.user_id),)

    def misnamed(self, action: SetMemberRate, view: LiveView) -> list[str]:
        return [p for p in (view.user_named(action.user_id, action.email),) if p]

    def verdict(self, action: SetMemberRate, view: LiveView) -> Verdict:
        member = view.members.get(action.user_id)
        if member is None or not member.status.manageable:
            return stale("the user is no longer an active member")
        live = _live(view).amount(action.user_id, action.rate)
        if live == action.after:
            return in_place(f"the {action.rate.label} is already set")
        if live == action.before:
            return READY
        return stale(f"the {action.rate.label} changed since the plan (amounts in the audit CSV)")

    async def write(self, action: SetMemberRate, view: LiveView, client: ClockifyClient) -> Answer:
        since = f"{action.since}T00:00:00Z" if action.since else None
        await client.set_member_rate(action.user_id, action.rate.value, action.after, since=since)
        return Answer()  # the answer is the workspace: verification reads the users list back

    def effect(self, action: SetMemberRate, view: LiveView, created_id: str | None) -> None:
        part = _live(view)
        rates = part.by_user.get(action.user_id, Rates())
        hourly, cost = rates.hourly, rates.cost
        if action.rate is RateKind.HOURLY:
            hourly = action.after
        else:
            cost = action.after
        part.by_user[action.user_id] = Rates(hourly, cost)


# ---------------------------------------------------------------------- export


class RateColumns(ExportColumns):
    """``clocksync export`` writes each member's rates as amounts (``85.50``), when any member has one."""

    csv_keys = (HOURLY_RATE_COLUMN, COST_RATE_COLUMN, RATES_SINCE_COLUMN)

    @classmethod
    def columns(cls, state: CurrentState, config: Config) -> list[tuple[str, Callable[[Member], str]]]:
        part = state.part(MemberRates)
        if part is None or not any(r.hourly is not None or r.cost is not None for r in part.by_user.values()):
            return []

        def cell(which: RateKind) -> Callable[[Member], str]:
            return lambda member: format_amount(part.amount(member.id, which))

        return [(config.value(HOURLY_RATE_COLUMN), cell(RateKind.HOURLY)),
                (config.value(COST_RATE_COLUMN), cell(RateKind.COST))]
