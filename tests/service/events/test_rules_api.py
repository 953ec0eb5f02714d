"""Rules managed through ``/v1/rules``: refused when they cannot be evaluated, versioned,
run in shadow beside the active version, backtested; opportunities and their outcomes."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts.contact_center import OutboundAttempted
from services.events.app import create_app
from services.events.config import Settings
from tests.service.conftest import publish, serving
from tests.service.events.conftest import NOW, posted, registered, wait_observed
from tests.waiting import wait_until

CUSTOMER_SOURCE = "/crm/customer"


@pytest.fixture
async def client(events_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(events_settings)) as client:
        yield client


def big_payment_rule(threshold: int, **changes: Any) -> dict[str, Any]:
    """A rule only these tests' customers trip: payments (kind) of at least ``threshold``."""
    rule: dict[str, Any] = {
        "name": f"Payment of {threshold} or more",
        "trigger": {"events": ["transaction.posted"]},
        "conditions": [
            {"kind": "event_field", "field": "kind", "op": "==", "value": "payment"},
            {"kind": "event_field", "field": "amount", "op": ">=", "value": threshold},
        ],
        "action": {"kind": "cross_sell", "product": "instalment_plan", "owner": "contact_center"},
        "cooldown_days": 0,
        "holdout_share": "0",
    }
    rule.update(changes)
    return rule


def _rule_id() -> str:
    return f"test_{uuid.uuid4().hex[:10]}"


INVALID = [
    ({"conditions": [{"kind": "event_field", "field": "amout", "op": ">=", "value": 1}]},
     "conditions[0].field", "has no field 'amout'"),
    ({"conditions": [{"kind": "event_field", "field": "kind", "op": ">", "value": "payment"}]},
     "conditions[0].op", "cannot be ordered"),
    ({"conditions": [{"kind": "event_field", "field": "amount", "op": ">=", "value": "lots"}]},
     "conditions[0].value", "is not a amount"),
    ({"trigger": {"events": ["complaint.received"]},
      "conditions": [{"kind": "relative_to_history", "days": 90, "factor": 5}]},
     "conditions[0].kind", "transaction.posted"),
    ({"trigger": {"events": ["transaction.posted"]},
      "conditions": [{"kind": "birthday_within", "days": 7}]},
     "conditions[0].kind", "needs trigger.schedule"),
    ({"trigger": {"schedule": True}, "conditions": []}, "conditions", "scheduled rule needs"),
    ({"trigger": {"events": ["weather.changed"]}}, "trigger.events", "not one of"),
    ({"action": {"kind": "cross_sell"}}, "action.product", "names the product"),
]  # fmt: skip


