"""The contact_center service's FastAPI application."""

import inspect
from pathlib import Path

import httpx
from fastapi import FastAPI

import services.contact_center as service_package
from services.contact_center.config import Settings
from services.contact_center.consumers import HANDLERS
from services.contact_center.directory import CustomerDirectory
from services.contact_center.endpoints import router
from services.contact_center.endpoints_outbound import router as outbound_router
from services.contact_center.jobs import ContactMetrics, LiveBoard
from shared.app import create_service_app
from shared.metrics import ServiceMetrics

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")


def create_app(
    settings: Settings | None = None, *, customer_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """``customer_transport``: how to reach the customer service when not over the network
    (tests hand it the customer app in the same process)."""
    settings = settings or Settings()
    metrics = ServiceMetrics(settings.service_name)
    directory = CustomerDirectory(settings, transport=customer_transport)
    app = create_service_app(
        settings,
        title="Bank CRM: contact centre service",
        description=DESCRIPTION,
        routers=[router, outbound_router],
        handlers=HANDLERS,
        jobs=[LiveBoard(settings, ContactMetrics(metrics.registry)).job()],
        metrics=metrics,
        clients=[directory],
    )
    app.state.customer_directory = directory
    return app
