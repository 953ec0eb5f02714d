"""Accounts and products held, and the ingest of transactions."""

import asyncio
from decimal import Decimal

import httpx

from services.customer.config import Settings
from tests.service.conftest import scalar
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import create_customer, open_account, transaction


class TestAccounts:
    async def test_a_term_deposit_needs_its_maturity_date(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)

        answer = await client.post(
            "/v1/accounts",
            json={
                "account_number": "6222000011112222",
                "customer_id": created["id"],
                "product_type": "term_deposit",
                "product_code": "TD-1Y",
                "currency": "CNY",
                "opened_on": "2026-01-01",
            },
        )

        assert answer.status_code == 422
        assert "maturity_date" in answer.json()["detail"]

    async def test_a_card_keeps_only_a_token_and_the_last_four_digits(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        pan = "4111111111111111"

        card = await open_account(
            client, created["id"], product_type="card", product_code="DEBIT", card_number=pan
        )
        found = await client.get("/v1/customers/lookup", params={"card_number": pan})

        assert card["card_last_four"] == "1111"
        assert pan not in str(card)
        assert [m["id"] for m in found.json()["matches"]] == [created["id"]]
        stored = await scalar(
            customer_settings,
            "SELECT count(*) FROM accounts a, outbox o, customer_identifiers i "
            "WHERE a.card_token = :pan OR o.payload::text LIKE :like OR i.value = :pan",
            pan=pan,
            like=f"%{pan}%",
        )
        assert stored == 0

    async def test_a_card_number_failing_the_luhn_check_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)

        answer = await client.post(
            "/v1/accounts",
            json={
                "account_number": "6222000099998888",
                "customer_id": created["id"],
                "product_type": "card",
                "product_code": "DEBIT",
                "currency": "CNY",
                "opened_on": "2026-01-01",
                "card_number": "4111111111111112",
            },
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "card_number"


class TestTransactionIngest:
    async def test_a_batch_is_posted_updating_balance_figures_and_events(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        batch = [
            transaction(account, amount="8000.00", kind="salary"),
            transaction(account, amount="1500.50", direction="debit", kind="payment"),
            transaction(account, amount="200.00"),
        ]

        answer = await client.post("/v1/transactions", json={"transactions": batch})

        assert answer.status_code == 200
        assert answer.json()["posted"] == 3
        view = (await client.get(f"/v1/customers/{created['id']}/view")).json()
        assert Decimal(view["accounts"][0]["balance"]) == Decimal("6699.50")
        assert view["recent_transactions"][0]["balance_after"] in {"6699.50", "6699.5"}
        figures = view["monthly_figures"][0]
        assert Decimal(figures["money_in"]) == Decimal("8200.00")
        assert Decimal(figures["money_out"]) == Decimal("1500.50")
        assert figures["transaction_count"] == 3
        posted = [
            t
            for t in await event_types(customer_settings, created["id"])
            if t == "crm.transaction.posted.v1"
        ]
        assert len(posted) == 3

    async def test_a_retried_batch_is_reported_as_duplicates_and_changes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        batch = {"transactions": [transaction(account, amount="300.00") for _ in range(2)]}
        await client.post("/v1/transactions", json=batch)

        again = await client.post("/v1/transactions", json=batch)

        assert again.status_code == 200
        assert again.json()["posted"] == 0
        assert again.json()["duplicates"] == 2
        assert {r["status"] for r in again.json()["results"]} == {"duplicate"}
        view = (await client.get(f"/v1/customers/{created['id']}/view")).json()
        assert Decimal(view["accounts"][0]["balance"]) == Decimal("600.00")

    async def test_concurrent_batches_on_the_same_accounts_lose_no_update(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        first = (await open_account(client, created["id"]))["full_number"]
        second = (await open_account(client, created["id"]))["full_number"]
        # Half the batches name the accounts in the other order: the locks are taken in
        # account order whatever the batch's, so none deadlocks and none overwrites another.
        batches = [
            [transaction(first, amount="10.00"), transaction(second, amount="1.00")][
                :: 1 - 2 * (n % 2)
            ]
            for n in range(8)
        ]

        answers = await asyncio.gather(
            *(client.post("/v1/transactions", json={"transactions": b}) for b in batches)
        )

        assert [a.status_code for a in answers] == [200] * 8
        balances = {
            number: await scalar(
                customer_settings,
                "SELECT balance FROM accounts WHERE account_number = :number",
                number=number,
            )
            for number in (first, second)
        }
        assert balances == {first: Decimal("80.00"), second: Decimal("8.00")}
        count = await scalar(
            customer_settings,
            "SELECT transaction_count FROM monthly_flows WHERE customer_id = CAST(:id AS uuid)",
            id=created["id"],
        )
        assert count == 16

    async def test_a_negative_amount_is_refused_and_nothing_is_written(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        good = transaction(account)

        answer = await client.post(
            "/v1/transactions",
            json={"transactions": [good, transaction(account, amount="-5.00")]},
        )

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "transactions[1].amount"
        assert (
            await scalar(
                customer_settings,
                "SELECT count(*) FROM transactions WHERE transaction_id = :t",
                t=good["transaction_id"],
            )
            == 0
        )

    async def test_an_unknown_currency_is_refused(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]

        answer = await client.post(
            "/v1/transactions", json={"transactions": [transaction(account, currency="ABC")]}
        )

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "transactions[0].currency"

    async def test_a_currency_other_than_the_accounts_refuses_the_whole_batch(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        good = transaction(account)

        answer = await client.post(
            "/v1/transactions",
            json={"transactions": [good, transaction(account, currency="USD")]},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "transactions[1].currency"
        balance = await scalar(
            customer_settings, "SELECT balance FROM accounts WHERE account_number = :a", a=account
        )
        assert balance == Decimal("0.00")
        assert (
            await scalar(
                customer_settings,
                "SELECT count(*) FROM transactions WHERE transaction_id = :t",
                t=good["transaction_id"],
            )
            == 0
        )

    async def test_an_unknown_account_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await client.post(
            "/v1/transactions", json={"transactions": [transaction("9999000011112222")]}
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "transactions[0].account_number"

    async def test_the_same_id_twice_in_one_batch_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        one = transaction(account)

        answer = await client.post("/v1/transactions", json={"transactions": [one, one]})

        assert answer.status_code == 422
        assert answer.json()["field"] == "transactions[1].transaction_id"

    async def test_a_batch_over_the_limit_is_refused(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        too_many = customer_settings.max_transactions_per_batch + 1

        answer = await client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account) for _ in range(too_many)]},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "transactions"

    async def test_a_loan_repayment_lowers_what_is_owed(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)
        loan = await open_account(
            client,
            created["id"],
            product_type="loan",
            product_code="MORTGAGE",
            opening_balance="500000.00",
            payoff_date="2044-01-15",
        )

        await client.post(
            "/v1/transactions",
            json={
                "transactions": [
                    transaction(loan["full_number"], amount="5000.00", kind="loan_repayment")
                ]
            },
        )

        view = (await client.get(f"/v1/customers/{created['id']}/view")).json()
        assert Decimal(view["accounts"][0]["balance"]) == Decimal("495000.00")
