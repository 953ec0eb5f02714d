"""When a customer's next review falls due, and whether it is due or overdue: pure.

The tier policy says how often (``review_every_days``). The count starts at the latest review,
whose manager may have agreed an earlier date, or at the latest tier change when that came
after it: a tier change reschedules the review to the new tier's cadence."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum


class ReviewStatus(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"  # within the notice days of its date, or on it
    OVERDUE = "overdue"  # its date has passed


@dataclass(frozen=True)
class ReviewAnchor:
    """What the schedule counts from, in the bank's dates."""

    tier_since: datetime  # the latest tier change (registration, for a tier never changed)
    tier_since_on: date
    reviewed_at: datetime | None = None
    reviewed_on: date | None = None
    agreed_next_on: date | None = None  # the next date the last review set


def anchor_of(
    tier_since: datetime,
    *,
    reviewed_at: datetime | None,
    agreed_next_on: date | None,
    zone: tzinfo,
) -> ReviewAnchor:
    """The anchor of a customer whose tier last changed at ``tier_since`` and whose latest
    review (if any) was done at ``reviewed_at``, counted in the bank's dates."""
    return ReviewAnchor(
        tier_since=tier_since,
        tier_since_on=tier_since.astimezone(zone).date(),
        reviewed_at=reviewed_at,
        reviewed_on=reviewed_at.astimezone(zone).date() if reviewed_at else None,
        agreed_next_on=agreed_next_on,
    )


def counted_from(anchor: ReviewAnchor) -> datetime:
    """The latest review, or the latest tier change when that came after it."""
    if anchor.reviewed_at is not None and anchor.reviewed_at >= anchor.tier_since:
        return anchor.reviewed_at
    return anchor.tier_since


def next_review_on(anchor: ReviewAnchor, *, every_days: int) -> date:
    reviewed_since_tier = anchor.reviewed_at is not None and anchor.reviewed_at >= anchor.tier_since
    if reviewed_since_tier and anchor.reviewed_on is not None:
        if anchor.agreed_next_on is not None:
            return anchor.agreed_next_on
        return anchor.reviewed_on + timedelta(days=every_days)
    return anchor.tier_since_on + timedelta(days=every_days)


def review_status(due_on: date, *, today: date, notice_days: int) -> ReviewStatus:
    if today > due_on:
        return ReviewStatus.OVERDUE
    if today >= due_on - timedelta(days=notice_days):
        return ReviewStatus.DUE
    return ReviewStatus.SCHEDULED


def latest_next_on(reviewed_on: date, *, every_days: int) -> date:
    """The latest next date a review may agree: the policy's interval, not beyond it."""
    return reviewed_on + timedelta(days=every_days)
