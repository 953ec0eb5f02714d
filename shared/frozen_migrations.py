"""The migration steps of the tables every service has in its own schema, frozen.

Each service's migrations call these, so they must never change: a later change to one of these
tables is a new step here, called by a new migration in every service. The tables' models live
beside the mechanisms that use them (``shared.outbox``, ``shared.inbox``, ``shared.idempotency``,
``shared.audit``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID


def create_messaging_tables_v1() -> None:
    """Frozen: called by every service's first migration."""
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("payload", JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
    )


def drop_messaging_tables_v1() -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


def add_outbox_traceparent_v2() -> None:
    """Frozen: the outbox keeps the trace context of the span that wrote each event."""
    op.add_column("outbox", sa.Column("traceparent", sa.String(128), nullable=True))


def drop_outbox_traceparent_v2() -> None:
    op.drop_column("outbox", "traceparent")


def create_idempotency_table_v1() -> None:
    """Frozen: called by each service's migration that adds idempotency keys."""
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", JSONB(), nullable=True),
        sa.Column("headers", JSONB(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", "scope", name="pk_idempotency_keys"),
    )


def drop_idempotency_table_v1() -> None:
    op.drop_table("idempotency_keys")


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
