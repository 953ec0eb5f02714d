"""The events service's HTTP models."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.events.rules import RuleDefinition
from shared.requests import RequestModel, Version

RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,59}$", examples=["large_deposit"])]


class RuleCreate(RequestModel):
    rule_id: RuleId
    definition: RuleDefinition
    status: Literal["draft", "active", "shadow"] = "draft"


class RuleVersionCreate(RequestModel):
    """A change to a rule: a new version. ``active`` replaces the active version; ``shadow``
    runs beside it on the live stream, contacting nobody."""

    definition: RuleDefinition
    status: Literal["draft", "active", "shadow"] = "draft"


class VersionPromotion(RequestModel):
    status: Literal["draft", "active", "shadow"]


class RuleVersionRead(BaseModel):
    version: int
    status: str
    built_in: bool
    created_at: datetime
    definition: dict[str, Any]


class RuleRead(BaseModel):
    rule_id: str
    enabled: bool
    updated_at: datetime
    versions: list[RuleVersionRead]


class RuleList(BaseModel):
    items: list[RuleRead]


class BacktestRequest(RequestModel):
    received_from: Annotated[AwareDatetime, Field(alias="from")]
    received_to: Annotated[AwareDatetime, Field(alias="to")]
    version: Version | None = None  # the active version when not given
    definition: RuleDefinition | None = None  # a draft not yet saved

    # Merged with the base's: "from"/"to" on the wire, their names in code.
    model_config = ConfigDict(populate_by_name=True)


class DraftBacktestRequest(BacktestRequest):
    definition: RuleDefinition


class BacktestReport(BaseModel):
    rule_id: str
    version: int | None
    period_from: datetime
    period_to: datetime
    events_scanned: int
    matches: int
    customers: int
    opportunities: int
    held_out: int
    suppressed: dict[str, int]
    examples: list[dict[str, Any]]
    emitted: Literal[0] = 0  # a backtest never publishes anything


class VersionStats(BaseModel):
    version: int
    mode: str
    fired: int
    decisions: dict[str, int]


class RuleStats(BaseModel):
    rule_id: str
    period_from: datetime
    period_to: datetime
    versions: list[VersionStats]
    contacted: int
    in_contact: int
    accepted: int
    declined: int
    expired: int
    held_out: int
    treated_conversion_rate: float | None
    control_conversion_rate: float | None
    # Conversion among contacted customers minus among held-out ones: what the contact added.
    uplift: float | None


class OpportunityRead(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    rule_id: str
    rule_version: int
    action: str
    product: str | None
    priority: int
    owner: str
    owner_id: str | None
    channel: str
    due_at: datetime
    expires_at: datetime
    status: str
    outcome: str | None
    control_group: bool
    facts: dict[str, Any]
    lineage: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    converted_at: datetime | None


class OpportunityPage(BaseModel):
    items: list[OpportunityRead]
    next_cursor: str | None


class OutcomeCreate(RequestModel):
    status: Literal["in_contact", "accepted", "declined"]
    outcome: Annotated[str | None, Field(max_length=2000)] = None
