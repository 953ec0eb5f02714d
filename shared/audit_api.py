"""``GET /v1/audit``: the audit log of a service, for auditors (scope ``audit:read``)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from shared.audit import AuditEntry
from shared.auth.http import requires_scope
from shared.auth.roles import AUDIT_READ
from shared.http import runtime_of
from shared.masking import mask_account
from shared.periods import Moment, start_of

# Path parameters that are personal data: the log keeps them whole (an auditor finds every
# change to an account by asking with its full number), its answers show them masked.
MASKED_PATH_PARAMETERS = {"account_number": mask_account}


class AuditEntryRead(BaseModel):
    seq: int
    at: datetime
    subject: str
    role: str
    client: str | None
    action: str
    object_id: str | None
    target: dict[str, Any]
    personal_fields: list[str] | None
    correlation_id: str | None
    source_address: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None


router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit", openapi_extra=requires_scope(AUDIT_READ))
async def read_audit_log(
    request: Request,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Moment | None = None,
    cursor: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="next_cursor of the page before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """This service's audit log, oldest first: every change and every read of unmasked
    personal data, with who, in which role, from which client and address, and the
    correlation id that ties it to the logs and events."""
    statement = select(AuditEntry).order_by(AuditEntry.seq).limit(limit + 1)
    if subject is not None:
        statement = statement.where(AuditEntry.subject == subject)
    if object_id is not None:
        statement = statement.where(AuditEntry.object_id == object_id)
    if since is not None:
        zone = runtime_of(request).settings.bank_zone
        statement = statement.where(AuditEntry.at >= start_of(since, zone))
    if cursor is not None:
        statement = statement.where(AuditEntry.seq > cursor)
    # A read of the log is not itself a change: its own session, no audit row.
    async with runtime_of(request).sessions() as session:
        rows = (await session.scalars(statement)).all()
    page = rows[:limit]
    return AuditPage(
        items=[_masked(AuditEntryRead.model_validate(row, from_attributes=True)) for row in page],
        next_cursor=str(page[-1].seq) if len(rows) > limit else None,
    )


def _masked(entry: AuditEntryRead) -> AuditEntryRead:
    # The object id is the first path parameter's value, so it is masked as that one is.
    masks = {
        str(v): MASKED_PATH_PARAMETERS[n]
        for n, v in entry.target.items()
        if n in MASKED_PATH_PARAMETERS
    }
    if not masks:
        return entry
    target = {
        n: masks[str(v)](str(v)) if n in MASKED_PATH_PARAMETERS else v
        for n, v in entry.target.items()
    }
    object_id = entry.object_id
    if object_id in masks:
        object_id = masks[object_id](object_id)
    return entry.model_copy(update={"target": target, "object_id": object_id})
