"""Each identity document, card and account number held by one customer, as the database's rule.

Registration and onboarding look a document up before they write it. Two requests with the
same document, neither yet committed, both found nobody and both wrote it: two customers for
one person. With this unique index the second writer waits for the first, then fails, and the
service answers 409 (``concurrent-duplicate``); the retry gets the plain 409 that names the
customer holding the document. Phones and e-mails are left out: a household shares them.

Built CONCURRENTLY, outside the revision's transaction: registrations go on during the build.
A database that already holds such a duplicate cannot take the index, so the revision first
counts them and stops, before building anything, if there are any: they are resolved by hand
first (one of the two customers erased or its identifier corrected). A build that failed
(cancelled, say) leaves an invalid index; the revision runs again once that is dropped.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision: str | None = "0021"
branch_labels: str | None = None
depends_on: str | None = None

_INDEX = "uq_customer_identifiers_held_once"
# services.customer.models.UNIQUE_IDENTIFIERS when this revision was written.
_HELD_ONCE = (
    "kind IN ('resident_id', 'passport', 'social_credit_code', 'card_token', 'account_number')"
)
# How many values more than one customer holds; never the values, which are personal data.
_DUPLICATES = (
    "SELECT count(*) FROM (SELECT kind, value FROM customer_identifiers"
    " WHERE kind IN ('resident_id', 'passport', 'social_credit_code', 'card_token',"
    " 'account_number') GROUP BY kind, value HAVING count(DISTINCT customer_id) > 1) AS held_twice"
)


def upgrade() -> None:
    held_twice = op.get_bind().execute(sa.text(_DUPLICATES)).scalar_one()
    if held_twice:
        raise RuntimeError(
            f"{held_twice} identity documents, cards or account numbers are held by more than"
            " one customer; resolve them before this revision can make the rule the database's"
        )
    with op.get_context().autocommit_block():
        op.create_index(
            _INDEX,
            "customer_identifiers",
            ["kind", "value"],
            unique=True,
            postgresql_where=sa.text(_HELD_ONCE),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="customer_identifiers")
