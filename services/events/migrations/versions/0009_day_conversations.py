"""The contacts of a day that were conversations with someone of the bank (calls in and out,
callbacks, visits), which the contact-fatigue cap counts beside the offers made.

Days kept before this migration count none: their interactions' channels were not kept, so
the cap counts only what arrives from now on (at most a fatigue window, a week by default).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "customer_days",
        sa.Column("conversations", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("customer_days", "conversations")
