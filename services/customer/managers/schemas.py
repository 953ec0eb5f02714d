"""HTTP models of customer managers (客户经理), their portfolios and assignments."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from shared.masking import MaskedName
from shared.requests import RequestModel


class ManagerCreate(RequestModel):
    employee_number: Annotated[str, Field(pattern=r"^[A-Z0-9\-]{3,30}$")]
    # As long as the column that keeps it (managers.name, varchar(100)).
    name: Annotated[str, Field(min_length=1, max_length=100)]
    branch_code: Annotated[str, Field(min_length=1, max_length=20)]
    capacity: Annotated[int, Field(ge=1, le=2000)] = 300


class ManagerUpdate(RequestModel):
    capacity: Annotated[int, Field(ge=1, le=2000)]


class ManagerRead(BaseModel):
    id: uuid.UUID
    employee_number: str
    name: str
    branch_code: str
    capacity: int
    active: bool


class ManagerWorkload(BaseModel):
    manager: ManagerRead
    customers: int
    by_tier: dict[str, int]
    utilisation: Decimal = Field(description="Customers served over capacity.")


class ManagerAssign(RequestModel):
    manager_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=300)] = "assigned by staff"


class UnservedCustomerRead(BaseModel):
    """A customer whose tier requires a manager and who has none."""

    customer_id: uuid.UUID
    name: MaskedName
    branch_code: str | None
    value_tier: str
    since: datetime
    reason: str
