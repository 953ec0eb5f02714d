"""Households and corporate groups as aggregates: dated memberships with roles, a corporate
group's tree, a roll-up that follows postings at once, and the group in each member's view."""

import uuid
from decimal import Decimal
from typing import Any

import httpx

from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.masking import mask_name
from tests.service.customer.factories import (
    corporate,
    create_customer,
    open_account,
    transaction,
)
from tests.waiting import wait_until

DEPOSITS = {"current", "term_deposit"}


async def _group(client: httpx.AsyncClient, kind: str, name: str) -> str:
    answer = await client.post("/v1/customer-groups", json={"kind": kind, "name": name})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _join(
    client: httpx.AsyncClient,
    group_id: str,
    customer_id: str,
    role: str,
    parent: str | None = None,
    **headers: str,
) -> httpx.Response:
    body: dict[str, Any] = {"role": role, "since": "2025-03-01"}
    if parent is not None:
        body["parent_customer_id"] = parent
    return await client.put(
        f"/v1/customer-groups/{group_id}/members/{customer_id}", json=body, headers=headers
    )


async def _company(client: httpx.AsyncClient) -> str:
    answer = await client.post("/v1/customers", json=corporate())
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _post(client: httpx.AsyncClient, *transactions: dict[str, Any]) -> None:
    answer = await client.post("/v1/transactions", json={"transactions": list(transactions)})
    assert answer.status_code == 200, answer.text


async def _straightforward_sum(
    client: httpx.AsyncClient, members: list[str], settings: Settings
) -> dict[str, Decimal]:
    """Each member's open accounts, read one member at a time from their own view."""
    total = {"deposits": Decimal("0"), "loans": Decimal("0"), "lifetime": Decimal("0")}
    for customer_id in members:
        view = (await client.get(f"/v1/customers/{customer_id}/view")).json()
        for account in view["accounts"]:
            cny = Decimal(account["balance"]) * settings.fx_rates_to_cny[account["currency"]]
            if account["status"] != "open":
                continue
            if account["product_type"] in DEPOSITS:
                total["deposits"] += cny
            elif account["product_type"] == "loan":
                total["loans"] += cny
        total["lifetime"] += Decimal(view["value"]["lifetime_value_cny"])
    return total


