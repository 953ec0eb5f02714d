"""Onboarding a batch of new customers with their accounts, on the real PostgreSQL: the same
rows and events as registering them one by one, and all or nothing."""

import json
from typing import Any

import httpx
import pytest

from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import scalar
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import (
    account_number,
    card_number,
    corporate,
    create_customer,
    individual,
    resident_id,
)

BATCHES = "/v1/onboarding-batches"
CUSTOMERS = "SELECT count(*) FROM customers"
ACCOUNTS = "SELECT count(*) FROM accounts"


def current(**changes: Any) -> dict[str, Any]:
    return {
        "account_number": account_number(),
        "product_type": "current",
        "product_code": "CUR-STD",
        "currency": "CNY",
        "opened_on": "2024-01-15",
        "opening_balance": "250.00",
        **changes,
    }


def card(**changes: Any) -> dict[str, Any]:
    return current(
        product_type="card", product_code="DEBIT", **{"card_number": card_number(), **changes}
    )


async def onboard(client: httpx.AsyncClient, *entries: dict[str, Any]) -> httpx.Response:
    return await client.post(BATCHES, json={"customers": list(entries)})


async def payloads(settings: Settings, customer_id: str) -> list[dict[str, Any]]:
    """The events the customer's registration and openings wrote to the outbox (not the
    service's later revaluations, made on its own time), without what differs from one
    customer to another (ids, digests, account numbers, instants)."""
    found = await scalar(
        settings,
        "SELECT CAST(json_agg(payload ORDER BY seq) AS text) FROM outbox WHERE message_key = :k"
        " AND event_type <> 'crm.customer.segment_changed.v1'"
        " OR message_key = :k AND payload->>'previous' IS NULL"
        " AND payload->>'dimension' = 'value_tier'",
        k=customer_id,
    )
    kept = []
    for payload in json.loads(str(found)):
        for varying in ("customer_id", "account_number", "effective_at"):
            payload.pop(varying, None)
        if "identifiers" in payload:
            payload["identifiers"] = [item["kind"] for item in payload["identifiers"]]
        kept.append(payload)
    return kept


