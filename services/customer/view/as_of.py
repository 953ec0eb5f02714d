"""The 360 view as it stood at a past moment, and what changed since: what a manager needs to
answer "what did this customer hold when they complained on 3 March?".

The customer's own row, accounts, relationships and group come from ``customer_history`` (one
snapshot per facet and change), the segments from their own history, the balances from each
posting's ``balance_after``. Each part is shown as the live view shows it (the same answer
models, the same masking), so the view then is the live view taken then."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts.schemas import AccountRead
from services.customer.config import Settings
from services.customer.customers.answers import customer_read
from services.customer.customers.service import get_customer
from services.customer.groups.schemas import GroupMembershipRead
from services.customer.history import repository as history_repository
from services.customer.history.models import Facet
from services.customer.history.repository import FacetState, HistoryAround
from services.customer.models import Customer, SegmentChange
from services.customer.relationships.schemas import RelationshipRead
from services.customer.valuation.money import balances_cny
from services.customer.valuation.segmentation import SegmentDimension
from services.customer.view import repository as view_repository
from services.customer.view.schemas import CustomerViewAsOf, SegmentChangeRead, ViewChange
from shared.masking import mask_account
from shared.periods import InvalidPeriod

DIMENSIONS = ("value_tier", "loyalty", "usage_density", "lifecycle_stage")
# A facet with no row yet had nothing: no account, no tie, no group.
EMPTY: dict[Facet, Any] = {Facet.ACCOUNTS: [], Facet.RELATIONSHIPS: [], Facet.GROUP: None}
# Dated items not yet begun at the moment, left out when only a later state is known.
BEGUN_ON = {Facet.ACCOUNTS: "opened_on", Facet.RELATIONSHIPS: "since"}


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def customer_then(
    customer_id: uuid.UUID,
    snapshot: dict[str, Any],
    segments: dict[str, str | None],
    last_activity_at: datetime | None,
) -> Customer:
    """The customer's row as it was (a transient object: never added to the session)."""
    manager = snapshot["manager_id"]
    return Customer(
        id=customer_id,
        kind=snapshot["kind"],
        name=snapshot["name"],
        status=snapshot["status"],
        version=snapshot["version"],
        branch_code=snapshot["branch_code"],
        manager_id=None if manager is None else uuid.UUID(manager),
        profile=snapshot["profile"],
        consent=snapshot["consent"],
        **segments,
        last_activity_at=last_activity_at,
        created_at=_moment(snapshot["created_at"]),
        updated_at=_moment(snapshot["updated_at"]),
    )


def _state_then(history: HistoryAround, facet: Facet, *, complete: bool) -> Any:
    known = history.then.get(facet)
    if known is None and (not complete or facet is Facet.CUSTOMER):
        # Before the history began: the earliest state known stands for the moment.
        known = next((s for s in history.since if s.facet is facet), None)
    return EMPTY.get(facet) if known is None else known.snapshot


def _segments_then(
    then: dict[str, SegmentChange], since: list[SegmentChange], current: Customer
) -> dict[str, str | None]:
    segments: dict[str, str | None] = {}
    for dimension in DIMENSIONS:
        change = then.get(dimension)
        later = next((c for c in since if c.dimension == dimension), None)
        if change is not None:
            segments[dimension] = change.current
        elif later is not None:
            # The first change after the moment says what held until it; only the tier
            # recorded when the customer was taken on has nothing before it.
            first = dimension == "value_tier" and later.previous is None
            segments[dimension] = later.current if first else later.previous
        else:
            segments[dimension] = getattr(current, dimension)
    return segments


