"""The outbox keeps each event's trace context, for tracing across the bus.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from shared.frozen_migrations import add_outbox_traceparent_v2, drop_outbox_traceparent_v2

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    add_outbox_traceparent_v2()


def downgrade() -> None:
    drop_outbox_traceparent_v2()
