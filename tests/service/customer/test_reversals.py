"""Reversals (冲正) of posted transactions, in the ingest's batches."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from contracts.customer import TransactionReversed
from services.customer.config import Settings
from tests.service.conftest import scalar
from tests.service.customer.factories import create_customer, open_account, transaction


def reversal(transaction_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reversal_id": f"REV-{transaction_id}",
        "reverses": transaction_id,
        "reason": "posting_error",
        "booked_at": "2026-12-06T10:00:00+08:00",
    }
    body.update(changes)
    return body


async def _balance(settings: Settings, account: str) -> object:
    return await scalar(
        settings, "SELECT balance FROM accounts WHERE account_number = :a", a=account
    )


async def _reversed_events(settings: Settings, customer_id: str) -> list[dict[str, Any]]:
    rows = await scalar(
        settings,
        "SELECT json_agg(payload ORDER BY seq) FROM outbox"
        " WHERE message_key = :k AND event_type = :t",
        k=customer_id,
        t=TransactionReversed.event_type,
    )
    assert rows is None or isinstance(rows, list)
    return rows or []


class TestReversals:
    async def test_a_reversal_moves_the_balance_back_and_leaves_the_month(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        salary = transaction(account, amount="8000.00", kind="salary")
        fee = transaction(account, amount="15.00", direction="debit", kind="fee")
        await client.post("/v1/transactions", json={"transactions": [salary, fee]})

        answer = await client.post(
            "/v1/transactions", json={"reversals": [reversal(fee["transaction_id"])]}
        )

        assert answer.status_code == 200, answer.text
        assert answer.json()["reversed"] == 1
        assert answer.json()["reversal_results"] == [
            {"reversal_id": f"REV-{fee['transaction_id']}", "status": "reversed"}
        ]
        assert await _balance(customer_settings, account) == Decimal("8000.00")
        figures = (await client.get(f"/v1/customers/{created['id']}/view")).json()[
            "monthly_figures"
        ][0]
        assert Decimal(figures["money_out"]) == 0
        assert figures["transaction_count"] == 1
        (event,) = await _reversed_events(customer_settings, created["id"])
        assert event["transaction_id"] == fee["transaction_id"]
        assert Decimal(event["balance_after"]) == Decimal("8000.00")
        assert event["reason"] == "posting_error"
        # The posting's own time, for consumers that keep figures by day (the detector).
        reversed_at = TransactionReversed.model_validate(event).reversed_booked_at
        assert reversed_at == datetime.fromisoformat(fee["booked_at"])

    async def test_a_retried_reversal_is_a_duplicate_and_changes_nothing(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        deposit = transaction(account, amount="300.00")
        await client.post("/v1/transactions", json={"transactions": [deposit]})
        body = {"reversals": [reversal(deposit["transaction_id"])]}
        await client.post("/v1/transactions", json=body)

        again = await client.post("/v1/transactions", json=body)

        assert again.status_code == 200
        assert (again.json()["reversed"], again.json()["reversal_duplicates"]) == (0, 1)
        assert await _balance(customer_settings, account) == Decimal("0.00")
        assert len(await _reversed_events(customer_settings, created["id"])) == 1

    async def test_a_correction_reverses_and_reposts_in_one_batch(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        loan = (
            await open_account(
                client,
                created["id"],
                product_type="loan",
                product_code="MORTGAGE",
                opening_balance="500000.00",
                payoff_date="2044-01-15",
            )
        )["full_number"]
        wrong = transaction(loan, amount="5000.00", kind="loan_repayment")
        right = transaction(loan, amount="500.00", kind="loan_repayment")

        # The wrong repayment, its reversal and the right one, all in one batch.
        answer = await client.post(
            "/v1/transactions",
            json={"transactions": [wrong, right], "reversals": [reversal(wrong["transaction_id"])]},
        )

        assert answer.status_code == 200, answer.text
        assert (answer.json()["posted"], answer.json()["reversed"]) == (2, 1)
        assert await _balance(customer_settings, loan) == Decimal("499500.00")

    async def test_an_unknown_transaction_refuses_the_whole_batch(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        deposit = transaction(account)

        answer = await client.post(
            "/v1/transactions",
            json={"transactions": [deposit], "reversals": [reversal("NO-SUCH-TX")]},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "reversals[0].reverses"
        assert await _balance(customer_settings, account) == Decimal("0.00")

    async def test_a_transaction_reversed_by_another_id_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        deposit = transaction(account)
        await client.post("/v1/transactions", json={"transactions": [deposit]})
        await client.post(
            "/v1/transactions", json={"reversals": [reversal(deposit["transaction_id"])]}
        )

        answer = await client.post(
            "/v1/transactions",
            json={"reversals": [reversal(deposit["transaction_id"], reversal_id="REV-OTHER-1")]},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "reversals[0].reverses"
        assert "already reversed" in answer.json()["detail"]

    async def test_an_empty_batch_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await client.post("/v1/transactions", json={})

        assert answer.status_code == 422


class TestFeesInTheCustomersValue:
    async def test_only_unreversed_fees_count(self, client: httpx.AsyncClient) -> None:
        """Two customers with the same balance: one paid a fee of 20.00 and had another of
        15.00 reversed; the other spent 20.00 by card. Their yearly contributions differ by
        the one fee that stands, read through the index of unreversed fees."""

        async def contribution(*spends: dict[str, Any], reversals: list[str]) -> Decimal:
            customer = await create_customer(client)
            account = (await open_account(client, customer["id"]))["full_number"]
            salary = transaction(account, amount="8000.00", kind="salary")
            batch = [salary, *({**s, "account_number": account} for s in spends)]
            answer = await client.post("/v1/transactions", json={"transactions": batch})
            assert answer.status_code == 200, answer.text
            if reversals:
                answer = await client.post(
                    "/v1/transactions", json={"reversals": [reversal(t) for t in reversals]}
                )
                assert answer.status_code == 200, answer.text
            view = (await client.get(f"/v1/customers/{customer['id']}/view")).json()
            assert Decimal(view["accounts"][0]["balance"]) == Decimal("7980.00")
            return Decimal(view["value"]["yearly_contribution_cny"])

        kept = transaction("", amount="20.00", direction="debit", kind="fee")
        reversed_fee = transaction("", amount="15.00", direction="debit", kind="fee")
        card = transaction("", amount="20.00", direction="debit", kind="card_spend")

        with_fees = await contribution(
            kept, reversed_fee, reversals=[reversed_fee["transaction_id"]]
        )
        without = await contribution(card, reversals=[])

        assert with_fees - without == Decimal("20.00")
