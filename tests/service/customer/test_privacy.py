"""A customer's rights over their data, against the real PostgreSQL: consent with when, where
and who; the access request's export; erasure that keeps the bank's records de-identified."""

from datetime import UTC, datetime, timedelta

import httpx

from services.customer.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.conftest import scalar
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import (
    card_number,
    create_customer,
    open_account,
    transaction,
)

SUPERVISOR = development_bearer(Role.SUPERVISOR, subject="sup-li")


class TestConsent:
    async def test_a_change_records_when_where_and_by_whom_and_is_published(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)  # phone granted, sms refused at registration
        said_at = datetime.now(UTC) - timedelta(hours=2)

        answer = await client.put(
            f"/v1/customers/{created['id']}/consent",
            json={
                "version": 1,
                "channels": {"sms": True, "phone": False},
                "source": "branch",
                "given_at": said_at.isoformat(),
            },
            headers=development_bearer(Role.BRANCH_STAFF, subject="teller-9", branch="BJ001"),
        )

        assert answer.status_code == 200, answer.text
        channels = {c["channel"]: c for c in answer.json()["channels"]}
        assert channels["sms"]["granted"] is True
        assert channels["phone"]["granted"] is False
        assert channels["sms"]["source"] == "branch"
        assert channels["sms"]["recorded_by"] == "teller-9"
        assert datetime.fromisoformat(channels["sms"]["at"]) == said_at
        assert answer.json()["version"] == 2
        read = (await client.get(f"/v1/customers/{created['id']}")).json()
        assert read["consent"] == {"sms": True, "phone": False}
        assert (await event_types(customer_settings, created["id"]))[-1] == (
            "crm.customer.updated.v1"
        )

    async def test_the_channel_where_the_customer_says_it_records_and_reads_it(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        path = f"/v1/customers/{created['id']}/consent"
        mobile_banking = development_bearer(Role.CHANNEL, subject="mobile-banking")
        auditor = development_bearer(Role.AUDITOR, subject="audit-1")

        recorded = await client.put(
            path,
            json={"version": 1, "channels": {"mobile": True}, "source": "mobile"},
            headers=mobile_banking,
        )
        read = await client.get(path, headers=mobile_banking)
        audited = await client.get(path, headers=auditor)
        auditor_writes = await client.put(
            path, json={"version": 2, "channels": {"mobile": False}}, headers=auditor
        )

        assert recorded.status_code == 200, recorded.text
        channels = {c["channel"]: c for c in read.json()["channels"]}
        assert channels["mobile"]["granted"] is True
        assert channels["mobile"]["recorded_by"] == "mobile-banking"
        assert audited.status_code == 200
        assert auditor_writes.status_code == 403

    async def test_consent_said_in_the_future_is_a_422_naming_given_at(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()

        answer = await client.put(
            f"/v1/customers/{created['id']}/consent",
            json={"version": 1, "channels": {"sms": True}, "source": "web", "given_at": later},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "given_at"
        assert (await client.get(f"/v1/customers/{created['id']}")).json()["version"] == 1

    async def test_an_unknown_channel_is_a_422_and_consent_no_longer_changes_by_patch(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)

        unknown = await client.put(
            f"/v1/customers/{created['id']}/consent",
            json={"version": 1, "channels": {"pigeon": True}, "source": "web"},
        )
        patched = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 1, "consent": {"sms": True}}
        )

        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"].startswith("channels")
        assert patched.status_code == 422
        assert patched.json()["errors"][0]["field"] == "consent"


class TestExport:
    async def test_the_export_holds_the_unmasked_record_but_no_card_number_and_is_audited(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        card = card_number()
        account = await open_account(
            client, created["id"], product_type="card", product_code="DEBIT", card_number=card
        )
        posted = await client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account["full_number"], counterparty_name="李四")]},
        )
        assert posted.status_code == 200, posted.text
        full = (
            await client.get(f"/v1/customers/{created['id']}?reveal=true", headers=SUPERVISOR)
        ).json()

        answer = await client.get(f"/v1/customers/{created['id']}/export", headers=SUPERVISOR)

        assert answer.status_code == 200, answer.text
        export = answer.json()
        assert export["customer"]["profile"]["id_number"] == full["profile"]["id_number"]
        assert export["customer"]["profile"]["phones"] == full["profile"]["phones"]
        assert [a["account_number"] for a in export["accounts"]] == [account["full_number"]]
        assert export["accounts"][0]["card_last_four"] == card[-4:]
        assert card not in answer.text
        assert "card_token" not in export["accounts"][0]
        assert [t["counterparty_name"] for t in export["transactions"]] == ["李四"]
        assert {c["channel"] for c in export["consent"]} == {"phone", "sms"}
        audited = await scalar(
            customer_settings,
            "SELECT count(*) FROM audit_log WHERE subject = 'sup-li' AND object_id = :id "
            "AND action LIKE 'GET /v1/customers/{customer_id}/export' "
            "AND personal_fields = '[\"export\"]'::jsonb",
            id=created["id"],
        )
        assert audited == 1

    async def test_a_manager_cannot_export(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)

        answer = await client.get(
            f"/v1/customers/{created['id']}/export",
            headers=development_bearer(Role.CUSTOMER_MANAGER, manager_id=created["id"]),
        )

        assert answer.status_code == 403
        assert answer.json()["scope"] == "personal-data:export"


