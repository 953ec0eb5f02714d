"""Each account's opening balance, kept beside the balance that posting moves.

The opening balance was kept only as the first value of ``accounts.balance``, which posting
overwrites; the balance at the end of a day before the account's first transaction needs it
(reconciliation with core banking). It is filled in here as the current balance less every
posted transaction's change; a loan's balance is what is owed, so there a credit lowers it.
A loan closed as paid off had its balance set to zero without a transaction, so its opening
balance comes out as minus what the transactions moved: such an account is closed and no
longer reconciled.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

_FILL_OPENING_BALANCES = """
UPDATE accounts a
SET opening_balance = a.balance - CASE WHEN a.product_type = 'loan' THEN -1 ELSE 1 END
    * coalesce(posted.change, 0)
FROM accounts o
LEFT JOIN (
    SELECT account_number,
           sum(CASE WHEN direction = 'credit' THEN amount ELSE -amount END) AS change
    FROM transactions GROUP BY account_number
) posted ON posted.account_number = o.account_number
WHERE o.account_number = a.account_number
"""


def upgrade() -> None:
    op.add_column("accounts", sa.Column("opening_balance", sa.Numeric(20, 2), nullable=True))
    op.execute(_FILL_OPENING_BALANCES)
    op.alter_column("accounts", "opening_balance", nullable=False, server_default="0.00")


def downgrade() -> None:
    op.drop_column("accounts", "opening_balance")
