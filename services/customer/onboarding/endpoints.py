"""HTTP API of onboarding under ``/v1``: new customers with their accounts, a batch at once."""

from fastapi import APIRouter, Request, Response, status

from services.customer.access import ensure_own_branch
from services.customer.dependencies import SettingsDep
from services.customer.onboarding import service as onboarding_service
from services.customer.onboarding.schemas import OnboardingBatch, OnboardingResult
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.json_body import JsonBody
from shared.problems import Problem

router = APIRouter(prefix="/v1")

ONBOARDING_BATCH = JsonBody(OnboardingBatch)


@router.post(
    "/onboarding-batches",
    status_code=status.HTTP_201_CREATED,
    response_model=OnboardingResult,
    # Opening accounts is the narrower right: whoever holds it may also register customers.
    tags=["accounts"],
    openapi_extra=ONBOARDING_BATCH.openapi(),
    responses={
        409: {
            "description": "A customer's document or an account number the bank already"
            " holds, or one another request wrote while this batch ran (`concurrent-duplicate`:"
            " nothing was written; retry to learn which)",
            "model": Problem,
        }
    },
)
async def onboard_customers(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Register up to 1,000 new customers with the accounts they opened, all or nothing: the
    same rules and events as ``POST /v1/customers`` and ``POST /v1/accounts`` one by one, in
    a handful of statements. A refusal names the first entry's field that cannot be. A retry
    with the same ``Idempotency-Key`` gets the first answer."""
    batch = await ONBOARDING_BATCH.read(request)
    for position, entry in enumerate(batch.customers):
        where = f"customers[{position}].customer.branch_code"
        ensure_own_branch(principal, entry.customer.branch_code, field=where)

    async def onboard() -> tuple[OnboardingResult, dict[str, str]]:
        onboarded = await onboarding_service.onboard(session, batch, settings=settings)
        return OnboardingResult(
            customer_ids=[entry.customer.id for entry in onboarded],
            accounts_opened=sum(len(entry.accounts) for entry in onboarded),
        ), {}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/onboarding-batches",
        request_body=batch,
        status_code=status.HTTP_201_CREATED,
        produce=onboard,
    )
