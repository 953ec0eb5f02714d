"""Share of wallet (客户占有率) where the bank knows it: the holdings a customer declared at
other institutions, recorded by their manager, against the bank's own balances; and the money
the customer moved to other banks. Where nothing is declared the share is unknown, never
estimated."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts import repository as accounts_repository
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.errors import CustomerClosed, CustomerNotFound
from services.customer.models import Customer, CustomerStatus
from services.customer.valuation.money import balances_cny, to_cny
from services.customer.wallet import repository as wallet_repository
from services.customer.wallet.models import ExternalHolding
from services.customer.wallet.schemas import HoldingDeclared, HoldingRead, ShareOfWallet
from shared.auth.tokens import Principal
from shared.problems import InvalidField, NotFound, get_or_404

PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")


class HoldingNotFound(NotFound):
    slug = "holding-not-found"


async def _customer(session: AsyncSession, customer_id: uuid.UUID, *, lock: bool) -> Customer:
    return await get_or_404(
        customers_repository.get_customer(session, customer_id, for_update=lock),
        CustomerNotFound(f"no customer {customer_id}"),
    )


async def _open_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await _customer(session, customer_id, lock=True)
    if customer.status != CustomerStatus.ACTIVE:
        raise CustomerClosed(f"customer {customer_id} is closed")
    return customer


def _declare(
    holding: ExternalHolding,
    declared: HoldingDeclared,
    *,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> None:
    today = now.astimezone(settings.bank_zone).date()
    if declared.declared_on > today:
        raise InvalidField("declared_on", f"must be {today} or before: a declaration is made")
    holding.institution_kind = declared.institution_kind
    holding.product_type = declared.product_type
    holding.amount_cny = declared.amount_cny
    holding.declared_on = declared.declared_on
    holding.recorded_by = principal.subject
    holding.recorded_at = now


async def record_holding(
    session: AsyncSession,
    customer_id: uuid.UUID,
    declared: HoldingDeclared,
    *,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> ExternalHolding:
    await _open_customer(session, customer_id)
    holding = ExternalHolding(id=uuid.uuid4(), customer_id=customer_id)
    _declare(holding, declared, principal=principal, settings=settings, now=now)
    session.add(holding)
    await session.flush()
    return holding


async def replace_holding(
    session: AsyncSession,
    customer_id: uuid.UUID,
    holding_id: uuid.UUID,
    declared: HoldingDeclared,
    *,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> ExternalHolding:
    """A newer declaration of the same holding: every field is the customer's latest word."""
    await _open_customer(session, customer_id)
    holding = await _holding(session, customer_id, holding_id)
    _declare(holding, declared, principal=principal, settings=settings, now=now)
    await session.flush()
    return holding


async def remove_holding(
    session: AsyncSession, customer_id: uuid.UUID, holding_id: uuid.UUID
) -> None:
    """The customer no longer holds it, or it was recorded in error."""
    await _customer(session, customer_id, lock=True)
    holding = await _holding(session, customer_id, holding_id)
    await wallet_repository.remove_holding(session, holding)


async def _holding(
    session: AsyncSession, customer_id: uuid.UUID, holding_id: uuid.UUID
) -> ExternalHolding:
    return await get_or_404(
        wallet_repository.holding(session, customer_id, holding_id, for_update=True),
        HoldingNotFound(f"no holding {holding_id} declared by customer {customer_id}"),
    )


async def holdings(session: AsyncSession, customer_id: uuid.UUID) -> list[HoldingRead]:
    await _customer(session, customer_id, lock=False)
    return [
        HoldingRead.model_validate(row, from_attributes=True)
        for row in await wallet_repository.holdings_of(session, customer_id)
    ]


def wallet_share(bank: Decimal, elsewhere: Decimal | None) -> Decimal | None:
    if elsewhere is None or bank + elsewhere <= 0:
        return None
    return (bank / (bank + elsewhere)).quantize(PLACES)


async def share_of_wallet(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    settings: Settings,
    start: datetime,
    end: datetime,
) -> ShareOfWallet:
    await _customer(session, customer_id, lock=False)
    assets, _ = balances_cny(await accounts_repository.accounts_of(session, customer_id), settings)
    declared = await wallet_repository.holdings_of(session, customer_id)
    elsewhere = sum((h.amount_cny for h in declared), Decimal("0")) if declared else None
    outflows = await wallet_repository.outflows_to_other_banks(
        session, customer_id, start=start, end=end
    )
    return ShareOfWallet(
        customer_id=customer_id,
        known=bool(declared),
        bank_assets_cny=assets.quantize(CENTS),
        declared_elsewhere_cny=elsewhere,
        share=wallet_share(assets, elsewhere),
        oldest_declaration_on=min((h.declared_on for h in declared), default=None),
        start=start,
        end=end,
        outflows_to_other_banks_cny=sum(
            (to_cny(amount, currency, settings) for currency, (amount, _) in outflows.items()),
            Decimal("0"),
        ).quantize(CENTS),
        outflow_transfers=sum(count for _, count in outflows.values()),
    )
