"""The order the detector consumed its events in, kept with each: a backtest replays a
customer's history in that order, so that over the live period it reaches the live decisions
(an event's own time can sort a transaction booked a second earlier before the registration
that carried the customer's consent, which the detector had consumed first).

Rows kept before this migration are numbered in their table order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "observed_events",
        sa.Column("consumed_seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
    )
    op.create_index("ix_observed_events_consumed", "observed_events", ["consumed_seq"])


def downgrade() -> None:
    op.drop_index("ix_observed_events_consumed", table_name="observed_events")
    op.drop_column("observed_events", "consumed_seq")
