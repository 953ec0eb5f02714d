"""``GET /v1/customers/{id}/next-best-actions`` on the real database: open opportunities and
always-on offers in one ranking, with what may not be offered withheld and why."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from contracts.customer import CustomerManagerAssigned
from services.events.app import create_app
from services.events.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import scalar, serving
from tests.service.events.conftest import (
    NOW,
    Detector,
    builtin,
    complaint,
    contact,
    custom,
    known_customer,
    opened,
    posted,
)

WEALTH_AFTER_DEPOSIT = {
    "name": "Wealth after a deposit",
    "trigger": {"events": ["transaction.posted"]},
    "conditions": [{"kind": "event_field", "field": "kind", "op": "==", "value": "bonus"}],
    "action": {"kind": "up_sell", "product": "wealth_management"},
    "cooldown_days": 0,
    "holdout_share": "0",
}


@pytest.fixture
async def exploiting(events_settings: Settings) -> Settings:
    """Rankings by the models' estimates only: with no response learned yet, the priors. The
    responses other tests recorded are forgotten first (the database is shared)."""
    forget = "WITH gone AS (DELETE FROM action_evidence RETURNING 1) SELECT count(*) FROM gone"
    await scalar(events_settings, forget)
    return events_settings.model_copy(update={"nba_exploration": 0.0})


@pytest.fixture
async def client(exploiting: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(exploiting)) as client:
        yield client


async def _actions(client: httpx.AsyncClient, customer_id: uuid.UUID, **query: Any) -> Any:
    answer = await client.get(f"/v1/customers/{customer_id}/next-best-actions", params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _customer_with_an_offer(detector: Detector) -> uuid.UUID:
    """A customer holding a current account and a card, with an open wealth up-sell."""
    customer_id = await known_customer(detector, consent={"phone": True, "mobile": False})
    await detector.feed(opened(customer_id, "6222000011112222", "current"))
    await detector.feed(opened(customer_id, "6222000011113333", "card"))
    rule = custom(f"nba_{uuid.uuid4().hex[:6]}", WEALTH_AFTER_DEPOSIT)
    deposit = posted(customer_id, 5000, kind="bonus", at=NOW - timedelta(hours=2))
    assert await detector.feed(deposit, rule) == ["created"]
    return customer_id


async def test_offers_are_ranked_by_expected_value_with_their_factors(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    answer = await _actions(client, customer_id, channel="phone", limit=5)
    ranked = [(i["action_id"], i["source"]) for i in answer["items"]]
    # 0.06 × 1500, 0.04 × 1200, 0.03 × 800, 0.03 × 500; the card is held, so it is not
    # offered.
    assert ranked == [
        ("wealth_management", "opportunity"),
        ("wealth_up_sell", "always_on"),
        ("loan_offer", "always_on"),
        ("insurance", "always_on"),
    ]
    top = answer["items"][0]
    assert top["opportunity_id"] is not None
    factors = {k: float(v) for k, v in top["factors"].items()}
    assert factors == {"propensity": 0.06, "value": 1500, "weight": 1, "expected_value": 90}
    assert top["model"] == {
        "estimate": 0.06,
        "responses": 0,
        "predictors": {},
        "first_choice_probability": 1.0,
    }
    assert answer["withheld"] == []
    assert answer["explored"] is False


async def test_a_business_weight_moves_an_action_up(
    detector: Detector, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    weighted = exploiting.model_copy(update={"action_weights": {"loan_offer": 5}})
    async with serving(create_app(weighted)) as client:
        answer = await _actions(client, customer_id, channel="phone")
    assert [i["action_id"] for i in answer["items"]][:2] == ["loan_offer", "wealth_management"]
    assert float(answer["items"][0]["factors"]["expected_value"]) == 120


async def test_a_channel_without_consent_or_the_action_withholds_it(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    answer = await _actions(client, customer_id, channel="mobile")
    assert answer["items"] == []
    withheld = {w["action_id"]: w["reason"] for w in answer["withheld"]}
    assert withheld == {
        "wealth_management": "not_on_channel",  # a manager's phone call or a branch visit
        "wealth_up_sell": "no_consent",
        "loan_offer": "no_consent",
        "insurance": "no_consent",
    }


async def test_a_complaint_puts_service_recovery_first_and_withholds_offers(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    customer_id = await known_customer(detector, tier="premium")
    assert await detector.feed(complaint(customer_id), builtin("premium_complaint")) == ["created"]
    answer = await _actions(client, customer_id)
    assert [(i["action_id"], i["rank"]) for i in answer["items"]] == [("service_recovery", 1)]
    assert {w["reason"] for w in answer["withheld"]} == {"open_complaint"}


async def test_conversations_this_week_hold_back_new_offers_not_open_ones(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    customer_id = await _customer_with_an_offer(detector)  # one offer made this week
    await detector.feed(contact(customer_id, NOW - timedelta(hours=1), kind="inbound_call:q"))
    answer = await _actions(client, customer_id, channel="phone")
    assert [i["action_id"] for i in answer["items"]] == ["wealth_management"]
    withheld = {w["action_id"]: w["reason"] for w in answer["withheld"]}
    assert withheld == {
        "wealth_up_sell": "contact_fatigue",
        "loan_offer": "contact_fatigue",
        "insurance": "contact_fatigue",
    }


async def test_a_manager_reaches_only_their_own_customers(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    manager = uuid.uuid4()
    await detector.feed(
        CustomerManagerAssigned(
            customer_id=customer_id,
            manager_id=manager,
            previous_manager_id=None,
            branch_code="0101",
            reason="test",
        )
    )
    path = f"/v1/customers/{customer_id}/next-best-actions"
    own = development_bearer(Role.CUSTOMER_MANAGER, manager_id=str(manager))
    other = development_bearer(Role.CUSTOMER_MANAGER, manager_id=str(uuid.uuid4()))
    assert (await client.get(path, headers=own)).status_code == 200
    refused = await client.get(path, headers=other)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"


async def test_an_unknown_customer_or_channel_is_a_clear_4xx(client: httpx.AsyncClient) -> None:
    unknown = await client.get(f"/v1/customers/{uuid.uuid4()}/next-best-actions")
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("customer-not-known")
    bad = await client.get(f"/v1/customers/{uuid.uuid4()}/next-best-actions?channel=pigeon")
    assert bad.status_code == 422
    assert "channel" in bad.text
