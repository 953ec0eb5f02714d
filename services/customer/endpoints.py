"""The customer service's HTTP API under ``/v1``: parse, call the service, shape the answer."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from contracts.identifiers import InvalidIdentifier, normalise_phone
from services.customer import ingest, portfolios, service, views
from services.customer.access import (
    customer_in_reach,
    ensure_customer_in_reach,
    ensure_own_branch,
    limit_search,
    reach_of,
)
from services.customer.dependencies import SettingsDep
from services.customer.errors import LookupNeedsOneKey
from services.customer.models import IdentifierKind
from services.customer.repository import CustomerFilter
from services.customer.schemas import (
    AccountClose,
    AccountOpen,
    AccountRead,
    CustomerClose,
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    CustomerView,
    InteractionCreate,
    LookupResult,
    ManagerAssign,
    ManagerCreate,
    ManagerRead,
    ManagerWorkload,
    SegmentsAsOf,
    TransactionBatch,
    TransactionBatchResult,
)
from shared.audit import note_personal_fields_read
from shared.auth.http import Forbidden, PrincipalDep, requires_scope
from shared.auth.roles import CUSTOMERS_IDENTIFY, CUSTOMERS_VIEW, REVEAL_PERSONAL_DATA
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import ProblemError

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post(
    "/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerRead,
    tags=["customers"],
    responses={409: {"description": "The ID number or credit code is already a customer's"}},
)
async def register_customer(
    body: CustomerCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Register an individual (个人客户) or corporate (公司客户) customer. A retry with the
    same ``Idempotency-Key`` gets the first answer."""
    ensure_own_branch(principal, body.branch_code)

    async def register() -> tuple[CustomerRead, dict[str, str]]:
        customer = await service.register_customer(session, body, settings=settings)
        return views.customer_read(customer, settings), {"Location": f"/v1/customers/{customer.id}"}

    return await answer_once(
        session, key=key, scope="POST /v1/customers", request_body=body,
        status_code=status.HTTP_201_CREATED, produce=register,
    )  # fmt: skip


