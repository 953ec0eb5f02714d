"""A customer's last activity is derived from their postings and contacts, no longer stored
on their row: each ingest batch updated the row, and so waited for the valuation consumer's
lock of the same customers. The indexes the derivation reads exist since 0002.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision: str | None = "0020"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_column("customers", "last_activity_at")


def downgrade() -> None:
    op.add_column(
        "customers", sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE customers c SET last_activity_at = greatest("
        " (SELECT max(booked_at) FROM transactions t WHERE t.customer_id = c.id),"
        " (SELECT max(occurred_at) FROM interactions i WHERE i.customer_id = c.id))"
    )
