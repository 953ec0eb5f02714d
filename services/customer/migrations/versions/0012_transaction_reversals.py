"""Reversals (冲正): a posted transaction records the reversal that moved it back.

Nullable columns without defaults: PostgreSQL adds them without rewriting the table or holding
its lock for long, and the previous release, which never names them, runs unchanged on them.
The partial unique index is built in the migration's transaction (the migrations run in one,
under an advisory lock), so posting waits while the table is scanned once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("transactions", sa.Column("reversal_id", sa.String(64), nullable=True))
    op.add_column("transactions", sa.Column("reversal_reason", sa.String(30), nullable=True))
    op.add_column(
        "transactions", sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "uq_transactions_reversal_id",
        "transactions",
        ["reversal_id"],
        unique=True,
        postgresql_where=sa.text("reversal_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_transactions_reversal_id", table_name="transactions")
    op.drop_column("transactions", "reversed_at")
    op.drop_column("transactions", "reversal_reason")
    op.drop_column("transactions", "reversal_id")
