"""The synthetic bank loads through the real API, rules and all."""

from datetime import date

import httpx

from crm.synthetic import SyntheticBank
from crm.synthetic_load import load_synthetic_bank
from services.customer.config import Settings
from tests.service.conftest import scalar


class TestSyntheticLoad:
    async def test_a_small_bank_loads_completely(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        bank = SyntheticBank(seed=4242, customers=25, transactions=900, end_date=date.today())
        heard: dict[str, int] = {}
        stages: list[str] = []

        def loaded(stage: str, count: int) -> None:
            if not stages or stages[-1] != stage:
                stages.append(stage)
            heard[stage] = heard.get(stage, 0) + count

        report = await load_synthetic_bank(
            client, bank, batch=customer_settings.max_transactions_per_batch, loaded=loaded
        )

        assert report.customers == 25
        assert stages == ["customers", "accounts", "transactions"]
        assert heard == {
            "customers": bank.customer_count,
            "accounts": bank.account_count,
            "transactions": report.transactions,
        }
        posted = await scalar(
            customer_settings,
            "SELECT count(*) FROM transactions WHERE transaction_id LIKE 'SYN-4242-%'",
        )
        assert posted == report.transactions
        assert abs(report.transactions - 900) <= 45
