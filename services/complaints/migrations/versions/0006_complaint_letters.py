"""The letters a complainant is sent, and the language they are written in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("complaints", sa.Column("language", sa.String(5), nullable=True))
    # Cases filed before letters existed are answered in their jurisdiction's language.
    op.execute(
        "UPDATE complaints SET language = CASE deadline_pack WHEN 'cn' THEN 'zh-CN' ELSE 'en' END"
    )
    op.alter_column("complaints", "language", nullable=False)
    op.create_table(
        "complaint_letters",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("complaint_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("jurisdiction", sa.String(10), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_letters")),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_letters_complaint_id_complaints"),
        ),
    )
    op.create_index("ix_complaint_letters_case", "complaint_letters", ["complaint_id", "issued_at"])
    # What was sent is evidence, as the history is: nothing rewrites or removes a letter.
    op.execute(
        """
        CREATE FUNCTION complaint_letters_are_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'complaint_letters is append-only (% refused)', TG_OP;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER complaint_letters_append_only
        BEFORE UPDATE OR DELETE ON complaint_letters
        FOR EACH ROW EXECUTE FUNCTION complaint_letters_are_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER complaint_letters_append_only ON complaint_letters")
    op.execute("DROP FUNCTION complaint_letters_are_append_only()")
    op.drop_index("ix_complaint_letters_case", table_name="complaint_letters")
    op.drop_table("complaint_letters")
    op.drop_column("complaints", "language")