def _flat(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        return {
            key: item
            for name, inner in value.items()
            for key, item in _flat(inner, f"{path}.{name}").items()
        }
    return {path: value}


def _shown(facet: Facet, snapshot: Any, current: Customer, settings: Settings) -> dict[str, Any]:
    """A facet's state as the view shows it, one entry per field (account numbers masked)."""
    if facet is Facet.CUSTOMER:
        segments = {dimension: getattr(current, dimension) for dimension in DIMENSIONS}
        read = customer_read(customer_then(current.id, snapshot, segments, None), settings)
        shown = read.model_dump(mode="json", exclude={"id", "segments", "last_activity_at"})
    elif facet is Facet.ACCOUNTS:
        shown = {
            mask_account(a["account_number"]): {k: v for k, v in a.items() if k != "account_number"}
            for a in snapshot
        }
    elif facet is Facet.RELATIONSHIPS:
        shown = {f"{r['related_customer_id']}:{r['kind']}": {"since": r["since"]} for r in snapshot}
    else:
        shown = snapshot
    return _flat(shown, facet.value)


def _changes(old: dict[str, Any], new: dict[str, Any], at: datetime) -> Iterable[ViewChange]:
    for field in sorted(old.keys() | new.keys()):
        if old.get(field) != new.get(field):
            yield ViewChange(field=field, old=old.get(field), new=new.get(field), at=at)


def changed_since(
    then: dict[Facet, Any],
    later: list[FacetState],
    segment_changes: list[SegmentChange],
    *,
    current: Customer,
    settings: Settings,
) -> list[ViewChange]:
    """Each later state against the one before it, field by field, with the segment changes;
    oldest first."""
    shown = {facet: _shown(facet, state, current, settings) for facet, state in then.items()}
    changes = [
        ViewChange(
            # The risk's band is no customer segment in the view: it has a block of its own.
            field=(
                "attrition_risk.band"
                if c.dimension == SegmentDimension.ATTRITION_RISK
                else f"customer.segments.{c.dimension}"
            ),
            old=c.previous,
            new=c.current,
            at=c.effective_at,
        )
        for c in segment_changes
    ]
    for state in later:
        after = _shown(state.facet, state.snapshot, current, settings)
        changes += _changes(shown[state.facet], after, state.valid_from)
        shown[state.facet] = after
    return sorted(changes, key=lambda change: change.at)


def _begun(items: list[dict[str, Any]], key: str, moment: datetime) -> list[dict[str, Any]]:
    day = moment.date().isoformat()
    return [item for item in items if item[key] <= day]


async def customer_view_as_of(
    session: AsyncSession, customer_id: uuid.UUID, as_of: datetime, *, settings: Settings
) -> CustomerViewAsOf:
    """The view at ``as_of``; a moment in the future is read as now."""
    moment = min(as_of, datetime.now(UTC))
    current = await get_customer(session, customer_id)
    if moment < current.created_at:
        raise InvalidPeriod(
            "as_of", f"is before the customer was taken on ({current.created_at.isoformat()})"
        )
    history = await history_repository.history_around(session, customer_id, moment)
    complete = moment >= history.complete_from
    then = {facet: _state_then(history, facet, complete=complete) for facet in Facet}
    if not complete:
        for facet, key in BEGUN_ON.items():
            then[facet] = _begun(then[facet], key, moment)
        if then[Facet.GROUP] is not None and then[Facet.GROUP]["since"] > moment.date().isoformat():
            then[Facet.GROUP] = None
    segment_changes = await history_repository.segment_changes_since(session, customer_id, moment)
    in_force = await view_repository.segments_as_of(session, customer_id, moment)
    segments = _segments_then(in_force, segment_changes, current)
    attrition = in_force.get(SegmentDimension.ATTRITION_RISK)
    customer = customer_then(customer_id, then[Facet.CUSTOMER], segments, history.last_activity_at)
    balances = await history_repository.balances_as_of(session, customer_id, moment)
    accounts = [
        AccountRead.model_validate(
            {**item, "balance": balances.get(item["account_number"], Decimal("0.00"))}
        )
        for item in then[Facet.ACCOUNTS]
    ]
    total, _ = balances_cny(accounts, settings)
    for account in accounts:
        account.account_number = mask_account(account.account_number)
    group = then[Facet.GROUP]
    return CustomerViewAsOf(
        as_of=moment,
        history_complete_from=history.complete_from,
        history_complete=complete,
        customer=customer_read(customer, settings),
        accounts=accounts,
        total_balance_cny=total.quantize(Decimal("0.01")),
        fee_discount_percent=settings.tier_policies[customer.value_tier].fee_discount_percent,
        relationships=[RelationshipRead.model_validate(r) for r in then[Facet.RELATIONSHIPS]],
        group=None if group is None else GroupMembershipRead.model_validate(group),
        attrition_risk=(
            None
            if attrition is None
            else SegmentChangeRead.model_validate(attrition, from_attributes=True)
        ),
        changed_since=changed_since(
            then, history.since, segment_changes, current=current, settings=settings
        ),
    )
