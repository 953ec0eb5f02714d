"""The customer's satisfaction/loyalty quadrant in the detector's state, for rules on it.

Empty for the customers known before: filled by the quadrant changes the customer service
publishes (its valuation batch places every customer).

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


def upgrade() -> None:
    op.add_column("customer_profiles", sa.Column("quadrant", sa.String(30), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_profiles", "quadrant")
