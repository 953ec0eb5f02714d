"""Each customer's satisfaction/loyalty quadrant as last placed and published.

Customers stay unplaced here: the next valuation batch places everyone (and publishes each
placement), since the placement needs the configured satisfaction threshold.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("quadrant", sa.String(30), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "quadrant")
