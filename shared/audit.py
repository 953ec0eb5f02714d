"""The audit log: who changed what, and who read a full personal field, in every service.

One row per change (every request that is not a read) and per read of unmasked personal data,
written in the request's own transaction: a change that commits is audited, one that rolls
back is not, and no change is committed without its row. The table refuses UPDATE, DELETE
and TRUNCATE by trigger, so nobody edits history through the application's database role;
auditors read it through ``GET /v1/audit`` (shared.audit_api).
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from fastapi import Request
from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth.tokens import Principal
from shared.logging import current_correlation_id
from shared.messaging import MessagingBase

# Set on the session by an endpoint that returned unmasked personal fields: their names.
PERSONAL_FIELDS_READ = "audit_personal_fields_read"


class AuditEntry(MessagingBase):
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


def create_audit_log_v3() -> None:
    """Frozen: the audit log and the trigger that keeps it append-only."""
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("client", sa.String(200), nullable=True),
        sa.Column("action", sa.String(300), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=True),
        sa.Column("target", JSONB(), nullable=False),
        sa.Column("personal_fields", JSONB(), nullable=True),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("source_address", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_object_id", "audit_log", ["object_id"])
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = '42501';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_edit BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def drop_audit_log_v3() -> None:
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
