"""`crm run`, the embedded default: PostgreSQL from the wheel, the local bus, four services.

Runs the real command in a subprocess on free ports, checks that all four are ready, stops it
with Ctrl-C (SIGINT), and starts it again on the same data directory; and that the workers of
the detector and the customer service, child processes of `crm run`, are kept running and
stopped with it.
"""

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
from alembic.script import ScriptDirectory

from crm.infra.kafka import free_port
from services.customer.app import MIGRATIONS as CUSTOMER_MIGRATIONS
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.e2e.embedded import embedded_env, interrupt, start, wait_ready
from tests.service.customer.factories import individual


def _sql(dsn: str, statement: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        connection = await asyncpg.connect(dsn)
        try:
            return [tuple(row) for row in await connection.fetch(statement)]
        finally:
            await connection.close()

    return asyncio.run(run())


def _complaint_reaches_the_customer_view(ports: dict[str, int]) -> None:
    """Across services on the local bus: the customer service publishes the customer, the
    complaints service learns the tier, and its complaint comes back into the 360 view."""
    customer_api = f"http://127.0.0.1:{ports['customer']}"
    complaints_api = f"http://127.0.0.1:{ports['complaints']}"
    token = development_bearer(Role.BRANCH_STAFF, subject="e2e-teller", branch="BJ001")
    customer = httpx.post(
        f"{customer_api}/v1/customers", json=individual(), timeout=10, headers=token
    )
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    complaint = httpx.post(
        f"{complaints_api}/v1/complaints",
        json={"customer_id": customer_id, "channel": "branch", "category": "service_attitude",
              "description": "The teller refused to explain the transfer fee."},
        timeout=10, headers=token,
    )  # fmt: skip
    assert complaint.status_code == 201, complaint.text
    # Received, then step 1 completed: the view follows both events to "validity".
    deadline = time.monotonic() + 30
    shown: list[dict[str, object]] = []
    while time.monotonic() < deadline and [c["step"] for c in shown] != ["validity"]:
        view = httpx.get(
            f"{customer_api}/v1/customers/{customer_id}/view", timeout=10, headers=token
        ).json()
        shown = view["open_complaints"]
        time.sleep(0.2)
    assert [c["complaint_id"] for c in shown] == [complaint.json()["id"]]
    assert shown[0]["step"] == "validity"


class TestEmbeddedRun:
    def test_serves_four_ready_services_stops_on_ctrl_c_and_keeps_its_data(
        self, tmp_path: Path
    ) -> None:
        env, ports, pg_port = embedded_env()
        data_dir = tmp_path / "postgres"
        dsn = f"postgresql://postgres@127.0.0.1:{pg_port}/crm"

        first = start(env, data_dir, pg_port)
        try:
            wait_ready(ports, first, timeout=120)
            _complaint_reaches_the_customer_view(ports)
            _sql(dsn, "CREATE TABLE public.restart_marker (note text)")
            _sql(dsn, "INSERT INTO public.restart_marker VALUES ('数据仍在')")
        finally:
            code, stderr = interrupt(first)
        assert code == 0, stderr[-3000:]

        second = start(env, data_dir, pg_port)
        try:
            wait_ready(ports, second, timeout=120)
            assert _sql(dsn, "SELECT note FROM public.restart_marker") == [("数据仍在",)]
            head = ScriptDirectory(str(CUSTOMER_MIGRATIONS)).get_current_head()
            assert _sql(dsn, "SELECT version_num FROM customer.alembic_version") == [(head,)]
        finally:
            code, stderr = interrupt(second)
        assert code == 0, stderr[-3000:]


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for children in Path(f"/proc/{pid}/task").glob("*/children")
        for child in children.read_text().split()
    ]


def _worker_of(pid: int, service: str) -> int | None:
    """The child of ``pid`` that is ``crm serve SERVICE --part worker``, if one runs."""
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"serve" in command and service.encode() in command:
            return child
    return None


def _worker_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _detector_consumed(port: int) -> bool:
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    return 'crm_events_consumed_total{group="crm-events"' in metrics


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.2)


class TestDetectorWorker:
    def test_runs_apart_is_restarted_when_killed_and_stops_with_crm_run(
        self, tmp_path: Path
    ) -> None:
        env, ports, pg_port = embedded_env()
        worker_port = free_port()
        env["CRM_EVENTS_WORKER_PORT"] = str(worker_port)
        process = start(env, tmp_path / "postgres", pg_port)
        try:
            wait_ready(ports, process, timeout=120)
            _wait(lambda: _worker_ready(worker_port), timeout=60)
            # A new customer's event is handled by the detector in the worker, not in crm run.
            registered = httpx.post(
                f"http://127.0.0.1:{ports['customer']}/v1/customers",
                json=individual(),
                timeout=10,
                headers=development_bearer(),
            )
            assert registered.status_code == 201, registered.text
            _wait(lambda: _detector_consumed(worker_port), timeout=30)
            assert not _detector_consumed(ports["events"])
            customer_worker = _worker_of(process.pid, "customer")
            assert customer_worker is not None
            first = _worker_of(process.pid, "events")
            assert first is not None

            os.kill(first, signal.SIGKILL)
            _wait(lambda: _worker_of(process.pid, "events") not in (None, first), timeout=30)
            second = _worker_of(process.pid, "events")
            _wait(lambda: _worker_ready(worker_port), timeout=60)
        finally:
            code, stderr = interrupt(process)
        assert code == 0, stderr[-3000:]
        for worker in (second, customer_worker):
            assert not Path(f"/proc/{worker}").exists(), "a worker outlived crm run"
