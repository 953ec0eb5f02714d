"""The audit log: every change and every read of unmasked personal data, append-only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from shared.frozen_migrations import create_audit_log_v3, drop_audit_log_v3

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    create_audit_log_v3()


def downgrade() -> None:
    drop_audit_log_v3()
