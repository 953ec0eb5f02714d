"""A customer's history, so that the 360 view can be read as of a past moment.

One table for every facet the view shows and nothing else keeps: ``customer`` (the profile,
status, branch and manager: the customer's own row), ``accounts`` (the products held and their
status; balances come from each transaction's ``balance_after``), ``relationships`` and
``group``. A row is the facet's whole snapshot from ``valid_from`` until the next row of the
same facet; segments keep their own history (``segment_changes``).

The rows are written by triggers, in the transaction of the change and whichever path makes it:
the ORM, the set-based ingest, group membership, erasure. A trigger fires only on the columns a
facet holds, so a posting (which moves a balance and the last activity) writes nothing here.
A change made twice in one transaction leaves one row, the last state.

Backfill: each customer's present state becomes valid from the customer's ``updated_at``
(their own row) or ``created_at`` (the rest). What happened before this step is not known:
``customer_history_start`` keeps when the history became complete, and the view answers an
earlier moment with what it knows and says so.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

# The facet's state now, in the shape the view answers with (the group as ``_group`` builds it,
# amounts and the balance left out: they have histories of their own).
_SNAPSHOT = """
CREATE FUNCTION customer_history_snapshot(p_customer uuid, p_facet text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
SELECT CASE p_facet
  WHEN 'customer' THEN (
    SELECT jsonb_build_object(
      'kind', c.kind, 'name', c.name, 'status', c.status, 'version', c.version,
      'branch_code', c.branch_code, 'manager_id', c.manager_id, 'profile', c.profile,
      'consent', c.consent, 'created_at', c.created_at, 'updated_at', c.updated_at,
      'closed_at', c.closed_at)
    FROM customers c WHERE c.id = p_customer)
  WHEN 'accounts' THEN (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
      'account_number', a.account_number, 'product_type', a.product_type,
      'product_code', a.product_code, 'currency', a.currency, 'status', a.status,
      'opened_on', a.opened_on, 'maturity_date', a.maturity_date,
      'payoff_date', a.payoff_date, 'card_last_four', a.card_last_four,
      'closed_on', a.closed_on) ORDER BY a.opened_on, a.account_number), '[]'::jsonb)
    FROM accounts a WHERE a.customer_id = p_customer)
  WHEN 'relationships' THEN (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
      'related_customer_id', r.related_customer_id, 'kind', r.kind, 'since', r.since)
      ORDER BY r.kind, r.since, r.related_customer_id), '[]'::jsonb)
    FROM relationships r WHERE r.customer_id = p_customer)
  WHEN 'group' THEN coalesce((
    SELECT jsonb_build_object(
      'group_id', g.id, 'kind', g.kind, 'name', g.name, 'role', m.role,
      'parent_customer_id', m.parent_customer_id, 'since', m.since)
    FROM group_members m JOIN customer_groups g ON g.id = m.group_id
    WHERE m.customer_id = p_customer AND m.until IS NULL), 'null'::jsonb)
