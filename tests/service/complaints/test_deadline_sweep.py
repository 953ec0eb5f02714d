"""Deadlines watched on the clock: a reminder before, escalation to the supervisor after."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.complaints.app import create_app
from services.complaints.config import Settings
from tests.service.complaints.conftest import (
    FRONT_LINE,
    act,
    file_complaint,
    outbox_types,
)
from tests.service.conftest import serving
from tests.waiting import wait_until


async def _case(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = (await client.get(f"/v1/complaints/{case_id}")).json()
    return case


class TestBreach:
    async def test_a_missed_acknowledgement_is_escalated_once_and_published(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        # Received by letter ten days ago: the 1-business-day acknowledgement has passed.
        received = (datetime.now(UTC) - timedelta(days=10)).isoformat()
        case = await file_complaint(client, channel="letter", received_at=received)
        assert case["overdue"] is True

        async def escalated() -> bool:
            return bool((await _case(client, case["id"]))["escalation_level"] == 1)

        await wait_until(escalated, timeout=20)
        detail = await _case(client, case["id"])
        entry = next(e for e in detail["history"] if e["action"] == "escalated")
        assert entry["actor_id"] == "system"
        assert entry["decision"]["escalated_to"] == "supervisor"
        assert "validity deadline" in entry["decision"]["reason"]
        overdue = (await client.get("/v1/complaints/overdue", params={"limit": 200})).json()
        assert case["id"] in [c["id"] for c in overdue["items"]]
        escalated_list = (
            await client.get("/v1/complaints", params={"escalated": "true", "limit": 200})
        ).json()
        assert case["id"] in [c["id"] for c in escalated_list["items"]]

        # Further sweeps leave it at one escalation for that deadline.
        await wait_for_sweeps(client, 3)
        assert (await _case(client, case["id"]))["escalation_level"] == 1
        assert (await outbox_types(complaints_settings, case["id"])).count("escalated") == 1

    async def test_a_case_that_moves_on_and_misses_again_is_escalated_again(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        received = (datetime.now(UTC) - timedelta(days=40)).isoformat()
        case = await file_complaint(client, received_at=received)

        async def level(n: int) -> bool:
            return bool((await _case(client, case["id"]))["escalation_level"] == n)

        async def first() -> bool:
            return await level(1)

        await wait_until(first, timeout=20)
        await act(client, case["id"], FRONT_LINE, action="judge_validity", valid=True)
        # Accepted now: the decision deadline is 15 days ahead, so nothing more to escalate.
        await wait_for_sweeps(client, 3)
        assert await level(1)
        assert (await outbox_types(complaints_settings, case["id"])).count("escalated") == 1


async def wait_for_sweeps(client: httpx.AsyncClient, rounds: int) -> None:
    """Until the sweep has completed ``rounds`` more rounds."""

    async def sweeps() -> float:
        for line in (await client.get("/metrics")).text.splitlines():
            if line.startswith("crm_complaints_deadline_sweeps_total "):
                return float(line.split()[-1])
        return 0.0

    target = await sweeps() + rounds

    async def done() -> bool:
        return await sweeps() >= target

    await wait_until(done, timeout=20)


class TestReminders:
    async def test_a_coming_deadline_is_reminded_once(self, migrated_database: str) -> None:
        # With a 30-day lead every fresh case's acknowledgement deadline is "coming".
        settings = Settings(
            database_url=migrated_database,
            relay_poll_interval_seconds=0.05,
            deadline_sweep_interval_seconds=0.1,
            reminder_lead_hours=24 * 30,
        )
        async with serving(create_app(settings)) as client:
            case = await file_complaint(client)

            async def reminded() -> bool:
                history = (await _case(client, case["id"]))["history"]
                return any(e["action"] == "reminder" for e in history)

            await wait_until(reminded, timeout=20)
            await wait_for_sweeps(client, 3)
            history = (await _case(client, case["id"]))["history"]
            reminders = [e for e in history if e["action"] == "reminder"]
            assert len(reminders) == 1
            assert reminders[0]["decision"]["due_at"] is not None
            assert datetime.fromisoformat(reminders[0]["decision"]["due_at"]) == (
                datetime.fromisoformat(case["acknowledge_by"])
            )
            metrics = (await client.get("/metrics")).text
            assert "crm_complaints_reminders_total" in metrics


class TestGauges:
    async def test_open_and_overdue_cases_by_step_are_exposed(
        self, client: httpx.AsyncClient
    ) -> None:
        received = (datetime.now(UTC) - timedelta(days=10)).isoformat()
        await file_complaint(client, received_at=received)

        async def counted() -> bool:
            text = (await client.get("/metrics")).text
            for line in text.splitlines():
                if line.startswith('crm_complaints_overdue{step="validity"}'):
                    return float(line.split()[-1]) >= 1
            return False

        await wait_until(counted, timeout=20)
        text = (await client.get("/metrics")).text
        assert 'crm_complaints_open{step="evaluation"}' in text
        assert "crm_complaints_escalations_total" in text
