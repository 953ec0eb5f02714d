"""Object-level authorisation (OWASP API1): a customer manager reaches their own portfolio,
branch staff their branch, a complaint handler their department's cases. Someone else's
object answers exactly as one that does not exist, on every route that names one."""

import re
import uuid
from typing import Any

import httpx
import pytest

from crm.registry import SERVICES
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.complaints.conftest import FRONT_LINE, file_complaint, walk_to
from tests.service.conftest import scalar, serving, settings_for
from tests.service.customer.factories import create_customer, individual, open_account

OTHER_BRANCH = "SH002"


def _object_routes(document: dict[str, Any], parameter: str, role: Role) -> list[tuple[str, str]]:
    """The routes naming the object that the role may call at all (the others are a 403 for
    the role, whoever's the object)."""
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "{" + parameter + "}" in path and role.value in operation["x-roles"]
    ]


async def _assign(system: httpx.AsyncClient, customer_id: str, branch: str) -> str:
    manager = await system.post(
        "/v1/managers",
        json={"employee_number": f"E{uuid.uuid4().hex[:8].upper()}", "name": "陈静",
              "branch_code": branch, "capacity": 50},
    )  # fmt: skip
    assert manager.status_code == 201, manager.text
    assigned = await system.put(
        f"/v1/customers/{customer_id}/manager", json={"manager_id": manager.json()["id"]}
    )
    assert assigned.status_code == 200, assigned.text
    return str(manager.json()["id"])


async def _sweep(
    client: httpx.AsyncClient, routes: list[tuple[str, str]], parameter: str, value: str
) -> dict[str, int]:
    """Every route naming the object, called for it: the status each answered."""
    answers = {}
    for method, template in routes:
        path = re.sub(r"{([a-z_]+)}", lambda m: value if m.group(1) == parameter else "1", template)
        answers[f"{method} {template}"] = (await client.request(method, path, json={})).status_code
    return answers


@pytest.fixture
async def customer_app(migrated_database: str) -> Any:
    spec = SERVICES["customer"]
    return spec.create_app(settings_for(spec, migrated_database))


async def test_a_customer_manager_reaches_only_their_portfolio(customer_app: Any) -> None:
    async with serving(customer_app) as system:
        mine, theirs = await create_customer(system), await create_customer(system)
        my_id = await _assign(system, mine["id"], "BJ001")
        await _assign(system, theirs["id"], "BJ001")
        routes = _object_routes(customer_app.openapi(), "customer_id", Role.CUSTOMER_MANAGER)
        manager = development_bearer(Role.CUSTOMER_MANAGER, subject="m", manager_id=my_id)
        system.headers.update(manager)

        own = await system.get(f"/v1/customers/{mine['id']}/view")
        others = await _sweep(system, routes, "customer_id", theirs["id"])
        nobody = await system.get(f"/v1/customers/{uuid.uuid4()}")
        found = await system.get("/v1/customers", params={"name": mine["name"][:1]})

    assert own.status_code == 200
    assert set(others.values()) == {404}, others
    assert len(others) >= 6
    assert {c["id"] for c in found.json()["items"]} <= {mine["id"]}
    assert nobody.status_code == 404


async def test_branch_staff_reach_only_their_branch(customer_app: Any) -> None:
    async with serving(customer_app) as system:
        ours = await create_customer(system, branch_code="BJ001")
        theirs = await create_customer(system, branch_code=OTHER_BRANCH)
        their_account = (await open_account(system, theirs["id"]))["full_number"]
        routes = _object_routes(customer_app.openapi(), "customer_id", Role.BRANCH_STAFF)
        account_routes = _object_routes(customer_app.openapi(), "account_number", Role.BRANCH_STAFF)
        system.headers.update(development_bearer(Role.BRANCH_STAFF, subject="t", branch="BJ001"))

        own = await system.get(f"/v1/customers/{ours['id']}")
        others = await _sweep(system, routes, "customer_id", theirs["id"])
        accounts = await _sweep(system, account_routes, "account_number", their_account)
        opened_for_them = await system.post(
            "/v1/accounts",
            json={"account_number": "6222029999990001", "customer_id": theirs["id"],
                  "product_type": "current", "product_code": "CUR-STD", "currency": "CNY",
                  "opened_on": "2024-01-15"},
        )  # fmt: skip
        elsewhere = await system.post("/v1/customers", json=individual(branch_code=OTHER_BRANCH))
        listed = await system.get("/v1/customers", params={"limit": 200})

    assert own.status_code == 200
    assert set(others.values()) == {404}, others
    assert set(accounts.values()) == {404}, accounts
    assert opened_for_them.status_code == 404
    assert (elsewhere.status_code, elsewhere.json()["field"]) == (403, "branch_code")
    assert {c["id"] for c in listed.json()["items"]}.isdisjoint({theirs["id"]})


