"""The decision log on the real database and bus: every ranking kept, each response learned
once by its action's model from the customer as the decision saw them."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from contracts.catalogue import EventType, Topic
from contracts.contact_center import OutboundAttempted
from contracts.customer import CustomerManagerAssigned, CustomerSegmentChanged
from services.events.app import create_app
from services.events.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import Published, publish, published, scalar, serving
from tests.service.customer.factories import erasure_of
from tests.service.events.conftest import (
    NOW,
    Detector,
    builtin,
    custom,
    known_customer,
    opened,
    posted,
)
from tests.waiting import wait_until

WEALTH_AFTER_A_BONUS = {
    "name": "Wealth after a bonus",
    "trigger": {"events": ["transaction.posted"]},
    "conditions": [{"kind": "event_field", "field": "kind", "op": "==", "value": "bonus"}],
    "action": {"kind": "up_sell", "product": "wealth_management"},
    "cooldown_days": 0,
    "holdout_share": "0",
}
EVIDENCE = (
    "SELECT positives || '/' || negatives FROM action_evidence"
    " WHERE action_id = :action AND predictor = :predictor AND bin = :bin"
)

# The decision as its log keeps it, in the shape of its event (figures as text, to compare as
# numbers: the log's columns have their own scale).
LOGGED_DECISION = (
    "SELECT jsonb_build_object('decision_id', d.id, 'customer_id', d.customer_id,"
    " 'channel', d.channel, 'served_at', d.served_at, 'explored', d.explored,"
    " 'features', d.features, 'model_versions', d.model_versions, 'entries',"
    " (SELECT jsonb_agg(jsonb_build_object('action_id', e.action_id, 'rank', e.rank,"
    " 'opportunity_id', e.opportunity_id, 'propensity', e.ranked_propensity::text,"
    " 'model_estimate', e.propensity::text, 'expected_value', e.expected_value::text,"
    " 'first_choice_probability', e.choice_probability::text) ORDER BY e.rank)"
    " FROM action_decision_entries e WHERE e.decision_id = d.id))::text"
    " FROM action_decisions d WHERE d.id = :d"
)
FIGURES = ("propensity", "model_estimate", "expected_value", "first_choice_probability")


@pytest.fixture
def exploiting(events_settings: Settings) -> Settings:
    return events_settings.model_copy(update={"nba_exploration": 0.0})


@pytest.fixture
async def client(exploiting: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(exploiting)) as client:
        yield client


async def _customer_with_an_offer(detector: Detector) -> uuid.UUID:
    customer_id = await known_customer(detector, consent={"phone": True})
    await detector.feed(opened(customer_id, f"6222{uuid.uuid4().int % 10**12:012d}", "card"))
    rule = custom(f"nba_{uuid.uuid4().hex[:6]}", WEALTH_AFTER_A_BONUS)
    bonus = posted(customer_id, 5000, kind="bonus", at=NOW - timedelta(hours=2))
    assert await detector.feed(bonus, rule) == ["created"]
    return customer_id


async def _decide(client: httpx.AsyncClient, customer_id: uuid.UUID) -> dict[str, Any]:
    answer = await client.get(
        f"/v1/customers/{customer_id}/next-best-actions", params={"channel": "phone"}
    )
    assert answer.status_code == 200, answer.text
    decided: dict[str, Any] = answer.json()
    return decided


async def _respond(
    client: httpx.AsyncClient, decision: dict[str, Any], outcome: str, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/v1/decisions/{decision['decision_id']}/responses",
        json={"action_id": decision["items"][0]["action_id"], "outcome": outcome},
        headers=headers,
    )


def _as_compared(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision's fields with its time and figures as values, not as spelt."""
    entries = [{**e, **{f: Decimal(e[f]) for f in FIGURES}} for e in decision["entries"] or []]
    return {
        **decision,
        "served_at": datetime.fromisoformat(decision["served_at"]),
        "entries": entries,
    }


async def _evidence(settings: Settings, action: str, predictor: str, bin_: str) -> str | None:
    found = await scalar(settings, EVIDENCE, action=action, predictor=predictor, bin=bin_)
    return None if found is None else str(found)


