"""Households and corporate groups as aggregates: the groups and their dated memberships.

The pairwise ties of ``relationships`` stay as they are; a group starts empty and its members
are added through the API (the pairs do not say who heads a household or which company is a
group's parent, so they are not turned into groups here).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "customer_groups",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_groups")),
    )
    op.create_table(
        "group_members",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("group_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("parent_customer_id", sa.UUID(), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["customer_groups.id"],
            name=op.f("fk_group_members_group_id_customer_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_group_members_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["parent_customer_id"],
            ["customers.id"],
            name=op.f("fk_group_members_parent_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_members")),
    )
    op.create_index(
        "ix_group_members_group",
        "group_members",
        ["group_id"],
        postgresql_where=sa.text("until IS NULL"),
    )
    op.create_index(
        "uq_group_members_current",
        "group_members",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("until IS NULL"),
    )
    op.create_index(
        "uq_group_members_top",
        "group_members",
        ["group_id"],
        unique=True,
        postgresql_where=sa.text("until IS NULL AND role IN ('head', 'parent')"),
    )


def downgrade() -> None:
    op.drop_index("uq_group_members_top", table_name="group_members")
    op.drop_index("uq_group_members_current", table_name="group_members")
    op.drop_index("ix_group_members_group", table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("customer_groups")
