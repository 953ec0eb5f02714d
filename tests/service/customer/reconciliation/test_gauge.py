"""The gauge of differing accounts in the latest run, which the alert watches."""

import re

import httpx

from services.customer.app import create_app
from services.customer.config import Settings
from tests.service.conftest import serving
from tests.service.customer.reconciliation.conftest import (
    account_held,
    days_ago,
    line,
    reconcile,
)
from tests.waiting import wait_until


def gauge(exposition: str) -> float:
    found = re.search(r"^crm_reconciliation_differing_accounts (\S+)$", exposition, re.M)
    assert found is not None, "the gauge is exposed"
    return float(found.group(1))


class TestGauge:
    """The gauge follows the run of the latest business date: these tests reconcile days
    later than any other test's, and each reads its own run, the last received."""

    async def test_the_gauge_counts_the_differing_accounts_of_the_latest_day(
        self, client: httpx.AsyncClient
    ) -> None:
        latest, earlier = days_ago(1), days_ago(2)
        first = await account_held(client, opened_on=earlier, opening_balance="3.00")
        second = await account_held(client, opened_on=earlier, opening_balance="4.00")

        await reconcile(client, latest, line(first, "3.01"), line(second, "4.01"))
        after_two = gauge((await client.get("/metrics")).text)
        await reconcile(client, earlier, line(first, "3.00"), line(second, "4.00"))
        after_an_earlier_day = gauge((await client.get("/metrics")).text)
        await reconcile(client, latest, line(first, "3.00"), line(second, "4.01"))
        after_a_correction = gauge((await client.get("/metrics")).text)

        assert (after_two, after_an_earlier_day, after_a_correction) == (2, 2, 1)

    async def test_a_replica_reads_the_gauge_back_from_the_runs_kept(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        numbers = [await account_held(client, opened_on=days_ago(2)) for _ in range(3)]
        await reconcile(client, days_ago(1), *(line(n, "0.01") for n in numbers))
        replica_settings = Settings(
            database_url=customer_settings.database_url, reconciliation_gauge_seconds=0.05
        )

        async with serving(create_app(replica_settings)) as replica:

            async def three() -> bool:
                return gauge((await replica.get("/metrics")).text) == 3

            await wait_until(three, timeout=10)
