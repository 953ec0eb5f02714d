"""The transaction ingest's statements: a whole batch checked in one and posted in another.

The batch reaches PostgreSQL as one JSON parameter (the validated batch, serialized by
pydantic's core) and is read there as rows, so Python does no work per transaction: the checks
are joins, the balances window sums in the batch's order, the monthly figures an aggregate
upsert, the ``transaction.posted`` events and the answer JSON built by the database. Both
statements read the same parameter, parsed by PostgreSQL each time, rather than staging it in
a temporary table: no table per pooled connection to create and truncate.
(Staging was not measured against it; the statements row of ``bench.customer_view_ingest`` is
the figure to compare with if someone tries.)

Statements are put together from this module's constants (column names and types), never from
input, and every value is a bound parameter: hence their ``nosec B608`` marks for bandit.
"""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import DomainEvent
from contracts.customer import TransactionPosted
from services.customer.models import AccountStatus, Direction, ProductType
from shared.outbox import EventOrigin

_TRANSACTION_TYPES = {
    "transaction_id": "varchar",
    "account_number": "varchar",
    "direction": "varchar",
    "amount": "numeric(20,2)",
    "currency": "varchar",
    "kind": "varchar",
    "channel": "varchar",
    "counterparty_name": "varchar",
    "counterparty_bank": "varchar",
    "description": "text",
    "booked_at": "timestamptz",
}


def json_rows(parameter: str, types: dict[str, str], *columns: str) -> str:
    """A JSON array parameter as rows: the named columns, typed, and each row's ``position``
    (from 0)."""
    definitions = ", ".join(f"{name} {types[name]}" for name in columns)
    return (
        f"SELECT {', '.join(f'j.{name}' for name in columns)}, j.ordinal - 1 AS position"  # nosec B608
        f" FROM ROWS FROM (json_to_recordset(CAST(:{parameter} AS json)) AS ({definitions}))"
        f" WITH ORDINALITY AS j({', '.join(columns)}, ordinal)"
    )


def _batch(*columns: str) -> str:
    return json_rows("batch", _TRANSACTION_TYPES, *columns)


