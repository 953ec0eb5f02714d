"""Transaction ingest: batches from core banking and the channels.

A batch is all or nothing: every transaction is checked first (known open account, matching
currency, no id twice in the batch), so a refusal writes nothing. Transactions already posted
(by their bank transaction id) are reported as duplicates and change nothing, which makes a
retried batch safe. Accounts are locked in a fixed order, so balances never lose an update.

The work per transaction is PostgreSQL's, in two set-based statements
(``ingest_repository``): the service's own Python work is the same for one transaction or a
thousand, beyond pydantic validating the body. Decimals stay exact throughout: the batch goes
to the database as the decimal strings the client sent, and balances are summed there.
"""

from asyncpg.exceptions import UniqueViolationError
from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts import ingest_repository
from services.customer.accounts.ingest_repository import Refusal
from services.customer.accounts.schemas import BatchAnswer, TransactionIn
from services.customer.errors import ConcurrentDuplicate, InvalidBatch
from services.customer.models import AccountStatus
from shared.outbox import announce_outbox_rows, event_origin

_TRANSACTIONS = TypeAdapter(list[TransactionIn])


async def ingest_transactions(
    session: AsyncSession,
    transactions: list[TransactionIn],
    *,
    limit: int,
    zone: str,
    answer: BatchAnswer = BatchAnswer.FULL,
) -> str:
    """Post a batch; answers the outcome as JSON text (a ``TransactionBatchResult``, or a
    ``TransactionBatchSummary`` when ``answer`` is compact). Monthly figures fall in the month
    of the bank's time zone ``zone``."""
    if len(transactions) > limit:
        raise InvalidBatch(
            f"transactions: at most {limit} per batch, got {len(transactions)}",
            field="transactions",
        )
    batch = _TRANSACTIONS.dump_json(transactions).decode()
    refusal = await ingest_repository.lock_and_check(session, batch)
    if refusal is not None:
        raise _refused(refusal)
    try:
        outcome = await ingest_repository.post_batch(
            session,
            batch,
            origin=event_origin(session),
            zone=zone,
            compact=answer is BatchAnswer.COMPACT,
        )
    except IntegrityError as error:
        if not isinstance(error.orig, UniqueViolationError) and "unique" not in str(error):
            raise
        # Another batch posted one of these ids between our check and our insert (possible
        # only across different accounts): refuse the whole batch; its retry sorts it out.
        raise ConcurrentDuplicate(
            "a transaction of this batch was posted concurrently; retry"
        ) from error
    await announce_outbox_rows(session)
    return outcome


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