class TestRuleChecks:
    @pytest.mark.parametrize(("change", "field", "reason"), INVALID)
    async def test_a_rule_that_cannot_be_evaluated_is_refused_with_why(
        self, client: httpx.AsyncClient, change: dict[str, Any], field: str, reason: str
    ) -> None:
        rule_id = _rule_id()
        body = {"rule_id": rule_id, "definition": big_payment_rule(1, **change)}
        response = await client.post("/v1/rules", json=body)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["field"] == field
        assert reason in problem["detail"]
        assert (await client.get(f"/v1/rules/{rule_id}")).status_code == 404

    async def test_an_unknown_quadrant_is_refused_naming_the_field(
        self, client: httpx.AsyncClient
    ) -> None:
        rule_id = _rule_id()
        unknown = [{"kind": "quadrant", "quadrants": ["satisfied_loyal", "content_wandering"]}]
        body = {"rule_id": rule_id, "definition": big_payment_rule(1, conditions=unknown)}
        response = await client.post("/v1/rules", json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "definition.conditions[0].quadrants[1]"
        assert "satisfied_drifting" in error["message"]
        assert (await client.get(f"/v1/rules/{rule_id}")).status_code == 404

    async def test_an_unknown_attrition_band_is_refused_naming_the_field(
        self, client: httpx.AsyncClient
    ) -> None:
        rule_id = _rule_id()
        unknown = [{"kind": "attrition_risk", "bands": ["high", "extreme"]}]
        body = {"rule_id": rule_id, "definition": big_payment_rule(1, conditions=unknown)}
        response = await client.post("/v1/rules", json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "definition.conditions[0].bands[1]"
        assert "medium" in error["message"]
        assert (await client.get(f"/v1/rules/{rule_id}")).status_code == 404

    async def test_a_malformed_condition_names_its_field(self, client: httpx.AsyncClient) -> None:
        body = {"rule_id": _rule_id(), "definition": big_payment_rule(
            1, conditions=[{"kind": "window", "measure": "median", "flow": "in", "days": 30,
                            "op": ">", "value": 1}])}  # fmt: skip
        response = await client.post("/v1/rules", json=body)
        assert response.status_code == 422
        assert any("measure" in e["field"] for e in response.json()["errors"])

    async def test_a_taken_id_is_a_conflict(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/rules", json={"rule_id": "large_deposit", "definition": big_payment_rule(1)}
        )
        assert response.status_code == 409

    async def test_the_built_in_rules_are_there_and_active(self, client: httpx.AsyncClient) -> None:
        rules = {r["rule_id"]: r for r in (await client.get("/v1/rules")).json()["items"]}
        assert {"large_deposit", "dormancy", "premium_complaint"} <= set(rules)
        version = rules["large_deposit"]["versions"][0]
        assert (version["status"], version["built_in"]) == ("active", True)


class TestLiveRules:
    async def test_a_new_rule_fires_on_the_stream_and_outcomes_follow_it(
        self, client: httpx.AsyncClient, events_settings: Settings
    ) -> None:
        rule_id = _rule_id()
        created = await client.post(
            "/v1/rules",
            json={"rule_id": rule_id, "definition": big_payment_rule(70_000), "status": "active"},
        )
        assert created.status_code == 201, created.text
        customer_id = await _known_customer(events_settings)
        await publish(
            events_settings, posted(customer_id, 70_000, direction="debit", kind="payment"),
            source=CUSTOMER_SOURCE,
        )  # fmt: skip
        opportunity = await _one_opportunity(client, customer_id)
        assert (opportunity["rule_id"], opportunity["status"]) == (rule_id, "open")
        assert opportunity["owner"] == "contact_center"
        path = f"/v1/opportunities/{opportunity['id']}/outcome"
        assert (await client.post(path, json={"status": "in_contact"})).json()["status"] == (
            "in_contact"
        )
        accepted = await client.post(path, json={"status": "accepted", "outcome": "Signed up"})
        assert accepted.json()["outcome"] == "Signed up"
        again = await client.post(path, json={"status": "declined"})
        assert again.status_code == 409
        assert again.json()["allowed"] == []
        listed = await client.get(
            "/v1/opportunities", params={"customer_id": str(customer_id), "status": "accepted"}
        )
        assert [o["id"] for o in listed.json()["items"]] == [opportunity["id"]]
        await client.post(f"/v1/rules/{rule_id}/disable")

    async def test_a_shadow_version_records_what_it_would_do_and_contacts_nobody(
        self, client: httpx.AsyncClient, events_settings: Settings
    ) -> None:
        rule_id = _rule_id()
        await client.post(
            "/v1/rules",
            json={"rule_id": rule_id, "definition": big_payment_rule(80_000), "status": "active"},
        )
        shadow = await client.put(
            f"/v1/rules/{rule_id}",
            json={"definition": big_payment_rule(60_000), "status": "shadow"},
        )
        assert [v["status"] for v in shadow.json()["versions"]] == ["active", "shadow"]
        small = await _known_customer(events_settings)
        large = await _known_customer(events_settings)
        await publish(
            events_settings,
            posted(small, 65_000, direction="debit", kind="payment"),
            posted(large, 85_000, direction="debit", kind="payment"),
            source=CUSTOMER_SOURCE,
        )  # fmt: skip
        await _one_opportunity(client, large)

        async def both_counted() -> bool:
            stats = (await client.get(f"/v1/rules/{rule_id}/stats")).json()
            fired = {(v["version"], v["mode"]): v["decisions"] for v in stats["versions"]}
            return fired == {
                (1, "active"): {"created": 1},
                (2, "shadow"): {"would_create": 2},
            }

        await wait_until(both_counted, timeout=20)
        small_list = await client.get("/v1/opportunities", params={"customer_id": str(small)})
        assert small_list.json()["items"] == []
        promoted = await client.post(f"/v1/rules/{rule_id}/versions/2", json={"status": "active"})
        assert [v["status"] for v in promoted.json()["versions"]] == ["retired", "active"]
        await client.post(f"/v1/rules/{rule_id}/disable")

    async def test_a_disabled_rule_fires_nothing(
        self, client: httpx.AsyncClient, events_settings: Settings
    ) -> None:
        rule_id = _rule_id()
        await client.post(
            "/v1/rules",
            json={"rule_id": rule_id, "definition": big_payment_rule(90_000), "status": "active"},
        )
        disabled = await client.post(f"/v1/rules/{rule_id}/disable")
        assert disabled.json()["enabled"] is False
        marker = uuid.uuid4()
        customer_id = uuid.uuid4()
        await publish(
            events_settings, registered(customer_id),
            posted(customer_id, 95_000, direction="debit", kind="payment"),
            registered(marker), source=CUSTOMER_SOURCE,
        )  # fmt: skip
        await wait_observed(events_settings, [marker], 1)
        stats = (await client.get(f"/v1/rules/{rule_id}/stats")).json()
        assert stats["versions"] == []


class TestCallResults:
    async def test_the_contact_centre_s_call_results_move_the_opportunity(
        self, client: httpx.AsyncClient, events_settings: Settings
    ) -> None:
        rule_id = _rule_id()
        await client.post(
            "/v1/rules",
            json={"rule_id": rule_id, "definition": big_payment_rule(75_000), "status": "active"},
        )
        customer_id = await _known_customer(events_settings)
        await publish(
            events_settings, posted(customer_id, 75_000, direction="debit", kind="payment"),
            source=CUSTOMER_SOURCE,
        )  # fmt: skip
        opportunity = await _one_opportunity(client, customer_id)
        opportunity_id = uuid.UUID(opportunity["id"])

        def attempt(result: str, n: int) -> OutboundAttempted:
            return OutboundAttempted(
                customer_id=customer_id, attempt_id=uuid.uuid4(), opportunity_id=opportunity_id,
                result=result, attempt=n, agent_id="agent-17", attempted_at=NOW,
            )  # fmt: skip

        await publish(
            events_settings, attempt("no_answer", 1), attempt("reached", 2),
            attempt("accepted", 2), source="/crm/contact_center",
        )  # fmt: skip

        async def accepted() -> bool:
            current = (await client.get(f"/v1/opportunities/{opportunity_id}")).json()
            return bool(current["status"] == "accepted")

        await wait_until(accepted, timeout=20)
        current = (await client.get(f"/v1/opportunities/{opportunity_id}")).json()
        assert current["outcome"] == "call: accepted"
        await client.post(f"/v1/rules/{rule_id}/disable")


class TestBacktest:
    async def test_a_rule_over_the_kept_history_emits_nothing(
        self, client: httpx.AsyncClient, events_settings: Settings
    ) -> None:
        customers = [uuid.uuid4() for _ in range(3)]
        events: list[Any] = [registered(c) for c in customers]
        for n, customer_id in enumerate(customers):
            for day in range(5):
                amount = 110_000 + n * 1000 if day == 4 else 500
                at = NOW - timedelta(days=20 - day)
                events.append(posted(customer_id, amount, direction="debit", kind="payment", at=at))
        await publish(events_settings, *events, source=CUSTOMER_SOURCE)
        await wait_observed(events_settings, [customers[-1]], 6)
        period = {"from": (NOW - timedelta(days=30)).isoformat(), "to": NOW.isoformat()}
        # Service recovery needs no consent: the customers' profiles arrived after their
        # payments here, and the backtest replays them in that order.
        recovery = {"kind": "service_recovery", "owner": "contact_center"}
        draft = {**period, "definition": big_payment_rule(110_000, action=recovery)}
        report = (await client.post("/v1/rules/backtest", json=draft)).json()
        assert report["emitted"] == 0
        assert report["opportunities"] >= 3
        ours = [e for e in report["examples"] if e["customer_id"] in {str(c) for c in customers}]
        assert {e["facts"]["amount"] for e in ours} <= {"110000", "111000", "112000"}
        stricter = {**period, "definition": big_payment_rule(111_500, action=recovery)}
        report_stricter = (await client.post("/v1/rules/backtest", json=stricter)).json()
        assert report_stricter["opportunities"] == report["opportunities"] - 2
        saved = await client.post("/v1/rules/large_withdrawal/backtest", json=period)
        assert saved.status_code == 200
        assert saved.json()["version"] == 1
        scheduled = await client.post("/v1/rules/dormancy/backtest", json=period)
        assert scheduled.status_code == 422
        assert scheduled.json()["errors"][0]["field"] == "definition.trigger"


async def _known_customer(settings: Settings) -> uuid.UUID:
    """A customer the detector has registered (with consent to call): a customer's events on
    different topics are not ordered among themselves, so the profile goes first."""
    customer_id = uuid.uuid4()
    await publish(settings, registered(customer_id), source=CUSTOMER_SOURCE)
    await wait_observed(settings, [customer_id], 1)
    return customer_id


async def _one_opportunity(client: httpx.AsyncClient, customer_id: uuid.UUID) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        found[:] = (
            await client.get("/v1/opportunities", params={"customer_id": str(customer_id)})
        ).json()["items"]
        return bool(found)

    await wait_until(arrived, timeout=20)
    (opportunity,) = found
    return opportunity


async def test_a_rules_statistics_take_a_date_alone_as_that_day_at_the_bank(
    client: httpx.AsyncClient,
) -> None:
    by_day = await client.get(
        "/v1/rules/large_withdrawal/stats", params={"from": "2026-11-01", "to": "2026-11-30"}
    )
    by_moment = await client.get(
        "/v1/rules/large_withdrawal/stats",
        params={"from": "2026-11-01T00:00:00+08:00", "to": "2026-12-01T00:00:00+08:00"},
    )
    naive = await client.get(
        "/v1/rules/large_withdrawal/stats", params={"from": "2026-11-01T09:30"}
    )

    assert by_day.status_code == 200, by_day.text
    day, moment = by_day.json(), by_moment.json()
    for bound in ("period_from", "period_to"):
        assert datetime.fromisoformat(day.pop(bound)) == datetime.fromisoformat(moment.pop(bound))
    assert day == moment
    assert naive.status_code == 422
    assert [error["field"] for error in naive.json()["errors"]] == ["from"]
