"""Reading a complaint return in the tests: its JSON and CSV, agreed, and the FCA's cells
counted by hand."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.complaints.app import create_app
from services.complaints.config import Settings
from services.complaints.returns.codes import UK
from services.complaints.returns.taxonomy import Dimension
from tests.service.conftest import serving

LONDON, SHANGHAI = ZoneInfo("Europe/London"), ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, month: int, day: int, hour: int = 10, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone)


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


def cn(channel: str, business: str, cause: str, region: str) -> dict[str, str]:
    return {
        "business_channel": channel,
        "business_type": business,
        "cause": cause,
        "region": region,
    }
