"""Each return form's tables, counted from the cases' episodes.

Pure functions of the episodes, the period and the pack: no database, so that every rule of
where a complaint lands (a boundary, a reopening) is visible here and tested without one."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.complaints.deadlines import BusinessCalendar, DayCount, Period, RegulatoryPack
from services.complaints.returns.episodes import Episode
from services.complaints.returns.periods import ReportingPeriod
from services.complaints.returns.schemas import Cell, ReturnTable
from services.complaints.returns.taxonomy import Dimension, ReportingRules, ReturnShape

# DISP 1 Annex 1R's closing columns: by the end of the third business day after receipt, and
# within eight weeks of it.
_THREE_BUSINESS_DAYS = Period(3, DayCount.BUSINESS_DAYS)
_EIGHT_WEEKS = Period(56, DayCount.CALENDAR_DAYS)
# The CFPB's expectations: a response within 15 days, the complaint closed within 60.
_CFPB_RESPONSE = Period(15, DayCount.CALENDAR_DAYS)
_CFPB_CLOSING = Period(60, DayCount.CALENDAR_DAYS)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Counting:
    """What every form is counted with."""

    pack: RegulatoryPack
    period: ReportingPeriod
    as_of: datetime
    outlets: int | None
    personal_customers: int | None
    legal_entities: Sequence[str]

    @property
    def rules(self) -> ReportingRules:
        return self.pack.reporting

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.of(self.pack)

    def within(self, moment: datetime | None) -> bool:
        return moment is not None and self.period.start <= moment < self.period.end


def _received(episodes: Sequence[Episode], counting: Counting) -> list[Episode]:
    return [e for e in episodes if not e.reopened and counting.within(e.opened_at)]


def _by_code(dimension: Dimension, episodes: Sequence[Episode], counting: Counting) -> ReturnTable:
    counts = Counter(counting.rules.code_of(dimension, e.codes) for e in episodes)
    codes = counting.rules.codes[dimension].codes
    return ReturnTable(
        name=f"by_{dimension.value}",
        columns=["code", "label", "complaints"],
        rows=[[code.code, code.label, counts[code.code]] for code in codes],
    )


def _rate(count: int, per: int, base: int | None) -> float | None:
    return round(count * per / base, 2) if base else None


def nfra_quarterly(episodes: Sequence[Episode], counting: Counting) -> list[ReturnTable]:
    """Complaints received in the quarter by JR/T 0169 codes and by region; the decisions
    taken in it by how far their deadline was extended; the quarterly rates."""
    received = _received(episodes, counting)
    decided = [e for e in episodes if counting.within(e.decided_at)]
    on_time = Counter(min(e.extensions, 2) for e in decided if e.decided_on_time)
    handling = [
        ["decided_within_15_days", on_time[0]],
        ["decided_within_extension_to_30_days", on_time[1]],
        ["decided_within_further_30_days_with_approval", on_time[2]],
        ["decided_late", sum(1 for e in decided if not e.decided_on_time)],
    ]
    count = len(received)
    rates: list[list[Cell]] = [
        ["complaints", count],
        ["outlets", counting.outlets],
        ["personal_customers", counting.personal_customers],
        ["complaints_per_1000_outlets", _rate(count, 1000, counting.outlets)],
        [
            "complaints_per_10_million_personal_customers",
            _rate(count, 10_000_000, counting.personal_customers),
        ],
    ]
    dimensions = (
        Dimension.BUSINESS_CHANNEL,
        Dimension.BUSINESS_TYPE,
        Dimension.CAUSE,
        Dimension.REGION,
    )
    return [
        *(_by_code(dimension, received, counting) for dimension in dimensions),
        ReturnTable(name="handling_time", columns=["measure", "complaints"], rows=handling),
        ReturnTable(name="rates", columns=["measure", "value"], rows=rates),
    ]


_FCA_COLUMNS = [
    "outstanding_at_start",
    "opened",
    "closed_within_3_business_days",
    "closed_after_3_business_days_within_8_weeks",
    "closed_after_8_weeks",
    "upheld_percent_within_3_business_days",
    "upheld_percent_after_3_business_days_within_8_weeks",
    "upheld_percent_after_8_weeks",
    "redress_paid",
]


def _fca_figures(episodes: Sequence[Episode], counting: Counting) -> list[Cell]:
    """One row of DISP 1 Annex 1R's table 1 for these episodes (a reopened complaint is
    reported as a new one, opened when it was reopened)."""
    calendar = counting.calendar
    closed: list[list[Episode]] = [[], [], []]
    for e in episodes:
        if counting.within(e.closed_at):
            assert e.closed_at is not None
            if e.closed_at <= calendar.due(e.opened_at, _THREE_BUSINESS_DAYS):
                closed[0].append(e)
            elif e.closed_at <= calendar.due(e.opened_at, _EIGHT_WEEKS):
                closed[1].append(e)
            else:
                closed[2].append(e)
    upheld = [
        round(100 * sum(e.upheld for e in bucket) / len(bucket), 1) if bucket else None
        for bucket in closed
    ]
    redress = sum((e.redress_paid for bucket in closed for e in bucket), Decimal(0))
    return [
        sum(1 for e in episodes if e.open_at(counting.period.start)),
        sum(1 for e in episodes if counting.within(e.opened_at)),
        *(len(bucket) for bucket in closed),
        *upheld,
        redress.quantize(_CENT),
    ]


def _grouped(
    episodes: Sequence[Episode], key: Callable[[Episode], str | None]
) -> dict[str | None, list[Episode]]:
    groups: dict[str | None, list[Episode]] = {}
    for e in episodes:
        groups.setdefault(key(e), []).append(e)
    return groups


def _by_cause(
    episodes: Sequence[Episode], counting: Counting, dimension: Dimension, prefix: list[Cell]
) -> list[list[Cell]]:
    """Rows of complaints opened in the period, by ``dimension`` and main cause."""
    rules = counting.rules
    causes = rules.codes[Dimension.CAUSE].codes
    opened = [e for e in episodes if counting.within(e.opened_at)]
    counts = Counter(
        (rules.code_of(dimension, e.codes), rules.code_of(Dimension.CAUSE, e.codes)) for e in opened
    )
    return [
        [*prefix, code.code, code.label, *(counts[(code.code, c.code)] for c in causes)]
        for code in rules.codes[dimension].codes
    ]


def fca_disp_1_annex_1r(episodes: Sequence[Episode], counting: Counting) -> list[ReturnTable]:
    rules, group = counting.rules, Dimension.PRODUCT_GROUP
    by_group = _grouped(episodes, lambda e: rules.code_of(group, e.codes))
    causes = [c.code for c in rules.codes[Dimension.CAUSE].codes]
    return [
        ReturnTable(
            name="complaints_by_product_group",
            columns=["product_group", "label", *_FCA_COLUMNS],
            rows=[
                [code.code, code.label, *_fca_figures(by_group.get(code.code, []), counting)]
                for code in rules.codes[group].codes
            ],
        ),
        ReturnTable(
            name="opened_by_product_group_and_cause",
            columns=["product_group", "label", *causes],
            rows=_by_cause(episodes, counting, group, []),
        ),
    ]


def fca_consolidated(episodes: Sequence[Episode], counting: Counting) -> list[ReturnTable]:
    """PS25/19: one section per legal entity, by the product taxonomy, with the vulnerable
    customers' figures."""
    rules, product = counting.rules, Dimension.PRODUCT
    default_entity = counting.legal_entities[0]
    by_entity = _grouped(
        episodes, lambda e: (e.classification or {}).get("legal_entity") or default_entity
    )
    products, vulnerability, causes_rows = [], [], []
    for entity in counting.legal_entities:
        own = by_entity.get(entity, [])
        by_product = _grouped(own, lambda e: rules.code_of(product, e.codes))
        products += [
            [entity, code.code, code.label, *_fca_figures(by_product.get(code.code, []), counting)]
            for code in rules.codes[product].codes
        ]
        causes_rows += _by_cause(own, counting, product, [entity])
        opened = [e for e in own if counting.within(e.opened_at)]
        vulnerability.append(
            [
                entity,
                len(opened),
                sum(e.flag("vulnerable") for e in opened),
                sum(e.flag("vulnerability_related") for e in opened),
            ]
        )
    causes = [c.code for c in rules.codes[Dimension.CAUSE].codes]
    return [
        ReturnTable(
            name="complaints_by_product",
            columns=["legal_entity", "product", "label", *_FCA_COLUMNS],
            rows=products,
        ),
        ReturnTable(
            name="opened_by_product_and_cause",
            columns=["legal_entity", "product", "label", *causes],
            rows=causes_rows,
        ),
        ReturnTable(
            name="vulnerable_customers",
            columns=[
                "legal_entity",
                "opened",
                "opened_by_customers_in_vulnerable_circumstances",
                "opened_about_vulnerability_not_considered",
            ],
            rows=vulnerability,
        ),
    ]


