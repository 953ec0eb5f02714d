"""Registering, reading, changing and closing customers."""

import httpx
import pytest

from services.customer.config import Settings
from shared.problems import PROBLEM_JSON
from tests.service.conftest import scalar
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import (
    corporate,
    create_customer,
    individual,
    open_account,
    resident_id,
)


class TestRegisterIndividual:
    async def test_a_valid_customer_is_registered_with_its_events(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        body = individual()
        body["profile"]["id_number"] = resident_id(birth="19850614", female=True)

        answer = await client.post("/v1/customers", json=body)

        created = answer.json()
        assert answer.status_code == 201
        assert answer.headers["location"] == f"/v1/customers/{created['id']}"
        assert created["version"] == 1
        assert created["profile"]["birth_date"] == "1985-06-14"
        assert created["profile"]["gender"] == "female"
        assert created["segments"]["value_tier"] == "ordinary"
        assert await event_types(customer_settings, created["id"]) == [
            "crm.customer.registered.v1",
            "crm.customer.segment_changed.v1",
        ]

    async def test_personal_identifiers_are_masked_in_the_answer(
        self, client: httpx.AsyncClient
    ) -> None:
        body = individual()
        number = body["profile"]["id_number"]
        phone = body["profile"]["phones"][0]

        created = (await client.post("/v1/customers", json=body)).json()

        assert created["profile"]["id_number"] == f"{number[:6]}********{number[-4:]}"
        assert created["profile"]["phones"] == [f"{phone[:3]}****{phone[-4:]}"]
        assert number not in str(created)
        assert phone not in str(created)

    async def test_a_wrong_check_digit_is_refused_naming_the_field(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        body = individual()
        good = body["profile"]["id_number"]
        body["profile"]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
        body["name"] = "校验位错误"

        answer = await client.post("/v1/customers", json=body)

        assert answer.status_code == 422
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert answer.json()["errors"][0]["field"] == "profile.id_number"
        assert answer.json()["detail"] == f"profile.id_number: check digit should be {good[17]}"
        assert (
            await scalar(
                customer_settings, "SELECT count(*) FROM customers WHERE name = '校验位错误'"
            )
            == 0
        )

    async def test_a_birth_date_that_contradicts_the_id_number_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        body = individual()
        body["profile"]["birth_date"] = "2001-01-01"

        answer = await client.post("/v1/customers", json=body)

        assert answer.status_code == 422
        assert "birth_date" in answer.json()["detail"]

    async def test_the_same_id_number_twice_is_a_conflict_and_writes_nothing(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        first = individual()
        created = (await client.post("/v1/customers", json=first)).json()
        again = individual(name="另一个人")
        again["profile"]["id_number"] = first["profile"]["id_number"]

        answer = await client.post("/v1/customers", json=again)

        assert answer.status_code == 409
        assert answer.json()["type"].endswith("/duplicate-customer")
        assert answer.json()["customer_id"] == created["id"]
        assert (
            await scalar(
                customer_settings, "SELECT count(*) FROM customers WHERE name = '另一个人'"
            )
            == 0
        )

    async def test_an_unknown_field_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await client.post("/v1/customers", json=individual(vip=True))

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "vip"


class TestRegisterCorporate:
    async def test_a_valid_company_is_registered(self, client: httpx.AsyncClient) -> None:
        body = corporate()

        answer = await client.post("/v1/customers", json=body)

        code = body["profile"]["social_credit_code"]
        assert answer.status_code == 201
        assert answer.json()["kind"] == "corporate"
        assert answer.json()["profile"]["social_credit_code"] == f"{code[:6]}********{code[-4:]}"

    async def test_an_invalid_credit_code_is_refused_naming_the_field(
        self, client: httpx.AsyncClient
    ) -> None:
        body = corporate()
        code = body["profile"]["social_credit_code"]
        body["profile"]["social_credit_code"] = code[:17] + ("1" if code[17] != "1" else "2")

        answer = await client.post("/v1/customers", json=body)

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "profile.social_credit_code"

    async def test_registered_capital_in_an_unknown_currency_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        body = corporate()
        body["profile"]["registered_capital"] = {"amount": "100.00", "currency": "XYZ"}

        answer = await client.post("/v1/customers", json=body)

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "profile.registered_capital.currency"


class TestUpdateWithVersion:
    async def test_an_update_at_the_current_version_applies_and_is_published(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)

        answer = await client.patch(
            f"/v1/customers/{created['id']}",
            json={"version": 1, "occupation": "teacher", "income_band": "over_1m"},
        )

        assert answer.status_code == 200
        assert answer.json()["version"] == 2
        assert answer.json()["profile"]["occupation"] == "teacher"
        assert answer.json()["profile"]["income_band"] == "over_1m"
        assert (await event_types(customer_settings, created["id"]))[-1] == (
            "crm.customer.updated.v1"
        )

    async def test_a_stale_version_is_a_409_and_changes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        await client.patch(f"/v1/customers/{created['id']}", json={"version": 1, "name": "王芳"})

        answer = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 1, "name": "王小芳"}
        )

        assert answer.status_code == 409
        assert answer.json()["type"].endswith("/stale-version")
        assert answer.json()["current_version"] == 2
        current = (await client.get(f"/v1/customers/{created['id']}")).json()
        assert current["name"] == "王芳"

    @pytest.mark.parametrize("field", ["name", "phones", "emails"])
    async def test_a_null_for_a_field_that_cannot_be_cleared_is_a_422_naming_it(
        self, client: httpx.AsyncClient, field: str
    ) -> None:
        created = await create_customer(client)

        answer = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 1, field: None}
        )

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == field
        current = (await client.get(f"/v1/customers/{created['id']}")).json()
        assert current["version"] == 1

    async def test_a_null_clears_a_field_that_may_be_empty(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)
        await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 1, "occupation": "teacher"}
        )

        answer = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 2, "occupation": None}
        )

        assert answer.status_code == 200
        assert answer.json()["profile"]["occupation"] is None

    async def test_an_unknown_customer_is_a_404(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/v1/customers/00000000-0000-4000-8000-000000000000")

        assert answer.status_code == 404
        assert answer.json()["type"].endswith("/customer-not-found")

    async def test_a_malformed_id_is_a_422(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/v1/customers/not-a-uuid")

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "customer_id"


class TestClose:
    async def test_a_customer_with_open_accounts_cannot_be_closed(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        await open_account(client, created["id"])

        answer = await client.post(
            f"/v1/customers/{created['id']}/close", json={"version": 1, "reason": "moved abroad"}
        )

        assert answer.status_code == 409
        assert answer.json()["type"].endswith("/open-accounts-remain")

    async def test_closing_after_the_accounts_ends_the_relationship(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        account = await open_account(client, created["id"])
        closed_account = await client.post(
            f"/v1/accounts/{account['full_number']}/close", json={"closed_on": "2026-11-01"}
        )

        answer = await client.post(
            f"/v1/customers/{created['id']}/close", json={"version": 1, "reason": "moved abroad"}
        )
        later = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 2, "occupation": "retired"}
        )

        assert closed_account.status_code == 200
        assert answer.status_code == 200
        assert answer.json()["status"] == "closed"
        assert later.status_code == 409
        assert later.json()["type"].endswith("/customer-closed")
