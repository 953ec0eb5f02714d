"""The complaints service's HTTP models: ``...Create`` and the actions in, ``...Read`` out.

An action is one model per procedure step, told apart by ``action``: each carries exactly what
that step decides, so a supervisor's return without a comment or an evaluation without a
lesson is a 422 naming the field, before anything is written."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from contracts.complaints import ComplaintCategory
from services.complaints.letters.wording import LetterLanguage
from services.complaints.models import (
    ComplaintCause,
    ComplaintChannel,
    ComplaintPriority,
    ComplaintStatus,
)
from services.complaints.procedure import ClosingOutcome, ComplaintAction, ComplaintStep
from services.complaints.returns.schemas import RegulatoryClassification
from shared.money import Money, PositiveAmount
from shared.requests import RequestModel

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Note = Annotated[str | None, Field(max_length=4000)]


class Complainant(RequestModel):
    """Someone who is not (or not yet known as) a customer: how to answer them."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Annotated[str | None, Field(pattern=r"^\+?[0-9][0-9 \-]{5,24}$")] = None
    email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)] = (
        None
    )

    @model_validator(mode="after")
    def _reachable(self) -> "Complainant":
        if not (self.phone or self.email):
            raise ValueError("give a phone or an e-mail address to answer the complainant")
        return self


class Attachment(RequestModel):
    """Metadata of a document kept in the bank's document store; the file is not sent here."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    media_type: Annotated[str, Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=100)]
    size_bytes: Annotated[int, Field(ge=0, le=1_000_000_000)]
    document_id: Annotated[str, Field(min_length=1, max_length=100)]


class DisputedAmount(Money):
    amount: PositiveAmount


class ComplaintCreate(RequestModel):
    customer_id: uuid.UUID | None = None
    complainant: Complainant | None = None
    channel: ComplaintChannel
    category: ComplaintCategory
    cause: ComplaintCause | None = None
    description: Text
    disputed_amount: DisputedAmount | None = None
    transaction_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=50)
    ] = []  # noqa: RUF012
    attachments: Annotated[list[Attachment], Field(max_length=20)] = []  # noqa: RUF012
    call_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    received_at: AwareDatetime | None = None  # when the channel took it; now if not given
    # The language of the complainant's letters; their jurisdiction's if not given.
    language: LetterLanguage | None = None

    @model_validator(mode="after")
    def _someone_to_answer(self) -> "ComplaintCreate":
        if self.customer_id is None and self.complainant is None:
            raise ValueError("give the customer_id, or the complainant's contact details")
        return self


class _Action(RequestModel):
    note: Note = None


class JudgeValidity(_Action):
    action: Literal[ComplaintAction.JUDGE_VALIDITY]
    valid: bool
    # For an invalid complaint, the explanation the customer is sent.
    explanation: Text | None = None

    @model_validator(mode="after")
    def _explained(self) -> "JudgeValidity":
        if not self.valid and not self.explanation:
            raise ValueError("explanation: an invalid complaint needs the answer sent to them")
        return self


class AssignDepartment(_Action):
    action: Literal[ComplaintAction.ASSIGN_DEPARTMENT]
    department: Annotated[str, Field(min_length=1, max_length=60)]


class AnalyseCause(_Action):
    action: Literal[ComplaintAction.ANALYSE_CAUSE]
    cause: ComplaintCause
    finding: Text


class ProposeResolution(_Action):
    action: Literal[ComplaintAction.PROPOSE_RESOLUTION]
    resolution: Text
    compensation: Money | None = None  # the redress, in the return's currency when classified
    # How the regulator's return counts the case; a case never classified is counted under
    # its pack's "other" codes.
    classification: RegulatoryClassification | None = None


class ApproveResolution(_Action):
    action: Literal[ComplaintAction.APPROVE_RESOLUTION]


class ReturnResolution(_Action):
    action: Literal[ComplaintAction.RETURN_RESOLUTION]
    comment: Text


class ImplementResolution(_Action):
    action: Literal[ComplaintAction.IMPLEMENT_RESOLUTION]
    done: Text


class Evaluate(_Action):
    action: Literal[ComplaintAction.EVALUATE]
    # The customer's satisfaction with the outcome, 1-5; None when they could not be reached.
    satisfaction: Annotated[int | None, Field(ge=1, le=5)]
    root_cause: Text
    lesson: Text


class ExtendDeadline(_Action):
    action: Literal[ComplaintAction.EXTEND_DEADLINE]
    reason: Text


class Withdraw(_Action):
    action: Literal[ComplaintAction.WITHDRAW]
    reason: Text


class Reopen(_Action):
    action: Literal[ComplaintAction.REOPEN]
    reason: Text


ActionRequest = Annotated[
    JudgeValidity
    | AssignDepartment
    | AnalyseCause
    | ProposeResolution
    | ApproveResolution
    | ReturnResolution
    | ImplementResolution
    | Evaluate
    | ExtendDeadline
    | Withdraw
    | Reopen,
    Field(discriminator="action"),
]


class HistoryEntryRead(BaseModel):
    action: str
    from_step: str | None
    to_step: str | None
    actor_id: str
    actor_role: str
    decision: dict[str, object]
    note: str | None
    at: datetime


class ComplainantRead(BaseModel):
    name: str
    phone: str | None
    email: str | None


class ComplaintRead(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID | None
    complainant: ComplainantRead | None  # masked
    channel: ComplaintChannel
    category: ComplaintCategory
    cause: ComplaintCause | None
    description: str
    disputed_amount: Money | None
    transaction_ids: list[str]
    attachments: list[Attachment]
    call_id: str | None
    priority: ComplaintPriority
    status: ComplaintStatus
    step: ComplaintStep
    outcome: ClosingOutcome | None
    department: str | None
    resolution: str | None
    deadline_pack: str
    language: LetterLanguage
    received_at: datetime
    accepted_at: datetime | None
    acknowledge_by: datetime
    decide_by: datetime | None
    decided_at: datetime | None
    extensions_used: int
    step_due_at: datetime | None
    overdue: bool
    escalation_level: int
    closed_at: datetime | None
    reopen_count: int
    linked_count: int
    is_repeat: bool
    satisfaction: int | None
    root_cause: str | None
    lesson: str | None
    allowed_actions: list[ComplaintAction]
    # Set when this submission was linked to a case already open, not opened anew.
    linked_to_open_case: bool = False


class ComplaintDetail(ComplaintRead):
    history: list[HistoryEntryRead]


class ComplaintPage(BaseModel):
    items: list[ComplaintRead]
    next_cursor: str | None


class Breakdown(BaseModel):
    key: str
    count: int


class StepDuration(BaseModel):
    step: str
    average_hours: float
    samples: int


class ComplaintStats(BaseModel):
    received_from: datetime
    received_to: datetime
    received: int
    by_category: list[Breakdown]
    by_cause: list[Breakdown]
    by_channel: list[Breakdown]
    by_department: list[Breakdown]
    average_time_per_step: list[StepDuration]
    decided: int
    decided_on_time: int
    # Decided in time, over decided plus still undecided past the deadline; None with neither.
    on_time_rate: float | None
    repeat_complaints: int
    satisfaction_responses: int
    average_satisfaction: float | None
    customers_complaining: int
    customers_left_after_complaint: int
