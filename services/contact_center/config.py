"""Settings of the contact_center service: ``CRM_CONTACT_CENTER_*`` first, then ``CRM_*``.

Routing by tier, the calling rules and the scripts agents read are configuration (JSON values
in the environment), not code."""

from datetime import time
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from services.contact_center.models import Skill
from shared.business_calendar import BusinessCalendar
from shared.settings import SharedSettings


def _default_scripts() -> dict[str, str]:
    # Keyed by "action" or "action:product"; the more specific wins.
    return {
        "retention_call": "Thank the customer for banking with us, ask how their needs have "
        "changed, and offer a review with their manager.",
        "cross_sell": "Mention the product only after the customer's own matter is settled; "
        "offer to send details in writing.",
        "cross_sell:payroll_package": "We noticed a regular salary credit: the payroll package "
        "waives transfer fees and gives a preferential deposit rate.",
        "up_sell": "Offer a meeting with a wealth adviser about higher-yield products.",
        "service_recovery": "Apologise for the trouble, confirm the open case and its deadline, "
        "and ask whether anything else is outstanding.",
    }


class Settings(SharedSettings):
    service_name: ClassVar[str] = "contact_center"
    default_port: ClassVar[int] = 8004

    # The customer service, for the screen pop and for callers not yet in our projection.
    customer_service_url: str = "http://127.0.0.1:8001"
    # The screen pop waits this long at most; after that it answers with what it has.
    customer_service_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    # The events service, whose next-best-action ranking the screen pop shows and the call
    # list follows; asked beside the customer service, with the same short wait.
    events_service_url: str = "http://127.0.0.1:8002"
    events_service_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    # How many of the ranked actions the screen pop shows.
    screen_pop_actions: int = Field(default=3, ge=1, le=20)
    # The call list asks the ranking for each customer among this many callable entries (the
    # highest priority first), this many customers at a time, and gives up on it after this
    # long, falling back to the priority order.
    call_list_candidates: int = Field(default=500, ge=1, le=5000)
    call_list_ranking_concurrency: int = Field(default=20, ge=1, le=50)
    call_list_ranking_seconds: float = Field(default=2.0, gt=0, le=30)

    # Service level: the share of calls answered within this many seconds (the 80/20 norm).
    service_level_seconds: float = Field(default=20.0, gt=0)
    service_level_target: float = Field(default=0.8, gt=0, le=1)
    # A tier without a policy (or a caller we do not know) waits at this priority; 0 is first.
    default_queue_priority: int = Field(default=5, ge=0, le=9)
    # Handle time assumed for the wait estimate until a queue has calls of its own to go by.
    assumed_handle_seconds: float = Field(default=180.0, gt=0)
    # A repeat contact on the same matter within this many days is not first-contact resolved.
    first_contact_window_days: int = Field(default=7, ge=1)
    # The telephony reports when each thing happened; a report this far ahead of our clock is
    # refused as a clock fault rather than recorded.
    clock_skew_seconds: float = Field(default=5.0, ge=0)
    # IVR menu choices (the last digit pressed) → queue; anything else goes to general.
    ivr_queues: dict[str, Skill] = Field(
        default_factory=lambda: {
            "1": Skill.CARDS,
            "2": Skill.LOANS,
            "3": Skill.WEALTH,
            "4": Skill.COMPLAINTS,
            "0": Skill.GENERAL,
        }
    )

    # Outbound calling rules.
    calling_hours_start: time = time(9, 0)
    calling_hours_end: time = time(20, 0)
    calling_time_zone: str = "Asia/Shanghai"
    max_call_attempts: int = Field(default=3, ge=1, le=10)
    retry_after_minutes: int = Field(default=120, ge=1)
    # Marketing consent for this channel is what permits a sales call.
    consent_channel: str = "phone"

    scripts: dict[str, str] = Field(default_factory=_default_scripts)

    # The planners' forecast and staffing (docs/contact-center.md, "Planning the floor").
    forecast_interval_minutes: Literal[15, 30] = 30
    forecast_history_weeks: int = Field(default=8, ge=2, le=52)
    forecast_shape_half_life_weeks: float = Field(default=4.0, gt=0, le=52)
    # The probability the forecast's interval of uncertainty is meant to cover.
    forecast_interval_level: float = Field(default=0.9, gt=0, lt=1)
    # The calendar that says which days are holidays and make-up working days.
    holiday_country: str = "CN"
    holiday_subdivision: str | None = None
    max_abandonment: float = Field(default=0.05, gt=0, le=1)
    occupancy_cap: float = Field(default=0.85, gt=0, le=1)
    # The share of a rostered agent's time not at the desk: breaks, training, absence.
    shrinkage: float = Field(default=0.3, ge=0, lt=1)
    # Callers' mean patience; unset, it is estimated from the queue's abandoned calls, and a
    # queue with too few of those is planned with Erlang C (nobody hangs up).
    caller_patience_seconds: float | None = Field(default=None, gt=0)
    patience_min_abandoned: int = Field(default=30, ge=1)
    live_metrics_interval_seconds: float = Field(default=5.0, gt=0)

    @field_validator("calling_time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}") from error
        return name

    @model_validator(mode="after")
    def _hours_in_order(self) -> "Settings":
        if self.calling_hours_start >= self.calling_hours_end:
            raise ValueError("calling_hours_start must be before calling_hours_end")
        return self

    @property
    def holiday_calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.holiday_country, self.holiday_subdivision, self.bank_zone)

    @property
    def calling_zone(self) -> ZoneInfo:
        return ZoneInfo(self.calling_time_zone)

    def script_for(self, action: str, product: str | None) -> str | None:
        return self.scripts.get(f"{action}:{product}") or self.scripts.get(action)
