"""Customer managers, their portfolios, and the rule that a premium customer has one."""

import uuid
from typing import Any

import httpx

from services.customer.config import Settings
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until


def _branch() -> str:
    return f"B{uuid.uuid4().hex[:8].upper()}"


async def _manager(client: httpx.AsyncClient, branch: str, **changes: Any) -> dict[str, Any]:
    body = {
        "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
        "name": "陈静",
        "branch_code": branch,
        "capacity": 2,
    }
    body.update(changes)
    answer = await client.post("/v1/managers", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


class TestManagers:
    async def test_an_employee_is_a_manager_once(self, client: httpx.AsyncClient) -> None:
        manager = await _manager(client, _branch())

        again = await client.post(
            "/v1/managers",
            json={
                "employee_number": manager["employee_number"],
                "name": "陈静",
                "branch_code": "X1",
            },
        )

        assert again.status_code == 409
        assert again.json()["type"].endswith("/manager-exists")

    async def test_assignment_shows_in_the_workload_and_is_published(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        branch = _branch()
        manager = await _manager(client, branch)
        customer = await create_customer(client, branch_code=branch)

        answer = await client.put(
            f"/v1/customers/{customer['id']}/manager", json={"manager_id": manager["id"]}
        )
        workload = (await client.get("/v1/managers", params={"branch_code": branch})).json()

        assert answer.status_code == 200
        assert answer.json()["manager_id"] == manager["id"]
        assert workload == [
            {
                "manager": manager,
                "customers": 1,
                "by_tier": {"ordinary": 1},
                "utilisation": "0.500",
            },
        ]
        assert "crm.customer.manager_assigned.v1" in await event_types(
            customer_settings, customer["id"]
        )

    async def test_an_unknown_manager_is_a_404(self, client: httpx.AsyncClient) -> None:
        customer = await create_customer(client)

        answer = await client.put(
            f"/v1/customers/{customer['id']}/manager", json={"manager_id": str(uuid.uuid4())}
        )

        assert answer.status_code == 404
        assert answer.json()["type"].endswith("/manager-not-found")


class TestPremiumCustomersHaveAManager:
    async def test_an_upgrade_to_premium_assigns_the_least_loaded_manager_of_the_branch(
        self, client: httpx.AsyncClient
    ) -> None:
        branch = _branch()
        busy = await _manager(client, branch, capacity=10)
        free = await _manager(client, branch, capacity=10)
        for _ in range(2):
            other = await create_customer(client, branch_code=branch)
            await client.put(
                f"/v1/customers/{other['id']}/manager", json={"manager_id": busy["id"]}
            )
        customer = await create_customer(client, branch_code=branch)
        account = (await open_account(client, customer["id"]))["full_number"]

        await client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, amount="3000000.00")]},
        )

        async def served() -> bool:
            read = (await client.get(f"/v1/customers/{customer['id']}")).json()
            return bool(read["manager_id"])

        await wait_until(served, timeout=20)
        read = (await client.get(f"/v1/customers/{customer['id']}")).json()
        assert read["segments"]["value_tier"] == "premium"
        assert read["manager_id"] == free["id"]
