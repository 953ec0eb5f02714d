"""Request and response bodies of the agents."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from services.contact_center.calls.schemas import CallRead
from services.contact_center.models import Skill
from services.contact_center.schemas import AgentId, Timed


class AgentCreate(Timed):
    id: AgentId
    name: Annotated[str, Field(min_length=1, max_length=100)]
    skills: Annotated[
        list[Skill],
        Field(min_length=1, max_length=len(Skill), json_schema_extra={"uniqueItems": True}),
    ]

    @model_validator(mode="after")
    def _distinct_skills(self) -> "AgentCreate":
        if len(set(self.skills)) != len(self.skills):
            raise ValueError("skills must not repeat")
        return self


class AgentStateChange(Timed):
    state: Literal["available", "break", "offline"]


class AgentRead(BaseModel):
    id: str
    name: str
    skills: list[str]
    state: str
    state_since: datetime
    idle_since: datetime | None
    current_call_id: uuid.UUID | None


class AgentAfterChange(BaseModel):
    agent: AgentRead
    offered_call: CallRead | None
