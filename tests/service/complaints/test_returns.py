"""``/v1/complaints/returns``: a period's complaints filed across products, causes and outcomes,
and every cell of each jurisdiction's return checked against a plain count of them."""

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crm.infra.postgres import EmbeddedPostgres
from services.complaints.app import create_app
from services.complaints.config import Settings
from services.complaints.repository.stats import StatsScope
from services.complaints.returns.codes import CN, UK
from services.complaints.returns.service import complaint_return
from services.complaints.returns.taxonomy import Dimension
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.db import create_engine, create_sessionmaker, transaction
from tests.conftest import database_of_its_own
from tests.service.complaints.returns_cases import Case, file_cases
from tests.service.conftest import serving

LONDON, SHANGHAI = ZoneInfo("Europe/London"), ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, month: int, day: int, hour: int = 10, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone)


@pytest.fixture(scope="session")
async def returns_database(postgres_server: EmbeddedPostgres) -> str:
    """A database of its own: a return counts every case of its pack in the period."""
    return await database_of_its_own(postgres_server, "crm_returns_test")


def settings_of(database_url: str, pack: str) -> Settings:
    return Settings(
        database_url=database_url,
        deadline_pack=pack,
        outlets=200,
        personal_customers=4_000_000,
        legal_entities=["FRN100001", "FRN100002"],
    )


