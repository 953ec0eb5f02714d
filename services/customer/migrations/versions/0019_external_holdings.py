"""Holdings a customer declared at other institutions, for share of wallet (客户占有率).

The bank knows a customer's wealth elsewhere only when the customer declares it and a manager
records it: one row per holding (the kind of institution, the product, its value in CNY, the
day declared). Nothing is backfilled: a customer without a row is one whose share is not known.

Transfers to other banks need nothing new: every posted transaction already keeps the
``counterparty_bank`` the feed names, so a ``transfer_out`` debit naming one is money that left.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "external_holdings",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("institution_kind", sa.String(length=20), nullable=False),
        sa.Column("product_type", sa.String(length=30), nullable=False),
        sa.Column("amount_cny", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_external_holdings_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_holdings")),
    )
    op.create_index("ix_external_holdings_customer", "external_holdings", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_external_holdings_customer", table_name="external_holdings")
    op.drop_table("external_holdings")
