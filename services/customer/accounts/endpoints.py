"""HTTP API of accounts and the transaction ingest under ``/v1``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from services.customer.access import customer_in_reach, ensure_customer_in_reach, reach_of
from services.customer.accounts import ingest as accounts_ingest
from services.customer.accounts import service as accounts_service
from services.customer.accounts.schemas import (
    AccountClose,
    AccountOpen,
    AccountRead,
    TransactionBatch,
    TransactionBatchResult,
)
from services.customer.dependencies import SettingsDep
from services.customer.models import Account
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.masking import mask_account

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    tags=["accounts"],
)
async def open_account(
    body: AccountOpen,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Record an account or product opened for a customer (a card keeps only its token)."""
    await ensure_customer_in_reach(session, reach_of(principal), body.customer_id)

    async def open_it() -> tuple[AccountRead, dict[str, str]]:
        return account_read(
            await accounts_service.open_account(session, body, settings=settings)
        ), {}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/accounts",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=open_it,
    )


@router.post("/accounts/{account_number}/close", tags=["accounts"])
async def close_account(
    account_number: Annotated[str, Path(pattern=r"^\d{8,32}$")],
    body: AccountClose,
    session: SessionDep,
) -> AccountRead:
    return account_read(await accounts_service.close_account(session, account_number, body))


@router.post("/transactions", tags=["transactions"])
async def post_transactions(
    body: TransactionBatch, session: SessionDep, settings: SettingsDep
) -> TransactionBatchResult:
    """Ingest a batch (up to 1,000) from core banking or a channel; idempotent by
    ``transaction_id``: a retried batch reports its transactions as duplicates."""
    return await accounts_ingest.ingest_transactions(
        session, body, limit=settings.max_transactions_per_batch
    )


def account_read(account: Account) -> AccountRead:
    return AccountRead(
        account_number=mask_account(account.account_number),
        product_type=account.product_type,
        product_code=account.product_code,
        currency=account.currency,
        balance=account.balance,
        status=account.status,
        opened_on=account.opened_on,
        maturity_date=account.maturity_date,
        payoff_date=account.payoff_date,
        card_last_four=account.card_last_four,
    )
