"""Queries of onboarding: what of a batch the bank already holds, and the batch's rows."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Account, CustomerIdentifier, IdentifierKind
from shared.bulk import copy_rows


async def identifier_owners(
    session: AsyncSession, identifiers: Sequence[tuple[IdentifierKind, str]]
) -> dict[tuple[str, str], uuid.UUID]:
    """The customers already holding any of these identifiers."""
    rows = await session.execute(
        select(
            CustomerIdentifier.kind, CustomerIdentifier.value, CustomerIdentifier.customer_id
        ).where(tuple_(CustomerIdentifier.kind, CustomerIdentifier.value).in_(identifiers))
    )
    return {(row.kind, row.value): row.customer_id for row in rows}


async def accounts_held(
    session: AsyncSession, numbers: Sequence[str], card_tokens: Sequence[str]
) -> tuple[set[str], set[str]]:
    """The account numbers and card tokens among these that accounts already have."""
    rows = await session.execute(
        select(Account.account_number, Account.card_token).where(
            Account.account_number.in_(numbers) | Account.card_token.in_(card_tokens)
        )
    )
    found = rows.all()
    return {row.account_number for row in found}, {row.card_token for row in found}


async def add_identifiers(
    session: AsyncSession, rows: Sequence[tuple[uuid.UUID, IdentifierKind, str]]
) -> None:
    # New customers only: no row can meet one already there, so a COPY needs no conflict rule.
    await copy_rows(
        session, CustomerIdentifier.__tablename__, ("customer_id", "kind", "value"), rows
    )
