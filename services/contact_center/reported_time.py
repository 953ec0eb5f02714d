"""When the switch or the desk says something happened, checked against our clock and against
the last event recorded of the call or the agent."""

from datetime import datetime, timedelta

from services.contact_center.config import Settings
from services.contact_center.errors import OutOfOrder


def moment(at: datetime | None, *, now: datetime, settings: Settings) -> datetime:
    """When the switch says something happened: not ahead of our clock beyond the skew."""
    if at is None:
        return now
    if at > now + timedelta(seconds=settings.clock_skew_seconds):
        raise OutOfOrder(f"at: {at.isoformat()} is ahead of the service's clock", field="at")
    return at


def not_before(at: datetime, last: datetime | None, what: str) -> None:
    if last is not None and at < last:
        raise OutOfOrder(
            f"at: {at.isoformat()} is before the {what}'s last event ({last.isoformat()})",
            field="at",
        )
