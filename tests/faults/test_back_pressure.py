"""Back-pressure: when the outbox cannot drain, new writes get 503 with Retry-After instead
of piling up; reads go on."""

import uuid

from services.customer.app import MIGRATIONS, create_app
from services.customer.config import Settings
from shared.migrations import upgrade
from tests.service.conftest import serving
from tests.service.customer.factories import individual
from tests.waiting import wait_until


class TestOutboxBackPressure:
    async def test_writes_are_refused_above_the_backlog_limit_and_reads_go_on(
        self, database_url: str
    ) -> None:
        settings = Settings(
            database_url=database_url,
            db_schema=f"pressure_{uuid.uuid4().hex[:8]}",
            bus="kafka",
            kafka_bootstrap_servers="127.0.0.1:9",  # nothing listens: the bus is away
            outbox_backlog_limit=3,
        )
        await upgrade(settings, MIGRATIONS)
        async with serving(create_app(settings)) as client:
            accepted = [
                (await client.post("/v1/customers", json=individual())).status_code
                for _ in range(2)
            ]

            async def counted() -> bool:
                metrics = (await client.get("/metrics")).text
                return "crm_outbox_backlog 4.0" in metrics

            await wait_until(counted, timeout=20)
            refused = await client.post("/v1/customers", json=individual())
            read = await client.get("/healthz")

        assert accepted == [201, 201]
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["type"].endswith("/back-pressure")
        assert refused.json()["backlog"] == 4
        assert read.status_code == 200
