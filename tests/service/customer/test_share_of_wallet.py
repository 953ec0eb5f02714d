"""Share of wallet where the bank knows it: holdings a customer declared elsewhere, recorded,
replaced and removed by staff in reach, erased with the customer; the share against the bank's
own balances, unknown without a declaration; and the transfers that left for other banks."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.customer.factories import create_customer, open_account, transaction

SUPERVISOR = development_bearer(Role.SUPERVISOR, subject="supervisor-1")


def holding(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "institution_kind": "bank",
        "product_type": "deposit",
        "amount_cny": "500000.00",
        "declared_on": str(date.today() - timedelta(days=3)),
    }
    body.update(changes)
    return body


async def _record(client: httpx.AsyncClient, customer_id: str, **changes: Any) -> dict[str, Any]:
    answer = await client.post(
        f"/v1/customers/{customer_id}/external-holdings", json=holding(**changes)
    )
    assert answer.status_code == 201, answer.text
    recorded: dict[str, Any] = answer.json()
    return recorded


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


class TestDeclaredHoldings:
    async def test_holdings_are_recorded_replaced_listed_and_removed(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        path = f"/v1/customers/{customer['id']}/external-holdings"
        deposit = await _record(client, customer["id"])
        fund = await _record(
            client,
            customer["id"],
            institution_kind="fund_manager",
            product_type="fund",
            amount_cny="80000.00",
            declared_on=str(date.today() - timedelta(days=40)),
        )

        replaced = await client.put(f"{path}/{deposit['id']}", json=holding(amount_cny="450000.00"))
        listed = (await client.get(path)).json()
        removed = await client.delete(f"{path}/{fund['id']}")
        after = (await client.get(path)).json()

        assert replaced.status_code == 200, replaced.text
        assert (replaced.json()["id"], Decimal(replaced.json()["amount_cny"])) == (
            deposit["id"],
            Decimal("450000.00"),
        )
        assert [(h["id"], Decimal(h["amount_cny"])) for h in listed] == [
            (deposit["id"], Decimal("450000.00")),
            (fund["id"], Decimal("80000.00")),
        ]
        assert removed.status_code == 204
        assert [h["id"] for h in after] == [deposit["id"]]

    async def test_an_invalid_declaration_is_refused_naming_its_field(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        path = f"/v1/customers/{customer['id']}/external-holdings"

        answers = {
            field: await client.post(path, json=holding(**{field: value}))
            for field, value in [
                ("declared_on", str(date.today() + timedelta(days=2))),
                ("amount_cny", "0"),
                ("product_type", "loan"),
                ("institution_kind", "casino"),
            ]
        }
        unknown = await client.put(f"{path}/{uuid.uuid4()}", json=holding())

        for field, answer in answers.items():
            assert answer.status_code == 422, (field, answer.text)
            assert field in [e["field"] for e in answer.json()["errors"]], answer.text
        assert unknown.status_code == 404
        assert (await client.get(path)).json() == []

    async def test_a_manager_declares_for_their_own_portfolio_only(
        self, client: httpx.AsyncClient
    ) -> None:
        theirs = await create_customer(client)
        other = await create_customer(client)
        manager = await client.post(
            "/v1/managers",
            json={
                "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
                "name": "陈静",
                "branch_code": "BJ001",
                "capacity": 50,
            },
        )
        manager_id = manager.json()["id"]
        await client.put(f"/v1/customers/{theirs['id']}/manager", json={"manager_id": manager_id})
        as_manager = development_bearer(
            Role.CUSTOMER_MANAGER, subject="m-chen", manager_id=manager_id
        )

        own = await client.post(
            f"/v1/customers/{theirs['id']}/external-holdings", json=holding(), headers=as_manager
        )
        elsewhere = await client.post(
            f"/v1/customers/{other['id']}/external-holdings", json=holding(), headers=as_manager
        )
        share = await client.get(f"/v1/customers/{other['id']}/share-of-wallet", headers=as_manager)
        by_supervisor = await client.post(
            f"/v1/customers/{theirs['id']}/external-holdings", json=holding(), headers=SUPERVISOR
        )

        assert own.status_code == 201, own.text
        assert own.json()["recorded_by"] == "m-chen"
        assert (elsewhere.status_code, share.status_code) == (404, 404)
        assert by_supervisor.status_code == 403


class TestShareOfWallet:
    async def test_nothing_declared_means_the_share_is_not_known(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        account = (await open_account(client, customer["id"]))["full_number"]
        await client.post(
            "/v1/transactions", json={"transactions": [transaction(account, amount="90000.00")]}
        )

        share = (await client.get(f"/v1/customers/{customer['id']}/share-of-wallet")).json()

        assert share["known"] is False
        assert (share["share"], share["declared_elsewhere_cny"]) == (None, None)
        assert Decimal(share["bank_assets_cny"]) == Decimal("90000.00")

    async def test_the_share_and_the_outflows_to_other_banks_by_hand(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        cny = (await open_account(client, customer["id"]))["full_number"]
        usd = (await open_account(client, customer["id"], currency="USD"))["full_number"]
        await open_account(
            client,
            customer["id"],
            product_type="loan",
            product_code="LN",
            payoff_date="2030-01-15",
            opening_balance="200000.00",
        )
        out = {"direction": "debit", "kind": "transfer_out", "channel": "mobile"}
        reversed_transfer = transaction(
            cny, amount="8000.00", counterparty_bank="ABC", booked_at=_days_ago(5), **out
        )
        postings = [
            transaction(cny, amount="400000.00", booked_at=_days_ago(210)),
            # Before the default 90 days: counted only in a longer period.
            transaction(
                cny, amount="50000.00", counterparty_bank="BOC", booked_at=_days_ago(200), **out
            ),
            transaction(
                cny, amount="20000.00", counterparty_bank="ICBC", booked_at=_days_ago(30), **out
            ),
            # No bank named: a transfer within the bank.
            transaction(cny, amount="5000.00", booked_at=_days_ago(20), **out),
            # A payment to a merchant banking elsewhere is spending, not wallet leaving.
            transaction(
                cny,
                amount="3000.00",
                direction="debit",
                kind="payment",
                channel="web",
                counterparty_bank="CMB",
                booked_at=_days_ago(10),
            ),
            reversed_transfer,
            transaction(usd, amount="10000.00", currency="USD", booked_at=_days_ago(60)),
            transaction(
                usd,
                amount="1000.00",
                currency="USD",
                counterparty_bank="HSBC",
                booked_at=_days_ago(7),
                **out,
            ),
        ]
        posted = await client.post(
            "/v1/transactions",
            json={
                "transactions": postings,
                "reversals": [
                    {
                        "reversal_id": f"REV-{reversed_transfer['transaction_id']}",
                        "reverses": reversed_transfer["transaction_id"],
                        "reason": "posting_error",
                        "booked_at": _days_ago(4),
                    }
                ],
            },
        )
        assert posted.status_code == 200, posted.text
        await _record(client, customer["id"], amount_cny="500000.00")
        await _record(
            client,
            customer["id"],
            institution_kind="securities",
            product_type="securities",
            amount_cny="114100.00",
            declared_on=str(date.today() - timedelta(days=100)),
        )
        path = f"/v1/customers/{customer['id']}/share-of-wallet"

        share = (await client.get(path)).json()
        longer = (await client.get(path, params={"from": _days_ago(250)})).json()

        # CNY 400,000 - 50,000 - 20,000 - 5,000 - 3,000 (the reversed 8,000 came back) = 322,000;
        # USD 9,000 x 7.10 = 63,900; the loan is not wealth. 385,900 of 1,000,000 in all.
        assert share["known"] is True
        assert Decimal(share["bank_assets_cny"]) == Decimal("385900.00")
        assert Decimal(share["declared_elsewhere_cny"]) == Decimal("614100.00")
        assert Decimal(share["share"]) == Decimal("0.3859")
        assert share["oldest_declaration_on"] == str(date.today() - timedelta(days=100))
        # ICBC 20,000 and HSBC USD 1,000 x 7.10 in the last 90 days; BOC 50,000 before.
        assert Decimal(share["outflows_to_other_banks_cny"]) == Decimal("27100.00")
        assert share["outflow_transfers"] == 2
        assert Decimal(longer["outflows_to_other_banks_cny"]) == Decimal("77100.00")
        assert longer["outflow_transfers"] == 3


class TestErasure:
    async def test_the_access_copy_lists_the_holdings_and_erasure_removes_them(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        recorded = await _record(client, customer["id"], amount_cny="320000.00")
        export = (
            await client.get(f"/v1/customers/{customer['id']}/export", headers=SUPERVISOR)
        ).json()
        closed = await client.post(
            f"/v1/customers/{customer['id']}/close", json={"version": 1, "reason": "moved abroad"}
        )
        assert closed.status_code == 200, closed.text
        refused = await client.post(
            f"/v1/customers/{customer['id']}/external-holdings", json=holding()
        )

        erased = await client.post(
            f"/v1/customers/{customer['id']}/erasure",
            json={"version": 2, "reference": "DSR-2026-0101"},
            headers=SUPERVISOR,
        )
        after = (
            await client.get(f"/v1/customers/{customer['id']}/export", headers=SUPERVISOR)
        ).json()
        listed = (await client.get(f"/v1/customers/{customer['id']}/external-holdings")).json()

        assert [(h["id"], Decimal(h["amount_cny"])) for h in export["external_holdings"]] == [
            (recorded["id"], Decimal("320000.00"))
        ]
        assert refused.status_code == 409
        assert erased.status_code == 200, erased.text
        assert after["external_holdings"] == []
        assert listed == []
