"""HTTP API of share of wallet (客户占有率): holdings declared elsewhere, and the share."""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.customer.access import customer_in_reach
from services.customer.dependencies import NowDep, SettingsDep
from services.customer.wallet import service as wallet_service
from services.customer.wallet.schemas import HoldingDeclared, HoldingRead, ShareOfWallet
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.periods import Moment, period

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])

OUTFLOW_PERIOD = timedelta(days=90)
HOLDINGS = "/customers/{customer_id}/external-holdings"


@router.get(HOLDINGS, tags=["customers"])
async def external_holdings(customer_id: uuid.UUID, session: SessionDep) -> list[HoldingRead]:
    """What the customer declared holding at other institutions, latest declared first."""
    return await wallet_service.holdings(session, customer_id)


@router.post(HOLDINGS, status_code=status.HTTP_201_CREATED, tags=["customers"])
async def record_external_holding(
    customer_id: uuid.UUID,
    body: HoldingDeclared,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> HoldingRead:
    """Record a holding the customer declared at another institution (by the caller)."""
    holding = await wallet_service.record_holding(
        session, customer_id, body, principal=principal, settings=settings, now=now
    )
    return HoldingRead.model_validate(holding, from_attributes=True)


@router.put(HOLDINGS + "/{holding_id}", tags=["customers"])
async def replace_external_holding(
    customer_id: uuid.UUID,
    holding_id: uuid.UUID,
    body: HoldingDeclared,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> HoldingRead:
    """Replace a holding with the customer's newer declaration of it."""
    holding = await wallet_service.replace_holding(
        session, customer_id, holding_id, body, principal=principal, settings=settings, now=now
    )
    return HoldingRead.model_validate(holding, from_attributes=True)


@router.delete(
    HOLDINGS + "/{holding_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["customers"]
)
async def remove_external_holding(
    customer_id: uuid.UUID, holding_id: uuid.UUID, session: SessionDep
) -> None:
    """The customer no longer holds it, or it was recorded in error."""
    await wallet_service.remove_holding(session, customer_id, holding_id)


@router.get("/customers/{customer_id}/share-of-wallet", tags=["customers"])
async def share_of_wallet(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
) -> ShareOfWallet:
    """The bank's share of the customer's wealth, where they declared what they hold elsewhere
    (``known: false`` and no share otherwise), and their transfers to other banks over the
    period (the last 90 days unless given)."""
    since, until = period(start, end, zone=settings.bank_zone, now=now, default=OUTFLOW_PERIOD)
    return await wallet_service.share_of_wallet(
        session, customer_id, settings=settings, start=since, end=until
    )
