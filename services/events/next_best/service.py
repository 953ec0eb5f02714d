"""The next best actions of one customer: their context read, the arbitration applied. No
HTTP, no commit."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.config import Settings
from services.events.next_best import repository
from services.events.next_best.catalogue import catalogue
from services.events.next_best.ranking import Arbitration, CustomerContext, OpenOffer, arbitrate
from services.events.service import business_day


async def next_best_actions(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    channel: str | None,
    settings: Settings,
    now: datetime,
    manager_id: str | None,
) -> Arbitration | None:
    """None when the customer is unknown to the detector, or (``manager_id`` given: a
    manager asks) not that manager's."""
    window = settings.fatigue_window_days
    row = await repository.context_of(
        session,
        customer_id,
        since_day=business_day(now, settings) - timedelta(days=window - 1),
        since_at=now - timedelta(days=window),
    )
    if row is None or (manager_id is not None and row.manager_id != manager_id):
        return None
    context = CustomerContext(
        status=row.status,
        consent=row.consent,
        open_complaints=row.open_complaints,
        products_held=frozenset(row.products_held),
        contacts_in_window=row.offers + row.conversations,
    )
    offers = [
        OpenOffer(o.id, o.rule_id, o.action, o.product)
        for o in await repository.open_offers(session, customer_id)
    ]
    return arbitrate(
        context,
        offers,
        catalogue(),
        channel=channel,
        weights=settings.action_weights,
        fatigue_cap=settings.fatigue_cap,
    )
