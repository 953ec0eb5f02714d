"""HTTP models of reconciliation: core banking's end-of-day balances in, the run out."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from shared.money import Amount, CurrencyCode
from shared.requests import RequestModel

# A file's columns, in this order, under a header line naming them.
COLUMNS = ("account_number", "currency", "balance")
# What one request may carry; the body limit (CRM_MAX_REQUEST_BYTES, 8 MiB: about 100,000
# JSON rows) usually comes first, and is what a bank with more accounts raises.
MAX_BALANCES = 1_000_000


class Outcome(StrEnum):
    MATCHING = "matching"
    DIFFERING = "differing"  # another balance, or another currency
    UNKNOWN = "unknown"  # in core banking's figures, no account of the view's that day
    MISSING = "missing"  # an account open that day that core banking's figures leave out


class EndOfDayBalance(RequestModel):
    account_number: Annotated[str, Field(pattern=r"^\d{8,32}$")]
    currency: CurrencyCode
    balance: Amount


class EndOfDayBalances(RequestModel):
    """Core banking's balance of each account at the end of the business day."""

    balances: Annotated[list[EndOfDayBalance], Field(min_length=1, max_length=MAX_BALANCES)]


END_OF_DAY_BALANCES = TypeAdapter(EndOfDayBalances)


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        reference = schema.get("$ref")
        if isinstance(reference, str):
            return _inlined(definitions[reference.rsplit("/", 1)[-1]], definitions)
        return {key: _inlined(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


def request_body_document() -> dict[str, Any]:
    """The route's ``requestBody`` in the OpenAPI document: the JSON batch and the file form.
    The route reads its body itself (the file is not JSON), so FastAPI cannot describe it."""
    schema = EndOfDayBalances.model_json_schema()
    json_schema = _inlined({k: v for k, v in schema.items() if k != "$defs"}, schema["$defs"])
    header = ",".join(COLUMNS)
    return {
        "required": True,
        "content": {
            "application/json": {"schema": json_schema},
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": f"A header line `{header}`, then one line per account "
                    "with the same fields as the JSON form (a balance written `1250.00`).",
                    "examples": [f"{header}\n6222000011112222,CNY,1250.00\n"],
                }
            },
        },
    }


class ReconciliationCounts(BaseModel):
    compared: int = Field(description="Lines of core banking's figures.")
    matching: int
    differing: int = Field(description="Another balance or another currency than the view's.")
    unknown: int = Field(description="Accounts the view did not hold that day.")
    missing: int = Field(description="Accounts open that day with no line in the figures.")


class BalanceDifference(BaseModel):
    account_number: str = Field(description="Masked: only the last four digits.")
    outcome: Outcome
    core_currency: str | None
    core_balance: Decimal | None
    view_currency: str | None
    view_balance: Decimal | None
    difference: Decimal | None = Field(
        description="Core banking's balance less the view's; none when the currencies differ "
        "or one side has no figure."
    )


class ReconciliationRead(BaseModel):
    id: uuid.UUID
    business_date: date
    digest: str = Field(description="SHA-256 of the figures, the same in either form.")
    received_at: datetime
    counts: ReconciliationCounts
    differences: list[BalanceDifference] = Field(
        description="Accounts not matching, by account number; pages follow ``next_cursor``."
    )
    next_cursor: str | None
