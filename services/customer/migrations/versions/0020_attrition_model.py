"""The attrition model: monthly observations, the counts learned from them, each customer's
risk. All new tables: the next valuation batch takes the first observations and reads every
customer's risk from the prior until observations have been learned.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "attrition_observations",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("features", postgresql.JSONB(), nullable=False),
        sa.Column("assets_cny", sa.Numeric(20, 2), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("customer_id", "month"),
    )
    op.create_index(
        "ix_attrition_observations_due",
        "attrition_observations",
        ["horizon_ends_at"],
        postgresql_where=sa.text("learned_at IS NULL"),
    )
    op.create_table(
        "attrition_counts",
        sa.Column("predictor", sa.String(40), primary_key=True),
        sa.Column("bin", sa.String(40), primary_key=True),
        sa.Column("positives", sa.Integer(), nullable=False),
        sa.Column("negatives", sa.Integer(), nullable=False),
    )
    op.create_table(
        "attrition_risks",
        sa.Column("customer_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("band", sa.String(10), nullable=False),
        sa.Column("contributions", postgresql.JSONB(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("attritions", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("attrition_risks")
    op.drop_table("attrition_counts")
    op.drop_index("ix_attrition_observations_due", table_name="attrition_observations")
    op.drop_table("attrition_observations")
