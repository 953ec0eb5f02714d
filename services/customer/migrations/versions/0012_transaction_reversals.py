"""Reversals (冲正): a posted transaction records the reversal that moved it back.

Nullable columns without defaults: PostgreSQL adds them without rewriting the table or holding
its lock for long, and the previous release, which never names them, runs unchanged on them.
The partial unique index is built CONCURRENTLY, outside the revision's transaction (PostgreSQL
refuses that build inside one): posting goes on while the table is scanned, where a plain build
would hold off every insert until it finished. The columns are committed before the build and
added only where missing, so a revision whose build failed (cancelled, say) runs again once the
invalid index it left is dropped.

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
    op.add_column(
        "transactions", sa.Column("reversal_id", sa.String(64), nullable=True), if_not_exists=True
    )
    op.add_column(
        "transactions",
        sa.Column("reversal_reason", sa.String(30), nullable=True),
        if_not_exists=True,
    )
    op.add_column(
        "transactions",
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        if_not_exists=True,
    )
    with op.get_context().autocommit_block():
        op.create_index(
            "uq_transactions_reversal_id",
            "transactions",
            ["reversal_id"],
            unique=True,
            postgresql_where=sa.text("reversal_id IS NOT NULL"),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    op.drop_index("uq_transactions_reversal_id", table_name="transactions")
    op.drop_column("transactions", "reversed_at")
    op.drop_column("transactions", "reversal_reason")
    op.drop_column("transactions", "reversal_id")
