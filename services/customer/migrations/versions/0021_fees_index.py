"""The fees a customer paid, read from an index of fees only.

The 360 view and the valuation sum a customer's fees over the fees window. Through the
customer's index of all postings that read every posting of the window from the table, one
page each, to keep the few that are fees: with five million transactions stored the pages
were no longer in memory, and the view's statement took half as long again (bench
customer_view_ingest --preload). This partial index holds the unreversed fees alone, with the
amount and currency the sum needs.

Built CONCURRENTLY, outside the revision's transaction, as every index on ``transactions``:
posting goes on during the build. A build that failed (cancelled, say) leaves an invalid index;
the revision runs again once that is dropped.

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

_INDEX = "ix_transactions_customer_fees"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            _INDEX,
            "transactions",
            ["customer_id", "booked_at"],
            postgresql_include=["currency", "amount"],
            postgresql_where=sa.text("kind = 'fee' AND reversed_at IS NULL"),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="transactions")
