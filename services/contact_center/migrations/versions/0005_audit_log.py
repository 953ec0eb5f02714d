"""The audit log: every change and every read of unmasked personal data, append-only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from shared.frozen_migrations import create_audit_log_v3, drop_audit_log_v3

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_audit_log_v3()


def downgrade() -> None:
    drop_audit_log_v3()
