"""HTTP API of accounts and the transaction ingest under ``/v1``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from services.customer.access import customer_in_reach, ensure_customer_in_reach, reach_of
from services.customer.accounts import ingest as accounts_ingest
from services.customer.accounts import service as accounts_service
from services.customer.accounts.schemas import (
    AccountClose,
    AccountOpen,
    AccountRead,
    BatchAnswer,
    TransactionBatch,
    TransactionBatchResult,
    TransactionBatchSummary,
)
from services.customer.dependencies import SettingsDep
from services.customer.models import Account
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.json_body import JsonBody
from shared.masking import mask_account
from shared.problems import Problem

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    tags=["accounts"],
    responses={
        409: {
            "description": "The account number or card is already an account's"
            " (`account-exists`), or the customer is closed (`customer-closed`)",
            "model": Problem,
        }
    },
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


TRANSACTION_BATCH = JsonBody(TransactionBatch)


@router.post(
    "/transactions",
    tags=["transactions"],
    response_model=TransactionBatchResult | TransactionBatchSummary,
    openapi_extra=TRANSACTION_BATCH.openapi(),
)
async def post_transactions(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    answer: Annotated[
        BatchAnswer,
        Query(
            description="`full`: each transaction's outcome in the batch's order (`results`);"
            " `compact`: the counts and the ids of the duplicates only (`duplicate_ids`)."
        ),
    ] = BatchAnswer.FULL,
) -> Response:
    """Ingest a batch (up to 1,000) from core banking or a channel; idempotent by
    ``transaction_id``: a retried batch reports its transactions as duplicates."""
    batch = await TRANSACTION_BATCH.read(request)
    outcome = await accounts_ingest.ingest_transactions(
        session,
        batch,
        limit=settings.max_transactions_per_batch,
        zone=settings.bank_time_zone,
        answer=answer,
    )
    # The database wrote the answer's JSON: passing its text on spares a thousand models.
    return Response(outcome, media_type="application/json")


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
