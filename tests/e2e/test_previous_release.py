"""The last recorded release's code serves the schema migrated by today's code.

During a rolling deploy the migrations run first, and the previous release's pods keep serving
until the last of them is replaced. This test is that moment: the release's tree, taken from
its recorded commit with ``git archive``, runs its four services (``crm serve``, each a process
of its own, on the same interpreter and packages) against a database migrated to today's head,
and a customer's path through them has to work: registered, an account opened, transactions
posted, the 360 view, a complaint that comes back into the view over the bus, a call that pops
the customer's screen.

It needs the release's commit in the clone (CI clones the whole history): without it the test
fails, since a pass that checked nothing would be mistaken for one that did.
"""

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from shared.auth.tokens import development_bearer
from tests.conftest import database_of_its_own
from tests.faults.conftest import answers_ready, serve_in_own_process, stop
from tests.service.customer.factories import individual, open_account, transaction
from tests.waiting import wait_until
from tools.migrations.releases import ROOT, Release, last_release

pytestmark = pytest.mark.previous_release

READY_WITHIN = 45.0  # seconds; four interpreters importing the services on a busy machine
BUS_WITHIN = 30.0  # for an event to travel from one service's outbox to another's handler


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def _tree_of(release: Release, into: Path) -> Path:
    """The release's files as committed, or a failure saying why they cannot be had."""
    if _git("cat-file", "-e", f"{release.commit}^{{commit}}").returncode != 0:
        shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
        pytest.fail(
            f"release {release.version}'s commit {release.commit} is not in this clone"
            + (" (a shallow clone: run `git fetch --unshallow`)" if shallow else "")
            + "; running the previous release against today's schema needs it"
        )
    archive = _git("archive", "--format=tar", release.commit)
    assert archive.returncode == 0, archive.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


@pytest.fixture(scope="module")
def release_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Release, Path]:
    release = last_release()
    tree = _tree_of(release, tmp_path_factory.mktemp("release"))
    # Ahead of the installed project on the path, the release's packages are the ones imported.
    imported = subprocess.run(
        [sys.executable, "-c", "import crm, services, shared; print(services.__file__)"],
        env={**os.environ, "PYTHONPATH": str(tree)},
        cwd=tree,  # as for `crm serve`, whose path starts with its script's directory
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()).is_relative_to(tree), imported.stdout
    return release, tree


@pytest.fixture
async def release_services(
    release_tree: tuple[Release, Path], postgres_server: EmbeddedPostgres
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The release's four services on a database at today's head: a client for each."""
    _, tree = release_tree
    url = await database_of_its_own(postgres_server, "crm_previous_release_test")
    ports = {name: free_port() for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update({f"CRM_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    env.update(
        PYTHONPATH=str(tree),
        CRM_DATABASE_URL=url,
        CRM_LOG_LEVEL="WARNING",
        CRM_CONTACT_CENTER_CUSTOMER_SERVICE_URL=f"http://127.0.0.1:{ports['customer']}",
    )
    processes = [serve_in_own_process(name, env) for name in SERVICES]
    try:
        async with AsyncExitStack() as stack:
            clients = {
                name: await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=f"http://127.0.0.1:{port}",
                        headers=development_bearer(),
                        timeout=10,
                    )
                )
                for name, port in ports.items()
            }
            for client in clients.values():
                await wait_until(partial(answers_ready, client), timeout=READY_WITHIN)
            yield clients
    finally:
        for process in processes:
            stop(process)


def test_the_recorded_heads_are_the_releases_own(release_tree: tuple[Release, Path]) -> None:
    release, tree = release_tree
    for name, spec in SERVICES.items():
        migrations = tree / spec.migrations.relative_to(ROOT)
        assert ScriptDirectory(str(migrations)).get_heads() == [release.heads[name]], name


def test_a_clone_without_the_releases_commit_fails_saying_so(tmp_path: Path) -> None:
    unknown = Release(version="0.0.0", commit="0" * 40, heads={})

    with pytest.raises(pytest.fail.Exception, match=r"0{40} is not in this clone"):
        _tree_of(unknown, tmp_path)


async def test_the_previous_release_serves_todays_schema(
    release_services: dict[str, httpx.AsyncClient],
) -> None:
    customers = release_services["customer"]
    body = individual()
    created = await customers.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    account = (await open_account(customers, customer_id))["full_number"]

    batch = {
        "transactions": [
            transaction(account, amount="1000.00"),
            transaction(account, amount="250.50", channel="mobile"),
        ]
    }
    posted = await customers.post("/v1/transactions", json=batch)
    again = await customers.post("/v1/transactions", json=batch)
    assert posted.status_code == 200, posted.text
    assert (posted.json()["posted"], posted.json()["duplicates"]) == (2, 0)
    assert (again.json()["posted"], again.json()["duplicates"]) == (0, 2)

    view = await _view(customers, customer_id)
    assert [Decimal(a["balance"]) for a in view["accounts"]] == [Decimal("1250.50")]
    assert Decimal(view["total_balance_cny"]) == Decimal("1250.50")
    assert {t["transaction_id"] for t in view["recent_transactions"]} == {
        t["transaction_id"] for t in batch["transactions"]
    }

    complaint = await release_services["complaints"].post(
        "/v1/complaints",
        json={
            "customer_id": customer_id,
            "channel": "branch",
            "category": "service_attitude",
            "description": "The teller refused to explain the transfer fee.",
        },
    )
    assert complaint.status_code == 201, complaint.text

    async def in_the_view() -> bool:
        shown = (await _view(customers, customer_id))["open_complaints"]
        return [c["complaint_id"] for c in shown] == [complaint.json()["id"]]

    await wait_until(in_the_view, timeout=BUS_WITHIN, every=0.3)

    rules = await release_services["events"].get("/v1/rules")
    assert rules.status_code == 200, rules.text
    assert {"large_deposit", "dormancy"} <= {r["rule_id"] for r in rules.json()["items"]}

    pop = await _screen_pop_for(release_services["contact_center"], body["profile"]["phones"][0])
    assert pop["customer_id"] == customer_id
    assert pop["degraded"] == []
    assert Decimal(pop["total_balance_cny"]) == Decimal("1250.50")


async def _view(customers: httpx.AsyncClient, customer_id: str) -> dict[str, Any]:
    answer = await customers.get(f"/v1/customers/{customer_id}/view")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def _screen_pop_for(contact_center: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    """The pop of a call from ``phone``, once the contact centre has learnt the customer from
    the customer service's events (each try is a call of its own)."""
    pops: list[dict[str, Any]] = []

    async def identified() -> bool:
        arrived = await contact_center.post(
            "/v1/calls",
            json={
                "dialled_number": "95588",
                "caller_number": phone,
                "at": datetime.now(UTC).isoformat(),
            },
        )
        assert arrived.status_code == 201, arrived.text
        pops.append(arrived.json()["screen_pop"])
        return pops[-1]["customer_id"] is not None

    await wait_until(identified, timeout=BUS_WITHIN, every=0.5)
    return pops[-1]
