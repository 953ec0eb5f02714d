"""The returns service: checking a proposal's classification against the case's pack, and
producing a period's return."""

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.config import Settings
from services.complaints.deadlines import PACKS, BusinessCalendar, RegulatoryPack
from services.complaints.repository.stats import StatsScope
from services.complaints.returns import repository as returns_repository
from services.complaints.returns.episodes import episodes_of
from services.complaints.returns.forms import FORMS, Counting
from services.complaints.returns.periods import reporting_period
from services.complaints.returns.schemas import ComplaintReturn, RegulatoryClassification
from shared.money import Money
from shared.problems import InvalidField

_FIELD = "classification"


def classification_decided(
    classification: RegulatoryClassification,
    compensation: Money | None,
    *,
    pack: RegulatoryPack,
    settings: Settings,
) -> dict[str, Any]:
    """The classification as the case's history keeps it; a 422 naming the field when the
    case's pack cannot report it."""
    rules = pack.reporting
    codes = {dimension.value: code for dimension, code in classification.codes.items()}
    for dimension, problem in rules.problems(codes):
        raise InvalidField(f"{_FIELD}.codes.{dimension}", problem)
    entity = classification.legal_entity or settings.legal_entities[0]
    if entity not in settings.legal_entities:
        raise InvalidField(f"{_FIELD}.legal_entity", f"is not one of {settings.legal_entities}")
    if compensation is not None and compensation.currency != rules.currency:
        raise InvalidField(
            "compensation.currency",
            f"the {pack.code} return reports redress in {rules.currency}",
        )
    decided = classification.model_dump(mode="json")
    return {**decided, "codes": codes, "legal_entity": entity}


async def complaint_return(
    session: AsyncSession,
    *,
    jurisdiction: str,
    period_label: str,
    scope: StatsScope,
    settings: Settings,
    now: datetime,
) -> ComplaintReturn:
    """The pack's return for the period, over the cases the caller reaches."""
    pack = PACKS[jurisdiction]
    period = reporting_period(period_label, pack)
    form = pack.reporting.form_for(period.first_day)
    rows = await returns_repository.history_rows(
        session,
        pack=pack.code,
        scope=StatsScope(
            period.start, period.end, scope.department_limited, scope.reachable_department
        ),
        as_of=now,
    )
    episodes = episodes_of(rows)
    counting = Counting(
        pack=pack,
        period=period,
        as_of=now,
        outlets=settings.outlets,
        personal_customers=settings.personal_customers,
        legal_entities=settings.legal_entities,
    )
    counted = [
        e
        for e in episodes
        if counting.within(e.opened_at) or counting.within(e.closed_at) or e.open_at(period.start)
    ]
    due = (
        BusinessCalendar.of(pack).add_business_days(period.last_day, form.due_business_days)
        if form.due_business_days is not None
        else None
    )
    return ComplaintReturn(
        jurisdiction=pack.code,
        form=form.code,
        form_name=form.name,
        period=period.label,
        first_day=period.first_day,
        last_day=period.last_day,
        due=due,
        produced_at=now,
        unclassified=len({e.complaint_id for e in counted if not e.classified}),
        tables=FORMS[form.shape](episodes, counting),
    )


def as_csv(answer: ComplaintReturn) -> str:
    """The return's tables one after another, each under a line naming it, for a
    spreadsheet; the first line names the form and the period."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["return", answer.form, answer.period, answer.first_day, answer.last_day])
    for table in answer.tables:
        writer.writerow([])
        writer.writerow(["table", table.name])
        writer.writerow(table.columns)
        writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
    return out.getvalue()
