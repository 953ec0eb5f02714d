"""The synthetic bank: deterministic, valid for the API, and holding the patterns that matter."""

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from crm.synthetic import SyntheticBank
from services.customer.accounts.schemas import AccountOpen, TransactionIn
from services.customer.customers.schemas import CustomerCreate

END = date(2026, 11, 20)


def _bank(seed: int = 7) -> SyntheticBank:
    return SyntheticBank(seed=seed, customers=300, transactions=20_000, end_date=END)


Bodies = list[tuple[str, dict[str, Any]]]


def _all(bank: SyntheticBank) -> tuple[Bodies, Bodies, list[dict[str, Any]]]:
    return (
        list(bank.customers()),
        list(bank.accounts()),
        [t for batch in bank.transaction_batches() for t in batch],
    )


class TestSyntheticBank:
    def test_the_same_seed_gives_the_same_bank_and_another_seed_another(self) -> None:
        first, again, other = _all(_bank()), _all(_bank()), _all(_bank(seed=8))

        assert json.dumps(first, default=str) == json.dumps(again, default=str)
        assert json.dumps(first, default=str) != json.dumps(other, default=str)

    def test_every_body_is_accepted_by_the_api_schemas(self) -> None:
        customers, accounts, transactions = _all(_bank())
        customer_schema = TypeAdapter(CustomerCreate)

        for _, body in customers:
            customer_schema.validate_python(body)
        for _, body in accounts:
            AccountOpen.model_validate(
                {**body, "customer_id": "00000000-0000-4000-8000-000000000000"}
            )
        for body in transactions:
            TransactionIn.model_validate(body)

    def test_the_requested_size_is_met_within_five_percent(self) -> None:
        transactions = _all(_bank())[2]

        assert abs(len(transactions) - 20_000) <= 1_000
        assert len({t["transaction_id"] for t in transactions}) == len(transactions)

    def test_transactions_come_in_time_order_within_the_year(self) -> None:
        times = [datetime.fromisoformat(str(t["booked_at"])) for t in _all(_bank())[2]]

        assert times == sorted(times)
        assert times[0].date() >= END - timedelta(days=364)
        assert times[-1].date() <= END

    def test_salaries_arrive_monthly_from_one_employer(self) -> None:
        salaries: dict[object, list[str]] = defaultdict(list)
        for t in _all(_bank())[2]:
            if t["kind"] == "salary":
                salaries[t["account_number"]].append(str(t["booked_at"])[:7])

        assert salaries
        assert all(len(months) == len(set(months)) for months in salaries.values())  # monthly
        # Apart from those who went quiet or stopped being paid here, a salary every month.
        full_year = [months for months in salaries.values() if len(months) >= 12]
        assert len(full_year) > len(salaries) / 2

    def test_some_customers_have_gone_dormant(self) -> None:
        last_seen: dict[str, str] = {}
        accounts = {body["account_number"] for _, body in _all(_bank())[1]}
        for t in _all(_bank())[2]:
            last_seen[t["account_number"]] = str(t["booked_at"])
        cutoff = (END - timedelta(days=180)).isoformat()

        dormant = [a for a, seen in last_seen.items() if seen < cutoff]
        assert dormant
        assert set(last_seen) <= accounts

    def test_identity_numbers_never_repeat(self) -> None:
        bank = SyntheticBank(seed=1, customers=20_000, transactions=0, end_date=END)
        numbers = [
            body["profile"].get("id_number") or body["profile"]["social_credit_code"]
            for _, body in bank.customers()
        ]

        assert len(set(numbers)) == len(numbers)
