"""Customer managers (客户经理): who serves which portfolio.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 06:30:31.278813
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "managers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("employee_number", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("branch_code", sa.String(length=20), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_managers")),
        sa.UniqueConstraint("employee_number", name=op.f("uq_managers_employee_number")),
    )
    op.create_index("ix_managers_branch_code", "managers", ["branch_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_managers_branch_code", table_name="managers")
    op.drop_table("managers")
