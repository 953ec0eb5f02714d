"""The customer view: customers, identifiers, accounts, transactions, monthly flows,
interactions and the segment history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:18:29.611366
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("branch_code", sa.String(length=20), nullable=True),
        sa.Column("manager_id", sa.UUID(), nullable=True),
        sa.Column("profile", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("consent", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("value_tier", sa.String(length=20), nullable=False),
        sa.Column("loyalty", sa.String(length=20), nullable=True),
        sa.Column("usage_density", sa.String(length=20), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=20), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index("ix_customers_manager_id", "customers", ["manager_id"], unique=False)
    op.create_index("ix_customers_name", "customers", ["name"], unique=False)
    op.create_index("ix_customers_value_tier", "customers", ["value_tier"], unique=False)
    op.create_table(
        "interactions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint("external_id", name=op.f("uq_interactions_external_id")),
    )
    op.create_index(
        "ix_interactions_customer_occurred",
        "interactions",
        ["customer_id", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "monthly_flows",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("money_in", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("money_out", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "month", "currency", name=op.f("pk_monthly_flows")),
    )
    op.create_table(
        "segment_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("dimension", sa.String(length=30), nullable=False),
        sa.Column("previous", sa.String(length=20), nullable=True),
        sa.Column("current", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_changes")),
    )
    op.create_index(
        "ix_segment_changes_customer",
        "segment_changes",
        ["customer_id", "dimension", "effective_at"],
        unique=False,
    )
    op.create_table(
        "transactions",
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("account_number", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_after", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("counterparty_name", sa.String(length=200), nullable=True),
        sa.Column("counterparty_bank", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_transactions")),
    )
    op.create_index(
        "ix_transactions_customer_booked",
        "transactions",
        ["customer_id", "booked_at"],
        unique=False,
    )
    op.create_table(
        "accounts",
        sa.Column("account_number", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("product_type", sa.String(length=20), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=True),
        sa.Column("payoff_date", sa.Date(), nullable=True),
        sa.Column("card_token", sa.String(length=80), nullable=True),
        sa.Column("card_last_four", sa.String(length=4), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_accounts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("account_number", name=op.f("pk_accounts")),
        sa.UniqueConstraint("card_token", name=op.f("uq_accounts_card_token")),
    )
    op.create_index("ix_accounts_customer_id", "accounts", ["customer_id"], unique=False)
    op.create_table(
        "customer_identifiers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_identifiers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_identifiers")),
        sa.UniqueConstraint(
            "customer_id",
            "kind",
            "value",
            name=op.f("uq_customer_identifiers_customer_id_kind_value"),
        ),
    )
    op.create_index(
        "ix_customer_identifiers_lookup", "customer_identifiers", ["kind", "value"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_customer_identifiers_lookup", table_name="customer_identifiers")
    op.drop_table("customer_identifiers")
    op.drop_index("ix_accounts_customer_id", table_name="accounts")
    op.drop_table("accounts")
    op.drop_index("ix_transactions_customer_booked", table_name="transactions")
    op.drop_table("transactions")
    op.drop_index("ix_segment_changes_customer", table_name="segment_changes")
    op.drop_table("segment_changes")
    op.drop_table("monthly_flows")
    op.drop_index("ix_interactions_customer_occurred", table_name="interactions")
    op.drop_table("interactions")
    op.drop_index("ix_customers_value_tier", table_name="customers")
    op.drop_index("ix_customers_name", table_name="customers")
    op.drop_index("ix_customers_manager_id", table_name="customers")
    op.drop_table("customers")
