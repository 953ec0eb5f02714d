"""The contact centre: known customers and their identifier digests, agents and their
state spells, calls and their legs, callbacks, the outbound call list, do-not-call.

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


def upgrade() -> None:
    op.create_table(
        "agent_state_spells",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("agent_id", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_spells")),
    )
    op.create_index(
        "ix_agent_state_spells_agent",
        "agent_state_spells",
        ["agent_id", "started_at"],
        unique=False,
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_call_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_index(
        "ix_agents_available",
        "agents",
        ["idle_since"],
        unique=False,
        postgresql_where="state = 'available'",
    )
    op.create_table(
        "call_legs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.String(length=30), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_legs")),
    )
    op.create_index("ix_call_legs_call", "call_legs", ["call_id", "id"], unique=False)
    op.create_index("ix_call_legs_queued", "call_legs", ["queued_at"], unique=False)
    op.create_index(
        "ix_call_legs_waiting",
        "call_legs",
        ["priority", "queued_at"],
        unique=False,
        postgresql_where="outcome = 'waiting' AND agent_id IS NULL",
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("requested_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("last_result", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(
        "ix_callbacks_due",
        "callbacks",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'scheduled'",
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("caller_number_masked", sa.String(length=30), nullable=True),
        sa.Column("dialled_number", sa.String(length=30), nullable=False),
        sa.Column("ivr_path", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("identified_by", sa.String(length=30), nullable=False),
        sa.Column("value_tier", sa.String(length=20), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("agent_id", sa.String(length=30), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_seconds", sa.Double(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("wrap_up_code", sa.String(length=40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("complaint_requested", sa.Boolean(), nullable=False),
        sa.Column("callback_id", sa.UUID(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index("ix_calls_arrived", "calls", ["arrived_at"], unique=False)
    op.create_index("ix_calls_customer", "calls", ["customer_id", "arrived_at"], unique=False)
    op.create_table(
        "customer_identifiers",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "digest", "customer_id", name=op.f("pk_customer_identifiers")
        ),
    )
    op.create_index(
        "ix_customer_identifiers_customer", "customer_identifiers", ["customer_id"], unique=False
    )
    op.create_table(
        "do_not_call",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_do_not_call")),
    )
    op.create_table(
        "known_customers",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("value_tier", sa.String(length=20), nullable=True),
        sa.Column("queue_priority", sa.Integer(), nullable=True),
        sa.Column("route_to_vip_queue", sa.Boolean(), nullable=False),
        sa.Column("consent", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_known_customers")),
    )
    op.create_table(
        "outbound_entries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("opportunity_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("rule_id", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("product", sa.String(length=60), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_entries")),
        sa.UniqueConstraint("opportunity_id", name=op.f("uq_outbound_entries_opportunity_id")),
    )
    op.create_index(
        "ix_outbound_entries_list",
        "outbound_entries",
        ["priority", "due_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("outbound_entries")
    op.drop_table("known_customers")
    op.drop_table("do_not_call")
    op.drop_table("customer_identifiers")
    op.drop_table("calls")
    op.drop_table("callbacks")
    op.drop_table("call_legs")
    op.drop_table("agents")
    op.drop_table("agent_state_spells")