END
$$
"""

# A new row only when the facet changed; the key makes one transaction one row.
_RECORD = """
CREATE FUNCTION record_customer_history(p_customer uuid, p_facet text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  state jsonb := customer_history_snapshot(p_customer, p_facet);
BEGIN
  IF state IS NULL OR state IS NOT DISTINCT FROM (
    SELECT h.snapshot FROM customer_history h
    WHERE h.customer_id = p_customer AND h.facet = p_facet
    ORDER BY h.valid_from DESC LIMIT 1)
  THEN
    RETURN;
  END IF;
  INSERT INTO customer_history (customer_id, facet, valid_from, snapshot)
  VALUES (p_customer, p_facet, now(), state)
  ON CONFLICT (customer_id, facet, valid_from) DO UPDATE SET snapshot = EXCLUDED.snapshot;
END
$$
"""

# One trigger function for the four tables: its arguments name the facet and the column that
# holds the customer's id (a row moved to another customer changes both customers' facet).
_ROW_CHANGED = """
CREATE FUNCTION customer_history_of_row() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  before uuid;
  after uuid;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    before := (to_jsonb(OLD) ->> TG_ARGV[1])::uuid;
    PERFORM record_customer_history(before, TG_ARGV[0]);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    after := (to_jsonb(NEW) ->> TG_ARGV[1])::uuid;
    IF after IS DISTINCT FROM before THEN
      PERFORM record_customer_history(after, TG_ARGV[0]);
    END IF;
  END IF;
  RETURN NULL;
END
$$
"""
# Only the columns a facet holds fire it: a posting updates balance and last activity only.
_ON_CUSTOMERS = (
    "CREATE TRIGGER customer_history AFTER INSERT OR UPDATE OF kind, name, status, version,"
    " branch_code, manager_id, profile, consent, created_at, updated_at, closed_at"
    " ON customers FOR EACH ROW EXECUTE FUNCTION customer_history_of_row('customer', 'id')"
)
_ON_ACCOUNTS = (
    "CREATE TRIGGER customer_history AFTER INSERT OR DELETE OR UPDATE OF customer_id,"
    " product_type, product_code, currency, status, opened_on, maturity_date, payoff_date,"
    " card_last_four, closed_on"
    " ON accounts FOR EACH ROW EXECUTE FUNCTION customer_history_of_row('accounts', 'customer_id')"
)
_ON_RELATIONSHIPS = (
    "CREATE TRIGGER customer_history AFTER INSERT OR DELETE OR UPDATE ON relationships"
    " FOR EACH ROW EXECUTE FUNCTION customer_history_of_row('relationships', 'customer_id')"
)
_ON_GROUP_MEMBERS = (
    "CREATE TRIGGER customer_history AFTER INSERT OR DELETE OR UPDATE ON group_members"
    " FOR EACH ROW EXECUTE FUNCTION customer_history_of_row('group', 'customer_id')"
)
_TABLES = ("customers", "accounts", "relationships", "group_members", "customer_groups")


# A group renamed is a change of every current member's group.
_GROUP_RENAMED = """
CREATE FUNCTION customer_history_of_customer_groups() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM record_customer_history(m.customer_id, 'group')
  FROM group_members m WHERE m.group_id = NEW.id AND m.until IS NULL;
  RETURN NULL;
END
$$
"""
_ON_CUSTOMER_GROUPS = (
    "CREATE TRIGGER customer_history AFTER UPDATE OF name, kind ON customer_groups"
    " FOR EACH ROW EXECUTE FUNCTION customer_history_of_customer_groups()"
)

_BACKFILL = """
INSERT INTO customer_history (customer_id, facet, valid_from, snapshot)
SELECT c.id, f.facet, CASE f.facet WHEN 'customer' THEN c.updated_at ELSE c.created_at END,
  customer_history_snapshot(c.id, f.facet)
FROM customers c
CROSS JOIN (VALUES ('customer'), ('accounts'), ('relationships'), ('group')) AS f (facet)
"""


def upgrade() -> None:
    op.create_table(
        "customer_history",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", "facet", "valid_from", name=op.f("pk_customer_history")
        ),
    )
    op.create_table(
        "customer_history_start",
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("started_at", name=op.f("pk_customer_history_start")),
    )
    op.execute(_SNAPSHOT)
    op.execute(_RECORD)
    op.execute(_ROW_CHANGED)
    op.execute(_ON_CUSTOMERS)
    op.execute(_ON_ACCOUNTS)
    op.execute(_ON_RELATIONSHIPS)
    op.execute(_ON_GROUP_MEMBERS)
    op.execute(_GROUP_RENAMED)
    op.execute(_ON_CUSTOMER_GROUPS)
    op.execute(_BACKFILL)
    op.execute("INSERT INTO customer_history_start (started_at) VALUES (now())")


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DROP TRIGGER customer_history ON {table}")  # nosec B608
    op.execute("DROP FUNCTION customer_history_of_customer_groups()")
    op.execute("DROP FUNCTION customer_history_of_row()")
    op.execute("DROP FUNCTION record_customer_history(uuid, text)")
    op.execute("DROP FUNCTION customer_history_snapshot(uuid, text)")
    op.drop_table("customer_history_start")
    op.drop_table("customer_history")
