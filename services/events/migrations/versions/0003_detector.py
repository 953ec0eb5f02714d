"""The detector: rule versions, customer state, consumed history, opportunities, firings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(20, 2)


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("rule_id", sa.String(60), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.String(60), sa.ForeignKey("rules.rule_id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'shadow', 'retired')", name="ck_rule_versions_status"
        ),
    )
    for status in ("active", "shadow"):
        op.create_index(
            f"uq_rule_versions_{status}", "rule_versions", ["rule_id"], unique=True,
            postgresql_where=sa.text(f"status = '{status}'"),
        )  # fmt: skip
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.UUID(), primary_key=True),
        sa.Column("value_tier", sa.String(20)),
        sa.Column("manager_id", sa.String(40)),
        sa.Column("consent", postgresql.JSONB(), nullable=False),
        sa.Column("preferred_channel", sa.String(20)),
        sa.Column("birth_month_day", sa.String(5)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("last_activity_at", _TIME),
        sa.Column("open_complaints", sa.Integer(), nullable=False),
    )
    op.create_index("ix_customer_profiles_birthday", "customer_profiles", ["birth_month_day"])
    op.create_index("ix_customer_profiles_activity", "customer_profiles", ["last_activity_at"])
    op.create_table(
        "customer_days",
        sa.Column("customer_id", sa.UUID(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("money_in", _MONEY, nullable=False),
        sa.Column("money_out", _MONEY, nullable=False),
        sa.Column("count_in", sa.Integer(), nullable=False),
        sa.Column("count_out", sa.Integer(), nullable=False),
        sa.Column("max_in", _MONEY, nullable=False),
        sa.Column("max_out", _MONEY, nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("closing_balance", _MONEY),
    )
    op.create_table(
        "customer_holdings",
        sa.Column("customer_id", sa.UUID(), primary_key=True),
        sa.Column("account_number", sa.String(40), primary_key=True),
        sa.Column("product_type", sa.String(20), nullable=False),
        sa.Column("balance", _MONEY, nullable=False),
        sa.Column("maturity_date", sa.Date()),
        sa.Column("open", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_customer_holdings_maturity", "customer_holdings", ["maturity_date"])
    op.create_table(
        "customer_recurring_credits",
        sa.Column("customer_id", sa.UUID(), primary_key=True),
        sa.Column("source", sa.String(140), primary_key=True),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
    )
    op.create_table(
        "observed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("event_name", sa.String(40), nullable=False),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("topic", sa.String(100)),
        sa.Column("partition", sa.Integer()),
        sa.Column("offset", sa.BigInteger()),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
    )
    op.create_index("ix_observed_events_time", "observed_events", ["occurred_at"])
    op.create_table(
        "opportunities",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.String(60), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("product", sa.String(60)),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.String(40)),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("outcome", sa.Text()),
        sa.Column("control_group", sa.Boolean(), nullable=False),
        sa.Column("facts", postgresql.JSONB(), nullable=False),
        sa.Column("lineage", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("converted_at", _TIME),
    )
    op.create_index("ix_opportunities_customer", "opportunities", ["customer_id", "created_at"])
    op.create_index("ix_opportunities_owner", "opportunities", ["owner", "status", "due_at"])
    op.create_index("ix_opportunities_rule", "opportunities", ["rule_id", "created_at"])
    op.create_index(
        "ix_opportunities_open_expiry", "opportunities", ["expires_at"],
        postgresql_where=sa.text("status IN ('open', 'in_contact')"),
    )  # fmt: skip
    op.create_table(
        "rule_firings",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("rule_id", sa.String(60), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("decision", sa.String(40), nullable=False),
        sa.Column("opportunity_id", sa.UUID()),
        sa.Column("fired_at", _TIME, nullable=False),
    )
    op.create_index(
        "uq_rule_firings_once", "rule_firings", ["rule_id", "rule_version", "dedupe_key"],
        unique=True,
    )  # fmt: skip
    op.create_index("ix_rule_firings_rule", "rule_firings", ["rule_id", "fired_at"])


def downgrade() -> None:
    for table in (
        "rule_firings", "opportunities", "observed_events", "customer_recurring_credits",
        "customer_holdings", "customer_days", "customer_profiles", "rule_versions", "rules",
    ):  # fmt: skip
        op.drop_table(table)