async def fetch(settings: Settings, **params: str) -> dict[str, Any]:
    async with serving(create_app(settings)) as client:
        answer = await client.get("/v1/complaints/returns", params=params)
        assert answer.status_code == 200, answer.text
        as_csv = await client.get("/v1/complaints/returns", params={**params, "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    body: dict[str, Any] = answer.json()
    assert _csv_tables(as_csv.text) == {
        t["name"]: [t["columns"], *[[_text(c) for c in row] for row in t["rows"]]]
        for t in body["tables"]
    }
    return body


def _text(cell: object) -> str:
    return "" if cell is None else str(cell)


def _csv_tables(text: str) -> dict[str, list[list[str]]]:
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for row in csv.reader(io.StringIO(text)):
        if row[:1] == ["table"]:
            current = tables.setdefault(row[1], [])
        elif row and row[0] != "return":
            current.append(row)
    return tables


def table(answer: dict[str, Any], name: str) -> list[list[Any]]:
    rows: list[list[Any]] = next(t["rows"] for t in answer["tables"] if t["name"] == name)
    return rows


def uk(product: str, cause: str) -> dict[str, str]:
    return {"product": product, "cause": cause}


# One FCA episode as a reader of DISP 1 Annex 1R counts it by hand: product group, cause,
# when it was opened and closed, how soon it closed ("3d": by the end of the third business
# day, "8w": within eight weeks, "late"), upheld, redress.
Episode = tuple[str, str, datetime, datetime | None, str | None, bool, Decimal]
GROUPS = [code.code for code in UK.codes[Dimension.PRODUCT_GROUP].codes]
CAUSES = [
    "arrears",
    "advising_selling_arranging",
    "terms_and_charges",
    "admin_and_service",
    "other",
]


def fca_row(episodes: list[Episode], start: datetime, end: datetime) -> list[Any]:
    """outstanding at start, opened, closed by bucket, upheld % by bucket, redress paid."""
    closed = {
        bucket: [e for e in episodes if e[3] and start <= e[3] < end and e[4] == bucket]
        for bucket in ("3d", "8w", "late")
    }
    percent = [
        round(100 * sum(e[5] for e in bucket) / len(bucket), 1) if bucket else None
        for bucket in closed.values()
    ]
    return [
        sum(1 for e in episodes if e[2] < start and (e[3] is None or e[3] >= start)),
        sum(1 for e in episodes if start <= e[2] < end),
        *(len(bucket) for bucket in closed.values()),
        *percent,
        str(sum((e[6] for bucket in closed.values() for e in bucket), Decimal("0.00"))),
    ]


BANKING, HOME, INSURANCE = (
    "banking_and_credit_cards",
    "home_finance",
    "insurance_and_pure_protection",
)
D = Decimal


class TestFcaReturn:
    async def test_every_cell_of_the_half_year_and_the_boundaries(
        self, returns_database: str
    ) -> None:
        settings = settings_of(returns_database, "uk")
        h1_start, h1_end = at(LONDON, 1, 1, 0), at(LONDON, 7, 1, 0)
        # 30 June 23:30 in UTC is 00:30 on 1 July in London: the second half-year's.
        first_of_july = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
        cases = [
            Case(
                at(LONDON, 12, 15, year=2025),
                uk("current_account", "admin_and_service"),
                closed=at(LONDON, 1, 20),
                upheld=True,
                redress="50.00",
            ),
            Case(
                at(LONDON, 1, 5, 9),
                uk("credit_card", "terms_and_charges"),
                closed=at(LONDON, 1, 7, 15),
                upheld=True,
                redress="20.00",
            ),
            Case(at(LONDON, 2, 2), uk("mortgage", "arrears"), closed=at(LONDON, 5, 1)),
            Case(at(LONDON, 3, 10), outcome="invalid", closed=at(LONDON, 3, 11)),
            Case(at(LONDON, 4, 1), outcome="withdrawn", closed=at(LONDON, 4, 20)),
            Case(
                at(LONDON, 5, 4),
                uk("personal_loan", "advising_selling_arranging"),
                open_at="approval",
            ),
            Case(
                at(LONDON, 6, 29, 9),
                uk("travel_insurance", "admin_and_service"),
                closed=first_of_july,
                upheld=True,
                vulnerable=True,
            ),
            # Reopened: a new complaint from the reopening (2 February) on.
            Case(
                at(LONDON, 1, 12),
                uk("overdraft", "terms_and_charges"),
                closed=at(LONDON, 1, 14),
                reopened=at(LONDON, 2, 2),
                closed_again=at(LONDON, 2, 20),
                upheld_again=True,
                redress_again="100.00",
            ),
            # Closed at the first instant of the half-year: outstanding at its start, and
            # closed in it (29 December + 3 business days, 1 January a bank holiday: 2 January).
            Case(
                at(LONDON, 12, 29, year=2025),
                uk("current_account", "admin_and_service"),
                closed=at(LONDON, 1, 1, 0),
            ),
        ]
        episodes: list[Episode] = [
            (BANKING, "admin_and_service", cases[0].received, cases[0].closed, "8w", True, D(50)),
            (BANKING, "terms_and_charges", cases[1].received, cases[1].closed, "3d", True, D(20)),
            (HOME, "arrears", cases[2].received, cases[2].closed, "late", False, D(0)),
            (BANKING, "other", cases[3].received, cases[3].closed, "3d", False, D(0)),
            (BANKING, "other", cases[4].received, cases[4].closed, "8w", False, D(0)),
            (BANKING, "advising_selling_arranging", cases[5].received, None, None, False, D(0)),
            (INSURANCE, "admin_and_service", cases[6].received, first_of_july, "3d", True, D(0)),
            (BANKING, "terms_and_charges", cases[7].received, cases[7].closed, "3d", False, D(0)),
            (BANKING, "terms_and_charges", at(LONDON, 2, 2), at(LONDON, 2, 20), "8w", True, D(100)),
            (BANKING, "admin_and_service", cases[8].received, cases[8].closed, "3d", False, D(0)),
        ]
        await file_cases(settings, cases, currency="GBP")

        h1 = await fetch(settings, jurisdiction="uk", period="2026-H1")
        assert (h1["form"], h1["first_day"], h1["last_day"]) == (
            "disp_1_annex_1r",
            "2026-01-01",
            "2026-06-30",
        )
        assert h1["due"] == "2026-08-11"  # 30 business days on
        assert h1["unclassified"] == 2  # the invalid and the withdrawn case
        labels = {code.code: code.label for code in UK.codes[Dimension.PRODUCT_GROUP].codes}
        assert table(h1, "complaints_by_product_group") == [
            [
                group,
                labels[group],
                *fca_row([e for e in episodes if e[0] == group], h1_start, h1_end),
            ]
            for group in GROUPS
        ]
        opened = Counter((e[0], e[1]) for e in episodes if h1_start <= e[2] < h1_end)
        assert table(h1, "opened_by_product_group_and_cause") == [
            [group, labels[group], *(opened[(group, cause)] for cause in CAUSES)]
            for group in GROUPS
        ]

        h2 = await fetch(settings, jurisdiction="uk", period="2026-H2")
        rows = {row[0]: row[2:] for row in table(h2, "complaints_by_product_group")}
        h2_start, h2_end = h1_end, at(LONDON, 1, 1, 0, year=2027)
        assert rows[INSURANCE] == fca_row([episodes[6]], h2_start, h2_end)
        assert rows[INSURANCE][:3] == [1, 0, 1]  # outstanding at the start, closed in 3 days
        assert rows[BANKING][:2] == [1, 0]  # the loan complaint, still awaiting approval

    async def test_the_consolidated_return_from_2027_per_legal_entity(
        self, returns_database: str
    ) -> None:
        settings = settings_of(returns_database, "uk")
        cases = [
            Case(
                at(LONDON, 1, 11, year=2027),
                uk("credit_card", "terms_and_charges"),
                closed=at(LONDON, 1, 13, year=2027),
                upheld=True,
                redress="10.00",
                vulnerable=True,
                vulnerability_related=True,
                legal_entity="FRN100002",
            ),
            Case(
                at(LONDON, 2, 1, year=2027),
                uk("mortgage", "arrears"),
                closed=at(LONDON, 3, 1, year=2027),
                vulnerable=True,
            ),
            Case(
                at(LONDON, 12, 20),
                uk("savings", "admin_and_service"),
                closed=at(LONDON, 1, 5, year=2027),
            ),
        ]
        await file_cases(settings, cases, currency="GBP")
        sessions = create_sessionmaker(engine := create_engine(settings))
        try:
            async with transaction(sessions) as session:
                answer = await complaint_return(
                    session,
                    jurisdiction="uk",
                    period_label="2027-H1",
                    scope=StatsScope(h1 := at(LONDON, 1, 1, 0, year=2027), h1),
                    settings=settings,
                    now=datetime(2027, 8, 1, tzinfo=UTC),
                )
        finally:
            await engine.dispose()
        assert answer.form == "consolidated"
        tables = {t.name: t.rows for t in answer.tables}
        assert tables["vulnerable_customers"] == [["FRN100001", 1, 1, 0], ["FRN100002", 1, 1, 1]]
        rows = {(row[0], row[1]): row[3:] for row in tables["complaints_by_product"]}
        assert rows[("FRN100002", "credit_card")] == [0, 1, 1, 0, 0, 100.0, None, None, D("10.00")]
        assert rows[("FRN100001", "mortgage")] == [0, 1, 0, 1, 0, None, 0.0, None, D("0.00")]
        # Received 20 December: three business days end on the 23rd, eight weeks in February.
        assert rows[("FRN100001", "savings")] == [1, 0, 0, 1, 0, None, 0.0, None, D("0.00")]
        # The second entity has the credit-card complaint and nothing else.
        second = [r[:5] for (entity, _), r in rows.items() if entity == "FRN100002"]
        assert sum(int(str(cell)) for row in second for cell in row) == 2


def cn(channel: str, business: str, cause: str, region: str) -> dict[str, str]:
    return {
        "business_channel": channel,
        "business_type": business,
        "cause": cause,
        "region": region,
    }


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
