"""Response bodies of the statistics and of the floor now."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class QueueRead(BaseModel):
    queue: str
    waiting: int
    oldest_wait_seconds: float | None
    agents_staffed: int = Field(description="Signed in and not on a break.")
    agents_available: int
    estimated_wait_seconds: float | None = Field(
        description="For a caller joining now; null when no agent with the skill is staffed."
    )


class QueueStats(BaseModel):
    queue: str
    offered: int = Field(description="Answered plus abandoned.")
    answered: int
    answered_within_threshold: int
    abandoned: int
    service_level: float | None = Field(description="Answered within the threshold / offered.")
    average_speed_of_answer_seconds: float | None
    average_handle_time_seconds: float | None = Field(description="Talk, hold and wrap-up.")
    abandonment_rate: float | None
    first_contact_resolution: float | None = Field(
        description="Share of handled calls with no repeat call on the same matter (wrap-up "
        "code) by the same customer within the window."
    )


class AgentStats(BaseModel):
    agent_id: str
    handled: int
    average_handle_time_seconds: float | None
    occupancy: float | None = Field(description="Busy time / (available + busy) time.")
    first_contact_resolution: float | None


class IntervalStats(BaseModel):
    start: datetime
    queues: list[QueueStats]


class StatsReport(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    service_level_seconds: float
    first_contact_window_days: int
    overall: QueueStats
    queues: list[QueueStats]
    agents: list[AgentStats]
    intervals: list[IntervalStats]

    model_config = ConfigDict(populate_by_name=True)


class LiveStats(BaseModel):
    at: datetime
    queues: list[QueueRead]
    agents_by_state: dict[str, int]