async def _lead(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    answer = await client.post(
        "/v1/leads",
        json={"name": "周敏", "source": "walk_in",
              "estimated_value": {"amount": "300000", "currency": "CNY"}, **fields},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    lead: dict[str, Any] = answer.json()
    return lead


async def test_leads_are_limited_to_the_managers_own_and_the_branchs_own(
    customer_app: Any,
) -> None:
    async with serving(customer_app) as system:
        me, colleague = str(uuid.uuid4()), str(uuid.uuid4())
        theirs = await _lead(system, manager_id=colleague, branch_code=OTHER_BRANCH)
        routes = _object_routes(customer_app.openapi(), "lead_id", Role.CUSTOMER_MANAGER)
        system.headers.update(development_bearer(Role.CUSTOMER_MANAGER, manager_id=me))
        mine = await _lead(system)
        for_someone_else = await system.post(
            "/v1/leads",
            json={"name": "孙丽", "source": "walk_in", "manager_id": colleague,
                  "estimated_value": {"amount": "1000", "currency": "CNY"}},
        )  # fmt: skip
        others = await _sweep(system, routes, "lead_id", theirs["id"])
        my_list = await system.get("/v1/leads", params={"limit": 500})
        system.headers.update(development_bearer(Role.BRANCH_STAFF, branch="BJ001"))
        branch_list = await system.get("/v1/leads", params={"limit": 500})

    assert mine["manager_id"] == me
    assert (for_someone_else.status_code, for_someone_else.json()["field"]) == (403, "manager_id")
    assert set(others.values()) == {404}, others
    assert len(others) >= 3
    assert {lead["id"] for lead in my_list.json()} == {mine["id"]}
    assert theirs["id"] not in {lead["id"] for lead in branch_list.json()}
    assert {lead["branch_code"] for lead in branch_list.json()} <= {"BJ001"}


async def test_a_complaint_handler_reaches_their_department_and_unassigned_cases(
    migrated_database: str,
) -> None:
    spec = SERVICES["complaints"]
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app) as system:
        cards = await walk_to(system, (await file_complaint(system))["id"], "cause_analysis")
        loans = await walk_to(system, (await file_complaint(system))["id"], "assignment")
        moved = await system.post(
            f"/v1/complaints/{loans['id']}/actions",
            json={"action": "assign_department", "department": "loans"},
            headers=FRONT_LINE,
        )
        assert moved.status_code == 200, moved.text
        unassigned = await file_complaint(system)
        routes = _object_routes(app.openapi(), "complaint_id", Role.COMPLAINT_HANDLER)
        handler = development_bearer(Role.COMPLAINT_HANDLER, subject="h-cards", department="cards")
        system.headers.update(handler)

        own = await system.get(f"/v1/complaints/{cards['id']}")
        front_line = await system.get(f"/v1/complaints/{unassigned['id']}")
        others = await _sweep(system, routes, "complaint_id", loans["id"])
        listed = await system.get("/v1/complaints", params={"limit": 200})
        acted = await system.post(
            f"/v1/complaints/{cards['id']}/actions",
            json={"action": "analyse_cause", "cause": "unset_expectations",
                  "finding": "The fee schedule outlived the card."},
        )  # fmt: skip
        detail = (await system.get(f"/v1/complaints/{cards['id']}")).json()

    assert own.status_code == 200
    assert front_line.status_code == 200
    assert set(others.values()) == {404}, others
    listed_ids = {case["id"] for case in listed.json()["items"]}
    assert loans["id"] not in listed_ids
    assert {cards["id"], unassigned["id"]} <= listed_ids
    assert acted.status_code == 200, acted.text
    assert (detail["history"][-1]["actor_id"], detail["history"][-1]["actor_role"]) == (
        "h-cards",
        "department_handler",
    )


async def test_only_a_supervisor_or_the_core_feed_restricts_a_customer(customer_app: Any) -> None:
    async with serving(customer_app) as system:
        customer = await create_customer(system, branch_code="BJ001")
        manager_id = await _assign(system, customer["id"], "BJ001")
        patch = customer_app.openapi()["paths"]["/v1/customers/{customer_id}"]["patch"]
        callers = {
            Role(role): development_bearer(
                Role(role), subject=f"s-{role}", branch="BJ001", manager_id=manager_id
            )
            for role in patch["x-roles"]
        }
        path = f"/v1/customers/{customer['id']}"
        outcomes: dict[Role, tuple[int, str | None]] = {}
        for role, headers in callers.items():
            version = (await system.get(path)).json()["version"]
            patched = await system.patch(
                path, json={"version": version, "restriction": f"set by {role}"}, headers=headers
            )
            outcomes[role] = (patched.status_code, patched.json().get("field"))
        restriction = (await system.get(path)).json()["profile"]["restriction"]

    allowed = {Role.SUPERVISOR, Role.SYSTEM}
    assert {Role.BRANCH_STAFF, Role.CUSTOMER_MANAGER} <= set(outcomes) - allowed
    for role, outcome in outcomes.items():
        expected = (200, None) if role in allowed else (403, "restriction")
        assert outcome == expected, (role, outcome)
    assert restriction in {f"set by {role}" for role in allowed}


async def _opportunity_of(settings: Any, owner_id: str) -> str:
    """An opportunity as the detector leaves one for a customer's manager."""
    opportunity_id = uuid.uuid4()
    await scalar(
        settings,
        "INSERT INTO events.opportunities (id, dedupe_key, customer_id, rule_id, rule_version,"
        " action, product, priority, owner, owner_id, channel, due_at, expires_at, status,"
        " outcome, control_group, facts, lineage, created_at, updated_at)"
        " VALUES (:id, :id_text, :customer, 'large_withdrawal', 1, 'retention_call', NULL, 80,"
        " 'manager', :owner_id, 'phone', now(), now() + interval '7 days', 'open', NULL, false,"
        " '{}', '{}', now(), now()) RETURNING id",
        id=opportunity_id,
        id_text=str(opportunity_id),
        customer=uuid.uuid4(),
        owner_id=owner_id,
    )
    return str(opportunity_id)


async def test_a_customer_manager_reaches_only_their_own_opportunities(
    migrated_database: str,
) -> None:
    spec = SERVICES["events"]
    settings = settings_for(spec, migrated_database)
    app = spec.create_app(settings)
    me, colleague = str(uuid.uuid4()), str(uuid.uuid4())
    async with serving(app) as system:
        mine = await _opportunity_of(settings, me)
        theirs = await _opportunity_of(settings, colleague)
        routes = _object_routes(app.openapi(), "opportunity_id", Role.CUSTOMER_MANAGER)
        system.headers.update(development_bearer(Role.CUSTOMER_MANAGER, manager_id=me))

        own = await system.get(f"/v1/opportunities/{mine}")
        others = await _sweep(system, routes, "opportunity_id", theirs)
        listed = await system.get("/v1/opportunities", params={"limit": 200})
        asked_for_theirs = await system.get(
            "/v1/opportunities", params={"owner_id": colleague, "limit": 200}
        )
        system.headers.update(development_bearer(Role.SUPERVISOR))
        supervisor_sees = await system.get(f"/v1/opportunities/{theirs}")

    assert own.status_code == 200
    assert set(others.values()) == {404}, others
    assert len(others) >= 2
    assert {o["id"] for o in listed.json()["items"]} == {mine}
    assert asked_for_theirs.json()["items"] == []
    assert supervisor_sees.status_code == 200


async def test_a_complaint_handlers_statistics_count_only_the_cases_they_reach(
    migrated_database: str,
) -> None:
    spec = SERVICES["complaints"]
    app = spec.create_app(settings_for(spec, migrated_database))
    department = f"d{uuid.uuid4().hex[:8]}"
    elsewhere = f"e{uuid.uuid4().hex[:8]}"
    async with serving(app) as system:
        before = (await system.get("/v1/complaints/stats")).json()
        for assigned_to in (department, elsewhere, elsewhere):
            case = await walk_to(system, (await file_complaint(system))["id"], "assignment")
            moved = await system.post(
                f"/v1/complaints/{case['id']}/actions",
                json={"action": "assign_department", "department": assigned_to},
                headers=FRONT_LINE,
            )
            assert moved.status_code == 200, moved.text
        everyone = (await system.get("/v1/complaints/stats")).json()
        handler = development_bearer(Role.COMPLAINT_HANDLER, department=department)
        theirs = (await system.get("/v1/complaints/stats", headers=handler)).json()

    def count(stats: dict[str, Any], name: str) -> int:
        return next((b["count"] for b in stats["by_department"] if b["key"] == name), 0)

    assert everyone["received"] - before["received"] == 3
    assert (count(everyone, department), count(everyone, elsewhere)) == (1, 2)
    assert (count(theirs, department), count(theirs, elsewhere)) == (1, 0)
    assert {b["key"] for b in theirs["by_department"]} <= {department, "unknown"}
