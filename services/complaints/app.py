"""The complaints service's FastAPI application."""

import inspect
from pathlib import Path

from fastapi import FastAPI

import services.complaints as service_package
from services.complaints.config import Settings
from services.complaints.consumers import build_handlers
from services.complaints.endpoints import router
from services.complaints.jobs import ComplaintMetrics, DeadlineSweep
from services.complaints.letters.endpoints import router as letters_router
from services.complaints.returns.endpoints import router as returns_router
from shared.app import create_service_app
from shared.metrics import ServiceMetrics

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = ServiceMetrics(settings.service_name)
    sweep = DeadlineSweep(settings, ComplaintMetrics(metrics.registry))
    return create_service_app(
        settings,
        title="Bank CRM: complaints service",
        description=DESCRIPTION,
        # The returns' fixed path goes ahead of the case routes' ``/complaints/{complaint_id}``.
        routers=[returns_router, router, letters_router],
        handlers=build_handlers(settings),
        jobs=[sweep.job()],
        metrics=metrics,
    )
