"""Every query of the letters, and the case history they quote."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.letters.models import ComplaintLetter
from services.complaints.models import HistoryEntry


def add(session: AsyncSession, letter: ComplaintLetter) -> None:
    session.add(letter)


async def letters_of(session: AsyncSession, complaint_id: uuid.UUID) -> Sequence[ComplaintLetter]:
    statement = (
        select(ComplaintLetter)
        .where(ComplaintLetter.complaint_id == complaint_id)
        .order_by(ComplaintLetter.issued_at, ComplaintLetter.id)
    )
    return (await session.scalars(statement)).all()


async def letter(
    session: AsyncSession, complaint_id: uuid.UUID, letter_id: uuid.UUID
) -> ComplaintLetter | None:
    statement = select(ComplaintLetter).where(
        ComplaintLetter.id == letter_id, ComplaintLetter.complaint_id == complaint_id
    )
    return (await session.scalars(statement)).first()


async def last_decision(
    session: AsyncSession, complaint_id: uuid.UUID, action: str
) -> dict[str, Any] | None:
    """What the case's latest ``action`` decided (a resolution proposed again replaces the
    one a supervisor returned)."""
    statement = (
        select(HistoryEntry.decision)
        .where(HistoryEntry.complaint_id == complaint_id, HistoryEntry.action == action)
        .order_by(HistoryEntry.seq.desc())
        .limit(1)
    )
    return await session.scalar(statement)
