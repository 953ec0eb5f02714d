"""The audit log: every change and every read of unmasked personal data, append-only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from shared.frozen_migrations import create_audit_log_v3, drop_audit_log_v3

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_audit_log_v3()


def downgrade() -> None:
    drop_audit_log_v3()
