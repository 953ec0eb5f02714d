"""A customer's rights over their data: consent per channel, access request, erasure."""

import uuid

from fastapi import APIRouter, Depends

from services.customer.access import customer_in_reach
from services.customer.customers import answers as customers_answers
from services.customer.customers.schemas import CustomerRead
from services.customer.customers.service import get_customer
from services.customer.dependencies import SettingsDep
from services.customer.privacy import service as privacy_service
from services.customer.privacy.schemas import (
    ConsentChange,
    CustomerConsent,
    CustomerExport,
    ErasureRequest,
)
from shared.audit import note_personal_fields_read
from shared.auth.http import PrincipalDep, requires_scope
from shared.auth.roles import (
    CONSENT_READ,
    CONSENT_RECORD,
    ERASE_PERSONAL_DATA,
    EXPORT_PERSONAL_DATA,
)
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.get(
    "/customers/{customer_id}/consent",
    tags=["customers"],
    openapi_extra=requires_scope(CONSENT_READ),
)
async def read_consent(customer_id: uuid.UUID, session: SessionDep) -> CustomerConsent:
    """Marketing consent per channel: given or not, when, through which channel, recorded by
    whom. The detector and the contact centre act on it."""
    return privacy_service.consent_read(await get_customer(session, customer_id))


@router.put(
    "/customers/{customer_id}/consent",
    tags=["customers"],
    openapi_extra=requires_scope(CONSENT_RECORD),
    responses={409: {"description": "Stale version, or the customer is closed"}},
)
async def change_consent(
    customer_id: uuid.UUID,
    body: ConsentChange,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CustomerConsent:
    """Record the customer giving or withdrawing consent for the named channels, with where
    and when they said so; the other channels keep theirs."""
    customer = await privacy_service.change_consent(
        session, customer_id, body, recorded_by=principal.subject, settings=settings
    )
    return privacy_service.consent_read(customer)


@router.get(
    "/customers/{customer_id}/export",
    tags=["customers"],
    openapi_extra=requires_scope(EXPORT_PERSONAL_DATA),
)
async def export_customer(customer_id: uuid.UUID, session: SessionDep) -> CustomerExport:
    """Everything this service holds about the customer, unmasked (an access request). The
    complaints and contact-centre services list their records by customer id. Audited."""
    export = await privacy_service.export_customer(session, customer_id)
    note_personal_fields_read(session, ["export"])
    return export


@router.post(
    "/customers/{customer_id}/erasure",
    tags=["customers"],
    openapi_extra=requires_scope(ERASE_PERSONAL_DATA),
    responses={409: {"description": "The relationship is still open, or a stale version"}},
)
async def erase_customer(
    customer_id: uuid.UUID, body: ErasureRequest, session: SessionDep, settings: SettingsDep
) -> CustomerRead:
    """Erase the customer's personal data on their request: identifiers and free text go,
    the records the bank must keep stay de-identified; ``customer.erased`` tells every other
    holder. The relationship must be closed first. Repeating it changes nothing."""
    customer = await privacy_service.erase_customer(session, customer_id, body, settings=settings)
    return customers_answers.customer_read(customer, settings)
