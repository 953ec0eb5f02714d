"""What every request of the contact centre's API shares: its field types and ``Timed``.

Requests forbid unknown fields. ``at`` on a telephony or desk action is when the switch says
it happened (the CTI event time); it defaults to the moment the request arrives."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from shared.requests import RequestModel

AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]{1,29}$", examples=["A-1001"])]
# As long as the column that keeps it (callbacks.phone_number, varchar(20)).
PhoneNumber = Annotated[str, Field(min_length=3, max_length=20, examples=["13812345678"])]
Note = Annotated[str | None, Field(max_length=2000)]
At = Annotated[AwareDatetime | None, Field(description="When it happened; now if not given.")]
CALLBACK_HORIZON = timedelta(days=366)


def _within_the_horizon(moment: datetime) -> datetime:
    if moment > datetime.now(UTC) + CALLBACK_HORIZON:
        raise ValueError("a callback is scheduled at most a year ahead")
    return moment


CallbackTime = Annotated[
    AwareDatetime,
    AfterValidator(_within_the_horizon),
    Field(description="When the customer asked to be called: at most a year ahead."),
]


class Timed(RequestModel):
    at: At = None
