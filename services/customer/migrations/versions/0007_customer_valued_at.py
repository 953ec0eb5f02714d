"""When each customer's segments were last decided (to skip events already reflected).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 06:50:16.903600
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("valued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "valued_at")
