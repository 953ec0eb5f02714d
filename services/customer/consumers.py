"""Handlers of the events the customer service consumes, gathered from its features.

The service consumes its own transaction and account events to keep segments current
(``valuation``); contacts the contact centre records join the customer's timeline
(``interactions``); complaints and opportunities are kept as projections for the 360 view
(``view``).

Handlers need the service's settings (thresholds, policies), so the map is built per app."""

from services.customer.config import Settings
from services.customer.interactions import consumers as interactions_consumers
from services.customer.valuation import consumers as valuation_consumers
from services.customer.view import consumers as view_consumers
from shared.consumer import BatchHandler, Handlers


def build_handlers(settings: Settings) -> Handlers:
    return {
        **valuation_consumers.build_handlers(settings),
        **interactions_consumers.build_handlers(settings),
        **view_consumers.HANDLERS,
    }


def build_batch_handler(settings: Settings) -> BatchHandler:
    return valuation_consumers.build_batch_handler(settings, handlers=build_handlers(settings))
