"""Read models of the complaints service: what a case looks like to the staff who read it.

A non-customer's phone and e-mail are masked here, whoever asks: the case needs them to answer
the complainant, the screen does not."""

from datetime import datetime
from typing import Any

from services.complaints.models import Complaint, HistoryEntry
from services.complaints.procedure import ComplaintStep, allowed_actions
from services.complaints.schemas import (
    ComplainantRead,
    ComplaintDetail,
    ComplaintRead,
    HistoryEntryRead,
)
from shared.masking import mask_email, mask_phone
from shared.money import Money


def _complainant(contact: dict[str, Any] | None) -> ComplainantRead | None:
    if contact is None:
        return None
    phone, email = contact.get("phone"), contact.get("email")
    return ComplainantRead(
        name=contact["name"],
        phone=mask_phone(phone) if phone else None,
        email=mask_email(email) if email else None,
    )


def complaint_read(case: Complaint, *, now: datetime, linked: bool = False) -> ComplaintRead:
    disputed = (
        Money(amount=case.disputed_amount, currency=case.disputed_currency)
        if case.disputed_amount is not None and case.disputed_currency is not None
        else None
    )
    return ComplaintRead.model_validate(
        {
            **{name: getattr(case, name) for name in _COPIED},
            "complainant": _complainant(case.complainant),
            "disputed_amount": disputed,
            "overdue": case.step_due_at is not None and case.step_due_at < now,
            "allowed_actions": allowed_actions(ComplaintStep(case.step)),
            "linked_to_open_case": linked,
        }
    )


def complaint_detail(
    case: Complaint, history: list[HistoryEntry], *, now: datetime
) -> ComplaintDetail:
    read = complaint_read(case, now=now)
    return ComplaintDetail(
        **read.model_dump(),
        history=[HistoryEntryRead.model_validate(entry, from_attributes=True) for entry in history],
    )


_COPIED = [
    "id",
    "customer_id",
    "channel",
    "category",
    "cause",
    "description",
    "transaction_ids",
    "attachments",
    "call_id",
    "priority",
    "status",
    "step",
    "outcome",
    "department",
    "resolution",
    "deadline_pack",
    "received_at",
    "accepted_at",
    "acknowledge_by",
    "decide_by",
    "decided_at",
    "extensions_used",
    "step_due_at",
    "escalation_level",
    "closed_at",
    "reopen_count",
    "linked_count",
    "is_repeat",
    "satisfaction",
    "root_cause",
    "lesson",
]