async def _closed_customer(client: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, str]]:
    created = await create_customer(client)
    account = await open_account(client, created["id"])
    posted = await client.post(
        "/v1/transactions",
        json={
            "transactions": [
                transaction(
                    account["full_number"], counterparty_name="王五", description="rent to 王五"
                )
            ]
        },
    )
    assert posted.status_code == 200, posted.text
    await client.post(
        f"/v1/accounts/{account['full_number']}/close", json={"closed_on": "2026-11-01"}
    )
    closed = await client.post(
        f"/v1/customers/{created['id']}/close", json={"version": 1, "reason": "moved abroad"}
    )
    assert closed.status_code == 200, closed.text
    return created, account


class TestErasure:
    async def test_an_active_customer_cannot_be_erased_and_nothing_changes(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)

        answer = await client.post(
            f"/v1/customers/{created['id']}/erasure",
            json={"version": 1, "reference": "DSR-2026-0001"},
            headers=SUPERVISOR,
        )

        assert answer.status_code == 409
        assert answer.json()["type"].endswith("/relationship-still-open")
        after = (await client.get(f"/v1/customers/{created['id']}")).json()
        assert after["status"] == "active"
        assert after["name"] == created["name"]

    async def test_erasure_removes_identifiers_and_free_text_and_keeps_the_books(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created, account = await _closed_customer(client)
        full = (
            await client.get(f"/v1/customers/{created['id']}?reveal=true", headers=SUPERVISOR)
        ).json()
        phone = full["profile"]["phones"][0]
        before = (await client.get("/v1/customers/lookup", params={"phone": phone})).json()
        assert [m["id"] for m in before["matches"]] == [created["id"]]

        answer = await client.post(
            f"/v1/customers/{created['id']}/erasure",
            json={"version": 2, "reference": "DSR-2026-0002"},
            headers=SUPERVISOR,
        )

        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "erased"
        assert answer.json()["name"] == "(erased)"
        assert answer.json()["consent"] == {}
        export = (
            await client.get(f"/v1/customers/{created['id']}/export", headers=SUPERVISOR)
        ).json()
        assert "id_number" not in export["customer"]["profile"]
        assert full["profile"]["id_number"] not in str(export)
        for key in (
            {"phone": phone},
            {"id_number": full["profile"]["id_number"]},
            {"account_number": account["full_number"]},
        ):
            found = await client.get("/v1/customers/lookup", params=key)
            assert found.json()["matches"] == [], (key, found.text)
        # The books stay: the transaction, its amount and account, without the free text.
        assert [
            (t["amount"], t["counterparty_name"], t["description"]) for t in export["transactions"]
        ] == [("1000.00", None, None)]
        assert len(export["segment_history"]) >= 1
        assert (await event_types(customer_settings, created["id"]))[-1] == (
            "crm.customer.erased.v1"
        )

    async def test_a_repeated_erasure_changes_nothing_and_publishes_nothing(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created, _ = await _closed_customer(client)
        body = {"version": 2, "reference": "DSR-2026-0003"}
        first = await client.post(
            f"/v1/customers/{created['id']}/erasure", json=body, headers=SUPERVISOR
        )
        events_after_first = await event_types(customer_settings, created["id"])

        again = await client.post(
            f"/v1/customers/{created['id']}/erasure", json=body, headers=SUPERVISOR
        )
        changed = await client.patch(
            f"/v1/customers/{created['id']}", json={"version": 3, "occupation": "x"}
        )

        assert first.status_code == again.status_code == 200
        assert again.json()["version"] == first.json()["version"] == 3
        assert await event_types(customer_settings, created["id"]) == events_after_first
        assert events_after_first.count("crm.customer.erased.v1") == 1
        assert changed.status_code == 409
