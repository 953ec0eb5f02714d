"""A group's lead manager, its members' dated roles, and its name on a member's erasure."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import scalar
from tests.service.customer.factories import corporate, create_customer


async def _group(client: httpx.AsyncClient, kind: str = "household", name: str = "李家") -> str:
    answer = await client.post("/v1/customer-groups", json={"kind": kind, "name": name})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _join(
    client: httpx.AsyncClient, group_id: str, customer_id: str, role: str, since: str
) -> httpx.Response:
    return await client.put(
        f"/v1/customer-groups/{group_id}/members/{customer_id}",
        json={"role": role, "since": since},
    )


async def _manager(client: httpx.AsyncClient, customer_id: str | None = None) -> str:
    manager = await client.post(
        "/v1/managers",
        json={
            "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
            "name": "陈静",
            "branch_code": "BJ001",
            "capacity": 50,
        },
    )
    assert manager.status_code == 201, manager.text
    manager_id = str(manager.json()["id"])
    if customer_id is not None:
        assigned = await client.put(
            f"/v1/customers/{customer_id}/manager", json={"manager_id": manager_id}
        )
        assert assigned.status_code == 200, assigned.text
    return manager_id


async def _lead_manager(
    client: httpx.AsyncClient, group_id: str, manager_id: str | None, **headers: str
) -> httpx.Response:
    return await client.put(
        f"/v1/customer-groups/{group_id}/lead-manager",
        json={"manager_id": manager_id},
        headers=headers,
    )


class TestLeadManager:
    async def test_unset_it_is_the_heads_manager_set_it_is_the_one_given(
        self, client: httpx.AsyncClient
    ) -> None:
        head = await create_customer(client)
        household = await _group(client)
        empty = (await client.get(f"/v1/customer-groups/{household}")).json()
        await _join(client, household, head["id"], "head", "2025-03-01")
        heads = await _manager(client, head["id"])
        lead = await _manager(client)

        derived = (await client.get(f"/v1/customer-groups/{household}")).json()
        assigned = await _lead_manager(client, household, lead)
        cleared = await _lead_manager(client, household, None)

        assert empty["lead_manager"] == {"manager_id": None, "source": "none"}
        assert derived["lead_manager"] == {"manager_id": heads, "source": "head"}
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["lead_manager"] == {"manager_id": lead, "source": "assigned"}
        assert cleared.json()["lead_manager"] == {"manager_id": heads, "source": "head"}

    async def test_a_corporate_group_derives_it_from_the_parent(
        self, client: httpx.AsyncClient
    ) -> None:
        company = await client.post("/v1/customers", json=corporate())
        parent = company.json()["id"]
        group = await _group(client, "corporate", "星河集团")
        await _join(client, group, parent, "parent", "2025-03-01")
        manager = await _manager(client, parent)

        read = (await client.get(f"/v1/customer-groups/{group}")).json()

        assert read["lead_manager"] == {"manager_id": manager, "source": "parent"}

    async def test_an_unknown_manager_or_a_malformed_one_is_a_422_naming_manager_id(
        self, client: httpx.AsyncClient
    ) -> None:
        household = await _group(client)

        unknown = await _lead_manager(client, household, str(uuid.uuid4()))
        malformed = await _lead_manager(client, household, "nobody")

        for refused in (unknown, malformed):
            assert refused.status_code == 422
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["errors"][0]["field"] == "manager_id"

    async def test_a_supervisor_sets_it_and_front_line_staff_may_not(
        self, client: httpx.AsyncClient
    ) -> None:
        head = await create_customer(client, branch_code="BJ001")
        household = await _group(client)
        await _join(client, household, head["id"], "head", "2025-03-01")
        heads = await _manager(client, head["id"])
        supervisor = development_bearer(Role.SUPERVISOR, subject="s")
        own_manager = development_bearer(Role.CUSTOMER_MANAGER, subject="m", manager_id=heads)
        staff = development_bearer(Role.BRANCH_STAFF, subject="t", branch="BJ001")

        by_supervisor = await _lead_manager(client, household, heads, **supervisor)
        by_manager = await _lead_manager(client, household, None, **own_manager)
        by_staff = await _lead_manager(client, household, None, **staff)

        assert by_supervisor.status_code == 200, by_supervisor.text
        assert by_manager.status_code == 403
        assert by_staff.status_code == 403


class TestDatedRoles:
    async def test_a_role_change_ends_the_old_membership_and_starts_a_new_one(
        self, client: httpx.AsyncClient
    ) -> None:
        head, child = await create_customer(client), await create_customer(client)
        household = await _group(client)
        await _join(client, household, head["id"], "head", "2025-03-01")
        await _join(client, household, child["id"], "child", "2025-03-01")

        changed = await _join(client, household, child["id"], "other", "2026-01-10")
        again = await _join(client, household, child["id"], "other", "2026-01-10")
        left = await client.delete(f"/v1/customer-groups/{household}/members/{head['id']}")
        history = await client.get(f"/v1/customer-groups/{household}/history")

        assert changed.status_code == 200, changed.text
        members = {m["customer_id"]: m for m in changed.json()["members"]}
        assert (members[child["id"]]["role"], members[child["id"]]["since"]) == (
            "other",
            "2026-01-10",
        )
        assert again.status_code == 200
        assert left.status_code == 200
        assert history.status_code == 200, history.text
        today = (datetime.now(UTC) + timedelta(hours=8)).date()
        rows = [
            (r["customer_id"], r["role"], r["since"], r["until"])
            for r in history.json()["memberships"]
        ]
        assert sorted(rows, key=lambda r: (r[2], r[1])) == sorted(
            [
                (head["id"], "head", "2025-03-01", str(today)),
                (child["id"], "child", "2025-03-01", "2026-01-10"),
                (child["id"], "other", "2026-01-10", None),
            ],
            key=lambda r: (r[2], r[1]),
        )

    async def test_a_change_dated_before_the_current_role_is_a_422_naming_since(
        self, client: httpx.AsyncClient
    ) -> None:
        head, spouse = await create_customer(client), await create_customer(client)
        household = await _group(client)
        await _join(client, household, head["id"], "head", "2025-03-01")
        await _join(client, household, spouse["id"], "spouse", "2025-06-01")

        refused = await _join(client, household, spouse["id"], "other", "2025-05-31")
        history = (await client.get(f"/v1/customer-groups/{household}/history")).json()

        assert refused.status_code == 422
        assert refused.json()["field"] == "since"
        assert [(r["role"], r["until"]) for r in history["memberships"]] == [
            ("head", None),
            ("spouse", None),
        ]

    async def test_the_history_is_out_of_reach_as_the_group_is(
        self, client: httpx.AsyncClient
    ) -> None:
        head = await create_customer(client, branch_code="BJ001")
        household = await _group(client)
        await _join(client, household, head["id"], "head", "2025-03-01")
        elsewhere = development_bearer(Role.BRANCH_STAFF, subject="t", branch="SH002")

        answer = await client.get(f"/v1/customer-groups/{household}/history", headers=elsewhere)

        assert answer.status_code == 404


SUPERVISOR = development_bearer(Role.SUPERVISOR, subject="supervisor-1")


async def _erase(client: httpx.AsyncClient, customer_id: str) -> None:
    closed = await client.post(
        f"/v1/customers/{customer_id}/close", json={"version": 1, "reason": "moved abroad"}
    )
    assert closed.status_code == 200, closed.text
    erased = await client.post(
        f"/v1/customers/{customer_id}/erasure",
        json={"version": 2, "reference": f"DSR-{uuid.uuid4().hex[:8]}"},
        headers=SUPERVISOR,
    )
    assert erased.status_code == 200, erased.text


async def _name(client: httpx.AsyncClient, group_id: str) -> str:
    return str((await client.get(f"/v1/customer-groups/{group_id}")).json()["name"])


class TestErasure:
    async def test_a_group_named_after_the_erased_customer_loses_its_name(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        erased = await create_customer(client, name="欧阳明")
        spouse = await create_customer(client, name="李娜")
        household = await _group(client, "household", "欧阳明家")
        await _join(client, household, erased["id"], "head", "2025-03-01")
        await _join(client, household, spouse["id"], "spouse", "2025-03-01")

        await _erase(client, erased["id"])
        history = (await client.get(f"/v1/customer-groups/{household}/history")).json()

        assert await _name(client, household) == "(erased)"
        assert {r["name"] for r in history["memberships"]} == {"(erased)", "李娜"}
        # Nor does the name stay in any member's past 360 views.
        past = await scalar(
            customer_settings,
            "SELECT string_agg(snapshot::text, ' ') FROM customer_history WHERE facet = 'group'"
            " AND snapshot ->> 'group_id' = :g",
            g=household,
        )
        assert "(erased)" in str(past)
        assert "欧阳明" not in str(past)

    async def test_a_group_whose_only_member_ever_was_erased_loses_its_name(
        self, client: httpx.AsyncClient
    ) -> None:
        erased = await create_customer(client, name="司马光")
        household = await _group(client, "household", "砸缸小院")
        await _join(client, household, erased["id"], "head", "2025-03-01")
        left = await client.delete(f"/v1/customer-groups/{household}/members/{erased['id']}")
        assert left.status_code == 200, left.text

        await _erase(client, erased["id"])

        assert await _name(client, household) == "(erased)"

    async def test_a_family_name_shared_with_other_members_stays(
        self, client: httpx.AsyncClient
    ) -> None:
        head = await create_customer(client, name="上官云")
        erased = await create_customer(client, name="上官雪")
        household = await _group(client, "household", "上官家")
        await _join(client, household, head["id"], "head", "2025-03-01")
        await _join(client, household, erased["id"], "child", "2025-03-01")

        await _erase(client, erased["id"])

        assert await _name(client, household) == "上官家"
