"""``/v1/complaints/returns``: a period's complaints filed across products, causes and outcomes,
and every cell of each jurisdiction's return checked against a plain count of them."""

from collections import Counter
from datetime import UTC, datetime

from services.complaints.app import create_app
from services.complaints.returns.codes import CN
from services.complaints.returns.taxonomy import Dimension
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.complaints.returns_cases import Case, file_cases
from tests.service.complaints.returns_reading import (
    NEW_YORK,
    SHANGHAI,
    at,
    cn,
    fetch,
    settings_of,
    table,
)
from tests.service.conftest import serving


class TestNfraReturn:
    async def test_every_cell_of_the_quarter_and_a_reopening_counted_once(
        self, returns_database: str
    ) -> None:
        settings = settings_of(returns_database, "cn")
        reopened = Case(
            at(SHANGHAI, 3, 10),
            cn("03", "06", "10", "32"),
            closed=at(SHANGHAI, 3, 20),
            reopened=at(SHANGHAI, 4, 2),
            closed_again=at(SHANGHAI, 4, 10),
        )
        cases = [
            Case(at(SHANGHAI, 1, 5), cn("01", "03", "01", "44"), closed=at(SHANGHAI, 1, 12)),
            Case(
                at(SHANGHAI, 2, 2),
                cn("03", "04", "08", "31"),
                closed=at(SHANGHAI, 2, 25),
                extensions=1,
            ),
            Case(
                at(SHANGHAI, 3, 2),
                cn("02", "01", "03", "11"),
                closed=at(SHANGHAI, 3, 30),
                extensions=2,
            ),
            Case(at(SHANGHAI, 3, 3), outcome="withdrawn", closed=at(SHANGHAI, 3, 5)),
            # Accepted about 25 January, decided about 17 February: past its 15 days.
            Case(at(SHANGHAI, 1, 20), cn("03", "03", "08", "44"), closed=at(SHANGHAI, 2, 28)),
            Case(at(SHANGHAI, 3, 31, 23), open_at="validity"),  # the quarter's last hour
            Case(datetime(2026, 3, 31, 16, 10, tzinfo=UTC), open_at="validity"),  # 1 April 00:10
            reopened,
        ]
        await file_cases(settings, cases, currency="CNY")
        q1_codes = [case.codes or {} for case in cases if case.received < at(SHANGHAI, 4, 1, 0)]
        assert len(q1_codes) == 7

        q1 = await fetch(settings, jurisdiction="cn", period="2026-Q1")
        assert (q1["form"], q1["due"], q1["unclassified"]) == ("nfra_quarterly", None, 2)
        for dimension in ("business_channel", "business_type", "cause", "region"):
            counts = Counter(codes.get(dimension, "99") for codes in q1_codes)
            expected = [
                [c.code, c.label, counts[c.code]] for c in CN.codes[Dimension(dimension)].codes
            ]
            assert table(q1, f"by_{dimension}") == expected, dimension
        assert table(q1, "handling_time") == [
            ["decided_within_15_days", 2],
            ["decided_within_extension_to_30_days", 1],
            ["decided_within_further_30_days_with_approval", 1],
            ["decided_late", 1],
        ]
        assert table(q1, "rates") == [
            ["complaints", 7],
            ["outlets", 200],
            ["personal_customers", 4_000_000],
            ["complaints_per_1000_outlets", 35.0],
            ["complaints_per_10_million_personal_customers", 17.5],
        ]

        # The reopened complaint is not received again in the second quarter; its new
        # decision is handled in it.
        q2 = await fetch(settings, jurisdiction="cn", period="2026-Q2")
        assert table(q2, "rates")[0] == ["complaints", 1]
        assert table(q2, "handling_time")[0] == ["decided_within_15_days", 1]

    async def test_a_period_of_another_kind_is_a_422_naming_it(self, returns_database: str) -> None:
        settings = settings_of(returns_database, "cn")
        async with serving(create_app(settings)) as client:
            answer = await client.get(
                "/v1/complaints/returns", params={"jurisdiction": "cn", "period": "2026-H1"}
            )
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["period"]


