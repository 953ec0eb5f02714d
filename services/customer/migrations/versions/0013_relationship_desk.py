"""The relationship manager's desk: complaints and opportunities kept for the timeline, the
customers whose tier requires a manager and who have none, and the reviews a tier policy asks
for.

``timeline_cases`` keeps every complaint and opportunity of a customer, closed ones too (the
``open_*`` projections drop a case when it closes). It starts from the complaints still open:
their received time is known. Complaints closed before this step, and opportunities (whose
creation time the projection never kept), reach the timeline only from their next event on.

``unserved_customers`` starts empty: a customer left without a manager before this step is
listed from the next time their tier is decided.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "timeline_cases",
        sa.Column("case_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_timeline_cases")),
    )
    op.create_index(
        "ix_timeline_cases_customer_opened", "timeline_cases", ["customer_id", "opened_at"]
    )
    op.execute(
        "INSERT INTO timeline_cases"
        " (case_id, customer_id, kind, subject, detail, status, opened_at)"
        " SELECT complaint_id, customer_id, 'complaint', category, priority, 'open', received_at"
        " FROM open_complaints"
    )
    op.create_table(
        "unserved_customers",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_unserved_customers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_unserved_customers")),
    )
    op.create_table(
        "customer_reviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=False),
        sa.Column("manager_id", sa.UUID(), nullable=True),
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("value_tier", sa.String(length=20), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_reviews_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_reviews")),
    )
    op.create_index(
        "ix_customer_reviews_customer", "customer_reviews", ["customer_id", "reviewed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_customer_reviews_customer", table_name="customer_reviews")
    op.drop_table("customer_reviews")
    op.drop_table("unserved_customers")
    op.drop_index("ix_timeline_cases_customer_opened", table_name="timeline_cases")
    op.drop_table("timeline_cases")
