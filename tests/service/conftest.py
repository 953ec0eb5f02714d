"""Fixtures of the service tests: each service's app, migrated and started on the real
PostgreSQL with the local bus, reached over HTTP through ASGI."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from crm.registry import ServiceSpec
from shared.settings import SharedSettings


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
            yield client


def settings_for(spec: ServiceSpec, database_url: str) -> SharedSettings:
    return spec.settings_class(database_url=database_url)
