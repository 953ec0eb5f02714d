"""Every query of the callbacks."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.models import Callback, CallbackStatus


async def callback(
    session: AsyncSession, callback_id: uuid.UUID, *, for_update: bool = False
) -> Callback | None:
    statement = select(Callback).where(Callback.id == callback_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def callbacks(
    session: AsyncSession, *, status: str | None, due_by: datetime | None, limit: int
) -> list[Callback]:
    statement = select(Callback).order_by(Callback.next_attempt_at, Callback.id).limit(limit)
    if status is not None:
        statement = statement.where(Callback.status == status)
    if due_by is not None:
        statement = statement.where(Callback.next_attempt_at <= due_by)
    return list(await session.scalars(statement))


async def cancel_scheduled_callbacks(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await session.execute(
        update(Callback)
        .where(Callback.customer_id == customer_id, Callback.status == CallbackStatus.SCHEDULED)
        .values(status=CallbackStatus.CANCELLED)
    )


async def replace_callback_numbers(
    session: AsyncSession, customer_id: uuid.UUID, phone_number: str
) -> None:
    await session.execute(
        update(Callback)
        .where(Callback.customer_id == customer_id, Callback.phone_number != phone_number)
        .values(phone_number=phone_number)
    )
