"""The customer's loyalty and lifecycle stage in the detector's state: predictors of the next
best action's models.

Empty for the customers known before: filled by the changes the customer service publishes
(its valuation batch places every customer).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("customer_profiles", sa.Column("loyalty", sa.String(20), nullable=True))
    op.add_column("customer_profiles", sa.Column("lifecycle_stage", sa.String(20), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_profiles", "lifecycle_stage")
    op.drop_column("customer_profiles", "loyalty")
