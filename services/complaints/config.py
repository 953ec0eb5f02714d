"""Settings of the complaints service: ``CRM_COMPLAINTS_*`` first, then ``CRM_*``.

The regulatory pack, per-category deadline overrides, the priority table and the reopening
period are configuration (JSON values in the environment), not code."""

from typing import ClassVar

from pydantic import Field, field_validator

from services.complaints.deadlines import PACKS, DayCount, DecisionRule, Period, RegulatoryPack
from services.complaints.models import ComplaintPriority
from shared.settings import SharedSettings


class Settings(SharedSettings):
    service_name: ClassVar[str] = "complaints"
    default_port: ClassVar[int] = 8003

    deadline_pack: str = "cn"
    # Category → decision rule, ahead of the pack's own (e.g. fraud cases in 7 days).
    decision_overrides: dict[str, DecisionRule] = Field(default_factory=dict)
    # The bank's own time for the steps after the decision, on the pack's calendar.
    implementation_period: Period = Period(5, DayCount.BUSINESS_DAYS)
    evaluation_period: Period = Period(5, DayCount.BUSINESS_DAYS)
    reminder_lead_hours: float = Field(default=24.0, ge=0)
    reopen_within_days: int = Field(default=30, ge=0)
    # A complaint is at least as urgent as its customer's tier, its category and its channel.
    priority_by_tier: dict[str, ComplaintPriority] = Field(
        default_factory=lambda: {
            "premium": ComplaintPriority.HIGH,
            "key": ComplaintPriority.HIGH,
        }
    )
    priority_by_category: dict[str, ComplaintPriority] = Field(
        default_factory=lambda: {
            "dispute_or_fraud": ComplaintPriority.URGENT,
            "system_failure": ComplaintPriority.HIGH,
        }
    )
    priority_by_channel: dict[str, ComplaintPriority] = Field(
        default_factory=lambda: {"regulator_referral": ComplaintPriority.URGENT}
    )
    # A new complaint within this many days of a closed one (same customer and category) is
    # counted as a repeat.
    repeat_within_days: int = Field(default=90, ge=1)
    deadline_sweep_interval_seconds: float = Field(default=60.0, gt=0)
    # The denominators of the NFRA's quarterly complaint rates (per 1,000 outlets, per 10
    # million personal customers); the rates are left out while they are not set.
    outlets: int | None = Field(default=None, ge=1)
    personal_customers: int | None = Field(default=None, ge=1)
    # The legal entities (FCA firm reference numbers) the consolidated return is made for;
    # a case names one at its resolution proposal, or counts for the first.
    legal_entities: list[str] = Field(default_factory=lambda: ["main"], min_length=1)

    @field_validator("deadline_pack")
    @classmethod
    def _known_pack(cls, code: str) -> str:
        if code not in PACKS:
            raise ValueError(f"unknown deadline pack {code!r}; known: {sorted(PACKS)}")
        return code

    @property
    def pack(self) -> RegulatoryPack:
        return PACKS[self.deadline_pack]
