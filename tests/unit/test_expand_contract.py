"""Revisions written after the last release only expand the schema, and build their indexes on
the large tables without holding them locked (tools/migrations/expand_contract.py)."""

import textwrap
from dataclasses import replace

import pytest

from services.events.app import MIGRATIONS as EVENTS_MIGRATIONS
from tools.migrations.expand_contract import (
    check_revision,
    check_since_last_release,
    frozen_steps,
    revisions_after,
)
from tools.migrations.releases import last_release

MIGRATIONS = EVENTS_MIGRATIONS / "versions"

HEADER = '''
"""A revision written for the test."""

import sqlalchemy as sa
from alembic import op
from shared.frozen_migrations import drop_outbox_traceparent_v2

revision = "0099"
down_revision = "0098"
'''


def _findings(upgrade: str, *, header: str = HEADER) -> list[str]:
    source = header + "\n\ndef upgrade() -> None:\n" + textwrap.indent(upgrade.strip(), "    ")
    source += "\n\n\ndef downgrade() -> None:\n    op.drop_table('anything')\n"
    findings = check_revision(
        source, filename="0099_test.py", recorded={"0.1.0"}, steps=frozen_steps()
    )
    return [str(f) for f in findings]


def test_the_revisions_since_the_last_release_only_expand() -> None:
    assert [str(f) for f in check_since_last_release()] == []


def test_the_revisions_after_a_release_are_those_its_heads_do_not_reach() -> None:
    release = last_release()
    before_reversals = replace(release, heads={**release.heads, "customer": "0011"})

    after = [(service, path.name) for service, path in revisions_after(before_reversals)]
    after_release = [(service, path.name) for service, path in revisions_after(release)]

    assert ("customer", "0012_transaction_reversals.py") in after
    # Moving the customer head back adds customer revisions only; other services' new
    # revisions since the release are in both.
    assert all(service == "customer" for service, _ in set(after) - set(after_release))
    assert set(after_release) <= set(after)
    assert "0012_transaction_reversals.py" not in [name for _, name in after_release]


def test_a_released_revision_read_as_new_is_held_to_the_rules() -> None:
    """events 0008 shipped in 0.1.0, before the rule: it indexes the detector's history in
    the revision's transaction."""
    path = MIGRATIONS / "0008_observed_order.py"

    findings = check_revision(
        path.read_text(), filename=path.name, recorded={"0.1.0"}, steps=frozen_steps()
    )

    assert [str(f) for f in findings] == [
        "0008_observed_order.py:27: an index on observed_events without "
        "postgresql_concurrently=True"
    ]


CONTRACTING = {
    "drop_table": 'op.drop_table("segment_changes")',
    "drop_column": 'op.drop_column("customers", "branch_code")',
    "drop_constraint": 'op.drop_constraint("uq_accounts_card", "accounts", type_="unique")',
    "drop_index": 'op.drop_index("uq_transactions_reversal_id", table_name="transactions")',
    "rename_table": 'op.rename_table("leads", "prospects")',
    "column renamed": 'op.alter_column("customers", "name", new_column_name="full_name")',
    "type changed": 'op.alter_column("accounts", "currency", type_=sa.String(8))',
    "made NOT NULL": 'op.alter_column("customers", "branch_code", nullable=False)',
    "NOT NULL added": 'op.add_column("customers", sa.Column("risk", sa.String(8), nullable=False))',
    "SQL drop": 'op.execute("ALTER TABLE customers DROP COLUMN branch_code")',
    "SQL rename": 'op.execute(sa.text("ALTER TABLE leads RENAME TO prospects"))',
    "SQL type": 'op.execute("ALTER TABLE accounts ALTER COLUMN currency TYPE varchar(8)")',
    "SQL set data type": 'op.execute("ALTER TABLE accounts ALTER currency SET DATA TYPE text")',
    "SQL not literal": "op.execute(f\"DROP TABLE {'leads'}\")",
    "a shared step that drops": "drop_outbox_traceparent_v2()",
    "through the bind": 'op.get_bind().execute(sa.text("DROP TABLE leads"))',
}


