"""The customer's attrition risk band in the detector's state, for rules on it.

Empty for the customers known before: filled by the band moves the customer service publishes
(its valuation batch reads every active customer's risk and publishes the first band).

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
    op.add_column("customer_profiles", sa.Column("attrition_risk", sa.String(10), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_profiles", "attrition_risk")