def _cfpb_answer(first: Episode, latest: Episode, counting: Counting) -> list[Cell]:
    """company response, timely response, closed within 60 days: as known at ``as_of``."""
    calendar, as_of = counting.calendar, counting.as_of
    respond_by = calendar.due(first.received_at, _CFPB_RESPONSE)
    close_by = calendar.due(first.received_at, _CFPB_CLOSING)
    responses = [m for m in (first.decided_at, first.closed_at) if m is not None]
    responded = min(responses) if responses else None

    def met(done: datetime | None, due: datetime) -> str:
        if done is not None:
            return "Yes" if done <= due else "No"
        return "No" if as_of > due else ""

    if latest.closed_at is None:
        late = responded is None and as_of > respond_by
        answer = "Untimely response" if late else "In progress"
    elif latest.upheld and latest.redress_paid > 0:
        answer = "Closed with monetary relief"
    elif latest.upheld:
        answer = "Closed with non-monetary relief"
    else:
        answer = "Closed with explanation"
    return [answer, met(responded, respond_by), met(first.closed_at, close_by)]


def cfpb(episodes: Sequence[Episode], counting: Counting) -> list[ReturnTable]:
    """The complaints received in the period, each with the CFPB's fields, and their counts
    by product and issue."""
    rules = counting.rules
    latest = {e.complaint_id: e for e in episodes}  # episodes come in order
    rows: list[list[Cell]] = []
    for first in _received(episodes, counting):
        last = latest[first.complaint_id]
        codes = last.codes
        local_day = counting.calendar.local_date(first.received_at)
        rows.append(
            [
                str(first.complaint_id),
                local_day.isoformat(),
                rules.code_of(Dimension.PRODUCT, codes),
                codes.get(Dimension.SUB_PRODUCT.value, ""),
                rules.code_of(Dimension.ISSUE, codes),
                codes.get(Dimension.SUB_ISSUE.value, ""),
                rules.submitted_via.get(first.channel, "Other"),
                *_cfpb_answer(first, last, counting),
            ]
        )
    rows.sort(key=lambda row: (str(row[1]), str(row[0])))
    totals: Counter[tuple[str, str]] = Counter()
    timely: Counter[tuple[str, str]] = Counter()
    closed: Counter[tuple[str, str]] = Counter()
    for row in rows:
        key = (str(row[2]), str(row[4]))
        totals[key] += 1
        timely[key] += row[8] == "Yes"
        closed[key] += row[9] == "Yes"
    return [
        ReturnTable(
            name="complaints",
            columns=[
                "complaint_id",
                "date_received",
                "product",
                "sub_product",
                "issue",
                "sub_issue",
                "submitted_via",
                "company_response",
                "timely_response",
                "closed_within_60_days",
            ],
            rows=rows,
        ),
        ReturnTable(
            name="by_product_and_issue",
            columns=["product", "issue", "complaints", "timely_responses", "closed_within_60_days"],
            rows=[[*key, n, timely[key], closed[key]] for key, n in sorted(totals.items())],
        ),
    ]


FORMS: dict[ReturnShape, Callable[[Sequence[Episode], Counting], list[ReturnTable]]] = {
    ReturnShape.NFRA_QUARTERLY: nfra_quarterly,
    ReturnShape.FCA_DISP_1_ANNEX_1R: fca_disp_1_annex_1r,
    ReturnShape.FCA_CONSOLIDATED: fca_consolidated,
    ReturnShape.CFPB: cfpb,
}
