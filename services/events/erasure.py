"""A customer erased on their request: what the detector offered them closes, and the
history it kept for backtests forgets what identified them.

No HTTP and no Kafka here, and no commit: the caller owns the transaction."""

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.decisions import repository as decisions_repository
from services.events.outcomes import close_as_expired
from services.events.repository import opportunities as opportunities_repository
from services.events.repository import states as states_repository

# What identified an erased customer in the consumed events the history keeps for backtests:
# the keyed digests of their identifiers (a caller's number matches them) and their birthday.
IDENTIFYING_FIELDS: dict[str, dict[str, Any]] = {
    "customer.registered": {"identifiers": [], "birth_month_day": None},
    "customer.updated": {"identifiers": []},
}
ERASED_OUTCOME = "customer erased"


async def forget_customer(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    now: datetime,
    unsaved_history: Sequence[dict[str, Any]] = (),
) -> None:
    """An erased customer (their state already forgot who they are): what was offered them
    and is still open closes as expired, nobody may act on it now, and the kept history loses
    what identified them, both the stored rows and the run's ``unsaved_history`` (written at
    the run's end). Opportunities and firings stay: they are what the bank did."""
    await decisions_repository.forget_customer(session, customer_id)
    closing = await opportunities_repository.open_of_customer(session, customer_id)
    await close_as_expired(session, closing, outcome=ERASED_OUTCOME, now=now)
    for event_name, fields in IDENTIFYING_FIELDS.items():
        await states_repository.overwrite_observed_fields(session, customer_id, event_name, fields)
    for row in unsaved_history:
        blanks = IDENTIFYING_FIELDS.get(row["event_name"])
        if blanks is not None and row["customer_id"] == customer_id:
            row["payload"] = json.dumps({**json.loads(row["payload"]), **blanks})
