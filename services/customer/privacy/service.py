"""A customer's rights over their data: consent per channel with when and where it was given,
a copy of everything held (access request), and erasure.

Erasure removes what identifies the person, and what they declared holding elsewhere, and
keeps what the bank must keep (transactions, segment history, group memberships, complaints
elsewhere) de-identified: those rows keep only the customer id, a random key that no longer
leads to anyone. A household's or group's name is
cleared too when it would still point at the person (``clear_group_names``). It needs the
relationship closed first: while a customer holds accounts the bank must know who they are."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import CustomerErased
from services.customer.accounts import repository as accounts_repository
from services.customer.attrition import repository as attrition_repository
from services.customer.attrition import service as attrition_service
from services.customer.config import Settings
from services.customer.customers.service import (
    consent_record,
    ensure_version,
    get_customer,
    locked_customer,
    locked_for_change,
    updated_event,
)
from services.customer.history import repository as history_repository
from services.customer.models import Customer, CustomerStatus
from services.customer.privacy import repository as privacy_repository
from services.customer.privacy.schemas import (
    ConsentChange,
    ConsentRead,
    CustomerConsent,
    CustomerExport,
    ErasureRequest,
)
from services.customer.relationships import repository as relationships_repository
from services.customer.wallet import repository as wallet_repository
from shared.outbox import record_event
from shared.problems import Conflict, ProblemError

ERASED_NAME = "(erased)"


class ConsentInTheFuture(ProblemError):
    status, slug, title = 422, "consent-in-the-future", "Consent cannot be given in the future"


class RelationshipStillOpen(Conflict):
    slug, title = "relationship-still-open", "Close the customer relationship before erasure"


def consent_of(customer: Customer) -> list[ConsentRead]:
    return [
        ConsentRead(
            channel=channel,
            granted=bool(entry["granted"]),
            at=entry["at"],
            source=entry["source"],
            recorded_by=entry.get("recorded_by"),
        )
        for channel, entry in sorted(customer.consent.items())
    ]


def consent_read(customer: Customer) -> CustomerConsent:
    return CustomerConsent(
        customer_id=customer.id, version=customer.version, channels=consent_of(customer)
    )


async def change_consent(
    session: AsyncSession,
    customer_id: uuid.UUID,
    change: ConsentChange,
    *,
    recorded_by: str,
    settings: Settings,
) -> Customer:
    now = datetime.now(UTC)
    if change.given_at is not None and change.given_at > now:
        raise ConsentInTheFuture("given_at: is in the future", field="given_at")
    customer = await locked_for_change(session, customer_id, change.version)
    recorded = consent_record(
        change.channels, source=change.source, at=change.given_at or now, recorded_by=recorded_by
    )
    customer.consent = {**customer.consent, **recorded}
    customer.version += 1
    customer.updated_at = now
    # Every change is published, a withdrawal repeated included: consumers stop at once.
    await record_event(session, updated_event(customer, ["consent"], settings=settings))
    return customer


async def export_customer(session: AsyncSession, customer_id: uuid.UUID) -> CustomerExport:
    customer = await get_customer(session, customer_id)
    held = {
        "accounts": await accounts_repository.accounts_of(session, customer_id),
        "transactions": await privacy_repository.all_transactions(session, customer_id),
        "interactions": await privacy_repository.all_interactions(session, customer_id),
        "survey_answers": await privacy_repository.all_survey_answers(session, customer_id),
        "segment_history": await privacy_repository.segment_history(session, customer_id),
        "reviews": await privacy_repository.all_reviews(session, customer_id),
        "external_holdings": await wallet_repository.holdings_of(session, customer_id),
        "relationships": await relationships_repository.relationships_of(session, customer_id),
        "leads": await privacy_repository.leads_about(session, customer_id),
        "history": await history_repository.history_of(session, customer_id),
        "attrition_observations": await attrition_repository.observations_of(session, customer_id),
        "attrition_risk": [
            risk
            for risk in [await attrition_repository.risk_of(session, customer_id)]
            if risk is not None
        ],
    }
    return CustomerExport(
        customer={
            "id": str(customer.id),
            "kind": customer.kind,
            "name": customer.name,
            "status": customer.status,
            "branch_code": customer.branch_code,
            "manager_id": customer.manager_id,
            "profile": customer.profile,
            "value_tier": customer.value_tier,
            "created_at": customer.created_at,
            "closed_at": customer.closed_at,
        },
        consent=consent_of(customer),
        # The card token is the bank's key, not the customer's data: the last four digits are.
        **{
            kind: [_columns(row, exclude={"card_token"}) for row in rows]
            for kind, rows in held.items()
        },
        exported_at=datetime.now(UTC),
    )


def _columns(row: Any, *, exclude: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in exclude}


async def erase_customer(
    session: AsyncSession, customer_id: uuid.UUID, request: ErasureRequest, *, settings: Settings
) -> Customer:
    customer = await locked_customer(session, customer_id)
    if customer.status == CustomerStatus.ERASED:
        return customer  # a repeated request finds the work done
    if customer.status != CustomerStatus.CLOSED:
        raise RelationshipStillOpen(
            "the customer is active: close the relationship (and its accounts) first"
        )
    ensure_version(customer, request.version)
    now = datetime.now(UTC)
    # Before the name goes: the groups named after the customer are found by it.
    await privacy_repository.clear_group_names(
        session, customer_id, name=customer.name, erased=ERASED_NAME
    )
    customer.name = ERASED_NAME
    customer.profile = {"erased_at": now.isoformat(), "erasure_reference": request.reference}
    customer.consent = {}
    customer.status = CustomerStatus.ERASED
    customer.version += 1
    customer.updated_at = now
    await privacy_repository.remove_identifiers(session, customer_id)
    await privacy_repository.clear_free_text(session, customer_id, erased=ERASED_NAME)
    # What the customer told of their wealth elsewhere is theirs alone, not the bank's books.
    await wallet_repository.remove_all_holdings(session, customer_id)
    # After the customer's row (flushed first, which adds its erased state to the history).
    await session.flush()
    await history_repository.erase_history(session, customer_id, erased=ERASED_NAME)
    await attrition_service.forget_customer(session, customer_id, settings=settings, at=now)
    await record_event(
        session,
        CustomerErased(customer_id=customer_id, request_reference=request.reference, erased_at=now),
    )
    return customer
