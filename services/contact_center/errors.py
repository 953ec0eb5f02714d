"""The contact centre's problems: each carries its HTTP status and a stable type."""

from shared.problems import Conflict, NotFound, ProblemError


class CallNotFound(NotFound):
    slug = "call-not-found"


class AgentNotFound(NotFound):
    slug = "agent-not-found"


class CallbackNotFound(NotFound):
    slug = "callback-not-found"


class EntryNotFound(NotFound):
    slug = "call-list-entry-not-found"


class AgentExists(Conflict):
    slug, title = "agent-exists", "An agent with this id exists"


class CallStateConflict(Conflict):
    """The call is not in a state where this action is taken; ``call_status`` says where it is."""

    slug, title = "call-state-conflict", "The call cannot take this action now"


class AgentBusy(Conflict):
    slug, title = "agent-busy", "The agent is not free for this"


class CallingRuleRefused(Conflict):
    """A calling rule forbids this call now; ``rule`` names it."""

    slug, title = "calling-rule", "A calling rule forbids this call"


class OutOfOrder(ProblemError):
    """The switch reports a time before the call's or agent's last recorded event, or ahead of
    our clock by more than the allowed skew."""

    status, slug, title = 422, "time-out-of-order", "The reported time is out of order"


class UnknownCustomer(ProblemError):
    """The request names a customer neither this service nor the customer service knows."""

    status, slug, title = 422, "unknown-customer", "No such customer"
