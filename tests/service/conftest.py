"""Fixtures of the service tests: each service's app, migrated and started on the real
PostgreSQL with the local bus, reached over HTTP through ASGI."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from crm.registry import SERVICES, ServiceSpec
from shared.migrations import upgrade
from shared.settings import SharedSettings


@pytest.fixture(scope="session")
async def migrated_database(database_url: str) -> str:
    for spec in SERVICES.values():
        await upgrade(spec.settings_class(database_url=database_url), spec.migrations)
    return database_url


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
            yield client


def settings_for(spec: ServiceSpec, database_url: str) -> SharedSettings:
    return spec.settings_class(database_url=database_url)
