"""The answers the complaints service gives about a case: what it looks like to the staff who
read it.

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


def _fields(case: Complaint, *, now: datetime, linked: bool) -> dict[str, Any]:
    disputed = (
        Money(amount=case.disputed_amount, currency=case.disputed_currency)
        if case.disputed_amount is not None and case.disputed_currency is not None
        else None
    )
    return {
        **{name: getattr(case, name) for name in _COPIED},
        "complainant": _complainant(case.complainant),
        "disputed_amount": disputed,
        "overdue": case.step_due_at is not None and case.step_due_at < now,
        "allowed_actions": allowed_actions(ComplaintStep(case.step)),
        "linked_to_open_case": linked,
    }


def complaint_read(case: Complaint, *, now: datetime, linked: bool = False) -> ComplaintRead:
    return ComplaintRead.model_validate(_fields(case, now=now, linked=linked))


def complaint_detail(
    case: Complaint, history: list[HistoryEntry], *, now: datetime
) -> ComplaintDetail:
    return ComplaintDetail.model_validate(
        {
            **_fields(case, now=now, linked=False),
            "history": [
                HistoryEntryRead.model_validate(entry, from_attributes=True) for entry in history
            ],
        }
    )


# What the answer computes; every other field of it is the case's column of the same name.
_COMPUTED = {"complainant", "disputed_amount", "overdue", "allowed_actions", "linked_to_open_case"}
_COPIED = [name for name in ComplaintRead.model_fields if name not in _COMPUTED]