def us(product: str, sub_product: str, issue: str, sub_issue: str) -> dict[str, str]:
    codes = {"product": product, "sub_product": sub_product, "issue": issue, "sub_issue": sub_issue}
    return {name: code for name, code in codes.items() if code}


class TestCfpbFields:
    async def test_each_complaint_of_the_quarter_with_its_fields(
        self, returns_database: str
    ) -> None:
        settings = settings_of(returns_database, "us")
        cases = [
            Case(
                at(NEW_YORK, 1, 6),
                us(
                    "credit_card",
                    "general_purpose_card",
                    "problem_with_a_purchase",
                    "dispute_not_resolved",
                ),
                channel="web",
                closed=at(NEW_YORK, 1, 15),
                upheld=True,
                redress="30.00",
            ),
            Case(
                at(NEW_YORK, 2, 2),
                us("checking_or_savings_account", "", "managing_an_account", ""),
                channel="letter",
                closed=at(NEW_YORK, 4, 20),
            ),
            Case(at(NEW_YORK, 3, 30), open_at="validity"),
            # 23:30 on 31 March in New York is 1 April in UTC: still the first quarter.
            Case(
                at(NEW_YORK, 3, 31, 23),
                us(
                    "money_transfer",
                    "international_transfer",
                    "fees_or_interest",
                    "problem_with_fees",
                ),
                channel="mobile",
                closed=at(NEW_YORK, 4, 3),
                upheld=True,
            ),
            Case(at(NEW_YORK, 4, 1, 0), open_at="validity"),
        ]
        await file_cases(settings, cases, currency="USD")
        expected = [
            [
                cases[0].id,
                "2026-01-06",
                "credit_card",
                "general_purpose_card",
                "problem_with_a_purchase",
                "dispute_not_resolved",
                "Web",
                "Closed with monetary relief",
                "Yes",
                "Yes",
            ],
            # Decided after about 55 days, closed after 77.
            [
                cases[1].id,
                "2026-02-02",
                "checking_or_savings_account",
                "",
                "managing_an_account",
                "",
                "Postal mail",
                "Closed with explanation",
                "No",
                "No",
            ],
            [
                cases[2].id,
                "2026-03-30",
                "checking_or_savings_account",
                "",
                "other",
                "",
                "Phone",
                "Untimely response",
                "No",
                "No",
            ],
            [
                cases[3].id,
                "2026-03-31",
                "money_transfer",
                "international_transfer",
                "fees_or_interest",
                "problem_with_fees",
                "Web",
                "Closed with non-monetary relief",
                "Yes",
                "Yes",
            ],
        ]
        q1 = await fetch(settings, jurisdiction="us", period="2026-Q1")
        assert table(q1, "complaints") == expected
        totals = Counter((row[2], row[4]) for row in expected)
        assert table(q1, "by_product_and_issue") == [
            [
                product,
                issue,
                n,
                sum(1 for r in expected if (r[2], r[4]) == (product, issue) and r[8] == "Yes"),
                sum(1 for r in expected if (r[2], r[4]) == (product, issue) and r[9] == "Yes"),
            ]
            for (product, issue), n in sorted(totals.items())
        ]

        # A handler of another department: only the case no department has yet.
        handler = development_bearer(Role.COMPLAINT_HANDLER, department="loans")
        async with serving(create_app(settings), role=Role.COMPLAINT_HANDLER) as client:
            answer = await client.get(
                "/v1/complaints/returns",
                params={"jurisdiction": "us", "period": "2026-Q1"},
                headers=handler,
            )
        assert answer.status_code == 200, answer.text
        # Only the case still waiting at validity has no department ("cards" has the rest).
        assert [row[2] for row in table(answer.json(), "complaints")] == [
            "checking_or_savings_account"
        ]
