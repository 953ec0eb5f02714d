"""Test data for the customer service: valid identifiers and request bodies.

Check characters are found by asking the production validator which one it accepts, so the
factories never restate the checksum rules they are meant to exercise."""

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from contracts.catalogue import Topic
from contracts.customer import CustomerErased
from contracts.identifiers import InvalidIdentifier
from services.customer.identity.resident_id import validate_resident_id
from services.customer.identity.social_credit_code import validate_unified_social_credit_code
from shared.settings import SharedSettings
from tests.service.conftest import scalar
from tests.waiting import wait_until

_sequence = itertools.count(100)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id(*, birth: str | None = None, region: str = "110105", female: bool = False) -> str:
    """A valid, unique resident ID number (a random birth date unless one is given)."""
    if birth is None:
        day = date(1950, 1, 1) + timedelta(days=uuid.uuid4().int % 18000)
        birth = day.strftime("%Y%m%d")
    # The 17th digit is odd for men, even for women.
    serial = (next(_sequence) * 2 + (0 if female else 1)) % 1000
    base = f"{region}{birth}{serial:03d}"
    for check in "0123456789X":
        try:
            return validate_resident_id(base + check).number
        except InvalidIdentifier:
            continue
    raise AssertionError(f"no check character for {base}")


def social_credit_code() -> str:
    organisation = f"{uuid.uuid4().int % 10**8:08d}"
    base = f"91110000{organisation}"
    for check_org, check in itertools.product(USCC_ALPHABET, USCC_ALPHABET):
        try:
            return validate_unified_social_credit_code(base + check_org + check)
        except InvalidIdentifier:
            continue
    raise AssertionError(f"no check characters for {base}")


def mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def account_number() -> str:
    return f"6222{uuid.uuid4().int % 10**12:012d}"


def card_number() -> str:
    """A fresh 16-digit card number whose last digit is its Luhn check digit."""
    body = f"622202{uuid.uuid4().int % 10**9:09d}"
    # Luhn from the right, the check digit still to come: every other digit from the last doubles.
    total = sum(
        (2 * int(d) - 9 if 2 * int(d) > 9 else 2 * int(d)) if i % 2 == 0 else int(d)
        for i, d in enumerate(reversed(body))
    )
    return body + str((10 - total % 10) % 10)


def individual(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "individual",
        "name": "张伟",
        "branch_code": "BJ001",
        "preferred_channel": "mobile",
        "consent": {"phone": True, "sms": False},
        "profile": {
            "id_type": "resident_id",
            "id_number": resident_id(),
            "phones": [mobile()],
            "emails": ["zhang.wei@example.com"],
            "occupation": "engineer",
            "income_band": "200k_1m",
            "addresses": [{"line": "朝阳区建国路88号", "city": "北京", "postcode": "100022"}],
        },
    }
    body.update(changes)
    return body


def corporate(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "corporate",
        "name": "北京星河精密制造有限公司",
        "profile": {
            "social_credit_code": social_credit_code(),
            "industry_sector": "secondary",
            "industry_code": "C3911",
            "size": "small_and_medium",
            "ownership_type": "private",
            "registered_capital": {"amount": "5000000.00", "currency": "CNY"},
            "legal_representative": "李娜",
        },
    }
    body.update(changes)
    return body


def transaction(account: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": f"TX-{uuid.uuid4().hex[:16]}",
        "account_number": account,
        "direction": "credit",
        "amount": "1000.00",
        "currency": "CNY",
        "kind": "deposit",
        "channel": "branch",
        "booked_at": datetime.now(UTC).isoformat(),
    }
    body.update(changes)
    return body


async def create_customer(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    answer = await client.post("/v1/customers", json=individual(**changes))
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def open_account(
    client: httpx.AsyncClient, customer_id: str, **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_number": account_number(),
        "customer_id": customer_id,
        "product_type": "current",
        "product_code": "CUR-STD",
        "currency": "CNY",
        "opened_on": "2024-01-15",
    }
    body.update(changes)
    answer = await client.post("/v1/accounts", json=body)
    assert answer.status_code == 201, answer.text
    return {**answer.json(), "full_number": body["account_number"]}


def erasure_of(customer_id: uuid.UUID) -> CustomerErased:
    """The event the customer service publishes when it erases a customer."""
    return CustomerErased(
        customer_id=customer_id, request_reference="ER-2026-0042", erased_at=datetime.now(UTC)
    )


async def record_contact(
    client: httpx.AsyncClient, customer_id: str, at: datetime, *, channel: str = "phone"
) -> str:
    """A channel contact on the customer's timeline at ``at``; answers its id."""
    answer = await client.post(
        "/v1/interactions",
        json={
            "external_id": f"IX-{uuid.uuid4().hex}",
            "customer_id": customer_id,
            "channel": channel,
            "kind": "balance_enquiry",
            "summary": "asked about the term deposit rate",
            "occurred_at": at.isoformat(),
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def valued_by_its_events(settings: SharedSettings, customer_id: str) -> None:
    """Wait until the service's consumer has handled every transaction-topic event about the
    customer (their opening, postings...): the revaluation they ask for commits with them."""

    async def handled() -> bool:
        pending = await scalar(
            settings,
            "SELECT count(*) FROM outbox o WHERE o.message_key = :k AND o.topic = :topic"
            " AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.event_id = o.event_id::text)",
            k=customer_id,
            topic=Topic.TRANSACTIONS.value,
        )
        return pending == 0

    await wait_until(handled, timeout=20)
