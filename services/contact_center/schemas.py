"""What every request of the contact centre's API shares: its field types and ``Timed``.

Requests forbid unknown fields. ``at`` on a telephony or desk action is when the switch says
it happened (the CTI event time); it defaults to the moment the request arrives."""

from typing import Annotated

from pydantic import AwareDatetime, Field

from shared.requests import RequestModel

AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]{1,29}$", examples=["A-1001"])]
PhoneNumber = Annotated[str, Field(min_length=3, max_length=30, examples=["13812345678"])]
Note = Annotated[str | None, Field(max_length=2000)]
At = Annotated[AwareDatetime | None, Field(description="When it happened; now if not given.")]


class Timed(RequestModel):
    at: At = None
