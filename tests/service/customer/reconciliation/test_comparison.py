"""Core banking's end-of-day balances against the view's: which accounts match, differ, are
unknown to the view or missing from the figures, in either form of the figures."""

import httpx

from tests.service.customer.factories import account_number, transaction
from tests.service.customer.reconciliation.conftest import (
    account_held,
    findings,
    line,
    masked,
    post,
    reconcile,
)


class TestComparison:
    async def test_balances_after_the_last_posting_or_the_opening_balance_match(
        self, client: httpx.AsyncClient
    ) -> None:
        posted = await account_held(client, opened_on="1991-03-01", opening_balance="500.00")
        untouched = await account_held(client, opened_on="1991-03-01", opening_balance="70.00")
        await post(
            client,
            transaction(posted, amount="100.00", booked_at="1991-03-01T10:00:00+08:00"),
            transaction(
                posted, amount="30.25", direction="debit", booked_at="1991-03-01T11:00:00+08:00"
            ),
        )

        answer = await reconcile(
            client, "1991-03-01", line(posted, "569.75"), line(untouched, "70.00")
        )

        assert answer.status_code == 201, answer.text
        counts = answer.json()["counts"]
        assert (counts["compared"], counts["matching"], counts["differing"]) == (2, 2, 0)
        assert masked(posted) not in findings(answer)
        assert masked(untouched) not in findings(answer)

    async def test_a_posting_core_banking_does_not_have_is_a_difference_of_its_amount(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1992-04-01", opening_balance="1000.00")
        await post(
            client,
            transaction(number, amount="200.00", booked_at="1992-04-01T09:00:00+08:00"),
            transaction(number, amount="50.00", booked_at="1992-04-01T15:00:00+08:00"),
        )

        answer = await reconcile(client, "1992-04-01", line(number, "1200.00"))

        assert answer.json()["counts"]["differing"] == 1
        assert findings(answer)[masked(number)] == {
            "account_number": masked(number),
            "outcome": "differing",
            "core_currency": "CNY",
            "core_balance": "1200.00",
            "view_currency": "CNY",
            "view_balance": "1250.00",
            "difference": "-50.00",
        }
        assert number not in answer.text

    async def test_another_currency_differs_with_no_difference_in_money(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1992-05-01", opening_balance="10.00")

        answer = await reconcile(client, "1992-05-01", line(number, "10.00", currency="USD"))

        found = findings(answer)[masked(number)]
        assert (found["outcome"], found["core_currency"], found["view_currency"]) == (
            "differing",
            "USD",
            "CNY",
        )
        assert found["difference"] is None

    async def test_an_account_the_view_does_not_hold_that_day_is_unknown(
        self, client: httpx.AsyncClient
    ) -> None:
        stranger = account_number()
        opened_later = await account_held(client, opened_on="1993-06-02")

        answer = await reconcile(
            client, "1993-06-01", line(stranger, "5.00"), line(opened_later, "0.00")
        )

        assert answer.json()["counts"]["unknown"] == 2
        found = findings(answer)[masked(stranger)]
        assert (found["outcome"], found["core_balance"], found["view_balance"]) == (
            "unknown",
            "5.00",
            None,
        )

    async def test_an_account_open_that_day_left_out_of_the_figures_is_missing(
        self, client: httpx.AsyncClient
    ) -> None:
        # The earliest day of these tests: no other test's account was open on it.
        reported = await account_held(client, opened_on="1990-01-10", opening_balance="1.00")
        left_out = await account_held(client, opened_on="1990-01-10", opening_balance="8.00")
        closed_before = await account_held(client, opened_on="1990-01-02")
        closing = await client.post(
            f"/v1/accounts/{closed_before}/close", json={"closed_on": "1990-01-05"}
        )
        assert closing.status_code == 200, closing.text

        answer = await reconcile(client, "1990-01-10", line(reported, "1.00"))

        assert answer.json()["counts"] == {
            "compared": 1,
            "matching": 1,
            "differing": 0,
            "unknown": 0,
            "missing": 1,
        }
        found = findings(answer)[masked(left_out)]
        assert (found["outcome"], found["core_balance"], found["view_balance"]) == (
            "missing",
            None,
            "8.00",
        )

    async def test_the_day_ends_at_midnight_in_the_bank_s_time_zone(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1994-07-01", opening_balance="100.00")
        # 23:30 in Shanghai is on the business day; 00:30 the next morning is not, although
        # both are the same day in UTC (15:30 and 16:30).
        await post(
            client,
            transaction(number, amount="1.00", booked_at="1994-07-01T23:30:00+08:00"),
            transaction(number, amount="10.00", booked_at="1994-07-02T00:30:00+08:00"),
        )

        first_day = await reconcile(client, "1994-07-01", line(number, "101.00"))
        next_day = await reconcile(client, "1994-07-02", line(number, "111.00"))

        assert first_day.json()["counts"]["matching"] == 1
        assert next_day.json()["counts"]["matching"] == 1

    async def test_differences_are_read_again_by_page_in_the_same_order(
        self, client: httpx.AsyncClient
    ) -> None:
        numbers = [await account_held(client, opened_on="1995-08-01") for _ in range(3)]
        posted = await reconcile(client, "1995-08-01", *(line(n, "9.99") for n in numbers))
        run = f"/v1/reconciliations/{posted.json()['id']}"

        pages = [(await client.get(run, params={"limit": 2})).json()]
        while pages[-1]["next_cursor"] is not None:
            cursor = pages[-1]["next_cursor"]
            pages.append((await client.get(run, params={"limit": 2, "cursor": cursor})).json())
        whole = (await client.get(run, params={"limit": 500})).json()

        paged = [item for page in pages for item in page["differences"]]
        counts = whole["counts"]
        assert len(paged) == counts["differing"] + counts["unknown"] + counts["missing"]
        assert paged == whole["differences"]
        assert {masked(n) for n in numbers} <= {item["account_number"] for item in paged}
        assert [len(page["differences"]) for page in pages[:-1]] == [2] * (len(pages) - 1)
        assert pages[0]["counts"] == posted.json()["counts"]

    async def test_the_accounts_core_banking_named_come_before_those_it_missed(
        self, client: httpx.AsyncClient
    ) -> None:
        numbers = sorted([await account_held(client, opened_on="1995-08-03") for _ in range(3)])
        named = numbers[-1]  # the highest number: account order alone would put it last

        answer = await reconcile(client, "1995-08-03", line(named, "5.00"))

        outcomes = [item["outcome"] for item in answer.json()["differences"]]
        assert answer.json()["differences"][0]["account_number"] == masked(named)
        assert outcomes[0] == "differing"
        assert set(outcomes[1:]) == {"missing"}
        assert {masked(n) for n in numbers[:-1]} <= findings(answer).keys()

    async def test_a_cursor_the_service_did_not_give_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1995-08-02")
        posted = await reconcile(client, "1995-08-02", line(number, "1.00"))

        answer = await client.get(
            f"/v1/reconciliations/{posted.json()['id']}", params={"cursor": "not-a-cursor"}
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "cursor"


class TestTheFileForm:
    async def test_a_csv_file_is_compared_as_the_json_batch_and_is_the_same_run(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1996-09-01", opening_balance="42.00")
        stranger = account_number()
        file = f"account_number,currency,balance\r\n{number},CNY,42.00\r\n{stranger},CNY,3\r\n"

        answer = await client.post(
            "/v1/reconciliations",
            params={"business_date": "1996-09-01"},
            content=file.encode(),
            headers={"Content-Type": "text/csv; charset=utf-8"},
        )
        as_json = await reconcile(client, "1996-09-01", line(stranger, "3.00"), line(number, "42"))

        assert answer.status_code == 201, answer.text
        assert answer.json()["counts"]["matching"] == 1
        assert answer.json()["counts"]["unknown"] == 1
        assert as_json.status_code == 200
        assert as_json.json()["id"] == answer.json()["id"]

    async def test_a_bad_line_of_the_file_is_named_as_in_json(
        self, client: httpx.AsyncClient
    ) -> None:
        number = account_number()
        file = f"account_number,currency,balance\n{number},CNY,1.00\n{number[:-1]}9,XX,1.00\n"

        answer = await client.post(
            "/v1/reconciliations",
            params={"business_date": "1996-09-02"},
            content=file.encode(),
            headers={"Content-Type": "text/csv"},
        )

        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["balances[1].currency"]

    async def test_a_file_without_its_header_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await client.post(
            "/v1/reconciliations",
            params={"business_date": "1996-09-02"},
            content=f"{account_number()},CNY,1.00\n".encode(),
            headers={"Content-Type": "text/csv"},
        )

        assert answer.status_code == 422
        assert answer.json()["field"] == "body"


class TestReversalsAndLatePostings:
    async def test_a_reversal_counts_from_the_day_it_was_booked(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1993-06-01", opening_balance="100.00")
        wrong = transaction(number, amount="40.00", booked_at="1993-06-01T09:00:00+08:00")
        await post(client, wrong)
        reversed_ = await client.post(
            "/v1/transactions",
            json={
                "reversals": [
                    {
                        "reversal_id": f"REV-{wrong['transaction_id']}",
                        "reverses": wrong["transaction_id"],
                        "reason": "posting_error",
                        "booked_at": "1993-06-02T09:00:00+08:00",
                    }
                ]
            },
        )
        assert reversed_.status_code == 200, reversed_.text

        first_day = await reconcile(client, "1993-06-01", line(number, "140.00"))
        second_day = await reconcile(client, "1993-06-02", line(number, "100.00"))

        assert first_day.json()["counts"]["matching"] == 1
        assert second_day.json()["counts"]["matching"] == 1

    async def test_a_posting_received_late_still_counts_for_the_day_it_was_booked(
        self, client: httpx.AsyncClient
    ) -> None:
        number = await account_held(client, opened_on="1993-07-01", opening_balance="0.00")
        await post(
            client, transaction(number, amount="5.00", booked_at="1993-07-02T09:00:00+08:00")
        )
        await post(
            client, transaction(number, amount="7.00", booked_at="1993-07-01T09:00:00+08:00")
        )

        answer = await reconcile(client, "1993-07-01", line(number, "7.00"))

        assert answer.json()["counts"]["matching"] == 1, answer.text
