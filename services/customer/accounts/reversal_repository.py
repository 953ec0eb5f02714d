"""The reversals' statements (冲正): checked and applied after the batch's transactions are
posted, in the same transaction, so that a batch may reverse one of its own and a refusal
still writes nothing. Set-based like the postings (see ingest_repository).

Statements are put together from this module's constants (column names and types), never from
input, and every value is a bound parameter: hence their ``nosec B608`` marks for bandit.
"""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import TransactionReversed
from services.customer.accounts.ingest_repository import event_parameters, json_rows
from services.customer.models import AccountStatus
from shared.outbox import EventOrigin

_TYPES = {
    "reversal_id": "varchar",
    "reverses": "varchar",
    "reason": "varchar",
    "booked_at": "timestamptz",
}
_REVERSALS = json_rows("reversals", _TYPES, "reversal_id", "reverses", "reason", "booked_at")

# The first reversal that cannot be applied, checked in this order for each: its id repeated
# in the batch; its id already used to reverse another transaction; the transaction reversed
# twice in the batch; no such transaction; the transaction already reversed by another id;
# its account not open. A reversal whose id already reversed this same transaction is a
# duplicate, not a refusal.
_CHECK = text(
    f"WITH reversal AS ({_REVERSALS}),"  # nosec B608
    " checked AS (SELECT r.position, r.reversal_id, r.reverses,"
    "  min(r.position) OVER (PARTITION BY r.reversal_id) AS first_with_id,"
    "  min(r.position) OVER (PARTITION BY r.reverses) AS first_of_transaction,"
    "  used.transaction_id AS id_reverses, t.transaction_id IS NULL AS unknown,"
    "  t.reversal_id AS reversed_by, a.status"
    "  FROM reversal r"
    "  LEFT JOIN transactions used"
    "  ON used.reversal_id = r.reversal_id AND used.reversal_id IS NOT NULL"
    "  LEFT JOIN transactions t ON t.transaction_id = r.reverses"
    "  LEFT JOIN accounts a ON a.account_number = t.account_number)"
    " SELECT position, first_with_id, first_of_transaction, id_reverses, unknown, reversed_by,"
    "  status FROM checked"
    " WHERE first_with_id < position OR id_reverses <> reverses"
    "  OR first_of_transaction < position OR unknown"
    "  OR (reversed_by IS NOT NULL AND reversed_by <> reversal_id) OR status <> :open"
    " ORDER BY position LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class ReversalRefusal:
    position: int
    first_with_id: int
    first_of_transaction: int
    id_reverses: str | None
    unknown: bool
    reversed_by: str | None
    status: str | None


async def first_refused(session: AsyncSession, reversals: str) -> ReversalRefusal | None:
    row = (
        await session.execute(_CHECK, {"reversals": reversals, "open": AccountStatus.OPEN})
    ).one_or_none()
    return None if row is None else ReversalRefusal(**row._mapping)


# The reversed transactions not reversed yet, in the batch's order: each moves its account's
# balance back by what it moved it, and leaves the month it was booked in.
_APPLY = (
    f"WITH reversal AS ({_REVERSALS}),"  # nosec B608
    " fresh AS (SELECT r.*, t.customer_id, t.account_number, t.direction, t.amount,"
    "  t.currency, t.kind, t.booked_at AS posted_at, a.product_type, a.balance AS balance_before,"
    "  CASE WHEN t.direction = :credit THEN -t.amount ELSE t.amount END"
    "  * CASE WHEN a.product_type = :loan THEN -1 ELSE 1 END AS change"
    "  FROM reversal r JOIN transactions t ON t.transaction_id = r.reverses"
    "  JOIN accounts a ON a.account_number = t.account_number WHERE t.reversal_id IS NULL),"
    " priced AS MATERIALIZED (SELECT f.*, CAST(f.balance_before + sum(f.change)"
    "  OVER (PARTITION BY f.account_number ORDER BY f.position) AS numeric(20,2)) AS balance_after"
    "  FROM fresh f),"
    " marked AS (UPDATE transactions t SET reversal_id = p.reversal_id,"
    "  reversal_reason = p.reason, reversed_at = p.booked_at"
    "  FROM priced p WHERE t.transaction_id = p.reverses),"
    " balances AS (UPDATE accounts a SET balance = last.balance_after"
    "  FROM (SELECT DISTINCT ON (account_number) account_number, balance_after FROM priced"
    "  ORDER BY account_number, position DESC) AS last"
    "  WHERE a.account_number = last.account_number),"
    " flows AS (UPDATE monthly_flows m SET money_in = m.money_in - v.money_in,"
    "  money_out = m.money_out - v.money_out, transaction_count = m.transaction_count - v.count"
    "  FROM (SELECT customer_id, currency,"
    "  CAST(date_trunc('month', posted_at AT TIME ZONE :zone) AS date) AS month,"
    "  coalesce(sum(amount) FILTER (WHERE direction = :credit), 0) AS money_in,"
    "  coalesce(sum(amount) FILTER (WHERE direction <> :credit), 0) AS money_out,"
    "  count(*) AS count FROM priced GROUP BY 1, 2, 3) AS v"
    "  WHERE m.customer_id = v.customer_id AND m.month = v.month AND m.currency = v.currency),"
    " events AS (INSERT INTO outbox (event_id, topic, message_key, event_type, source,"
    "  occurred_at, correlation_id, traceparent, payload)"
    "  SELECT gen_random_uuid(), :topic, CAST(p.customer_id AS text), :event_type, :source,"
    "  :occurred_at, :correlation_id, :traceparent,"
    "  jsonb_build_object('customer_id', p.customer_id, 'reversal_id', p.reversal_id,"
    "  'transaction_id', p.reverses, 'account_number', p.account_number,"
    "  'product_type', p.product_type, 'direction', p.direction,"
    "  'amount', CAST(p.amount AS text), 'currency', p.currency,"
    "  'balance_after', CAST(p.balance_after AS text), 'kind', p.kind, 'reason', p.reason,"
    "  'booked_at', to_char(p.booked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "  'reversed_booked_at',"
    "  to_char(p.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))"
    "  FROM priced p ORDER BY p.position),"
    " outcome AS (SELECT r.position, r.reversal_id, p.position IS NULL AS duplicate"
    "  FROM reversal r LEFT JOIN priced p USING (position))"
)
_FULL_ANSWER = text(
    f"{_APPLY} SELECT CAST(json_build_object("  # nosec B608
    " 'reversed', count(*) FILTER (WHERE NOT duplicate),"
    " 'reversal_duplicates', count(*) FILTER (WHERE duplicate),"
    " 'reversal_results', coalesce(json_agg(json_build_object('reversal_id', reversal_id,"
    " 'status', CASE WHEN duplicate THEN 'duplicate' ELSE 'reversed' END) ORDER BY position),"
    " '[]')) AS text) FROM outcome"
)
_COMPACT_ANSWER = text(
    f"{_APPLY} SELECT CAST(json_build_object("  # nosec B608
    " 'reversed', count(*) FILTER (WHERE NOT duplicate),"
    " 'reversal_duplicates', count(*) FILTER (WHERE duplicate),"
    " 'duplicate_reversal_ids', coalesce(json_agg(reversal_id ORDER BY position)"
    " FILTER (WHERE duplicate), '[]')) AS text) FROM outcome"
)


async def apply_reversals(
    session: AsyncSession, reversals: str, *, origin: EventOrigin, zone: str, compact: bool
) -> str:
    """Apply the batch's reversals (checked by :func:`first_refused`, their accounts locked);
    answer their outcome as the JSON text of an object."""
    answer = await session.scalar(
        _COMPACT_ANSWER if compact else _FULL_ANSWER,
        {"reversals": reversals, **event_parameters(TransactionReversed, origin, zone=zone)},
    )
    assert isinstance(answer, str)
    return answer
