"""The customer service's FastAPI application."""

import inspect
from pathlib import Path

from fastapi import FastAPI

import services.customer as service_package
from services.customer.config import Settings
from services.customer.consumers import build_batch_handler, build_handlers
from services.customer.endpoints import router
from services.customer.endpoints_privacy import router as privacy_router
from services.customer.endpoints_relationship import router as relationship_router
from shared.app import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="Bank CRM: customer service",
        description=DESCRIPTION,
        routers=[router, relationship_router, privacy_router],
        handlers=build_handlers(settings),
        batch_handler=build_batch_handler(settings),
    )
