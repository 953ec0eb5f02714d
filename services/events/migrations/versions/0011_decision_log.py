"""The next best action's decision log and its adaptive models' evidence.

``action_decisions`` keeps every ranking served: the customer's features as they were then
(what learning reads, so that it never sees the future), the models' versions and whether the
ranking explored. ``action_decision_entries`` keeps each ranked action with its propensities
and the probability that the policy would have put it first (what off-policy evaluation
weighs by), and the customer's response once recorded. ``action_evidence`` holds each
action's positive and negative responses per predictor bin (predictor '' is the total).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "action_evidence",
        sa.Column("action_id", sa.String(60), primary_key=True),
        sa.Column("predictor", sa.String(40), primary_key=True),
        sa.Column("bin", sa.String(40), primary_key=True),
        sa.Column("positives", sa.Integer, nullable=False),
        sa.Column("negatives", sa.Integer, nullable=False),
    )
    op.create_table(
        "action_decisions",
        sa.Column("id", UUID, primary_key=True),
        # Emptied when the customer is erased: the decision still teaches model health.
        sa.Column("customer_id", UUID, nullable=True),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explored", sa.Boolean, nullable=False),
        sa.Column("features", JSONB, nullable=False),
        sa.Column("model_versions", JSONB, nullable=False),
    )
    op.create_index("ix_action_decisions_customer", "action_decisions", ["customer_id"])
    op.create_index("ix_action_decisions_served_at", "action_decisions", ["served_at"])
    op.create_table(
        "action_decision_entries",
        sa.Column(
            "decision_id",
            UUID,
            sa.ForeignKey("action_decisions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action_id", sa.String(60), primary_key=True),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("opportunity_id", UUID, nullable=True),
        sa.Column("propensity", sa.Numeric(9, 8), nullable=False),
        sa.Column("ranked_propensity", sa.Numeric(9, 8), nullable=False),
        sa.Column("expected_value", sa.Numeric(16, 4), nullable=False),
        sa.Column("choice_probability", sa.Numeric(9, 8), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_action_decision_entries_opportunity",
        "action_decision_entries",
        ["opportunity_id"],
        postgresql_where=sa.text("opportunity_id IS NOT NULL AND outcome IS NULL"),
    )
    op.create_index(
        "ix_action_decision_entries_responded",
        "action_decision_entries",
        ["action_id", "responded_at"],
        postgresql_where=sa.text("outcome IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("action_decision_entries")
    op.drop_table("action_decisions")
    op.drop_table("action_evidence")
