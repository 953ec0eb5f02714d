"""Why a call-list entry was taken off the list: the opportunity's fate elsewhere.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("outbound_entries", sa.Column("withdrawn_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbound_entries", "withdrawn_reason")
