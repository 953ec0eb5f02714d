"""The handler of ``crm.customer.erased.v1``."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import CustomerErased
from services.contact_center.erasure import service as erasure
from shared.consumer import Handlers
from shared.envelope import EventEnvelope


async def customer_erased(
    session: AsyncSession, event: CustomerErased, envelope: EventEnvelope
) -> None:
    await erasure.erase_customer(
        session, event.customer_id, reference=event.request_reference, at=event.erased_at
    )


HANDLERS: Handlers = {CustomerErased: customer_erased}
