"""HTTP API of customers under ``/v1``: register, search, look up, read, change, close."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from contracts.identifiers import InvalidIdentifier, normalise_phone
from services.customer.access import (
    customer_in_reach,
    ensure_may_restrict,
    ensure_own_branch,
    limit_search,
)
from services.customer.accounts import service as accounts_service
from services.customer.customers import answers as customers_answers
from services.customer.customers import service as customers_service
from services.customer.customers.repository import CustomerFilter
from services.customer.customers.schemas import (
    CustomerClose,
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    LookupResult,
)
from services.customer.dependencies import SettingsDep
from services.customer.errors import LookupNeedsOneKey
from services.customer.models import IdentifierKind
from shared.audit import note_personal_fields_read
from shared.auth.http import Forbidden, PrincipalDep, requires_scope
from shared.auth.roles import CUSTOMERS_IDENTIFY, REVEAL_PERSONAL_DATA
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import InvalidField, Problem

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post(
    "/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerRead,
    tags=["customers"],
    responses={
        409: {
            "description": "The ID number or credit code is already a customer's"
            " (`duplicate-customer`, naming whose), or another registration of it committed"
            " while this one ran (`concurrent-duplicate`: nothing was written; retry to learn"
            " whose)",
            "model": Problem,
        }
    },
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
        customer = await customers_service.register_customer(session, body, settings=settings)
        return customers_answers.customer_read(customer, settings), {
            "Location": f"/v1/customers/{customer.id}"
        }

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/customers",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=register,
    )


@router.get("/customers", tags=["customers"])
async def search_customers(
    session: SessionDep,
    principal: PrincipalDep,
    name: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    id_number: Annotated[str | None, Query(min_length=5, max_length=30)] = None,
    phone: Annotated[str | None, Query(max_length=30)] = None,
    value_tier: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
    manager_id: uuid.UUID | None = None,
    manager: Annotated[
        Literal["none"] | None, Query(description="`none`: only customers without a manager")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerPage:
    """Search by name, ID number, phone, tier or manager (``manager=none``: those without
    one); pages follow ``next_cursor``."""
    identifier = None
    if id_number:
        identifier = (IdentifierKind.RESIDENT_ID, id_number.upper())
    elif phone:
        identifier = (IdentifierKind.PHONE, _phone_query(phone))
    criteria = CustomerFilter(
        name=name,
        value_tier=value_tier,
        manager_id=manager_id,
        without_manager=manager == "none",
        identifier=identifier,
    )
    criteria = limit_search(criteria, principal)
    return await customers_answers.search(session, criteria, cursor=cursor, limit=limit)


def _phone_query(phone: str) -> str:
    try:
        return normalise_phone(phone)
    except InvalidIdentifier as error:
        raise InvalidField("phone", str(error), where="query") from error


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
    keys = {
        "phone": phone,
        "id_number": id_number,
        "card_number": card_number,
        "account_number": account_number,
    }
    given = [name for name, value in keys.items() if value]
    if len(given) != 1:
        raise LookupNeedsOneKey(tuple(keys), given)
    if phone:
        key = (IdentifierKind.PHONE, _phone_query(phone))
    elif id_number:
        key = (IdentifierKind.RESIDENT_ID, id_number.strip().upper())
    elif card_number:
        key = (
            IdentifierKind.CARD_TOKEN,
            accounts_service.card_token_for(card_number, settings=settings),
        )
    else:
        key = (IdentifierKind.ACCOUNT_NUMBER, str(account_number))
    return await customers_answers.lookup(session, *key)


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
    customer = await customers_service.get_customer(session, customer_id)
    if reveal:
        note_personal_fields_read(session, customers_answers.personal_fields_of(customer))
    return customers_answers.customer_read(customer, settings, masked=not reveal)


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
    """Change a customer; ``version`` must be the version last read. Only a supervisor (or the
    core-banking feed) sets or lifts a ``restriction``."""
    if "branch_code" in body.model_fields_set:
        ensure_own_branch(principal, body.branch_code)
    ensure_may_restrict(principal, changes_restriction="restriction" in body.model_fields_set)
    customer = await customers_service.update_customer(
        session, customer_id, body, settings=settings
    )
    return customers_answers.customer_read(customer, settings)


@router.post("/customers/{customer_id}/close", tags=["customers"])
async def close_customer(
    customer_id: uuid.UUID, body: CustomerClose, session: SessionDep, settings: SettingsDep
) -> CustomerRead:
    """End the relationship; every account must be closed first."""
    customer = await customers_service.close_customer(session, customer_id, body, settings=settings)
    return customers_answers.customer_read(customer, settings)
