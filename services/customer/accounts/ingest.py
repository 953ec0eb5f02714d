"""Transaction ingest: batches from core banking and the channels.

A batch is all or nothing: every transaction and reversal is checked, so a refusal writes
nothing. Transactions already posted and reversals already applied (by the bank's own ids) are
reported as duplicates and change nothing, which makes a retried batch safe. Accounts are
locked in a fixed order, so balances never lose an update.

The work per transaction is PostgreSQL's, in set-based statements (``ingest_repository``,
``reversal_repository``): the service's own Python work is the same for one transaction or a
thousand, beyond pydantic validating the body. Decimals stay exact throughout: the batch goes
to the database as decimal strings, and balances are summed there.
"""

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts import ingest_repository, reversal_repository
from services.customer.accounts.ingest_repository import Refusal
from services.customer.accounts.reversal_repository import ReversalRefusal
from services.customer.accounts.schemas import (
    BatchAnswer,
    ReversalIn,
    TransactionBatch,
    TransactionIn,
)
from services.customer.errors import ConcurrentDuplicate, InvalidBatch
from services.customer.models import AccountStatus
from shared.db import unique_violation_as
from shared.outbox import announce_outbox_rows, event_origin

_TRANSACTIONS = TypeAdapter(list[TransactionIn])
_REVERSALS = TypeAdapter(list[ReversalIn])
# What a batch without one kind of entry answers for it.
_NO_POSTINGS = {
    BatchAnswer.FULL: '{"posted":0,"duplicates":0,"results":[]}',
    BatchAnswer.COMPACT: '{"posted":0,"duplicates":0,"duplicate_ids":[]}',
}
_NO_REVERSALS = {
    BatchAnswer.FULL: '{"reversed":0,"reversal_duplicates":0,"reversal_results":[]}',
    BatchAnswer.COMPACT: '{"reversed":0,"reversal_duplicates":0,"duplicate_reversal_ids":[]}',
}


async def ingest_transactions(
    session: AsyncSession,
    batch: TransactionBatch,
    *,
    limit: int,
    zone: str,
    answer: BatchAnswer = BatchAnswer.FULL,
) -> str:
    """Post a batch; answers the outcome as JSON text (a ``TransactionBatchResult``, or a
    ``TransactionBatchSummary`` when ``answer`` is compact). Monthly figures fall in the month
    of the bank's time zone ``zone``."""
    entries = len(batch.transactions) + len(batch.reversals)
    if entries > limit:
        raise InvalidBatch(
            f"transactions: at most {limit} entries per batch, got {entries}",
            field="transactions",
        )
    transactions = _TRANSACTIONS.dump_json(batch.transactions).decode()
    reversals = _REVERSALS.dump_json(batch.reversals).decode()
    refusal = await ingest_repository.lock_and_check(session, transactions, reversals)
    if refusal is not None:
        raise _refused(refusal)
    origin = event_origin(session)
    compact = answer is BatchAnswer.COMPACT
    postings, reversed_ = _NO_POSTINGS[answer], _NO_REVERSALS[answer]
    # Another batch may post one of these ids between our check and our insert (possible only
    # across different accounts): the whole batch is refused; its retry sorts it out.
    concurrently = ConcurrentDuplicate("a transaction of this batch was posted concurrently; retry")
    if batch.transactions:
        with unique_violation_as(concurrently):
            postings = await ingest_repository.post_batch(
                session, transactions, origin=origin, zone=zone, compact=compact
            )
    if batch.reversals:
        reversal_refusal = await reversal_repository.first_refused(session, reversals)
        if reversal_refusal is not None:
            raise _reversal_refused(reversal_refusal, batch.reversals)
        reversed_ = await reversal_repository.apply_reversals(
            session, reversals, origin=origin, zone=zone, compact=compact
        )
    await announce_outbox_rows(session)
    # Two JSON objects made by the database, joined into one: constant work, whatever the
    # batch's size.
    return f"{postings[:-1]},{reversed_[1:]}"


def _refused(refusal: Refusal) -> InvalidBatch:
    where = f"transactions[{refusal.position}]"
    if refusal.first_position < refusal.position:
        return InvalidBatch(
            f"{where}.transaction_id: repeats transactions[{refusal.first_position}]",
            field=f"{where}.transaction_id",
        )
    if refusal.unknown:
        return InvalidBatch(
            f"{where}.account_number: no such account", field=f"{where}.account_number"
        )
    if refusal.status != AccountStatus.OPEN:
        return InvalidBatch(
            f"{where}.account_number: the account is {refusal.status}",
            field=f"{where}.account_number",
        )
    return InvalidBatch(
        f"{where}.currency: the account is in {refusal.account_currency}",
        field=f"{where}.currency",
    )


def _reversal_refused(refusal: ReversalRefusal, reversals: list[ReversalIn]) -> InvalidBatch:
    where = f"reversals[{refusal.position}]"
    reversal = reversals[refusal.position]
    if refusal.first_with_id < refusal.position:
        detail, field = f"repeats reversals[{refusal.first_with_id}]", "reversal_id"
    elif refusal.id_reverses is not None and refusal.id_reverses != reversal.reverses:
        detail, field = f"already reversed {refusal.id_reverses}", "reversal_id"
    elif refusal.first_of_transaction < refusal.position:
        detail, field = f"also reversed by reversals[{refusal.first_of_transaction}]", "reverses"
    elif refusal.unknown:
        detail, field = "no such transaction", "reverses"
    elif refusal.reversed_by is not None and refusal.reversed_by != reversal.reversal_id:
        detail, field = f"already reversed by {refusal.reversed_by}", "reverses"
    else:
        detail, field = f"the account is {refusal.status}", "reverses"
    return InvalidBatch(f"{where}.{field}: {detail}", field=f"{where}.{field}")
