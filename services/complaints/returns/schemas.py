"""The classification a resolution proposal records, and the return as it is answered."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from services.complaints.returns.taxonomy import Dimension
from shared.requests import RequestModel

CodeValue = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class RegulatoryClassification(RequestModel):
    """How the regulator's return counts the case. ``codes`` come from the case's pack
    (``cn``: business_channel, business_type, cause, region; ``uk``: product, cause; ``us``:
    product, sub_product, issue, sub_issue), and a wider class is derived from a finer one.
    The proposal's ``compensation`` is the redress, in the pack's reporting currency."""

    codes: Annotated[dict[Dimension, CodeValue], Field(min_length=1, max_length=len(Dimension))]
    upheld: bool  # the bank finds for the complainant, wholly or in part
    # The complainant was identified as in vulnerable circumstances, however it came to light.
    vulnerable: bool = False
    # The complaint is about, or was caused by, a failure to consider their vulnerability.
    vulnerability_related: bool = False
    # One of ``CRM_COMPLAINTS_LEGAL_ENTITIES``; the first when not given.
    legal_entity: Annotated[str | None, Field(min_length=1, max_length=40)] = None


Cell = str | int | Decimal | float | None


class ReturnTable(BaseModel):
    name: str
    columns: list[str]
    rows: list[list[Cell]]


class ComplaintReturn(BaseModel):
    jurisdiction: str
    form: str
    form_name: str
    period: str
    first_day: date
    last_day: date
    due: date | None
    produced_at: datetime
    # Cases counted under their pack's "other" codes because no proposal classified them.
    unclassified: int
    tables: list[ReturnTable]
