"""The events service's FastAPI application."""

import inspect
from pathlib import Path

from fastapi import FastAPI

import services.events as service_package
from services.events.config import Settings
from services.events.consumers import HANDLERS
from services.events.endpoints import router
from shared.runtime import create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        title="Bank CRM: events service",
        description=DESCRIPTION,
        routers=[router],
        handlers=HANDLERS,
    )
