"""HTTP models of satisfaction surveys."""

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from services.customer.customers.schemas import Channel
from shared.requests import RequestModel


class SurveyCreate(RequestModel):
    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    customer_id: uuid.UUID
    channel: Channel
    csat: Annotated[int | None, Field(ge=1, le=5)] = None
    nps: Annotated[int | None, Field(ge=0, le=10)] = None
    comment: Annotated[str | None, Field(max_length=2000)] = None
    answered_at: AwareDatetime

    @model_validator(mode="after")
    def _some_score(self) -> "SurveyCreate":
        if self.csat is None and self.nps is None:
            raise ValueError("give csat, nps or both")
        return self


class SurveyRead(BaseModel):
    id: uuid.UUID
    satisfaction_index: Decimal | None = Field(
        description="0-100 over the last 12 months (CSAT and NPS rescaled, averaged)."
    )
