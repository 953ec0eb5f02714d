"""Transaction ingest: batches from core banking and the channels.

A batch is all or nothing: every transaction is checked first (known open account, matching
currency, no id twice in the batch), so a refusal writes nothing. Transactions already posted
(by their bank transaction id) are reported as duplicates and change nothing, which makes a
retried batch safe. Accounts are locked in a fixed order, so balances never lose an update."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import TransactionPosted
from services.customer.accounts import repository as accounts_repository
from services.customer.accounts.repository import PostingAccount
from services.customer.accounts.schemas import (
    TransactionBatch,
    TransactionBatchResult,
    TransactionIn,
    TransactionOutcome,
)
from services.customer.customers import repository as customers_repository
from services.customer.errors import ConcurrentDuplicate, InvalidBatch
from services.customer.models import AccountStatus, Direction, ProductType
from shared.outbox import record_events


@dataclass
class _Flow:
    money_in: Decimal = Decimal("0")
    money_out: Decimal = Decimal("0")
    count: int = 0

    def add(self, transaction: TransactionIn) -> None:
        if transaction.direction is Direction.CREDIT:
            self.money_in += transaction.amount
        else:
            self.money_out += transaction.amount
        self.count += 1


def signed_change(account: PostingAccount, transaction: TransactionIn) -> Decimal:
    """How a transaction moves the account's balance. A loan's balance is what is owed, so
    money in (a repayment) lowers it."""
    change = (
        transaction.amount if transaction.direction is Direction.CREDIT else -transaction.amount
    )
    return -change if account.product_type == ProductType.LOAN else change


def _check(batch: TransactionBatch, accounts: dict[str, PostingAccount], *, limit: int) -> None:
    if len(batch.transactions) > limit:
        raise InvalidBatch(
            f"transactions: at most {limit} per batch, got {len(batch.transactions)}",
            field="transactions",
        )
    seen: dict[str, int] = {}
    for index, transaction in enumerate(batch.transactions):
        where = f"transactions[{index}]"
        if transaction.transaction_id in seen:
            raise InvalidBatch(
                f"{where}.transaction_id: repeats transactions[{seen[transaction.transaction_id]}]",
                field=f"{where}.transaction_id",
            )
        seen[transaction.transaction_id] = index
        account = accounts.get(transaction.account_number)
        if account is None:
            raise InvalidBatch(
                f"{where}.account_number: no such account", field=f"{where}.account_number"
            )
        if account.status != AccountStatus.OPEN:
            raise InvalidBatch(
                f"{where}.account_number: the account is {account.status}",
                field=f"{where}.account_number",
            )
        if account.currency != transaction.currency:
            raise InvalidBatch(
                f"{where}.currency: the account is in {account.currency}",
                field=f"{where}.currency",
            )


@dataclass
class _Posting:
    """What posting a batch's new transactions writes: the rows, each customer's monthly
    figures, and each customer's latest activity."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    flows: dict[tuple[uuid.UUID, date, str], _Flow] = field(
        default_factory=lambda: defaultdict(_Flow)
    )
    last_activity: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def post(self, transaction: TransactionIn, account: PostingAccount) -> None:
        account.balance += signed_change(account, transaction)
        self.rows.append(
            {
                **transaction.model_dump(),
                "customer_id": account.customer_id,
                "balance_after": account.balance,
            }
        )
        month = transaction.booked_at.date().replace(day=1)
        self.flows[(account.customer_id, month, transaction.currency)].add(transaction)
        previous = self.last_activity.get(account.customer_id)
        if previous is None or transaction.booked_at > previous:
            self.last_activity[account.customer_id] = transaction.booked_at

    def monthly_flows(self) -> list[dict[str, Any]]:
        return [
            {
                "customer_id": customer,
                "month": month,
                "currency": currency,
                "money_in": f.money_in,
                "money_out": f.money_out,
                "transaction_count": f.count,
            }
            for (customer, month, currency), f in self.flows.items()
        ]


async def ingest_transactions(
    session: AsyncSession, batch: TransactionBatch, *, limit: int
) -> TransactionBatchResult:
    accounts = await accounts_repository.lock_accounts(
        session, (t.account_number for t in batch.transactions)
    )
    _check(batch, accounts, limit=limit)
    ids = [t.transaction_id for t in batch.transactions]
    already = await accounts_repository.existing_transaction_ids(session, ids)
    posting = _Posting()
    for transaction in batch.transactions:
        if transaction.transaction_id not in already:
            posting.post(transaction, accounts[transaction.account_number])
    await _write(session, posting, accounts)
    await record_events(session, [_posted(row, accounts) for row in posting.rows])
    return TransactionBatchResult(
        posted=len(posting.rows),
        duplicates=len(ids) - len(posting.rows),
        results=[
            TransactionOutcome(transaction_id=i, status="duplicate" if i in already else "posted")
            for i in ids
        ],
    )


async def _write(
    session: AsyncSession, posting: _Posting, accounts: dict[str, PostingAccount]
) -> None:
    try:
        await accounts_repository.insert_transactions(session, posting.rows)
    except accounts_repository.DuplicateTransactionId as error:
        # Another batch posted one of these ids between our check and our insert (possible
        # only across different accounts): refuse the whole batch; its retry sorts it out.
        raise ConcurrentDuplicate(
            "a transaction of this batch was posted concurrently; retry"
        ) from error
    await accounts_repository.add_monthly_flows(session, posting.monthly_flows())
    await accounts_repository.set_balances(
        session,
        {row["account_number"]: accounts[row["account_number"]].balance for row in posting.rows},
    )
    await customers_repository.touch_last_activity(session, posting.last_activity)


def _posted(row: dict[str, Any], accounts: dict[str, PostingAccount]) -> TransactionPosted:
    return TransactionPosted(
        customer_id=row["customer_id"],
        transaction_id=row["transaction_id"],
        account_number=row["account_number"],
        product_type=accounts[row["account_number"]].product_type,
        direction=row["direction"],
        amount=row["amount"],
        currency=row["currency"],
        balance_after=row["balance_after"],
        kind=row["kind"],
        channel=row["channel"],
        counterparty_bank=row["counterparty_bank"],
        booked_at=row["booked_at"],
    )
