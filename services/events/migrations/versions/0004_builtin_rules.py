"""The built-in rule set, as version 1 of each rule (from builtin_rules.yaml).

A rule the bank has already created under the same id is left as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from services.events.rule_admin import BUILTIN_RULES, read_rule_file

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    for rule_id, definition in read_rule_file(BUILTIN_RULES).items():
        created = connection.execute(
            sa.text(
                "INSERT INTO rules (rule_id, enabled, updated_at) VALUES (:id, true, :now) "
                "ON CONFLICT DO NOTHING RETURNING rule_id"
            ),
            {"id": rule_id, "now": now},
        ).scalar()
        if created is None:
            continue
        connection.execute(
            sa.text(
                "INSERT INTO rule_versions (rule_id, version, status, definition, built_in, "
                "created_at) VALUES (:id, 1, 'active', CAST(:definition AS jsonb), true, :now)"
            ),
            {"id": rule_id, "definition": json.dumps(definition.model_dump(mode="json")),
             "now": now},
        )  # fmt: skip


def downgrade() -> None:
    op.execute(
        "DELETE FROM rule_versions WHERE built_in AND version = 1 "
        "AND rule_id NOT IN (SELECT rule_id FROM rule_versions WHERE version > 1)"
    )
    op.execute("DELETE FROM rules WHERE rule_id NOT IN (SELECT rule_id FROM rule_versions)")
