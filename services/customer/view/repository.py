"""The 360 view's data, read in one statement.

Channels ask for the view on every call and every screen. Read one list at a time, it made
ten queries, each a round trip paying the driver's and the ORM's fixed cost, and that was
most of the view's time. Here the customer's row comes with every list built by the database
as a JSON array, which the view validates straight into its answer models. Amounts travel as
text: a JSON number would be read back through a float.

Also the segment history read as of a moment, and the open complaints and opportunities kept
from other services' events for the view."""

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    UUID,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    ScalarSelect,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts.repository import fees_by_currency
from services.customer.attrition.models import AttritionRisk
from services.customer.groups.models import CustomerGroup, GroupMember
from services.customer.models import (
    Account,
    Customer,
    Interaction,
    MonthlyFlow,
    PostedTransaction,
    Relationship,
    SegmentChange,
)
from services.customer.projections import OpenComplaint, OpenOpportunity
from services.customer.surveys.repository import satisfaction_average
from shared.bulk import upsert

MOMENT = DateTime(timezone=True)
# An order key: the column's name in the list, and whether it runs newest (largest) first.
OrderKey = tuple[str, bool]


@dataclass(frozen=True)
class ViewLists:
    """Every list as a JSON array, its items named as the view's answer names them."""

    accounts: str  # with full account numbers: the view masks them
    fees: dict[str, str]  # currency → fees paid in the period asked, as text (decoded JSON)
    satisfaction: float | None  # the satisfaction index's average, unrounded
    relationships: str
    group: str | None  # the current group as a JSON object, if the customer is in one
    open_complaints: str
    open_opportunities: str
    recent_transactions: str
    recent_interactions: str
    monthly_figures: str
    attrition_risk: str | None  # the risk as the batch last read it, as a JSON object


def _json_array(
    columns: list[Any],
    where: ColumnElement[bool],
    order: list[OrderKey],
    *,
    limit: ColumnElement[int] | None = None,
) -> ScalarSelect[Any]:
    """The rows chosen as one JSON array, in ``order`` (the first ``limit`` of them)."""

    def ordered(column: Any, newest: bool) -> Any:
        return column.desc() if newest else column

    by = [ordered(literal_column(name), newest) for name, newest in order]
    chosen = select(*columns).where(where).order_by(*by).limit(limit).subquery("r")
    in_order = [ordered(chosen.c[name], newest) for name, newest in order]
    rows = func.coalesce(
        func.json_agg(aggregate_order_by(literal_column("r"), *in_order)),
        literal_column("'[]'::json"),
    )
    # As text: the driver would otherwise decode it into dicts only for the view to walk them.
    return select(cast(rows, Text)).select_from(chosen).scalar_subquery()


def _text(column: Any, name: str) -> Any:
    return cast(column, Text).label(name)


def _accounts(customer_id: Any) -> ScalarSelect[Any]:
    a = Account
    return _json_array(
        [
            a.account_number,
            a.product_type,
            a.product_code,
            a.currency,
            _text(a.balance, "balance"),
            a.status,
            a.opened_on,
            a.maturity_date,
            a.payoff_date,
            a.card_last_four,
        ],
        a.customer_id == customer_id,
        [("opened_on", False)],
    )


def _fees(customer_id: Any) -> ScalarSelect[Any]:
    """The fees paid per currency as one JSON object (currency → total, as text)."""
    fees = fees_by_currency(customer_id, since=bindparam("fees_since", type_=MOMENT)).subquery()
    return (
        select(
            func.coalesce(
                func.json_object_agg(fees.c.currency, cast(fees.c.total, Text)),
                literal_column("'{}'::json"),
            )
        )
        .select_from(fees)
        .scalar_subquery()
    )


def _satisfaction(customer_id: Any) -> ScalarSelect[Any]:
    since = bindparam("satisfaction_since", type_=MOMENT)
    return satisfaction_average(customer_id, since=since).scalar_subquery()


def _relationships(customer_id: Any) -> ScalarSelect[Any]:
    return _json_array(
        [Relationship.related_customer_id, Relationship.kind, Relationship.since],
        Relationship.customer_id == customer_id,
        [("kind", False), ("since", False)],
    )


def _group(customer_id: Any) -> ScalarSelect[Any]:
    """The customer's current household or group, found by the index that keeps a customer
    in one group at a time."""
    m, g = GroupMember, CustomerGroup
    fields: list[Any] = []
    for name, column in [
        ("group_id", g.id),
        ("kind", g.kind),
        ("name", g.name),
        ("role", m.role),
        ("parent_customer_id", m.parent_customer_id),
        ("since", m.since),
    ]:
        fields += [literal_column(f"'{name}'"), column]
    return (
        select(cast(func.json_build_object(*fields), Text))
        .join_from(m, g, g.id == m.group_id)
        .where(m.customer_id == customer_id, m.until.is_(None))
        .scalar_subquery()
    )


def _open_complaints(customer_id: Any) -> ScalarSelect[Any]:
    return _json_array(
        [
            OpenComplaint.complaint_id,
            OpenComplaint.category,
            OpenComplaint.priority,
            OpenComplaint.step,
            OpenComplaint.received_at,
            OpenComplaint.due_at,
            OpenComplaint.escalation_level,
        ],
        OpenComplaint.customer_id == customer_id,
        [("received_at", False)],
    )


def _open_opportunities(customer_id: Any) -> ScalarSelect[Any]:
    return _json_array(
        [
            OpenOpportunity.opportunity_id,
            OpenOpportunity.action,
            OpenOpportunity.product,
            OpenOpportunity.priority,
            OpenOpportunity.status,
            OpenOpportunity.owner,
            OpenOpportunity.due_at,
            OpenOpportunity.expires_at,
        ],
        OpenOpportunity.customer_id == customer_id,
        [("priority", False), ("due_at", False)],
    )


