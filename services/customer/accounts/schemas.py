"""HTTP models of accounts and transactions: opening and closing an account, a batch of
transactions in, the outcome and the transactions out."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.customer.models import Direction, ProductType
from shared.money import Amount, CurrencyCode, PositiveAmount
from shared.requests import RequestModel


class AccountTerms(RequestModel):
    """An account as core banking opened it, for a customer named elsewhere."""

    account_number: Annotated[str, Field(pattern=r"^\d{8,32}$")]
    product_type: ProductType
    product_code: Annotated[str, Field(min_length=1, max_length=40)]
    currency: CurrencyCode
    opened_on: date
    opening_balance: Amount = Decimal("0.00")
    maturity_date: date | None = None
    payoff_date: date | None = None
    card_number: Annotated[str | None, Field(pattern=r"^\d{13,19}$")] = None

    @model_validator(mode="after")
    def _product_dates(self) -> "AccountTerms":
        if self.product_type is ProductType.TERM_DEPOSIT and self.maturity_date is None:
            raise ValueError("maturity_date is required for a term deposit")
        if self.product_type is ProductType.LOAN and self.payoff_date is None:
            raise ValueError("payoff_date is required for a loan")
        if self.product_type is ProductType.CARD and self.card_number is None:
            raise ValueError("card_number is required for a card (only its token is kept)")
        for field, value in (
            ("maturity_date", self.maturity_date),
            ("payoff_date", self.payoff_date),
        ):
            if value is not None and value <= self.opened_on:
                raise ValueError(f"{field} must be after opened_on")
        return self


class AccountOpen(AccountTerms):
    customer_id: uuid.UUID


class AccountClose(RequestModel):
    closed_on: date
    paid_off: bool = False


class AccountRead(BaseModel):
    account_number: str = Field(description="Masked: only the last four digits.")
    product_type: str
    product_code: str
    currency: str
    balance: Decimal
    status: str
    opened_on: date
    maturity_date: date | None
    payoff_date: date | None
    card_last_four: str | None


# The bank's own id of a posting or a reversal: what makes a retry a duplicate.
BankTransactionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w\-.:]+$")]


class TransactionIn(RequestModel):
    transaction_id: BankTransactionId
    account_number: Annotated[str, Field(pattern=r"^\d{8,32}$")]
    direction: Direction
    amount: PositiveAmount
    currency: CurrencyCode
    kind: Literal[
        "salary",
        "deposit",
        "withdrawal",
        "transfer_in",
        "transfer_out",
        "payment",
        "fee",
        "interest",
        "loan_repayment",
        "card_spend",
        "refund",
    ]
    channel: Literal["atm", "web", "mobile", "branch", "phone", "pos", "core", "batch"]
    counterparty_name: Annotated[str | None, Field(max_length=200)] = None
    counterparty_bank: Annotated[str | None, Field(max_length=100)] = None
    description: Annotated[str | None, Field(max_length=500)] = None
    booked_at: AwareDatetime


class ReversalReason(StrEnum):
    POSTING_ERROR = "posting_error"
    DUPLICATE_POSTING = "duplicate_posting"
    CUSTOMER_DISPUTE = "customer_dispute"
    FRAUD = "fraud"
    OTHER = "other"


class ReversalIn(RequestModel):
    """Core banking reversed a posted transaction (冲正). To correct an amount, send the
    reversal and a new transaction with the right amount in one batch."""

    reversal_id: BankTransactionId
    reverses: BankTransactionId = Field(description="The transaction_id of the reversed one.")
    reason: ReversalReason
    booked_at: AwareDatetime


class TransactionBatch(RequestModel):
    """Transactions to post and reversals of posted ones, all or nothing; reversals are applied
    after the batch's transactions, so a batch may reverse one of its own."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["transactions"]}, {"required": ["reversals"]}]}
    )

    # The service's own limit (CRM_CUSTOMER_MAX_TRANSACTIONS_PER_BATCH), on both lists
    # together, may be lower.
    transactions: Annotated[list[TransactionIn], Field(min_length=1, max_length=10_000)] = Field(
        default_factory=list
    )
    reversals: Annotated[list[ReversalIn], Field(min_length=1, max_length=10_000)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> "TransactionBatch":
        if not self.transactions and not self.reversals:
            raise ValueError("a batch needs transactions, reversals or both")
        return self


class TransactionOutcome(BaseModel):
    transaction_id: str
    status: Literal["posted", "duplicate"]


class ReversalOutcome(BaseModel):
    reversal_id: str
    status: Literal["reversed", "duplicate"]


class TransactionBatchResult(BaseModel):
    """The full answer: each entry's outcome, in the batch's order."""

    posted: int
    duplicates: int
    results: list[TransactionOutcome]
    reversed: int
    reversal_duplicates: int
    reversal_results: list[ReversalOutcome]


class TransactionBatchSummary(BaseModel):
    """The compact answer (``answer=compact``): the counts and the ids already done before."""

    posted: int
    duplicates: int
    duplicate_ids: list[str]
    reversed: int
    reversal_duplicates: int
    duplicate_reversal_ids: list[str]


class BatchAnswer(StrEnum):
    FULL = "full"
    COMPACT = "compact"


class TransactionRead(BaseModel):
    transaction_id: str
    direction: str
    amount: Decimal
    currency: str
    balance_after: Decimal
    kind: str
    channel: str
    counterparty_name: str | None
    booked_at: datetime
    reversed_at: datetime | None = Field(
        default=None, description="When core banking reversed it (冲正); absent if it stands."
    )
