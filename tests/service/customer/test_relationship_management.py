"""Satisfaction surveys, potential customers, ties between customers, value analytics."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from services.customer.config import Settings
from shared.masking import mask_name
from tests.service.conftest import scalar
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import (
    corporate,
    create_customer,
    individual,
    open_account,
    transaction,
)


async def _survey(client: httpx.AsyncClient, customer_id: str, **scores: Any) -> httpx.Response:
    return await client.post(
        "/v1/surveys",
        json={
            "external_id": f"S-{uuid.uuid4().hex[:10]}",
            "customer_id": customer_id,
            "channel": "sms",
            "answered_at": datetime.now(UTC).isoformat(),
            **scores,
        },
    )


class TestSurveys:
    async def test_answers_make_a_satisfaction_index_and_an_event(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)

        first = await _survey(client, customer["id"], csat=5, nps=10)
        second = await _survey(client, customer["id"], csat=3)

        assert first.status_code == 201
        assert Decimal(first.json()["satisfaction_index"]) == Decimal("100.0")
        assert Decimal(second.json()["satisfaction_index"]) == Decimal("75.0")
        assert (await event_types(customer_settings, customer["id"])).count(
            "crm.survey.answered.v1"
        ) == 2

    async def test_a_resent_answer_is_recorded_once(self, client: httpx.AsyncClient) -> None:
        customer = await create_customer(client)
        body = {
            "external_id": f"S-{uuid.uuid4().hex[:10]}",
            "customer_id": customer["id"],
            "channel": "web",
            "nps": 2,
            "answered_at": datetime.now(UTC).isoformat(),
        }

        first = await client.post("/v1/surveys", json=body)
        again = await client.post("/v1/surveys", json=body)

        assert first.status_code == 201
        assert again.status_code == 200
        assert again.json() == first.json()

    async def test_scores_out_of_range_are_refused(self, client: httpx.AsyncClient) -> None:
        customer = await create_customer(client)

        answer = await _survey(client, customer["id"], csat=6, nps=11)

        assert answer.status_code == 422
        assert {e["field"] for e in answer.json()["errors"]} == {"csat", "nps"}

    async def test_an_answer_without_a_score_is_refused(self, client: httpx.AsyncClient) -> None:
        customer = await create_customer(client)

        answer = await _survey(client, customer["id"], comment="no score")

        assert answer.status_code == 422


class TestLeads:
    async def test_a_lead_is_graded_by_its_estimated_value(self, client: httpx.AsyncClient) -> None:
        grades = []
        for amount, currency in (("2000000", "CNY"), ("50000", "USD"), ("10000", "CNY")):
            answer = await client.post(
                "/v1/leads",
                json={
                    "name": "赵磊",
                    "source": "event",
                    "estimated_value": {"amount": amount, "currency": currency},
                },
            )
            grades.append(answer.json()["grade"])

        assert grades == ["A", "B", "C"]

    async def test_a_visited_lead_converts_into_a_customer_with_its_referrer(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        referrer = await create_customer(client)
        lead = (
            await client.post(
                "/v1/leads",
                json={
                    "name": "周敏",
                    "source": "referral",
                    "referred_by": referrer["id"],
                    "estimated_value": {"amount": "300000", "currency": "CNY"},
                },
            )
        ).json()
        visit = (
            await client.post(
                f"/v1/leads/{lead['id']}/visits",
                json={
                    "planned_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
                    "purpose": "introduce wealth products",
                },
            )
        ).json()
        outcome = await client.post(
            f"/v1/leads/{lead['id']}/visits/{visit['id']}/outcome",
            json={"outcome": "interested", "note": "wants a term deposit"},
        )

        converted = await client.post(
            f"/v1/leads/{lead['id']}/convert", json=individual(name="周敏")
        )
        again = await client.post(f"/v1/leads/{lead['id']}/convert", json=individual())

        assert outcome.status_code == 200
        assert converted.status_code == 201
        customer_id = converted.json()["id"]
        assert "crm.lead.converted.v1" in await event_types(customer_settings, customer_id)
        ties = (await client.get(f"/v1/customers/{referrer['id']}/relationships")).json()
        assert {"related_customer_id": customer_id, "kind": "referred"} == {
            k: ties[0][k] for k in ("related_customer_id", "kind")
        }
        assert again.status_code == 409
        assert again.json()["type"].endswith("/lead-closed")

    async def test_a_refused_conversion_leaves_the_lead_open(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        existing = individual()
        await client.post("/v1/customers", json=existing)
        lead = (
            await client.post(
                "/v1/leads",
                json={
                    "name": "孙丽",
                    "source": "walk_in",
                    "estimated_value": {"amount": "1000", "currency": "CNY"},
                },
            )
        ).json()

        answer = await client.post(f"/v1/leads/{lead['id']}/convert", json=existing)

        assert answer.status_code == 409
        assert (
            await scalar(
                customer_settings,
                "SELECT status FROM leads WHERE id = :id",
                id=uuid.UUID(lead["id"]),
            )
            == "open"
        )


class TestRelationships:
    async def test_a_corporate_group_is_seen_from_both_sides(
        self, client: httpx.AsyncClient
    ) -> None:
        parent = (await client.post("/v1/customers", json=corporate())).json()
        child = (await client.post("/v1/customers", json=corporate(name="星河子公司"))).json()

        answer = await client.post(
            f"/v1/customers/{parent['id']}/relationships",
            json={"related_customer_id": child["id"], "kind": "subsidiary", "since": "2020-01-01"},
        )
        from_child = (await client.get(f"/v1/customers/{child['id']}/relationships")).json()

        assert answer.status_code == 201
        assert from_child == [
            {"related_customer_id": parent["id"], "kind": "parent_company", "since": "2020-01-01"}
        ]

    async def test_a_household_of_a_company_is_refused(self, client: httpx.AsyncClient) -> None:
        person = await create_customer(client)
        company = (await client.post("/v1/customers", json=corporate())).json()

        answer = await client.post(
            f"/v1/customers/{person['id']}/relationships",
            json={"related_customer_id": company["id"], "kind": "household", "since": "2020-01-01"},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "kind"


class TestAnalytics:
    async def test_the_value_pyramid_adds_up(self, client: httpx.AsyncClient) -> None:
        pyramid = (await client.get("/v1/analytics/value-pyramid")).json()

        tiers = pyramid["tiers"]
        total = sum(t["customers"] for t in tiers)
        assert total == pyramid["profitable"] + pyramid["marginal"] + pyramid["loss_making"]
        shares = sum((Decimal(t["customer_share"]) for t in tiers), Decimal("0"))
        assert abs(shares - 1) < Decimal("0.001")
        ranks = [t["tier"] for t in tiers]
        assert ranks == sorted(
            ranks, key=["premium", "key", "potential", "ordinary", "restricted"].index
        )

    async def test_the_migration_matrix_counts_new_customers(
        self, client: httpx.AsyncClient
    ) -> None:
        start = datetime.now(UTC)
        await create_customer(client)

        matrix = (
            await client.get("/v1/analytics/segment-migration", params={"start": start.isoformat()})
        ).json()

        new = [c for c in matrix["cells"] if c["from_tier"] == "new"]
        assert sum(c["customers"] for c in new) >= 1

    async def test_the_migration_window_must_move_forward(self, client: httpx.AsyncClient) -> None:
        now = datetime.now(UTC)

        answer = await client.get(
            "/v1/analytics/segment-migration",
            params={"start": now.isoformat(), "end": (now - timedelta(days=1)).isoformat()},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "end"

    async def test_the_view_carries_value_satisfaction_and_ties(
        self, client: httpx.AsyncClient
    ) -> None:
        customer = await create_customer(client)
        await _survey(client, customer["id"], nps=9)

        view = (await client.get(f"/v1/customers/{customer['id']}/view")).json()

        assert Decimal(view["satisfaction_index"]) == Decimal("90.0")
        assert Decimal(view["value"]["yearly_contribution_cny"]) == Decimal("-300.00")
        assert view["relationships"] == []


class TestRfm:
    async def test_an_active_big_customer_scores_above_a_silent_one(
        self, client: httpx.AsyncClient
    ) -> None:
        busy = await create_customer(client)
        silent = await create_customer(client)
        account = (await open_account(client, busy["id"]))["full_number"]
        await client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, amount="90000.00") for _ in range(12)]},
        )

        scores = (await client.get("/v1/analytics/rfm", params={"limit": 1000})).json()

        by_id = {s["id"]: s for s in scores}
        assert by_id[busy["id"]]["frequency"] == 12
        assert by_id[busy["id"]]["rfm"] > by_id[silent["id"]]["rfm"]
        assert by_id[silent["id"]]["frequency"] == 0
        assert (by_id[silent["id"]]["frequency_score"], by_id[silent["id"]]["monetary"]) == (1, 1)
        assert by_id[busy["id"]]["monetary"] == 5


class TestDrifting:
    async def test_drifting_customers_are_listed_with_masked_names_as_rfm_lists_them(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        await scalar(
            customer_settings,
            "UPDATE customer.customers SET loyalty = 'drifting' WHERE id = :id RETURNING id",
            id=uuid.UUID(customer["id"]),
        )

        drifting = (await client.get("/v1/analytics/drifting", params={"limit": 500})).json()
        scores = (await client.get("/v1/analytics/rfm", params={"limit": 1000})).json()

        listed = {entry["id"]: entry["name"] for entry in drifting}
        ranked = {entry["id"]: entry["name"] for entry in scores}
        full_name = customer["name"]
        assert "*" not in full_name
        assert listed[customer["id"]] == mask_name(full_name) == ranked[customer["id"]]