@pytest.mark.parametrize("upgrade", CONTRACTING.values(), ids=CONTRACTING.keys())
def test_a_contract_step_is_refused_unless_marked(upgrade: str) -> None:
    marked = HEADER + '\nCONTRACTS_AFTER_RELEASE = "0.1.0"\n'

    findings = _findings(upgrade)

    assert len(findings) == 1, findings
    assert findings[0].startswith("0099_test.py:")
    assert "CONTRACTS_AFTER_RELEASE" in findings[0]
    assert _findings(upgrade, header=marked) == []


def test_a_contract_step_names_a_recorded_release() -> None:
    ahead = HEADER + '\nCONTRACTS_AFTER_RELEASE = "0.2.0"\n'

    findings = _findings('op.drop_column("customers", "branch_code")', header=ahead)

    assert any("'0.2.0' is not a recorded release" in f for f in findings), findings
    assert any("drop_column removes" in f for f in findings), findings


EXPANDING = {
    "a nullable column": 'op.add_column("customers", sa.Column("risk", sa.String(8)))',
    "NOT NULL with a default": (
        'op.add_column("accounts", sa.Column("n", sa.Integer(), nullable=False,'
        ' server_default="0"))'
    ),
    "NOT NULL filled by identity": (
        'op.add_column("accounts", sa.Column("n", sa.BigInteger(), sa.Identity(), nullable=False))'
    ),
    "made NOT NULL with a default": (
        'op.alter_column("customers", "tier", nullable=False, server_default="mass")'
    ),
    "relaxed": 'op.execute("ALTER TABLE customers ALTER COLUMN tier DROP NOT NULL")',
    "an enum value added": "op.execute(\"ALTER TYPE segment ADD VALUE 'private'\")",
    "an index on a small table": 'op.create_index("ix_leads_owner", "leads", ["owner"])',
    "a new large table's index": (
        'op.create_table("outbox", sa.Column("seq", sa.BigInteger()))\n'
        'op.create_index("ix_outbox_seq", "outbox", ["seq"])'
    ),
    "a concurrent index": (
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix_t_kind", "transactions", ["kind"],'
        " postgresql_concurrently=True)"
    ),
    "concurrent SQL": (
        "with op.get_context().autocommit_block():\n"
        '    op.execute("CREATE INDEX CONCURRENTLY ix_o ON outbox (topic)")'
    ),
    "SQL kept in a constant": "op.execute(_FILL)",
}


@pytest.mark.parametrize("upgrade", EXPANDING.values(), ids=EXPANDING.keys())
def test_an_expand_step_passes(upgrade: str) -> None:
    header = HEADER + "\n_FILL = \"UPDATE customers SET risk = 'low'\"\n"

    assert _findings(upgrade, header=header) == []


LOCKING = {
    "plain index": 'op.create_index("ix_t_kind", "transactions", ["kind"])',
    "concurrent, in the transaction": (
        'op.create_index("ix_o_topic", "outbox", ["topic"], postgresql_concurrently=True)'
    ),
    "unique constraint": 'op.create_unique_constraint("uq_i", "inbox", ["event_id"])',
    "plain SQL index": 'op.execute("CREATE INDEX ix_a ON customer.audit_log (subject)")',
    "history index": 'op.create_index("ix_e", "observed_events", ["event_name"])',
}


@pytest.mark.parametrize("upgrade", LOCKING.values(), ids=LOCKING.keys())
def test_an_index_on_a_large_table_is_built_concurrently(upgrade: str) -> None:
    marked = HEADER + '\nCONTRACTS_AFTER_RELEASE = "0.1.0"\n'

    findings = _findings(upgrade)

    assert len(findings) == 1, findings
    assert "CONTRACTS_AFTER_RELEASE" not in findings[0]
    # Being a contract step does not make a long lock acceptable.
    assert [f.split(": ", 1)[1] for f in _findings(upgrade, header=marked)] == [
        findings[0].split(": ", 1)[1]
    ]
