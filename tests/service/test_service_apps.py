"""Every service has its app with health, readiness, metrics and OpenAPI, its own schema and
its first migration."""

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from crm.registry import SERVICES, ServiceSpec
from shared.db import create_engine
from shared.problems import PROBLEM_JSON
from tests.service.conftest import serving, settings_for

SERVICE_SPECS = [pytest.param(spec, id=name) for name, spec in SERVICES.items()]


@pytest.mark.parametrize("spec", SERVICE_SPECS)
class TestEveryService:
    async def test_live_and_ready_on_a_real_database(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            live = await client.get("/healthz")
            ready = await client.get("/readyz")

        assert live.status_code == 200
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}

    async def test_not_ready_fast_when_the_database_is_unreachable(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        nowhere = "postgresql+asyncpg://postgres@127.0.0.1:9/crm"  # discard port: refused
        app = spec.create_app(settings_for(spec, nowhere))
        async with serving(app) as client:
            ready = await client.get("/readyz")

        assert ready.status_code == 503
        assert ready.headers["retry-after"] == "5"
        assert ready.json()["checks"]["database"].startswith("unavailable")

    async def test_not_ready_when_kafka_is_unreachable_yet_alive(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        settings = spec.settings_class(
            database_url=migrated_database, bus="kafka", kafka_bootstrap_servers="127.0.0.1:9"
        )
        app = spec.create_app(settings)
        async with serving(app) as client:
            live = await client.get("/healthz")
            ready = await client.get("/readyz")

        assert live.status_code == 200
        assert ready.status_code == 503
        assert ready.json()["checks"] == {
            "database": "ok",
            "bus": "unavailable: BusUnavailableError",
        }

    async def test_metrics_count_requests_by_route_template(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            await client.get("/healthz")
            exposition = (await client.get("/metrics")).text

        assert 'http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in exposition
        assert "crm_outbox_backlog" in exposition

    async def test_openapi_describes_the_service(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            document = (await client.get("/openapi.json")).json()

        assert document["info"]["title"].startswith("Bank CRM: ")
        assert document["info"]["description"]
        assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])

    async def test_an_unknown_route_is_a_problem_document(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        app = spec.create_app(settings_for(spec, migrated_database))
        async with serving(app) as client:
            answer = await client.get("/v1/no-such-thing", headers={"X-Correlation-ID": "abc-1"})

        assert answer.status_code == 404
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert answer.headers["x-correlation-id"] == "abc-1"
        assert answer.json()["type"].endswith("/not-found")
        assert answer.json()["correlation_id"] == "abc-1"

    async def test_its_first_migration_made_its_own_schema(
        self, spec: ServiceSpec, migrated_database: str
    ) -> None:
        engine = create_engine(settings_for(spec, migrated_database))
        async with engine.connect() as conn:
            tables = set(
                (
                    await conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                        {"s": spec.name},
                    )
                ).scalars()
            )
            version = (
                await conn.execute(text(f'SELECT version_num FROM "{spec.name}".alembic_version'))
            ).scalar_one()
        await engine.dispose()

        assert {"outbox", "inbox", "alembic_version"} <= tables
        assert version == ScriptDirectory(str(spec.migrations)).get_current_head()
