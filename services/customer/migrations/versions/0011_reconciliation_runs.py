"""Reconciliation with core banking: each end-of-day run kept, with the accounts whose
figures did not match.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

MONEY = sa.Numeric(20, 2)


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("matching", sa.Integer(), nullable=False),
        sa.Column("differing", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
        sa.UniqueConstraint(
            "business_date",
            "digest",
            name=op.f("uq_reconciliation_runs_business_date_digest"),
        ),
    )
    op.create_index(
        "ix_reconciliation_runs_latest",
        "reconciliation_runs",
        ["business_date", "received_at"],
        unique=False,
    )
    op.create_table(
        "reconciliation_differences",
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_number", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("core_currency", sa.String(length=3), nullable=True),
        sa.Column("core_balance", MONEY, nullable=True),
        sa.Column("view_currency", sa.String(length=3), nullable=True),
        sa.Column("view_balance", MONEY, nullable=True),
        sa.Column("difference", MONEY, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_differences_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_reconciliation_differences")),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_differences")
    op.drop_index("ix_reconciliation_runs_latest", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
