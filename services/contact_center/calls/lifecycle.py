"""The life of a call as an explicit state machine: from each status, the actions that may be
taken, whose they are, and the status each leads to.

waiting → offered (routing finds a free agent) → connected (that agent answers) ⇄ on hold;
a call being talked on goes back to waiting (a transfer) or to wrap-up (the line closes) and
is completed when the agent wraps it up; a call the caller leaves before an answer is
abandoned.

The table below is the whole lifecycle: anything it does not list is refused (409
``call-state-conflict``), so a new action cannot slip in without a row here."""

from dataclasses import dataclass
from enum import StrEnum

from services.contact_center.errors import CallStateConflict
from services.contact_center.models import CallStatus


class CallAction(StrEnum):
    OFFER = "offer"
    ANSWER = "answer"
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"
    HANG_UP = "hang_up"
    WRAP_UP = "wrap_up"


class Party(StrEnum):
    """Who takes an action."""

    ROUTING = "routing"  # the service, offering a waiting call to the longest-idle agent
    CALLER = "caller"  # the switch reports that the line closed
    OFFERED_AGENT = "offered_agent"  # only the agent the call is ringing for
    HANDLING_AGENT = "handling_agent"  # the agent who has the call


@dataclass(frozen=True)
class Move:
    by: Party
    to: CallStatus


# How an action reads when it is refused: "a completed call cannot be answered".
REFUSED_AS: dict[CallAction, str] = {
    CallAction.OFFER: "offered",
    CallAction.ANSWER: "answered",
    CallAction.HOLD: "put on hold",
    CallAction.RESUME: "resumed",
    CallAction.TRANSFER: "transferred",
    CallAction.HANG_UP: "hung up",
    CallAction.WRAP_UP: "wrapped up",
}

# While the caller is on the line with an agent, talking or held, the agent may pass the call
# on or finish it, and the line may close (the agent then wraps up).
_TALKING: dict[CallAction, Move] = {
    CallAction.TRANSFER: Move(Party.HANDLING_AGENT, CallStatus.WAITING),
    CallAction.HANG_UP: Move(Party.CALLER, CallStatus.WRAP_UP),
    CallAction.WRAP_UP: Move(Party.HANDLING_AGENT, CallStatus.COMPLETED),
}

LIFECYCLE: dict[CallStatus, dict[CallAction, Move]] = {
    CallStatus.WAITING: {
        CallAction.OFFER: Move(Party.ROUTING, CallStatus.OFFERED),
        CallAction.HANG_UP: Move(Party.CALLER, CallStatus.ABANDONED),
    },
    CallStatus.OFFERED: {
        CallAction.ANSWER: Move(Party.OFFERED_AGENT, CallStatus.CONNECTED),
        CallAction.HANG_UP: Move(Party.CALLER, CallStatus.ABANDONED),
    },
    CallStatus.CONNECTED: {
        CallAction.HOLD: Move(Party.HANDLING_AGENT, CallStatus.ON_HOLD),
        **_TALKING,
    },
    CallStatus.ON_HOLD: {
        CallAction.RESUME: Move(Party.HANDLING_AGENT, CallStatus.CONNECTED),
        **_TALKING,
    },
    CallStatus.WRAP_UP: {
        CallAction.WRAP_UP: Move(Party.HANDLING_AGENT, CallStatus.COMPLETED),
    },
    CallStatus.COMPLETED: {},
    CallStatus.ABANDONED: {},
}


def allowed_actions(status: CallStatus) -> list[CallAction]:
    return list(LIFECYCLE[status])


def move_for(status: str, action: CallAction) -> Move:
    """The move ``action`` makes from ``status``; a conflict naming where the call is when the
    table has no such move."""
    move = LIFECYCLE[CallStatus(status)].get(action)
    if move is None:
        raise CallStateConflict(
            f"a {status} call cannot be {REFUSED_AS[action]}", call_status=status
        )
    return move
