"""The managers' worklist, a group's lead manager, its members' history, erasure's look-up.

``open_opportunities.owner_id`` keeps which manager an opportunity is for, as the events
service names it. Opportunities projected before this step have none: the worklist gives them
to the customer's own manager (the one the detector named when it opened them, unless the
customer has been moved since), so nothing is backfilled.

``ix_leads_manager`` finds a manager's potential customers and their visits.

``customer_groups.lead_manager_id`` is the manager who leads a household or corporate group
(集团客户 are managed as a whole), set by staff; empty on every group so far, whose read then
derives it from the head's or parent's manager.

A change of a member's role or parent now ends the membership row and starts a new one;
``ix_group_members_history`` serves the read of a group's rows, ended ones too. Rows written
before this step were changed in place: their history starts at their current role.

``ix_group_members_customer`` finds every group a customer was ever in, for erasure to clear
the names that identify them.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("open_opportunities", sa.Column("owner_id", sa.UUID(), nullable=True))
    op.create_index(
        "ix_open_opportunities_owner",
        "open_opportunities",
        ["owner_id"],
        postgresql_where=sa.text("owner_id IS NOT NULL"),
    )
    op.create_index("ix_leads_manager", "leads", ["manager_id"])
    op.add_column("customer_groups", sa.Column("lead_manager_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_customer_groups_lead_manager_id_managers"),
        "customer_groups",
        "managers",
        ["lead_manager_id"],
        ["id"],
    )
    op.create_index("ix_group_members_history", "group_members", ["group_id", "since"])
    op.create_index("ix_group_members_customer", "group_members", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_group_members_customer", table_name="group_members")
    op.drop_index("ix_group_members_history", table_name="group_members")
    op.drop_constraint(
        op.f("fk_customer_groups_lead_manager_id_managers"), "customer_groups", type_="foreignkey"
    )
    op.drop_column("customer_groups", "lead_manager_id")
    op.drop_index("ix_leads_manager", table_name="leads")
    op.drop_index("ix_open_opportunities_owner", table_name="open_opportunities")
    op.drop_column("open_opportunities", "owner_id")