def _recent_transactions(customer_id: Any, recent: Any) -> ScalarSelect[Any]:
    t = PostedTransaction
    return _json_array(
        [
            t.transaction_id,
            t.direction,
            _text(t.amount, "amount"),
            t.currency,
            _text(t.balance_after, "balance_after"),
            t.kind,
            t.channel,
            t.counterparty_name,
            t.booked_at,
            t.reversed_at,
        ],
        t.customer_id == customer_id,
        [("booked_at", True)],
        limit=recent,
    )


def _recent_interactions(customer_id: Any, recent: Any) -> ScalarSelect[Any]:
    i = Interaction
    return _json_array(
        [i.id, i.channel, i.kind, i.summary, i.occurred_at, i.source],
        i.customer_id == customer_id,
        [("occurred_at", True)],
        limit=recent,
    )


def _monthly_figures(customer_id: Any) -> ScalarSelect[Any]:
    figures_since = bindparam("figures_since", type_=Date)
    return _json_array(
        [
            MonthlyFlow.month,
            MonthlyFlow.currency,
            _text(MonthlyFlow.money_in, "money_in"),
            _text(MonthlyFlow.money_out, "money_out"),
            MonthlyFlow.transaction_count,
        ],
        (MonthlyFlow.customer_id == customer_id) & (MonthlyFlow.month >= figures_since),
        [("month", True), ("currency", False)],
    )


def _attrition_risk(customer_id: Any) -> ScalarSelect[Any]:
    """The customer's risk as one JSON object, named as the view's answer names it."""
    r = AttritionRisk
    fields: list[Any] = []
    for name, column in [
        ("probability", r.probability),
        ("band", r.band),
        ("contributions", r.contributions),
        ("evidence_responses", r.responses),
        ("evidence_attritions", r.attritions),
        ("computed_at", r.computed_at),
    ]:
        fields += [literal_column(f"'{name}'"), column]
    return (
        select(cast(func.json_build_object(*fields), Text))
        .where(r.customer_id == customer_id)
        .scalar_subquery()
    )


def _view_statement() -> Select[Any]:
    """The customer's row and then each list, in the order of :class:`ViewLists`."""
    customer_id = bindparam("customer_id", type_=UUID(as_uuid=True))
    recent = bindparam("recent", type_=Integer)
    return select(
        Customer,
        _accounts(customer_id),
        _fees(customer_id),
        _satisfaction(customer_id),
        _relationships(customer_id),
        _group(customer_id),
        _open_complaints(customer_id),
        _open_opportunities(customer_id),
        _recent_transactions(customer_id, recent),
        _recent_interactions(customer_id, recent),
        _monthly_figures(customer_id),
        _attrition_risk(customer_id),
    ).where(Customer.id == customer_id)


# Built once: building a statement of this size took longer than running it.
VIEW_STATEMENT = _view_statement()


@dataclass(frozen=True)
class ViewWindows:
    """How far back the view's lists and figures reach."""

    recent: int  # transactions and interactions
    figures_since: date
    fees_since: datetime
    satisfaction_since: datetime

    def parameters(self, customer_id: uuid.UUID) -> dict[str, Any]:
        """The view statement's parameters for one customer."""
        return {"customer_id": customer_id, **asdict(self)}


async def customer_view_data(
    session: AsyncSession, customer_id: uuid.UUID, windows: ViewWindows
) -> tuple[Customer, ViewLists] | None:
    """The customer and every list of the view (None if there is no such customer)."""
    row = (await session.execute(VIEW_STATEMENT, windows.parameters(customer_id))).one_or_none()
    if row is None:
        return None
    customer, *lists = row
    return customer, ViewLists(*lists)


async def segments_as_of(
    session: AsyncSession, customer_id: uuid.UUID, as_of: datetime
) -> dict[str, SegmentChange]:
    """The change in force at ``as_of`` for each dimension (the latest one not after it)."""
    statement = (
        select(SegmentChange)
        .where(SegmentChange.customer_id == customer_id, SegmentChange.effective_at <= as_of)
        .order_by(
            SegmentChange.dimension, SegmentChange.effective_at.desc(), SegmentChange.id.desc()
        )
        .ext(distinct_on(SegmentChange.dimension))
    )
    return {change.dimension: change for change in (await session.scalars(statement)).all()}


async def upsert_open_complaint(session: AsyncSession, row: dict[str, Any]) -> None:
    await upsert(session, OpenComplaint, row, key="complaint_id")


async def update_open_complaint(
    session: AsyncSession, complaint_id: uuid.UUID, **values: Any
) -> None:
    await session.execute(
        update(OpenComplaint).where(OpenComplaint.complaint_id == complaint_id).values(**values)
    )


async def remove_open_complaint(session: AsyncSession, complaint_id: uuid.UUID) -> None:
    await session.execute(delete(OpenComplaint).where(OpenComplaint.complaint_id == complaint_id))


async def upsert_open_opportunity(session: AsyncSession, row: dict[str, Any]) -> None:
    await upsert(session, OpenOpportunity, row, key="opportunity_id")


async def update_open_opportunity(
    session: AsyncSession, opportunity_id: uuid.UUID, **values: Any
) -> None:
    await session.execute(
        update(OpenOpportunity)
        .where(OpenOpportunity.opportunity_id == opportunity_id)
        .values(**values)
    )


async def remove_open_opportunity(session: AsyncSession, opportunity_id: uuid.UUID) -> None:
    await session.execute(
        delete(OpenOpportunity).where(OpenOpportunity.opportunity_id == opportunity_id)
    )
