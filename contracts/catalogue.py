"""The topic and event catalogue: every topic the system uses and every event type on it.

This is the single source of truth for names on the wire; the AsyncAPI document is generated
from it. Event types are versioned: a change that breaks consumers gets a new type (``.v2``),
never an edit of the old one.
"""

from enum import StrEnum


class Topic(StrEnum):
    CUSTOMER = "crm.customer.v1"
    TRANSACTIONS = "crm.transactions.v1"
    INTERACTIONS = "crm.interactions.v1"
    OPPORTUNITIES = "crm.opportunities.v1"
    COMPLAINTS = "crm.complaints.v1"
    CONTACT = "crm.contact.v1"
    # Every ranking served (each screen pop, call list and banner) and each response to one:
    # many times the opportunities' volume, read by analytics rather than by work queues.
    DECISIONS = "crm.decisions.v1"

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self)


DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


class EventType(StrEnum):
    CUSTOMER_REGISTERED = "crm.customer.registered.v1"
    CUSTOMER_UPDATED = "crm.customer.updated.v1"
    CUSTOMER_SEGMENT_CHANGED = "crm.customer.segment_changed.v1"
    CUSTOMER_MANAGER_ASSIGNED = "crm.customer.manager_assigned.v1"
    CUSTOMER_UNSERVED = "crm.customer.unserved.v1"
    CUSTOMER_ERASED = "crm.customer.erased.v1"
    LEAD_CONVERTED = "crm.lead.converted.v1"
    SURVEY_ANSWERED = "crm.survey.answered.v1"

    TRANSACTION_POSTED = "crm.transaction.posted.v1"
    TRANSACTION_REVERSED = "crm.transaction.reversed.v1"
    ACCOUNT_OPENED = "crm.account.opened.v1"
    ACCOUNT_CLOSED = "crm.account.closed.v1"
    ACCOUNT_MATURED = "crm.account.matured.v1"

    INTERACTION_RECORDED = "crm.interaction.recorded.v1"

    OPPORTUNITY_CREATED = "crm.opportunity.created.v1"
    OPPORTUNITY_UPDATED = "crm.opportunity.updated.v1"
    OPPORTUNITY_CLOSED = "crm.opportunity.closed.v1"

    COMPLAINT_RECEIVED = "crm.complaint.received.v1"
    COMPLAINT_STEP_COMPLETED = "crm.complaint.step_completed.v1"
    COMPLAINT_ESCALATED = "crm.complaint.escalated.v1"
    COMPLAINT_CLOSED = "crm.complaint.closed.v1"
    COMPLAINT_LETTER_ISSUED = "crm.complaint.letter_issued.v1"

    CALL_STARTED = "crm.call.started.v1"
    CALL_ENDED = "crm.call.ended.v1"
    CALLBACK_SCHEDULED = "crm.callback.scheduled.v1"
    OUTBOUND_ATTEMPTED = "crm.outbound.attempted.v1"

    NEXT_BEST_ACTION_DECIDED = "crm.next_best_action.decided.v1"
    NEXT_BEST_ACTION_RESPONDED = "crm.next_best_action.responded.v1"


TOPIC_OF: dict[EventType, Topic] = {
    EventType.CUSTOMER_REGISTERED: Topic.CUSTOMER,
    EventType.CUSTOMER_UPDATED: Topic.CUSTOMER,
    EventType.CUSTOMER_SEGMENT_CHANGED: Topic.CUSTOMER,
    EventType.CUSTOMER_MANAGER_ASSIGNED: Topic.CUSTOMER,
    EventType.CUSTOMER_UNSERVED: Topic.CUSTOMER,
    EventType.CUSTOMER_ERASED: Topic.CUSTOMER,
    EventType.LEAD_CONVERTED: Topic.CUSTOMER,
    EventType.SURVEY_ANSWERED: Topic.CUSTOMER,
    EventType.TRANSACTION_POSTED: Topic.TRANSACTIONS,
    EventType.TRANSACTION_REVERSED: Topic.TRANSACTIONS,
    EventType.ACCOUNT_OPENED: Topic.TRANSACTIONS,
    EventType.ACCOUNT_CLOSED: Topic.TRANSACTIONS,
    EventType.ACCOUNT_MATURED: Topic.TRANSACTIONS,
    EventType.INTERACTION_RECORDED: Topic.INTERACTIONS,
    EventType.OPPORTUNITY_CREATED: Topic.OPPORTUNITIES,
    EventType.OPPORTUNITY_UPDATED: Topic.OPPORTUNITIES,
    EventType.OPPORTUNITY_CLOSED: Topic.OPPORTUNITIES,
    EventType.COMPLAINT_RECEIVED: Topic.COMPLAINTS,
    EventType.COMPLAINT_STEP_COMPLETED: Topic.COMPLAINTS,
    EventType.COMPLAINT_ESCALATED: Topic.COMPLAINTS,
    EventType.COMPLAINT_CLOSED: Topic.COMPLAINTS,
    EventType.COMPLAINT_LETTER_ISSUED: Topic.COMPLAINTS,
    EventType.CALL_STARTED: Topic.CONTACT,
    EventType.CALL_ENDED: Topic.CONTACT,
    EventType.CALLBACK_SCHEDULED: Topic.CONTACT,
    EventType.OUTBOUND_ATTEMPTED: Topic.CONTACT,
    EventType.NEXT_BEST_ACTION_DECIDED: Topic.DECISIONS,
    EventType.NEXT_BEST_ACTION_RESPONDED: Topic.DECISIONS,
}

# Which service publishes each topic. The catalogue names producers so that the AsyncAPI
# document can say who to ask about a topic; consumers are declared by the services.
PRODUCER_OF: dict[Topic, tuple[str, ...]] = {
    Topic.CUSTOMER: ("customer",),
    Topic.TRANSACTIONS: ("customer",),
    Topic.INTERACTIONS: ("customer", "contact_center"),
    Topic.OPPORTUNITIES: ("events",),
    Topic.COMPLAINTS: ("complaints",),
    Topic.CONTACT: ("contact_center",),
    Topic.DECISIONS: ("events",),
}

# How long each topic keeps its messages, in days (None: for ever). ``crm replay`` rebuilds a
# service from the log, so a topic keeps at least what its consumers' state reaches back to:
# the detector's windows span a year (services.events.state.MAX_WINDOW_DAYS, 366 days), and
# a month more covers a replay started late. The customer topic is every other service's
# knowledge of who the customers are (and carries no personal data), so it is kept whole.
# docs/event-consumers.md states the same figures; a test keeps them equal.
RETENTION_DAYS: dict[Topic, int | None] = {
    Topic.CUSTOMER: None,
    Topic.TRANSACTIONS: 400,
    Topic.INTERACTIONS: 400,
    Topic.OPPORTUNITIES: 400,
    Topic.COMPLAINTS: 400,
    Topic.CONTACT: 400,
    Topic.DECISIONS: 400,
}


def topic_of(event_type: EventType) -> Topic:
    return TOPIC_OF[event_type]
