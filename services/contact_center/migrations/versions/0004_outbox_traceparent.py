"""The outbox keeps each event's trace context, for tracing across the bus.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from shared.frozen_migrations import add_outbox_traceparent_v2, drop_outbox_traceparent_v2

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    add_outbox_traceparent_v2()


def downgrade() -> None:
    drop_outbox_traceparent_v2()