class TestHousehold:
    async def test_a_household_of_three_rolls_up_a_posted_batch_at_once(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        head, spouse, child = [await create_customer(client) for _ in range(3)]
        current = (await open_account(client, head["id"]))["full_number"]
        savings = (await open_account(client, spouse["id"], currency="USD"))["full_number"]
        pocket = (await open_account(client, child["id"]))["full_number"]
        await open_account(
            client,
            spouse["id"],
            product_type="loan",
            product_code="MORTGAGE",
            opening_balance="300000.00",
            payoff_date="2044-01-15",
        )
        household = await _group(client, "household", "王家")
        for member, role in [(head, "head"), (spouse, "spouse"), (child, "child")]:
            assert (await _join(client, household, member["id"], role)).status_code == 200
        await _post(client, transaction(current, amount="60000.00"))
        before = (await client.get(f"/v1/customer-groups/{household}")).json()["rollup"]

        await _post(
            client,
            transaction(current, amount="90000.00", kind="salary"),
            transaction(savings, amount="10000.00", currency="USD"),
            transaction(pocket, amount="500.00"),
            transaction(current, amount="1000.00", direction="debit", kind="payment"),
        )
        answer = await client.get(f"/v1/customer-groups/{household}")

        assert answer.status_code == 200
        rollup = answer.json()["rollup"]
        members = [head["id"], spouse["id"], child["id"]]
        expected = await _straightforward_sum(client, members, customer_settings)
        assert rollup["members"] == 3
        assert Decimal(rollup["deposits_cny"]) - Decimal(before["deposits_cny"]) == Decimal(
            "160500.00"
        )
        assert Decimal(rollup["deposits_cny"]) == expected["deposits"] == Decimal("220500.00")
        assert Decimal(rollup["assets_under_management_cny"]) == expected["deposits"]
        assert Decimal(rollup["loans_cny"]) == expected["loans"] == Decimal("300000.00")
        # Each below the key tier's 200,000 alone; together above it.
        assert rollup["combined_tier"] == "key"
        assert [m["role"] for m in answer.json()["members"]] == ["head", "spouse", "child"]
        assert answer.json()["tree"] is None

        async def values_add_up() -> bool:
            # Each member's loyalty, and so their value, follows the batch within moments
            # (the service's own consumer revalues them): compare once both read alike.
            group = (await client.get(f"/v1/customer-groups/{household}")).json()["rollup"]
            summed = await _straightforward_sum(client, members, customer_settings)
            return Decimal(group["lifetime_value_cny"]) == summed["lifetime"]

        await wait_until(values_add_up, timeout=20)

    async def test_each_members_view_shows_the_household(self, client: httpx.AsyncClient) -> None:
        head, child = await create_customer(client), await create_customer(client)
        outsider = await create_customer(client)
        household = await _group(client, "household", "李家")
        await _join(client, household, head["id"], "head")
        await _join(client, household, child["id"], "child")

        views = [
            (await client.get(f"/v1/customers/{c['id']}/view")).json()
            for c in (head, child, outsider)
        ]

        assert [v["group"] and (v["group"]["group_id"], v["group"]["role"]) for v in views] == [
            (household, "head"),
            (household, "child"),
            None,
        ]
        assert views[0]["group"]["kind"] == "household"
        assert views[0]["group"]["since"] == "2025-03-01"

    async def test_a_member_who_leaves_is_out_of_the_rollup_and_free_to_join_another(
        self, client: httpx.AsyncClient
    ) -> None:
        head, spouse = await create_customer(client), await create_customer(client)
        account = (await open_account(client, spouse["id"]))["full_number"]
        await _post(client, transaction(account, amount="7000.00"))
        first = await _group(client, "household", "赵家")
        second = await _group(client, "household", "钱家")
        await _join(client, first, head["id"], "head")
        await _join(client, first, spouse["id"], "spouse")

        elsewhere = await _join(client, second, spouse["id"], "head")
        left = await client.delete(f"/v1/customer-groups/{first}/members/{spouse['id']}")
        rejoined = await _join(client, second, spouse["id"], "head")

        assert elsewhere.status_code == 409
        assert elsewhere.json()["field"] == "customer_id"
        assert left.status_code == 200
        assert left.json()["rollup"]["members"] == 1
        assert Decimal(left.json()["rollup"]["deposits_cny"]) == Decimal("0")
        assert rejoined.status_code == 200
        assert Decimal(rejoined.json()["rollup"]["deposits_cny"]) == Decimal("7000.00")

    async def test_a_second_head_or_a_company_in_a_household_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        head, other = await create_customer(client), await create_customer(client)
        household = await _group(client, "household", "孙家")
        await _join(client, household, head["id"], "head")

        second_head = await _join(client, household, other["id"], "head")
        company = await _join(client, household, await _company(client), "other")
        subsidiary_role = await _join(client, household, other["id"], "subsidiary", head["id"])

        assert (second_head.status_code, second_head.json()["field"]) == (409, "role")
        assert (company.status_code, company.json()["field"]) == (422, "customer_id")
        assert (subsidiary_role.status_code, subsidiary_role.json()["field"]) == (422, "role")


class TestCorporateGroup:
    async def test_a_group_of_three_levels_reads_as_a_tree_in_one_call(
        self, client: httpx.AsyncClient
    ) -> None:
        parent, daughter, granddaughter, sister = [await _company(client) for _ in range(4)]
        loan = await open_account(
            client,
            granddaughter,
            product_type="loan",
            product_code="WORKING-CAPITAL",
            opening_balance="2000000.00",
            payoff_date="2030-06-30",
        )
        group = await _group(client, "corporate", "星河集团")
        await _join(client, group, parent, "parent")
        await _join(client, group, daughter, "subsidiary", parent)
        await _join(client, group, sister, "subsidiary", parent)
        await _join(client, group, granddaughter, "subsidiary", daughter)

        answer = await client.get(f"/v1/customer-groups/{group}")
        view = (await client.get(f"/v1/customers/{granddaughter}/view")).json()

        assert answer.status_code == 200
        body = answer.json()
        tree = body["tree"]
        assert tree["customer_id"] == parent
        assert [s["customer_id"] for s in tree["subsidiaries"]] == [daughter, sister]
        assert [s["customer_id"] for s in tree["subsidiaries"][0]["subsidiaries"]] == [
            granddaughter
        ]
        assert [(m["customer_id"], m["depth"]) for m in body["members"]] == [
            (parent, 0),
            (daughter, 1),
            (granddaughter, 2),
            (sister, 1),
        ]
        assert Decimal(body["rollup"]["loans_cny"]) == Decimal(loan["balance"])
        # Members are a list of customers: their names masked by the one rule of every list.
        company = corporate()["name"]
        assert {m["name"] for m in body["members"]} == {tree["name"]} == {mask_name(company)}
        assert company not in answer.text
        assert view["group"]["parent_customer_id"] == daughter
        assert view["group"]["role"] == "subsidiary"

    async def test_a_parent_that_would_make_a_cycle_is_refused_naming_the_field(
        self, client: httpx.AsyncClient
    ) -> None:
        top, middle, bottom = [await _company(client) for _ in range(3)]
        group = await _group(client, "corporate", "环形集团")
        await _join(client, group, top, "parent")
        await _join(client, group, middle, "subsidiary", top)
        await _join(client, group, bottom, "subsidiary", middle)
        before = (await client.get(f"/v1/customer-groups/{group}")).json()

        under_grandchild = await _join(client, group, middle, "subsidiary", bottom)
        under_itself = await _join(client, group, middle, "subsidiary", middle)
        top_under_bottom = await _join(client, group, top, "subsidiary", bottom)
        after = (await client.get(f"/v1/customer-groups/{group}")).json()

        for refused in (under_grandchild, under_itself, top_under_bottom):
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == "parent_customer_id"
        assert after["tree"] == before["tree"]

    async def test_a_subsidiary_moves_under_another_member_and_a_parent_with_subsidiaries_stays(
        self, client: httpx.AsyncClient
    ) -> None:
        top, left, right = [await _company(client) for _ in range(3)]
        group = await _group(client, "corporate", "迁移集团")
        await _join(client, group, top, "parent")
        await _join(client, group, left, "subsidiary", top)
        await _join(client, group, right, "subsidiary", top)

        moved = await _join(client, group, right, "subsidiary", left)
        leaving = await client.delete(f"/v1/customer-groups/{group}/members/{left}")

        assert moved.status_code == 200
        assert [(m["customer_id"], m["depth"]) for m in moved.json()["members"]] == [
            (top, 0),
            (left, 1),
            (right, 2),
        ]
        assert (leaving.status_code, leaving.json()["field"]) == (409, "customer_id")


async def _manager(client: httpx.AsyncClient, customer_id: str, branch: str) -> dict[str, str]:
    """A manager of the branch given, assigned the customer: their token's header."""
    manager = await client.post(
        "/v1/managers",
        json={
            "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
            "name": "陈静",
            "branch_code": branch,
            "capacity": 50,
        },
    )
    assert manager.status_code == 201, manager.text
    manager_id = manager.json()["id"]
    assigned = await client.put(
        f"/v1/customers/{customer_id}/manager", json={"manager_id": manager_id}
    )
    assert assigned.status_code == 200, assigned.text
    return development_bearer(Role.CUSTOMER_MANAGER, subject="m", manager_id=manager_id)


class TestReach:
    async def test_a_manager_reaches_the_group_of_their_portfolio_only(
        self, client: httpx.AsyncClient
    ) -> None:
        mine, spouse = await create_customer(client), await create_customer(client)
        stranger = await create_customer(client)
        household = await _group(client, "household", "周家")
        await _join(client, household, mine["id"], "head")
        await _join(client, household, spouse["id"], "spouse")
        me = await _manager(client, mine["id"], "BJ001")
        other = await _manager(client, stranger["id"], "BJ001")

        own = await client.get(f"/v1/customer-groups/{household}", headers=me)
        theirs = await client.get(f"/v1/customer-groups/{household}", headers=other)
        adds_a_stranger = await _join(client, household, stranger["id"], "child", **me)
        changes_theirs = await _join(client, household, spouse["id"], "other", **other)

        assert own.status_code == 200
        assert own.json()["rollup"]["members"] == 2
        assert theirs.status_code == 404
        assert adds_a_stranger.status_code == 404
        assert changes_theirs.status_code == 404

    async def test_branch_staff_reach_the_groups_of_their_branch_only(
        self, client: httpx.AsyncClient
    ) -> None:
        ours = await create_customer(client, branch_code="BJ001")
        household = await _group(client, "household", "吴家")
        await _join(client, household, ours["id"], "head")

        def staff(branch: str) -> dict[str, str]:
            return development_bearer(Role.BRANCH_STAFF, subject="s", branch=branch)

        here = await client.get(f"/v1/customer-groups/{household}", headers=staff("BJ001"))
        elsewhere = await client.get(f"/v1/customer-groups/{household}", headers=staff("SH002"))

        assert here.status_code == 200
        assert elsewhere.status_code == 404
