"""Runs kept and replayed, figures refused, and who may post and read them."""

import httpx
import pytest

from services.customer.app import create_app
from services.customer.config import Settings
from shared.auth.roles import Role
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import account_number
from tests.service.customer.reconciliation.conftest import RUNS, account_held, line, reconcile


class TestReplay:
    async def test_the_same_figures_again_answer_the_first_run_and_write_nothing(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        number = await account_held(client, opened_on="1997-10-01", opening_balance="5.00")
        first = await reconcile(client, "1997-10-01", line(number, "6.00"))
        runs = await scalar(customer_settings, RUNS)

        again = await reconcile(client, "1997-10-01", line(number, "6.00"))

        assert again.status_code == 200
        assert again.json() == first.json()
        assert await scalar(customer_settings, RUNS) == runs
        counts = first.json()["counts"]
        kept = await scalar(
            customer_settings,
            "SELECT count(*) FROM reconciliation_differences WHERE run_id = :id",
            id=first.json()["id"],
        )
        assert kept == counts["differing"] + counts["unknown"] + counts["missing"]

    async def test_other_figures_for_the_same_day_are_a_run_of_their_own(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1997-10-02", opening_balance="5.00")
        first = await reconcile(client, "1997-10-02", line(number, "6.00"))

        corrected = await reconcile(client, "1997-10-02", line(number, "5.00"))

        assert corrected.status_code == 201
        assert corrected.json()["id"] != first.json()["id"]
        assert corrected.json()["counts"]["matching"] == 1

    async def test_an_idempotency_key_replays_the_first_answer(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1997-10-03")
        key = {"Idempotency-Key": "eod-1997-10-03-a"}
        first = await reconcile(client, "1997-10-03", line(number, "0.00"), **key)

        again = await reconcile(client, "1997-10-03", line(number, "0.00"), **key)
        other = await reconcile(client, "1997-10-03", line(number, "1.00"), **key)

        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert other.status_code == 422
        assert other.json()["field"] == "Idempotency-Key"


class TestValidation:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"currency": "XX"}, "balances[3].currency"),
            ({"balance": "1.001"}, "balances[3].balance"),
            ({"account_number": "12-34"}, "balances[3].account_number"),
            ({"branch": "BJ001"}, "balances[3].branch"),
        ],
    )
    async def test_a_bad_line_is_named_and_nothing_is_written(
        self,
        client: httpx.AsyncClient,
        customer_settings: Settings,
        change: dict[str, str],
        field: str,
    ) -> None:
        lines = [line(account_number(), "1.00") for _ in range(5)]
        lines[3] |= change
        runs = await scalar(customer_settings, RUNS)

        answer = await reconcile(client, "1998-11-01", *lines)

        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in answer.json()["errors"]] == [field]
        assert await scalar(customer_settings, RUNS) == runs

    async def test_an_account_twice_is_refused_at_its_second_line(
        self, client: httpx.AsyncClient
    ) -> None:
        number = account_number()

        lines = [line(number, "1.00"), line(account_number(), "1.00"), line(number, "2.00")]
        answer = await reconcile(client, "1998-11-01", *lines)

        assert answer.status_code == 422
        assert answer.json()["field"] == "balances[2].account_number"

    async def test_a_day_not_yet_ended_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await reconcile(client, "2999-01-01", line(account_number(), "1.00"))

        assert answer.status_code == 422
        assert answer.json()["errors"] == [
            {
                "field": "business_date",
                "in": "query",
                "message": "the business day has not ended yet",
            }
        ]

    async def test_a_body_neither_json_nor_csv_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await client.post(
            "/v1/reconciliations",
            params={"business_date": "1998-11-01"},
            content=b"<balances/>",
            headers={"Content-Type": "application/xml"},
        )

        assert answer.status_code == 415


class TestWhoMay:
    @pytest.mark.parametrize(
        ("role", "posts", "reads"),
        [
            (Role.SYSTEM, 201, 200),
            (Role.SUPERVISOR, 403, 200),
            (Role.AUDITOR, 403, 200),
            (Role.CUSTOMER_MANAGER, 403, 403),
            (Role.CHANNEL, 403, 403),
        ],
    )
    async def test_core_banking_posts_supervisors_and_auditors_read(
        self,
        client: httpx.AsyncClient,
        customer_settings: Settings,
        role: Role,
        posts: int,
        reads: int,
    ) -> None:
        number = await account_held(client, opened_on="1998-12-01")
        made = await reconcile(client, "1998-12-01", line(number, "0.00"))

        async with serving(create_app(customer_settings), role=role) as someone:
            posted = await reconcile(someone, "1998-12-01", line(number, "0.01"))
            read = await someone.get(f"/v1/reconciliations/{made.json()['id']}")

        assert (posted.status_code, read.status_code) == (posts, reads)
