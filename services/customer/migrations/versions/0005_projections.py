"""Projections of other services: open complaints and open opportunities per customer.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:40:09.153605
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "open_complaints",
        sa.Column("complaint_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_open_complaints")),
    )
    op.create_index("ix_open_complaints_customer", "open_complaints", ["customer_id"], unique=False)
    op.create_table(
        "open_opportunities",
        sa.Column("opportunity_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("opportunity_id", name=op.f("pk_open_opportunities")),
    )
    op.create_index(
        "ix_open_opportunities_customer", "open_opportunities", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_open_opportunities_customer", table_name="open_opportunities")
    op.drop_table("open_opportunities")
    op.drop_index("ix_open_complaints_customer", table_name="open_complaints")
    op.drop_table("open_complaints")
