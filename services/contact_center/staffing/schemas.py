"""Response body of the staffing forecast."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class WhatIf(BaseModel):
    agents: int = Field(description="At their desks in the interval (after shrinkage).")
    service_level: float
    average_speed_of_answer_seconds: float | None = Field(
        description="Over answered calls; null when no call would be answered."
    )
    abandonment: float
    occupancy: float


class IntervalPlan(BaseModel):
    start: datetime
    expected_calls: float
    calls_low: float = Field(description="The interval of uncertainty's lower end.")
    calls_high: float
    average_handle_time_seconds: float
    load_erlangs: float
    agents_required: int = Field(description="At their desks, to meet every target.")
    rostered_agents: int = Field(description="agents_required grossed up for shrinkage.")
    expected: WhatIf = Field(description="What agents_required are expected to give.")
    what_if: WhatIf | None = Field(description="What the asked number of agents would give.")


class DayPlan(BaseModel):
    date: date
    kind: str = Field(
        description="The weekday's number (Monday 0), holiday or make_up (a weekend day worked)."
    )
    expected_calls: float
    agent_hours: float = Field(description="Required agents × interval length, summed.")
    rostered_hours: float


class PlanTargets(BaseModel):
    service_level: float
    service_level_seconds: float
    max_abandonment: float
    occupancy_cap: float
    shrinkage: float
    patience_seconds: float | None = Field(
        description="Callers' mean patience the plan assumes; null: Erlang C, nobody abandons."
    )
    model: str = Field(description="erlang_a where patience is known, erlang_c otherwise.")


class HistoryUsed(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    calls: int

    model_config = ConfigDict(populate_by_name=True)


class StaffingForecast(BaseModel):
    queue: str
    from_: datetime = Field(alias="from")
    to: datetime
    interval_minutes: int
    interval_level: float = Field(description="What the calls_low-calls_high interval covers.")
    targets: PlanTargets
    history: HistoryUsed
    days: list[DayPlan]
    intervals: list[IntervalPlan]

    model_config = ConfigDict(populate_by_name=True)
