"""Complaint deadlines: regulatory packs, counted on the jurisdiction's business calendar.

A pack says how long the bank has to acknowledge a complaint and to decide it, from when the
clock starts, how far the decision may be extended and by whom, and per-category exceptions.
The calendar itself (``shared.business_calendar``, on the ``holidays`` package) also knows
mainland China's make-up working days (调休): a Saturday worked in exchange for a bridged
holiday is a business day.

Every deadline ends at the end of its local day: staff read "due 15 March" and mean all of it.

Sources of the shipped packs:
- ``cn``: 《银行保险机构消费投诉处理管理办法》 (CBIRC Order 2020 No. 3, art. 20): a decision
  within 15 days, 30 for a complex case, a further 30 for an especially complex one with a
  senior approval; periods in days end on the next working day when the last day is a rest
  day (Civil Code art. 201, 203). The 1-business-day acknowledgement is the bank's own rule.
- ``uk``: FCA DISP 1.5.1 (summary resolution by the end of the third business day after
  receipt), DISP 1.6.2 (final response within eight weeks), DISP 1.6.2A (payment services: 15
  business days, 35 with a holding reply); business days on the England calendar.
- ``us``: CFPB complaint process: a response within 15 calendar days, final within 60.

Each pack also carries its reporting rules: periods, code lists and return forms
(``services.complaints.returns.codes``).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.complaints.procedure import StaffRole
from services.complaints.returns import codes as reporting
from services.complaints.returns.taxonomy import ReportingRules
from shared.business_calendar import BusinessCalendar as CountryCalendar


class DayCount(StrEnum):
    BUSINESS_DAYS = "business_days"
    CALENDAR_DAYS = "calendar_days"


class ClockStart(StrEnum):
    RECEIPT = "receipt"
    ACCEPTANCE = "acceptance"


@dataclass(frozen=True)
class Period:
    days: int
    count: DayCount
    # A calendar period whose last day is a rest day ends on the next business day instead.
    roll_to_business_day: bool = False


@dataclass(frozen=True)
class Extension:
    period: Period  # the whole period from the clock's start, not the days added
    approvers: frozenset[StaffRole]


@dataclass(frozen=True)
class DecisionRule:
    period: Period
    extensions: tuple[Extension, ...] = ()


@dataclass(frozen=True)
class RegulatoryPack:
    code: str
    name: str
    timezone: str
    country: str
    subdivision: str | None
    acknowledgement: Period
    decision: DecisionRule
    decision_clock: ClockStart
    reporting: ReportingRules
    by_category: dict[str, DecisionRule] = field(default_factory=dict)

    def decision_rule(self, category: str, overrides: dict[str, DecisionRule]) -> DecisionRule:
        return overrides.get(category) or self.by_category.get(category) or self.decision


@dataclass(frozen=True)
class BusinessCalendar(CountryCalendar):
    """The pack's country calendar, counting the pack's periods."""

    @classmethod
    def of(cls, pack: RegulatoryPack) -> "BusinessCalendar":
        return cls(pack.country, pack.subdivision, ZoneInfo(pack.timezone))

    def due(self, start: datetime, period: Period) -> datetime:
        """The last moment of a period that starts at ``start``; the start day is not counted."""
        first_day = self.local_date(start)
        if period.count is DayCount.BUSINESS_DAYS:
            last_day = self.add_business_days(first_day, period.days)
        else:
            last_day = first_day + timedelta(days=period.days)
            if period.roll_to_business_day:
                while not self.is_business_day(last_day):
                    last_day += timedelta(days=1)
        return self.end_of_day(last_day)


def _calendar_days(days: int, *, roll: bool = False) -> Period:
    return Period(days, DayCount.CALENDAR_DAYS, roll)


def _business_days(days: int) -> Period:
    return Period(days, DayCount.BUSINESS_DAYS)


_HANDLER_OR_SUPERVISOR = frozenset({StaffRole.DEPARTMENT_HANDLER, StaffRole.SUPERVISOR})
_SUPERVISOR = frozenset({StaffRole.SUPERVISOR})

PACKS: dict[str, RegulatoryPack] = {
    pack.code: pack
    for pack in (
        RegulatoryPack(
            code="cn",
            name="Mainland China: NFRA banking consumer complaints",
            timezone="Asia/Shanghai",
            country="CN",
            subdivision=None,
            acknowledgement=_business_days(1),
            decision=DecisionRule(
                _calendar_days(15, roll=True),
                (
                    Extension(_calendar_days(30, roll=True), _HANDLER_OR_SUPERVISOR),
                    Extension(_calendar_days(60, roll=True), _SUPERVISOR),
                ),
            ),
            decision_clock=ClockStart.ACCEPTANCE,
            reporting=reporting.CN,
        ),
        RegulatoryPack(
            code="uk",
            name="United Kingdom: FCA DISP",
            timezone="Europe/London",
            country="GB",
            subdivision="ENG",
            acknowledgement=_business_days(3),
            decision=DecisionRule(_calendar_days(56)),
            decision_clock=ClockStart.RECEIPT,
            reporting=reporting.UK,
            by_category={
                "payment_services": DecisionRule(
                    _business_days(15),
                    (Extension(_business_days(35), _HANDLER_OR_SUPERVISOR),),
                )
            },
        ),
        RegulatoryPack(
            code="us",
            name="United States: CFPB",
            timezone="America/New_York",
            country="US",
            subdivision=None,
            acknowledgement=_business_days(1),
            decision=DecisionRule(
                _calendar_days(15), (Extension(_calendar_days(60), _HANDLER_OR_SUPERVISOR),)
            ),
            decision_clock=ClockStart.RECEIPT,
            reporting=reporting.US,
        ),
    )
}
