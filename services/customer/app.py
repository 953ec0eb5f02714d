"""The customer service's FastAPI application."""

import inspect
from pathlib import Path

from fastapi import FastAPI

import services.customer as service_package
from services.customer.accounts import endpoints as accounts_endpoints
from services.customer.analytics import endpoints as analytics_endpoints
from services.customer.config import Settings
from services.customer.consumers import build_batch_handler, build_handlers
from services.customer.customers import endpoints as customers_endpoints
from services.customer.groups import endpoints as groups_endpoints
from services.customer.interactions import endpoints as interactions_endpoints
from services.customer.managers import endpoints as managers_endpoints
from services.customer.onboarding import endpoints as onboarding_endpoints
from services.customer.privacy import endpoints as privacy_endpoints
from services.customer.prospects import endpoints as prospects_endpoints
from services.customer.reconciliation import endpoints as reconciliation_endpoints
from services.customer.reconciliation.metrics import ReconciliationMetrics
from services.customer.relationships import endpoints as relationships_endpoints
from services.customer.reviews import endpoints as reviews_endpoints
from services.customer.surveys import endpoints as surveys_endpoints
from services.customer.timeline import endpoints as timeline_endpoints
from services.customer.view import endpoints as view_endpoints
from services.customer.wallet import endpoints as wallet_endpoints
from services.customer.worklist import endpoints as worklist_endpoints
from shared.app import create_service_app
from shared.metrics import ServiceMetrics

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = inspect.cleandoc(service_package.__doc__ or "")

# In the order the routes were published: the OpenAPI document lists paths in the order
# they are registered, and it must not change when the code moves.
ROUTERS = [
    customers_endpoints.router,
    view_endpoints.router,
    accounts_endpoints.router,
    interactions_endpoints.router,
    managers_endpoints.router,
    surveys_endpoints.router,
    prospects_endpoints.router,
    relationships_endpoints.router,
    analytics_endpoints.router,
    privacy_endpoints.router,
    reconciliation_endpoints.router,
    timeline_endpoints.router,
    reviews_endpoints.router,
    groups_endpoints.router,
    worklist_endpoints.router,
    wallet_endpoints.router,
    onboarding_endpoints.router,
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = ServiceMetrics(settings.service_name)
    reconciliation_metrics = ReconciliationMetrics(metrics.registry)
    app = create_service_app(
        settings,
        title="Bank CRM: customer service",
        description=DESCRIPTION,
        routers=ROUTERS,
        handlers=build_handlers(settings),
        jobs=[reconciliation_metrics.job(settings.reconciliation_gauge_seconds)],
        metrics=metrics,
        batch_handler=build_batch_handler(settings),
    )
    app.state.reconciliation_metrics = reconciliation_metrics
    return app