class TestOnboarding:
    async def test_a_batch_writes_what_one_request_at_a_time_writes(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        # The same birthday, which the event carries.
        born = {"id_type": "resident_id", "birth_date": "1980-05-15"}
        one_by_one = await create_customer(
            client,
            profile={**individual()["profile"], **born, "id_number": resident_id(birth="19800515")},
        )
        for body in (current(), card()):
            opened = await client.post(
                "/v1/accounts", json={**body, "customer_id": one_by_one["id"]}
            )
            assert opened.status_code == 201, opened.text

        twin = individual(
            profile={**individual()["profile"], **born, "id_number": resident_id(birth="19800515")}
        )
        answer = await onboard(client, {"customer": twin, "accounts": [current(), card()]})

        assert answer.status_code == 201, answer.text
        assert answer.json()["accounts_opened"] == 2
        [batched] = answer.json()["customer_ids"]
        assert await payloads(customer_settings, batched) == await payloads(
            customer_settings, one_by_one["id"]
        )
        single_view = (await client.get(f"/v1/customers/{one_by_one['id']}/view")).json()
        batch_view = (await client.get(f"/v1/customers/{batched}/view")).json()
        assert batch_view["total_balance_cny"] == single_view["total_balance_cny"]
        assert sorted(a["product_type"] for a in batch_view["accounts"]) == sorted(
            a["product_type"] for a in single_view["accounts"]
        )

    async def test_customers_are_found_by_their_documents_accounts_and_cards(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        person, company = individual(), corporate()
        account, its_card = current(), card()

        answer = await onboard(
            client,
            {"customer": person, "accounts": [account, its_card]},
            {"customer": company},
        )

        assert answer.status_code == 201, answer.text
        person_id, company_id = answer.json()["customer_ids"]
        for query, expected in (
            ({"id_number": person["profile"]["id_number"]}, person_id),
            ({"phone": person["profile"]["phones"][0]}, person_id),
            ({"account_number": account["account_number"]}, person_id),
            ({"card_number": its_card["card_number"]}, person_id),
        ):
            found = await client.get("/v1/customers/lookup", params=query)
            assert found.status_code == 200, f"{query}: {found.text}"
            assert [c["id"] for c in found.json()["matches"]] == [expected], query
        owner = await scalar(
            customer_settings,
            "SELECT customer_id FROM customer_identifiers"
            " WHERE kind = 'social_credit_code' AND value = :v",
            v=company["profile"]["social_credit_code"],
        )
        assert str(owner) == company_id

    async def test_a_document_given_twice_refuses_the_batch_naming_the_second(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        number = resident_id()
        first = individual(profile={**individual()["profile"], "id_number": number})
        again = individual(profile={**individual()["profile"], "id_number": number})
        before = await scalar(customer_settings, CUSTOMERS)

        answer = await onboard(
            client, {"customer": individual()}, {"customer": first}, {"customer": again}
        )

        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "customers[2].customer.profile.id_number"
        assert "customers[1]" in answer.json()["detail"]
        assert await scalar(customer_settings, CUSTOMERS) == before

    async def test_a_customer_the_bank_holds_is_a_conflict_and_nothing_is_written(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        company = corporate()
        registered = await client.post("/v1/customers", json=company)
        assert registered.status_code == 201, registered.text
        held = registered.json()
        known = corporate(profile=company["profile"])
        before = (
            await scalar(customer_settings, CUSTOMERS),
            await scalar(customer_settings, ACCOUNTS),
        )

        answer = await onboard(
            client, {"customer": individual(), "accounts": [current()]}, {"customer": known}
        )

        assert answer.status_code == 409, answer.text
        assert answer.json()["field"] == "customers[1].customer.profile.social_credit_code"
        assert answer.json()["customer_id"] == held["id"]
        after = (
            await scalar(customer_settings, CUSTOMERS),
            await scalar(customer_settings, ACCOUNTS),
        )
        assert after == before

    async def test_an_account_number_given_twice_or_already_held_is_refused(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        repeated = current()
        before = await scalar(customer_settings, CUSTOMERS)

        twice = await onboard(
            client,
            {"customer": individual(), "accounts": [repeated]},
            {"customer": individual(), "accounts": [current(), {**repeated}]},
        )
        holder = await create_customer(client)
        held = await client.post(
            "/v1/accounts",
            json={
                **current(),
                "customer_id": holder["id"],
                "account_number": repeated["account_number"],
            },
        )
        assert held.status_code == 201, held.text
        again = await onboard(client, {"customer": individual(), "accounts": [repeated]})

        assert twice.status_code == 422, twice.text
        assert twice.json()["errors"][0]["field"] == "customers[1].accounts[1].account_number"
        assert "customers[0].accounts[0]" in twice.json()["detail"]
        assert again.status_code == 409, again.text
        assert again.json()["field"] == "customers[0].accounts[0].account_number"
        assert await scalar(customer_settings, CUSTOMERS) == int(str(before)) + 1  # the holder

    async def test_a_card_given_twice_is_refused_by_its_field(
        self, client: httpx.AsyncClient
    ) -> None:
        number = card_number()

        answer = await onboard(
            client,
            {"customer": individual(), "accounts": [card(card_number=number)]},
            {"customer": individual(), "accounts": [card(card_number=number)]},
        )

        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "customers[1].accounts[0].card_number"

    async def test_an_invalid_account_is_named_by_its_place_in_the_batch(
        self, client: httpx.AsyncClient
    ) -> None:
        no_maturity = current(product_type="term_deposit", product_code="TD-1Y")

        answer = await onboard(
            client, {"customer": individual(), "accounts": [current(), no_maturity]}
        )

        assert answer.status_code == 422, answer.text
        fields = [error["field"] for error in answer.json()["errors"]]
        assert any(f.startswith("customers[0].accounts[1]") for f in fields), fields

    async def test_a_batch_beyond_a_thousand_customers_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.post(BATCHES, json={"customers": [{"customer": individual()}] * 1001})

        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "customers"

    @pytest.mark.parametrize(("branch", "expected"), [("BJ001", 201), ("SH002", 403)])
    async def test_branch_staff_onboard_customers_of_their_own_branch_only(
        self, client: httpx.AsyncClient, branch: str, expected: int
    ) -> None:
        staff = development_bearer(Role.BRANCH_STAFF, subject="teller-3", branch=branch)
        body = {"customers": [{"customer": individual(branch_code="BJ001")}]}

        answer = await client.post(BATCHES, json=body, headers=staff)

        assert answer.status_code == expected, answer.text
        if expected == 403:
            assert answer.json()["field"] == "customers[0].customer.branch_code"

    async def test_the_same_key_answers_the_first_batch_again(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        body = {"customers": [{"customer": individual(), "accounts": [current()]}]}
        key = {"Idempotency-Key": f"onboard-{account_number()}"}

        first = await client.post(BATCHES, json=body, headers=key)
        again = await client.post(BATCHES, json=body, headers=key)

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        [customer_id] = first.json()["customer_ids"]
        assert (await event_types(customer_settings, customer_id))[:3] == [
            "crm.customer.registered.v1",
            "crm.customer.segment_changed.v1",
            "crm.account.opened.v1",
        ]
