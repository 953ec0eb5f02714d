"""Idempotency keys: a retried POST gets its first answer again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from shared.frozen_migrations import create_idempotency_table_v1, drop_idempotency_table_v1

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_idempotency_table_v1()


def downgrade() -> None:
    drop_idempotency_table_v1()
