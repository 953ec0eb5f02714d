"""Accounts and products opened and closed for a customer (a card keeps only its token).

Functions take the request's session and never commit; they record the events they cause in
the outbox of the same transaction."""

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import AccountClosed, AccountOpened
from services.customer.accounts import repository as accounts_repository
from services.customer.accounts.schemas import AccountClose, AccountOpen, AccountTerms
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.customers import service as customers_service
from services.customer.errors import (
    AccountExists,
    AccountNotFound,
    CustomerClosed,
    InvalidCardNumber,
)
from services.customer.identity.cards import card_token_last_four
from services.customer.models import (
    Account,
    AccountStatus,
    CustomerStatus,
    IdentifierKind,
    ProductType,
)
from shared.db import unique_violation_as
from shared.outbox import record_event
from shared.problems import Conflict, InvalidField, get_or_404


async def open_account(
    session: AsyncSession, request: AccountOpen, *, settings: Settings
) -> Account:
    customer = await customers_service.locked_customer(session, request.customer_id)
    if customer.status != CustomerStatus.ACTIVE:
        raise CustomerClosed(f"customer {customer.id} is closed")
    if await accounts_repository.get_account(session, request.account_number) is not None:
        raise AccountExists("an account with this number exists")
    account = new_account(request, customer.id, settings=settings)
    # Another opening of this number or card may have committed since the check.
    with unique_violation_as(AccountExists("an account with this number or card exists")):
        session.add(account)
        await session.flush()
        for kind, value in account_identifiers(account):
            await customers_repository.add_identifier(session, customer.id, kind, value)
    await record_event(session, opened_event(account))
    return account


def new_account(terms: AccountTerms, customer_id: uuid.UUID, *, settings: Settings) -> Account:
    """The account an opening makes, before anything is written; a card keeps its token."""
    token, last_four = None, None
    if terms.card_number is not None:
        token, last_four = _card_token(terms.card_number, settings=settings)
    return Account(
        account_number=terms.account_number,
        customer_id=customer_id,
        product_type=terms.product_type,
        product_code=terms.product_code,
        currency=terms.currency,
        balance=terms.opening_balance,
        opening_balance=terms.opening_balance,
        status=AccountStatus.OPEN,
        opened_on=terms.opened_on,
        maturity_date=terms.maturity_date,
        payoff_date=terms.payoff_date,
        card_token=token,
        card_last_four=last_four,
    )


def account_identifiers(account: Account) -> list[tuple[IdentifierKind, str]]:
    """What finds the customer by this account: its card's token, and its number."""
    found = [(IdentifierKind.CARD_TOKEN, account.card_token)] if account.card_token else []
    return [*found, (IdentifierKind.ACCOUNT_NUMBER, account.account_number)]


def opened_event(account: Account) -> AccountOpened:
    return AccountOpened(
        customer_id=account.customer_id,
        account_number=account.account_number,
        product_type=account.product_type,
        product_code=account.product_code,
        currency=account.currency,
        opened_on=account.opened_on,
        maturity_date=account.maturity_date,
        payoff_date=account.payoff_date,
    )


def _card_token(card_number: str, *, settings: Settings) -> tuple[str, str]:
    try:
        return card_token_last_four(
            card_number, key=settings.identifier_key.get_secret_value().encode()
        )
    except ValueError as error:
        raise InvalidCardNumber(f"card_number: {error}", field="card_number") from error


def card_token_for(card_number: str, *, settings: Settings) -> str:
    """The token a card is known by (its number itself is never stored)."""
    return _card_token(card_number, settings=settings)[0]


async def close_account(
    session: AsyncSession, account_number: str, request: AccountClose
) -> Account:
    account = await get_or_404(
        accounts_repository.get_account(session, account_number, for_update=True),
        AccountNotFound(f"no account ending {account_number[-4:]}"),
    )
    if account.status != AccountStatus.OPEN:
        raise Conflict(f"the account is {account.status}", account_status=str(account.status))
    if request.closed_on < account.opened_on:
        raise InvalidField("closed_on", "before the account was opened")
    if request.paid_off and account.product_type != ProductType.LOAN:
        raise InvalidField("paid_off", "only a loan is paid off")
    account.status = AccountStatus.CLOSED
    account.closed_on = request.closed_on
    if request.paid_off:
        account.balance = Decimal("0.00")
    await record_event(
        session,
        AccountClosed(
            customer_id=account.customer_id,
            account_number=account.account_number,
            product_type=account.product_type,
            closed_on=request.closed_on,
            paid_off=request.paid_off,
        ),
    )
    return account
