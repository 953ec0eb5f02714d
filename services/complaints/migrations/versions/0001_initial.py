"""The complaints service's schema begins: its outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from shared.frozen_migrations import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_messaging_tables_v1()


def downgrade() -> None:
    drop_messaging_tables_v1()
