"""Fixtures of the service tests: each service's app, migrated and started on the real
PostgreSQL with the local bus, reached over HTTP through ASGI."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from contracts.base import DomainEvent
from crm.registry import ServiceSpec
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.bus import OutgoingMessage
from shared.db import create_engine
from shared.envelope import EventEnvelope
from shared.outbox import OutboxRecord, to_message
from shared.runtime import create_bus
from shared.settings import SharedSettings
from tests.waiting import wait_until


@asynccontextmanager
async def serving(app: FastAPI, *, role: Role = Role.SYSTEM) -> AsyncIterator[httpx.AsyncClient]:
    """The app started, and a client carrying a development token of ``role`` (by default an
    integration account: every business scope, no object limits)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://crm.test", headers=development_bearer(role)
        ) as client:
            yield client


def settings_for(spec: ServiceSpec, database_url: str) -> SharedSettings:
    return spec.settings_class(database_url=database_url)


def message_of(event: DomainEvent, *, source: str) -> OutgoingMessage:
    """The message another service's relay would send: CloudEvents headers, customer key."""
    return to_message(
        OutboxRecord(
            event_id=uuid.uuid4(), topic=event.topic, message_key=event.subject,
            event_type=event.event_type, source=source, occurred_at=datetime.now(UTC),
            correlation_id=None, payload=event.model_dump(mode="json"),
        )
    )  # fmt: skip


async def publish(settings: SharedSettings, *events: DomainEvent, source: str) -> None:
    """Publish as another service's relay would, on the bus the settings name: CloudEvents
    headers, customer key."""
    engine = create_engine(settings)
    bus = create_bus(settings, engine)
    try:
        await bus.start()
        await bus.ensure_topics(sorted({e.topic for e in events}))
        await bus.publish([message_of(e, source=source) for e in events])
    finally:
        await bus.stop()
        await engine.dispose()


async def publish_and_wait_applied(
    settings: SharedSettings, event: DomainEvent, *, source: str
) -> None:
    """Publish as another service's relay would and wait until this service's consumer has
    applied it: its inbox holds one more event of that type (an event published again is
    another id, which the inbox lets through)."""
    count = "SELECT count(*) FROM inbox WHERE event_type = :t"
    before = int(str(await scalar(settings, count, t=event.event_type)))
    await publish(settings, event, source=source)

    async def applied() -> bool:
        return int(str(await scalar(settings, count, t=event.event_type))) == before + 1

    await wait_until(applied, timeout=20)


@dataclass(frozen=True)
class Published:
    """A message as a subscriber reads it off the bus: its ``ce_type`` and its body."""

    event_type: str
    body: dict[str, Any]


async def published(
    settings: SharedSettings,
    topic: str,
    key: object,
    enough: Callable[[list[Published]], bool],
    *,
    timeout: float = 30.0,
) -> list[Published]:
    """From the beginning of ``topic`` on the bus the settings name, the messages keyed by
    ``key`` (other tests publish there too), in the order of its partition, until ``enough``
    says so."""
    engine = create_engine(settings)
    bus = create_bus(settings, engine)
    await bus.start()
    await bus.ensure_topics([topic])
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [topic])
    await consumer.start()
    found: list[Published] = []
    try:
        async with asyncio.timeout(timeout):
            while not enough(found):
                batch = await consumer.poll(max_records=500, timeout=0.5)
                found += [
                    Published(EventEnvelope.from_headers(m.headers).type, json.loads(m.value))
                    for m in batch
                    if m.key == str(key).encode()
                ]
    finally:
        await consumer.stop()
        await bus.stop()
        await engine.dispose()
    return found


async def scalar(settings: SharedSettings, sql: str, **params: object) -> object:
    """One statement straight on the service's schema, committed."""
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            return (await conn.execute(text(sql), params)).scalar()
    finally:
        await engine.dispose()
