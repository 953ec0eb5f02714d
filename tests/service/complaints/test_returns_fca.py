"""``/v1/complaints/returns`` for the FCA: every cell of DISP 1 Annex 1R and of the
consolidated return, and complaints closed on the half-year's boundary."""

from collections import Counter
from datetime import UTC, datetime

from services.complaints.repository.stats import StatsScope
from services.complaints.returns.codes import UK
from services.complaints.returns.service import complaint_return
from services.complaints.returns.taxonomy import Dimension
from shared.db import create_engine, create_sessionmaker, transaction
from tests.service.complaints.returns_cases import Case, file_cases
from tests.service.complaints.returns_reading import (
    BANKING,
    CAUSES,
    GROUPS,
    HOME,
    INSURANCE,
    LONDON,
    D,
    Episode,
    at,
    fca_row,
    fetch,
    settings_of,
    table,
    uk,
)


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
