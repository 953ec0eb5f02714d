"""A channel that retries a POST with the same Idempotency-Key gets the first answer."""

import uuid

import httpx

from services.customer.config import Settings
from tests.service.conftest import scalar
from tests.service.customer.factories import individual


class TestIdempotencyKey:
    async def test_a_retried_registration_gets_the_first_answer_and_registers_once(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        body = individual(name=f"重试{uuid.uuid4().hex[:6]}")
        headers = {"Idempotency-Key": f"reg-{uuid.uuid4().hex}"}

        first = await client.post("/v1/customers", json=body, headers=headers)
        retry = await client.post("/v1/customers", json=body, headers=headers)

        assert first.status_code == retry.status_code == 201
        assert retry.json() == first.json()
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert (
            await scalar(
                customer_settings, "SELECT count(*) FROM customers WHERE name = :n", n=body["name"]
            )
            == 1
        )

    async def test_the_same_key_for_another_request_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        headers = {"Idempotency-Key": f"reg-{uuid.uuid4().hex}"}
        await client.post("/v1/customers", json=individual(), headers=headers)

        other = await client.post("/v1/customers", json=individual(), headers=headers)

        assert other.status_code == 422
        assert other.json()["type"].endswith("/idempotency-key-reused")

    async def test_a_refused_request_does_not_burn_its_key(self, client: httpx.AsyncClient) -> None:
        existing = individual()
        await client.post("/v1/customers", json=existing)
        headers = {"Idempotency-Key": f"reg-{uuid.uuid4().hex}"}

        first = await client.post("/v1/customers", json=existing, headers=headers)
        again = await client.post("/v1/customers", json=existing, headers=headers)

        assert first.status_code == again.status_code == 409
        assert "idempotent-replayed" not in again.headers

    async def test_a_malformed_key_names_the_header(self, client: httpx.AsyncClient) -> None:
        answer = await client.post(
            "/v1/customers", json=individual(), headers={"Idempotency-Key": "bad key!"}
        )

        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