@router.get("/customers", tags=["customers"])
async def search_customers(
    session: SessionDep,
    principal: PrincipalDep,
    name: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    id_number: Annotated[str | None, Query(min_length=5, max_length=30)] = None,
    phone: Annotated[str | None, Query(max_length=30)] = None,
    value_tier: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
    manager_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerPage:
    """Search by name, ID number, phone, tier or manager; pages follow ``next_cursor``."""
    identifier = None
    if id_number:
        identifier = (IdentifierKind.RESIDENT_ID, id_number.upper())
    elif phone:
        identifier = (IdentifierKind.PHONE, _phone_query(phone))
    criteria = CustomerFilter(
        name=name, value_tier=value_tier, manager_id=manager_id, identifier=identifier
    )
    criteria = limit_search(criteria, principal)
    return await views.search(session, criteria, cursor=cursor, limit=limit)


def _phone_query(phone: str) -> str:
    try:
        return normalise_phone(phone)
    except InvalidIdentifier as error:
        raise ProblemError(f"phone: {error}", field="phone") from error


@router.get(
    "/customers/lookup", tags=["customers"], openapi_extra=requires_scope(CUSTOMERS_IDENTIFY)
)
async def lookup_customer(
    session: SessionDep,
    settings: SettingsDep,
    phone: Annotated[str | None, Query(max_length=30)] = None,
    id_number: Annotated[str | None, Query(min_length=5, max_length=30)] = None,
    card_number: Annotated[str | None, Query(pattern=r"^\d{13,19}$")] = None,
    account_number: Annotated[str | None, Query(pattern=r"^\d{8,32}$")] = None,
) -> LookupResult:
    """Identify a caller or card holder (IVR, ATM) by exactly one identifier."""
    given = [v for v in (phone, id_number, card_number, account_number) if v]
    if len(given) != 1:
        raise LookupNeedsOneKey("give exactly one of phone, id_number, card_number, account_number")
    if phone:
        key = (IdentifierKind.PHONE, _phone_query(phone))
    elif id_number:
        key = (IdentifierKind.RESIDENT_ID, id_number.strip().upper())
    elif card_number:
        key = (IdentifierKind.CARD_TOKEN, service.card_token_for(card_number, settings=settings))
    else:
        key = (IdentifierKind.ACCOUNT_NUMBER, str(account_number))
    return await views.lookup(session, *key)


@router.get("/customers/{customer_id}", tags=["customers"])
async def read_customer(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    reveal: Annotated[
        bool, Query(description="The unmasked profile: needs personal-data:reveal; audited")
    ] = False,
) -> CustomerRead:
    """The customer, personal identifiers masked unless ``reveal`` is asked for by a role
    that may see them; every such read is written to the audit log."""
    if reveal and not principal.may(REVEAL_PERSONAL_DATA):
        raise Forbidden(
            f"reveal: the {principal.role.value} role does not hold {REVEAL_PERSONAL_DATA}",
            scope=REVEAL_PERSONAL_DATA,
            field="reveal",
        )
    customer = await service.get_customer(session, customer_id)
    if reveal:
        note_personal_fields_read(session, views.personal_fields_of(customer))
    return views.customer_read(customer, settings, masked=not reveal)


@router.patch(
    "/customers/{customer_id}",
    tags=["customers"],
    responses={409: {"description": "Stale version: read the customer again"}},
)
async def update_customer(
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CustomerRead:
    """Change a customer; ``version`` must be the version last read."""
    if "branch_code" in body.model_fields_set:
        ensure_own_branch(principal, body.branch_code)
    customer = await service.update_customer(session, customer_id, body, settings=settings)
    return views.customer_read(customer, settings)


@router.post("/customers/{customer_id}/close", tags=["customers"])
async def close_customer(
    customer_id: uuid.UUID, body: CustomerClose, session: SessionDep, settings: SettingsDep
) -> CustomerRead:
    """End the relationship; every account must be closed first."""
    customer = await service.close_customer(session, customer_id, body, settings=settings)
    return views.customer_read(customer, settings)


@router.get(
    "/customers/{customer_id}/view",
    tags=["customers"],
    openapi_extra=requires_scope(CUSTOMERS_VIEW),
)
async def customer_view(
    customer_id: uuid.UUID, session: SessionDep, settings: SettingsDep
) -> CustomerView:
    """The 360 view (统一客户视图) a channel shows, from this service's own data only."""
    return await views.customer_view(session, customer_id, settings=settings)


@router.get("/customers/{customer_id}/segments", tags=["segments"])
async def customer_segments(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    as_of: datetime | None = None,
) -> SegmentsAsOf:
    """The customer's segments and tier policy now, or as they were at ``as_of``, and why."""
    moment = as_of or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ProblemError(
            "as_of: give a time zone (e.g. 2026-06-30T00:00:00+08:00)", field="as_of"
        )
    return await views.segments_as_of(session, customer_id, moment, settings=settings)


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
        return views.account_read(await service.open_account(session, body, settings=settings)), {}

    return await answer_once(
        session, key=key, scope="POST /v1/accounts", request_body=body,
        status_code=status.HTTP_201_CREATED, produce=open_it,
    )  # fmt: skip


@router.post("/accounts/{account_number}/close", tags=["accounts"])
async def close_account(
    account_number: Annotated[str, Path(pattern=r"^\d{8,32}$")],
    body: AccountClose,
    session: SessionDep,
) -> AccountRead:
    return views.account_read(await service.close_account(session, account_number, body))


@router.post("/transactions", tags=["transactions"])
async def post_transactions(
    body: TransactionBatch, session: SessionDep, settings: SettingsDep
) -> TransactionBatchResult:
    """Ingest a batch (up to 1,000) from core banking or a channel; idempotent by
    ``transaction_id``: a retried batch reports its transactions as duplicates."""
    return await ingest.ingest_transactions(
        session, body, limit=settings.max_transactions_per_batch
    )


@router.post("/interactions", status_code=status.HTTP_201_CREATED, tags=["interactions"])
async def record_interaction(
    body: InteractionCreate, session: SessionDep, settings: SettingsDep, response: Response
) -> dict[str, uuid.UUID]:
    """Record a contact on the customer's timeline; a repeated ``external_id`` is answered
    with the first recording (200)."""
    interaction_id, created = await service.record_interaction(
        session, body, source=settings.event_source
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"id": interaction_id}


@router.post("/managers", status_code=status.HTTP_201_CREATED, tags=["managers"])
async def create_manager(body: ManagerCreate, session: SessionDep) -> ManagerRead:
    """Register a customer manager (客户经理) with the portfolio size they can serve."""
    return portfolios.manager_read(await portfolios.create_manager(session, body))


@router.get("/managers", tags=["managers"])
async def manager_workloads(
    session: SessionDep,
    branch_code: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ManagerWorkload]:
    """Each manager's portfolio: customers by tier and utilisation of capacity."""
    return await portfolios.workloads(session, branch_code=branch_code)


@router.put("/customers/{customer_id}/manager", tags=["managers"])
async def assign_manager(
    customer_id: uuid.UUID, body: ManagerAssign, session: SessionDep, settings: SettingsDep
) -> CustomerRead:
    """Assign (or reassign) the customer's manager."""
    customer = await portfolios.assign_manager(session, customer_id, body)
    return views.customer_read(customer, settings)
