"""A customer erased on their request (``crm.customer.erased.v1``): the contact centre forgets
who they are and keeps its records of them de-identified.

Gone: the identifier digests (a caller can no longer be recognised as them), their consent,
the numbers on their calls and callbacks. Kept: the calls and callbacks themselves (the queue
statistics and what the desk did are the bank's record), under the customer id, which no
longer leads to anyone. And nobody is to call them again: they go on the do-not-call register,
their scheduled callbacks are cancelled and their call-list entries withdrawn. No HTTP, no
Kafka, no commit."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.callbacks import repository as callbacks_repository
from services.contact_center.calls import repository as calls_repository
from services.contact_center.known_customers import repository as known_customers_repository
from services.contact_center.outbound import repository as outbound_repository

ERASED = "erased"
ERASURE_SOURCE = "erasure"
# A callback's number is NOT NULL and read as a string, so it cannot simply go: stars only,
# what a masked number shows, with nothing left to dial or to recognise.
ERASED_PHONE_NUMBER = "*" * 11


async def erase_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, reference: str, at: datetime
) -> None:
    """Every step writes fixed values (the event's own time included), so a second delivery
    changes nothing. A customer this service never heard of is recorded as erased, so that
    what arrives about them later (an opportunity to call about) finds them so."""
    await known_customers_repository.replace_identifiers(session, customer_id, [])
    await known_customers_repository.save_known_customer(
        session, {"customer_id": customer_id, "consent": {}, "status": ERASED, "updated_at": at}
    )
    await outbound_repository.keep_on_do_not_call(
        session,
        {
            "customer_id": customer_id,
            "reason": f"erased on request {reference}",
            "source": ERASURE_SOURCE,
            "added_at": at,
        },
    )
    await outbound_repository.withdraw_entries_of(session, customer_id, reason="erasure")
    await callbacks_repository.cancel_scheduled_callbacks(session, customer_id)
    await callbacks_repository.replace_callback_numbers(session, customer_id, ERASED_PHONE_NUMBER)
    await calls_repository.blank_caller_numbers(session, customer_id)
