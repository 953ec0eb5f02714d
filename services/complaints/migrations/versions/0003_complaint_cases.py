"""Complaint cases, their append-only history and the customers' standing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("complainant", postgresql.JSONB(), nullable=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("cause", sa.String(30), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("disputed_amount", sa.Numeric(20, 2), nullable=True),
        sa.Column("disputed_currency", sa.String(3), nullable=True),
        sa.Column("transaction_ids", postgresql.JSONB(), nullable=False),
        sa.Column("attachments", postgresql.JSONB(), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("step", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("department", sa.String(60), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("deadline_pack", sa.String(10), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("accepted_at", _TIME, nullable=True),
        sa.Column("acknowledge_by", _TIME, nullable=False),
        sa.Column("decide_by", _TIME, nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("extensions_used", sa.Integer(), nullable=False),
        sa.Column("step_due_at", _TIME, nullable=True),
        sa.Column("reminded_for", _TIME, nullable=True),
        sa.Column("escalated_for", _TIME, nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("linked_count", sa.Integer(), nullable=False),
        sa.Column("is_repeat", sa.Boolean(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("lesson", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_complaints_status")),
        sa.CheckConstraint(
            "(disputed_amount IS NULL) = (disputed_currency IS NULL)",
            name=op.f("ck_complaints_disputed_money"),
        ),
    )
    op.create_index(
        "uq_complaints_open_per_customer_category",
        "complaints",
        ["customer_id", "category"],
        unique=True,
        postgresql_where=sa.text("status = 'open' AND customer_id IS NOT NULL"),
    )
    op.create_index("ix_complaints_received", "complaints", ["received_at", "id"])
    op.create_index("ix_complaints_customer", "complaints", ["customer_id", "received_at"])
    op.create_index(
        "ix_complaints_open_due",
        "complaints",
        ["step_due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "complaint_history",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("complaint_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_step", sa.String(30), nullable=True),
        sa.Column("to_step", sa.String(30), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(30), nullable=False),
        sa.Column("decision", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_complaint_history")),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_history_complaint_id_complaints"),
        ),
    )
    op.create_index("ix_complaint_history_case", "complaint_history", ["complaint_id", "seq"])
    # The history is evidence for the regulator: nothing rewrites or removes it.
    op.execute(
        """
        CREATE FUNCTION complaint_history_is_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'complaint_history is append-only (% refused)', TG_OP;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER complaint_history_append_only
        BEFORE UPDATE OR DELETE ON complaint_history
        FOR EACH ROW EXECUTE FUNCTION complaint_history_is_append_only()
        """
    )
    op.create_table(
        "customer_standing",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("value_tier", sa.String(20), nullable=True),
        sa.Column("last_downgrade_at", _TIME, nullable=True),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_standing")),
    )


def downgrade() -> None:
    op.drop_table("customer_standing")
    op.execute("DROP TRIGGER complaint_history_append_only ON complaint_history")
    op.execute("DROP FUNCTION complaint_history_is_append_only()")
    op.drop_index("ix_complaint_history_case", table_name="complaint_history")
    op.drop_table("complaint_history")
    op.drop_index("ix_complaints_open_due", table_name="complaints")
    op.drop_index("ix_complaints_customer", table_name="complaints")
    op.drop_index("ix_complaints_received", table_name="complaints")
    op.drop_index("uq_complaints_open_per_customer_category", table_name="complaints")
    op.drop_table("complaints")
