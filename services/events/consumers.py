"""Handlers of the events the detector consumes: every event a rule may listen to goes
through the same path (keep the customer's state, run the rules)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import service
from services.events.config import Settings
from services.events.rules import TRIGGER_EVENTS
from services.events.service import RuleBook
from shared.consumer import Handler, Handlers
from shared.envelope import EventEnvelope
from shared.events import DomainEvent


def build_handlers(settings: Settings, rule_book: RuleBook) -> Handlers:
    async def detect(session: AsyncSession, event: DomainEvent, envelope: EventEnvelope) -> None:
        rules = await rule_book.live(session, settings)
        await service.handle_event(session, event, envelope, rules=rules, settings=settings)

    handler: Handler = detect
    return dict.fromkeys(TRIGGER_EVENTS.values(), handler)
