"""A background task that ends while the service runs is started again; one that keeps ending
is given up, and liveness then fails so that the orchestrator restarts the process."""

from fastapi import FastAPI

from crm.registry import SERVICES
from shared.runtime import ServiceRuntime
from tests.service.conftest import serving
from tests.waiting import wait_until

RELAY = "outbox-relay"


def runtime_of(app: FastAPI) -> ServiceRuntime:
    runtime: ServiceRuntime = app.state.runtime
    return runtime


def sample(runtime: ServiceRuntime, name: str, task: str) -> float:
    return runtime.metrics.registry.get_sample_value(name, {"task": task}) or 0.0


class TestSupervision:
    async def test_a_killed_relay_is_started_again_and_publishes(
        self, migrated_database: str
    ) -> None:
        spec = SERVICES["complaints"]
        app = spec.create_app(spec.settings_class(database_url=migrated_database))
        async with serving(app) as client:
            runtime = runtime_of(app)
            killed = runtime.supervisor.running[RELAY]
            killed.cancel()

            async def restarted() -> bool:
                current = runtime.supervisor.running[RELAY]
                return current is not killed and not current.done()

            await wait_until(restarted, timeout=30, every=0.05)
            filed = await client.post(
                "/v1/complaints",
                json={
                    "channel": "branch",
                    "category": "fees",
                    "description": "charged twice for one transfer",
                    "complainant": {"name": "王芳", "phone": "13800138000"},
                },
            )
            assert filed.status_code == 201, filed.text

            async def published() -> bool:
                await runtime.relay.observe_backlog()
                return runtime.relay.backlog == 0

            await wait_until(published, timeout=30, every=0.1)
            live = await client.get("/healthz")
            up = sample(runtime, "crm_background_task_up", RELAY)
        assert live.status_code == 200
        assert sample(runtime, "crm_background_task_restarts_total", RELAY) == 1
        assert up == 1

    async def test_a_task_that_keeps_ending_is_given_up_and_liveness_fails(
        self, migrated_database: str
    ) -> None:
        spec = SERVICES["complaints"]
        settings = spec.settings_class(
            database_url=migrated_database, background_task_max_restarts=2
        )
        app = spec.create_app(settings)
        async with serving(app) as client:
            runtime = runtime_of(app)

            async def broken_relay() -> None:
                raise RuntimeError("the relay cannot start")

            runtime.relay.run = broken_relay  # type: ignore[method-assign]
            runtime.supervisor.running[RELAY].cancel()

            async def given_up() -> bool:
                return not runtime.supervisor.healthy

            await wait_until(given_up, timeout=60, every=0.05)
            live = await client.get("/healthz")
            ready = await client.get("/readyz")
        assert live.status_code == 503
        assert live.json() == {"status": "failed", "given_up": [RELAY]}
        assert ready.status_code == 200  # its dependencies are fine; the process is not
        assert sample(runtime, "crm_background_task_restarts_total", RELAY) == 2
        assert sample(runtime, "crm_background_task_up", RELAY) == 0
