"""A version on each customer's detector state, drawn anew by every transaction that saves it:
a consumer keeps the states it handled in memory and reuses one only while the stored version is
still the one it wrote.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("customer_profiles", sa.Column("state_version", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_profiles", "state_version")
