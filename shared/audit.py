"""The audit log: who changed what, and who read a full personal field, in every service.

One row per change (every request that is not a read) and per read of unmasked personal data,
written in the request's own transaction: a change that commits is audited, one that rolls
back is not, and no change is committed without its row. The table refuses UPDATE, DELETE
and TRUNCATE by trigger, so nobody edits history through the application's database role;
auditors read it through ``GET /v1/audit`` (shared.audit_api).
"""

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth.tokens import Principal
from shared.db import SharedTablesBase
from shared.logging import current_correlation_id

# Set on the session by an endpoint that returned unmasked personal fields: their names.
PERSONAL_FIELDS_READ = "audit_personal_fields_read"


class AuditEntry(SharedTablesBase):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    subject: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    client: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(300))  # method and route template
    object_id: Mapped[str | None] = mapped_column(String(200))  # the first id in the path
    target: Mapped[dict[str, Any]] = mapped_column(JSONB)  # every path parameter
    personal_fields: Mapped[list[str] | None] = mapped_column(JSONB)
    correlation_id: Mapped[str | None] = mapped_column(String(100))
    source_address: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_object_id", "object_id"),)


def record(session: AsyncSession, request: Request, principal: Principal) -> None:
    """Add the request's audit row to its transaction."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    target = {name: str(value) for name, value in request.path_params.items()}
    session.add(
        AuditEntry(
            subject=principal.subject,
            role=principal.role.value,
            client=principal.client,
            action=f"{request.method} {template}",
            object_id=next(iter(target.values()), None),
            target=target,
            personal_fields=session.info.pop(PERSONAL_FIELDS_READ, None),
            correlation_id=current_correlation_id(),
            source_address=request.client.host if request.client else None,
        )
    )


def note_personal_fields_read(session: AsyncSession, fields: list[str]) -> None:
    """For an endpoint that answers with unmasked personal data: the read is audited."""
    session.info[PERSONAL_FIELDS_READ] = sorted(fields)
