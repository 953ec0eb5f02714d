"""The events service's FastAPI application."""

import inspect
from pathlib import Path

from fastapi import FastAPI

import services.events as service_package
from services.events.config import Settings
from services.events.consumers import build_batch_handler, build_handlers
from services.events.decisions.endpoints import router as decisions_router
from services.events.endpoints import router
from services.events.jobs import scheduled_jobs
from services.events.metrics import DetectorMetrics
from services.events.next_best.catalogue import CATALOGUE, catalogue
from services.events.next_best.endpoints import router as next_best_router
from services.events.service import RuleBook
from shared.app import create_service_app
from shared.metrics import ServiceMetrics

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # A catalogue that cannot be read stops the service at its start, not at a customer's call.
    catalogue(settings.action_catalogue or CATALOGUE)
    rule_book = RuleBook()
    metrics = ServiceMetrics(settings.service_name)
    detector_metrics = DetectorMetrics(metrics.registry)
    app = create_service_app(
        settings,
        title="Bank CRM: events service",
        description=DESCRIPTION,
        routers=[router, next_best_router, decisions_router],
        handlers=build_handlers(settings, rule_book, detector_metrics),
        batch_handler=build_batch_handler(settings, rule_book, detector_metrics),
        jobs=scheduled_jobs(settings, rule_book, detector_metrics),
        metrics=metrics,
    )
    app.state.rule_book = rule_book
    app.state.detector_metrics = detector_metrics
    return app