# Accounts (the batch's, and those of the transactions it reverses), then their customers,
# locked in key order (as every writer of both does), so two batches on the same accounts queue
# instead of deadlocking. The customers' lock also keeps the valuation consumer out while a
# batch is in flight: a run that valued a customer without seeing an uncommitted batch would
# otherwise skip the batch's events as already valued (they are older than the valuation).
# (Holding them key-share plus an advisory lock per customer took the consumer off ingest's way,
# but lost exactly that; see docs/performance.md.) The one row answered names the batch's first
# refused transaction, if any: a repeated id, an unknown account, an account not open, a
# currency other than the account's, checked in that order per transaction.
_LOCK_AND_CHECK = text(
    f"WITH batch AS ({_batch('transaction_id', 'account_number', 'currency')}),"  # nosec B608
    " reversed AS (SELECT t.account_number FROM transactions t WHERE t.transaction_id IN"
    "  (SELECT r.reverses FROM json_to_recordset(CAST(:reversals AS json)) AS r(reverses text))),"
    " locked AS MATERIALIZED (SELECT a.account_number, a.customer_id, a.status, a.currency"
    "  FROM accounts a WHERE a.account_number IN"
    "  (SELECT account_number FROM batch UNION SELECT account_number FROM reversed)"
    "  ORDER BY a.account_number FOR UPDATE),"
    " owners AS MATERIALIZED (SELECT c.id FROM customers c"
    "  WHERE c.id IN (SELECT customer_id FROM locked) ORDER BY c.id FOR UPDATE),"
    " checked AS (SELECT b.position, b.currency,"
    "  min(b.position) OVER (PARTITION BY b.transaction_id) AS first_position,"
    "  l.account_number IS NULL AS unknown, l.status, l.currency AS account_currency"
    "  FROM batch b LEFT JOIN locked l USING (account_number))"
    " SELECT (SELECT count(*) FROM owners) AS owners, r.*"
    " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT position, first_position, unknown,"
    "  status, account_currency FROM checked"
    "  WHERE first_position < position OR unknown OR status <> :open"
    "  OR account_currency <> currency ORDER BY position LIMIT 1) AS r ON true"
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The first transaction of a batch that cannot be posted, and why."""

    position: int
    first_position: int
    unknown: bool
    status: str | None
    account_currency: str | None


async def lock_and_check(session: AsyncSession, batch: str, reversals: str) -> Refusal | None:
    """Lock what the batch changes; the first of its transactions that cannot be posted."""
    row = (
        await session.execute(
            _LOCK_AND_CHECK,
            {"batch": batch, "reversals": reversals, "open": AccountStatus.OPEN},
        )
    ).one()
    if row.position is None:
        return None
    return Refusal(
        position=row.position,
        first_position=row.first_position,
        unknown=row.unknown,
        status=row.status,
        account_currency=row.account_currency,
    )


_COLUMNS = (
    "transaction_id",
    "account_number",
    "direction",
    "amount",
    "currency",
    "kind",
    "channel",
    "counterparty_name",
    "counterparty_bank",
    "description",
    "booked_at",
)

# The event's payload as `TransactionPosted` serializes it: decimals and ids as strings, the
# booking time in UTC. `jsonb` because the outbox's column is; the relay sends its text.
_PAYLOAD = (
    "jsonb_build_object('customer_id', p.customer_id, 'transaction_id', p.transaction_id,"
    " 'account_number', p.account_number, 'product_type', p.product_type,"
    " 'direction', p.direction, 'amount', CAST(p.amount AS text), 'currency', p.currency,"
    " 'balance_after', CAST(p.balance_after AS text), 'kind', p.kind, 'channel', p.channel,"
    " 'counterparty_bank', p.counterparty_bank,"
    " 'booked_at', to_char(p.booked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))"
)

# Transactions not yet posted (by their bank id), priced in the batch's order: an account's
# balance after each is its balance before the batch plus the running sum of the changes. A
# loan's balance is what is owed, so money in lowers it. The data-modifying parts all read
# `priced`; the answer is built from the batch and `priced` in the batch's order.
_POST = (
    f"WITH batch AS ({_batch(*_COLUMNS)}),"  # nosec B608
    " fresh AS (SELECT b.*, a.customer_id, a.product_type, a.balance AS balance_before,"
    "  CASE WHEN b.direction = :credit THEN b.amount ELSE -b.amount END"
    "  * CASE WHEN a.product_type = :loan THEN -1 ELSE 1 END AS change"
    "  FROM batch b JOIN accounts a USING (account_number)"
    "  WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.transaction_id = b.transaction_id)),"
    " priced AS MATERIALIZED (SELECT f.*, CAST(f.balance_before + sum(f.change)"
    "  OVER (PARTITION BY f.account_number ORDER BY f.position) AS numeric(20,2)) AS balance_after"
    "  FROM fresh f),"
    " inserted AS (INSERT INTO transactions (customer_id, balance_after, "
    f"{', '.join(_COLUMNS)}) SELECT customer_id, balance_after, {', '.join(_COLUMNS)}"
    "  FROM priced ORDER BY position),"
    " balances AS (UPDATE accounts a SET balance = last.balance_after"
    "  FROM (SELECT DISTINCT ON (account_number) account_number, balance_after FROM priced"
    "  ORDER BY account_number, position DESC) AS last"
    "  WHERE a.account_number = last.account_number),"
    " flows AS (INSERT INTO monthly_flows"
    "  (customer_id, month, currency, money_in, money_out, transaction_count)"
    "  SELECT customer_id, CAST(date_trunc('month', booked_at AT TIME ZONE :zone) AS date),"
    "  currency, coalesce(sum(amount) FILTER (WHERE direction = :credit), 0),"
    "  coalesce(sum(amount) FILTER (WHERE direction <> :credit), 0), count(*)"
    "  FROM priced GROUP BY 1, 2, 3"
    "  ON CONFLICT (customer_id, month, currency) DO UPDATE SET"
    "  money_in = monthly_flows.money_in + excluded.money_in,"
    "  money_out = monthly_flows.money_out + excluded.money_out,"
    "  transaction_count = monthly_flows.transaction_count + excluded.transaction_count),"
    " events AS (INSERT INTO outbox (event_id, topic, message_key, event_type, source,"
    "  occurred_at, correlation_id, traceparent, payload)"
    "  SELECT gen_random_uuid(), :topic, CAST(p.customer_id AS text), :event_type, :source,"
    f"  :occurred_at, :correlation_id, :traceparent, {_PAYLOAD} FROM priced p ORDER BY p.position),"
    " outcome AS (SELECT b.position, b.transaction_id, p.position IS NULL AS duplicate"
    "  FROM batch b LEFT JOIN priced p USING (position))"
)
_FULL_ANSWER = text(
    f"{_POST} SELECT CAST(json_build_object("  # nosec B608
    " 'posted', count(*) FILTER (WHERE NOT duplicate),"
    " 'duplicates', count(*) FILTER (WHERE duplicate),"
    " 'results', json_agg(json_build_object('transaction_id', transaction_id, 'status',"
    " CASE WHEN duplicate THEN 'duplicate' ELSE 'posted' END) ORDER BY position)) AS text)"
    " FROM outcome"
)
_COMPACT_ANSWER = text(
    f"{_POST} SELECT CAST(json_build_object("  # nosec B608
    " 'posted', count(*) FILTER (WHERE NOT duplicate),"
    " 'duplicates', count(*) FILTER (WHERE duplicate),"
    " 'duplicate_ids', coalesce(json_agg(transaction_id ORDER BY position)"
    " FILTER (WHERE duplicate), '[]')) AS text)"
    " FROM outcome"
)


async def post_batch(
    session: AsyncSession, batch: str, *, origin: EventOrigin, zone: str, compact: bool
) -> str:
    """Post the batch's new transactions (its accounts locked by :func:`lock_and_check`) and
    answer the outcome as JSON text. Raises the driver's unique violation if another batch
    posted one of its ids since (possible only on other accounts)."""
    answer = await session.scalar(
        _COMPACT_ANSWER if compact else _FULL_ANSWER,
        {"batch": batch, **event_parameters(TransactionPosted, origin, zone=zone)},
    )
    assert isinstance(answer, str)
    return answer


def event_parameters(
    event: type[DomainEvent], origin: EventOrigin, *, zone: str
) -> dict[str, object]:
    """What a statement writing ``event``'s outbox rows binds beside its batch: the bank's
    rules' constants, the month's time zone, and the events' type and origin."""
    return {
        "credit": Direction.CREDIT,
        "loan": ProductType.LOAN,
        "zone": zone,
        "topic": event.topic,
        "event_type": event.event_type,
        "source": origin.source,
        "occurred_at": origin.occurred_at,
        "correlation_id": origin.correlation_id,
        "traceparent": origin.traceparent,
    }
