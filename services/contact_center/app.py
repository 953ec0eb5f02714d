"""The contact_center service's FastAPI application."""

import inspect
from pathlib import Path

import httpx
from fastapi import FastAPI

import services.contact_center as service_package
from services.contact_center.agents.endpoints import router as agents_router
from services.contact_center.callbacks.endpoints import router as callbacks_router
from services.contact_center.calls.customer_client import CustomerClient
from services.contact_center.calls.endpoints import router as calls_router
from services.contact_center.calls.events_client import EventsClient
from services.contact_center.config import Settings
from services.contact_center.erasure.consumers import HANDLERS as ERASURE_HANDLERS
from services.contact_center.jobs import ContactMetrics, LiveBoard
from services.contact_center.known_customers.consumers import HANDLERS as CUSTOMER_HANDLERS
from services.contact_center.outbound.consumers import HANDLERS as OUTBOUND_HANDLERS
from services.contact_center.outbound.endpoints import router as outbound_router
from services.contact_center.staffing.endpoints import router as staffing_router
from services.contact_center.stats.endpoints import router as stats_router
from shared.app import create_service_app
from shared.metrics import ServiceMetrics

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")

# In this order the OpenAPI document lists the paths as it always has: calls, agents, queues
# and statistics, then callbacks and the outbound call list, then the planners' staffing.
ROUTERS = [
    calls_router,
    agents_router,
    stats_router,
    callbacks_router,
    outbound_router,
    staffing_router,
]
HANDLERS = {**CUSTOMER_HANDLERS, **ERASURE_HANDLERS, **OUTBOUND_HANDLERS}


def create_app(
    settings: Settings | None = None,
    *,
    customer_transport: httpx.AsyncBaseTransport | None = None,
    events_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``customer_transport``, ``events_transport``: how to reach the customer and events
    services when not over the network (tests hand them the apps in the same process)."""
    settings = settings or Settings()
    metrics = ServiceMetrics(settings.service_name)
    customer_client = CustomerClient(settings, transport=customer_transport)
    events_client = EventsClient(settings, transport=events_transport)
    app = create_service_app(
        settings,
        title="Bank CRM: contact centre service",
        description=DESCRIPTION,
        routers=ROUTERS,
        handlers=HANDLERS,
        jobs=[LiveBoard(settings, ContactMetrics(metrics.registry)).job()],
        metrics=metrics,
        clients=[customer_client, events_client],
    )
    customer_client.traced_by(app.state.tracer_provider)
    events_client.traced_by(app.state.tracer_provider)
    app.state.customer_client = customer_client
    app.state.events_client = events_client
    return app