async def test_a_response_is_learned_once_from_the_customer_as_the_decision_saw_them(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    for dimension, current in (("loyalty", "drifting"), ("lifecycle_stage", "decline")):
        await detector.feed(
            CustomerSegmentChanged(
                customer_id=customer_id,
                dimension=dimension,
                previous=None,
                current=current,
                direction="lateral",
                reason="test",
                policy=None,
                effective_at=NOW,
            )
        )
    decided_before = await _evidence(exploiting, "wealth_management", "lifecycle", "decline")
    decision = await _decide(client, customer_id)
    top = decision["items"][0]
    assert top["action_id"] == "wealth_management"
    before = await _evidence(exploiting, "wealth_management", "tier", "premium")
    # The customer becomes premium after the offer, before they answer it.
    await detector.feed(
        CustomerSegmentChanged(
            customer_id=customer_id,
            dimension="value_tier",
            previous="ordinary",
            current="premium",
            direction="upgrade",
            reason="test",
            policy=None,
            effective_at=NOW,
        )
    )
    ordinary_before = await _evidence(exploiting, "wealth_management", "tier", "ordinary")
    accepted = await _respond(client, decision, "accepted")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["learned"] is True
    learned = await _evidence(exploiting, "wealth_management", "tier", "ordinary")
    positives, negatives = (int(n) for n in (ordinary_before or "0/0").split("/"))
    assert learned == f"{positives + 1}/{negatives}"
    assert await _evidence(exploiting, "wealth_management", "tier", "premium") == before
    # The loyalty and lifecycle stage the customer service placed are learned by too.
    positives, negatives = (int(n) for n in (decided_before or "0/0").split("/"))
    assert await _evidence(exploiting, "wealth_management", "lifecycle", "decline") == (
        f"{positives + 1}/{negatives}"
    )
    # Sent again: answered as recorded, nothing learned twice; a different answer conflicts.
    again = await _respond(client, decision, "accepted")
    assert again.status_code == 200
    assert again.json()["learned"] is False
    assert await _evidence(exploiting, "wealth_management", "tier", "ordinary") == learned
    other = await _respond(client, decision, "declined")
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    # The accepted offer was an open opportunity: it is accepted too.
    (opportunity,) = await detector.opportunities(customer_id)
    assert opportunity.status == "accepted"


async def test_an_opportunity_s_outcome_answers_the_ranking_that_offered_it(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    first = await _decide(client, customer_id)
    latest = await _decide(client, customer_id)  # the agent's screen refreshed
    (opportunity,) = await detector.opportunities(customer_id)
    declined = await client.post(
        f"/v1/opportunities/{opportunity.id}/outcome", json={"status": "declined"}
    )
    assert declined.status_code == 200, declined.text
    outcomes = (
        "SELECT string_agg(coalesce(outcome, '-'), ',' ORDER BY d.served_at)"
        " FROM action_decision_entries e JOIN action_decisions d ON d.id = e.decision_id"
        " WHERE d.customer_id = :c AND e.action_id = 'wealth_management'"
    )
    # The earlier ranking was the same offer, not a second one refused: one response.
    assert await scalar(exploiting, outcomes, c=customer_id) == "answered_elsewhere,declined"
    late = await _respond(client, first, "accepted")
    assert late.status_code == 409
    assert late.json()["recorded"] == "answered_elsewhere"
    assert latest["decision_id"] != first["decision_id"]


async def test_an_unanswered_offer_is_learned_as_refused_after_the_window(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    await _decide(client, customer_id)
    from services.events.decisions import learning
    from shared.db import transaction

    async with transaction(detector.sessions) as session:
        expired = await learning.expire_unanswered(
            session, now=NOW + timedelta(days=15), window=timedelta(days=14)
        )
    assert "wealth_management" in expired
    state = "SELECT e.outcome FROM action_decision_entries e JOIN action_decisions d"
    state += " ON d.id = e.decision_id WHERE d.customer_id = :c AND e.rank = 1"
    assert await scalar(exploiting, state, c=customer_id) == "expired"

    def responded(found: list[Published]) -> bool:
        return any(m.event_type == EventType.NEXT_BEST_ACTION_RESPONDED for m in found)

    (_, expiry) = await published(exploiting, Topic.DECISIONS, customer_id, responded)
    assert expiry.body["outcome"] == "expired"


async def test_a_redelivered_call_result_teaches_the_model_once(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    decision = await _decide(client, customer_id)
    opportunity_id = decision["items"][0]["opportunity_id"]
    no_answer = OutboundAttempted(
        customer_id=customer_id,
        attempt_id=uuid.uuid4(),
        opportunity_id=opportunity_id,
        result="no_answer",
        attempt=1,
        agent_id="agent-17",
        attempted_at=NOW,
    )
    total = "SELECT negatives FROM action_evidence WHERE action_id = 'wealth_management'"
    total += " AND predictor = ''"
    before = int(str(await scalar(exploiting, total) or 0))
    # Published twice: two envelopes, so the inbox lets both through.
    await publish(exploiting, no_answer, no_answer, source="/crm/contact_center")
    answered = "SELECT outcome FROM action_decision_entries WHERE decision_id = :d"
    answered += " AND action_id = 'wealth_management'"

    async def learned() -> bool:
        outcome = await scalar(exploiting, answered, d=uuid.UUID(decision["decision_id"]))
        return outcome == "no_answer"

    await wait_until(learned, timeout=20)
    consumed = "SELECT count(*) FROM inbox WHERE event_type = :t"

    async def both_consumed() -> bool:
        count = await scalar(exploiting, consumed, t=no_answer.event_type)
        return int(str(count)) >= 2

    await wait_until(both_consumed, timeout=20)
    assert int(str(await scalar(exploiting, total))) == before + 1


async def test_what_may_not_be_offered_is_never_logged_as_ranked(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await known_customer(detector, consent={"phone": False})
    decision = await _decide(client, customer_id)
    assert decision["items"] == []
    logged = "SELECT count(*) FROM action_decision_entries WHERE decision_id = :d"
    assert await scalar(exploiting, logged, d=uuid.UUID(decision["decision_id"])) == 0


async def test_the_exploration_share_is_honoured(
    detector: Detector, events_settings: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    exploring = events_settings.model_copy(update={"nba_exploration": 0.3})
    async with serving(create_app(exploring)) as client:
        decisions = [await _decide(client, customer_id) for _ in range(300)]
    explored = sum(d["explored"] for d in decisions)
    # Binomial(300, 0.3): mean 90, standard deviation 7.9; four of them either side.
    assert 58 <= explored <= 122
    # Exploiting, the ranking uses the models' estimates; exploring, draws around them.
    for decision in decisions:
        for item in decision["items"]:
            used, estimate = float(item["factors"]["propensity"]), item["model"]["estimate"]
            assert (used == pytest.approx(estimate, abs=1e-8)) is not decision["explored"]


async def test_a_manager_answers_only_for_their_own_customers(
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
    decision = await _decide(client, customer_id)
    other = development_bearer(Role.CUSTOMER_MANAGER, manager_id=str(uuid.uuid4()))
    refused = await _respond(client, decision, "accepted", **other)
    assert refused.status_code == 404
    own = development_bearer(Role.CUSTOMER_MANAGER, manager_id=str(manager))
    assert (await _respond(client, decision, "accepted", **own)).status_code == 200


async def test_a_response_names_a_bad_field(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        f"/v1/decisions/{uuid.uuid4()}/responses",
        json={"action_id": "wealth_management", "outcome": "maybe"},
    )
    assert answer.status_code == 422
    assert "outcome" in answer.text
    unknown = await client.post(
        f"/v1/decisions/{uuid.uuid4()}/responses",
        json={"action_id": "wealth_management", "outcome": "accepted"},
    )
    assert unknown.status_code == 404


async def test_an_action_s_performance_counts_its_responses(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    for outcome in ("accepted", "declined", "declined"):
        customer_id = await _customer_with_an_offer(detector)
        decision = await _decide(client, customer_id)
        assert (await _respond(client, decision, outcome)).status_code == 200
    health = await client.get("/v1/actions/wealth_management/performance")
    assert health.status_code == 200, health.text
    report = health.json()
    assert report["responses"] >= 3
    assert report["accepted"] >= 1
    assert sum(d["responses"] for d in report["deciles"]) == report["responses"]
    assert report["model_responses"] >= report["responses"]
    assert set(report["predictor_auc"]) >= {"tier", "channel"}
    unknown = await client.get("/v1/actions/no_such_action/performance")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_an_erased_customer_s_decisions_no_longer_name_them(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    decision = await _decide(client, customer_id)
    await detector.feed(erasure_of(customer_id))
    kept = "SELECT count(*) || ':' || count(customer_id) FROM action_decisions WHERE id = :d"
    # The decision stays for the models' health; whose it was does not.
    assert await scalar(exploiting, kept, d=uuid.UUID(decision["decision_id"])) == "1:0"
    # Nor does a response recorded since, keyed by the decision instead.
    assert (await _respond(client, decision, "declined")).status_code == 200
    (responded,) = await published(exploiting, Topic.DECISIONS, decision["decision_id"], bool)
    assert responded.event_type == EventType.NEXT_BEST_ACTION_RESPONDED
    assert responded.body["customer_id"] is None


async def test_a_ranking_served_is_published_once_as_the_decision_log_keeps_it(
    detector: Detector, events_settings: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    # Exploring, the propensity the ranking used is a draw, not the model's estimate: the
    # event must carry each where the log keeps it.
    exploring = events_settings.model_copy(update={"nba_exploration": 1.0})
    async with serving(create_app(exploring)) as client:
        decision = await _decide(client, customer_id)
    (decided,) = await published(exploring, Topic.DECISIONS, customer_id, bool)
    assert decided.event_type == EventType.NEXT_BEST_ACTION_DECIDED
    logged = await scalar(exploring, LOGGED_DECISION, d=uuid.UUID(decision["decision_id"]))
    kept = _as_compared(json.loads(str(logged)))
    assert kept["explored"] is True
    assert kept["entries"], "the customer's offer is ranked"
    assert _as_compared(decided.body) == kept


async def test_a_response_is_published_once_and_one_sent_again_publishes_nothing(
    detector: Detector, client: httpx.AsyncClient, exploiting: Settings
) -> None:
    customer_id = await _customer_with_an_offer(detector)
    decision = await _decide(client, customer_id)
    assert (await _respond(client, decision, "accepted")).json()["learned"] is True
    assert (await _respond(client, decision, "accepted")).json()["learned"] is False
    # One customer's events keep their order on the bus: what the response sent again could
    # have published comes before the next ranking's decision.
    later = await _decide(client, customer_id)

    def later_arrived(found: list[Published]) -> bool:
        return any(m.body["decision_id"] == later["decision_id"] for m in found)

    found = await published(exploiting, Topic.DECISIONS, customer_id, later_arrived)
    decided, responded = EventType.NEXT_BEST_ACTION_DECIDED, EventType.NEXT_BEST_ACTION_RESPONDED
    assert [m.event_type for m in found] == [decided, responded, decided]
    recorded = "SELECT responded_at FROM action_decision_entries"
    recorded += " WHERE decision_id = :d AND action_id = :a"
    top = decision["items"][0]
    responded_at = await scalar(
        exploiting, recorded, d=uuid.UUID(decision["decision_id"]), a=top["action_id"]
    )
    body = found[1].body
    assert datetime.fromisoformat(body.pop("responded_at")) == responded_at
    assert body == {
        "decision_id": decision["decision_id"],
        "action_id": top["action_id"],
        "customer_id": str(customer_id),
        "opportunity_id": top["opportunity_id"],
        "outcome": "accepted",
    }


async def test_a_candidate_strategy_is_estimated_on_the_log(
    detector: Detector, client: httpx.AsyncClient
) -> None:
    for outcome in ("accepted", "declined"):
        customer_id = await _customer_with_an_offer(detector)
        decision = await _decide(client, customer_id)
        assert (await _respond(client, decision, outcome)).status_code == 200
    evaluated = await client.post(
        "/v1/next-best-actions/evaluations",
        json={"weights": {"loan_offer": 3}, "resamples": 200},
    )
    assert evaluated.status_code == 200, evaluated.text
    report = evaluated.json()
    assert report["decisions"] >= 2
    assert 0 <= report["agreement"] <= 1
    assert [e["estimator"] for e in report["estimates"]] == ["IPS", "SNIPS", "DR"]
    for estimate in report["estimates"]:
        assert estimate["low"] <= estimate["value"] <= estimate["high"]
    unknown = await client.post(
        "/v1/next-best-actions/evaluations", json={"weights": {"pigeon_post": 2}}
    )
    assert unknown.status_code == 422
    assert "weights.pigeon_post" in unknown.text


async def test_competing_matches_are_ordered_by_what_the_models_learned(
    detector: Detector, exploiting: Settings
) -> None:
    from services.events.next_best.learned import learned_rates
    from services.events.next_best.ranking import decision_order

    retention = builtin("balance_drop")  # a retention call: prior 0.05 × 2,000
    wealth = custom("nba_wealth_order", WEALTH_AFTER_A_BONUS)  # prior 0.06 × 1,500
    weights: dict[str, Decimal] = {}
    assert decision_order(retention, weights) < decision_order(wealth, weights)
    forget = "WITH gone AS (DELETE FROM action_evidence RETURNING 1) SELECT count(*) FROM gone"
    await scalar(exploiting, forget)
    # The retention call's model has learned that 1 call in 100 is accepted.
    totals = "INSERT INTO action_evidence VALUES ('retention_call', '', '', 10, 970) RETURNING 1"
    await scalar(exploiting, totals)
    async with detector.sessions() as session:
        rated = {
            r.rule_id: r for r in await learned_rates(session, [retention, wealth], exploiting)
        }
    # (0.05 × 20 + 10) / (20 + 980) = 0.011; the wealth model has learned nothing: its prior.
    assert rated["balance_drop"].learned_propensity == Decimal("0.011")
    assert rated["nba_wealth_order"].learned_propensity is None
    assert decision_order(rated["nba_wealth_order"], weights) < decision_order(
        rated["balance_drop"], weights
    )
    await scalar(exploiting, forget)
