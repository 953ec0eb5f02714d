"""Satisfaction surveys, potential customers (leads) and their visits, relationships.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 06:32:29.512545
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("estimated_value_cny", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("branch_code", sa.String(length=20), nullable=True),
        sa.Column("manager_id", sa.UUID(), nullable=True),
        sa.Column("referred_by", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("converted_customer_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index("ix_leads_status_grade", "leads", ["status", "grade"], unique=False)
    op.create_table(
        "relationships",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("related_customer_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_relationships_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["related_customer_id"],
            ["customers.id"],
            name=op.f("fk_relationships_related_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationships")),
        sa.UniqueConstraint(
            "customer_id",
            "related_customer_id",
            "kind",
            name=op.f("uq_relationships_customer_id_related_customer_id_kind"),
        ),
    )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_survey_answers_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_survey_answers_external_id")),
    )
    op.create_index(
        "ix_survey_answers_customer", "survey_answers", ["customer_id", "answered_at"], unique=False
    )
    op.create_table(
        "visit_plans",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_visit_plans_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_plans")),
    )
    op.create_index("ix_visit_plans_lead", "visit_plans", ["lead_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_visit_plans_lead", table_name="visit_plans")
    op.drop_table("visit_plans")
    op.drop_index("ix_survey_answers_customer", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_table("relationships")
    op.drop_index("ix_leads_status_grade", table_name="leads")
    op.drop_table("leads")
