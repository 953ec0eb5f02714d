"""FastAPI dependencies of the contact-centre service, and when a reported action happened."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from services.contact_center.calls.customer_client import CustomerClient
from services.contact_center.calls.events_client import EventsClient
from services.contact_center.config import Settings
from services.contact_center.reported_time import moment
from services.contact_center.schemas import Timed
from shared.http import settings_dependency

SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]


async def customer_client(request: Request) -> CustomerClient:
    client: CustomerClient = request.app.state.customer_client
    return client


CustomerClientDep = Annotated[CustomerClient, Depends(customer_client)]


async def events_client(request: Request) -> EventsClient:
    client: EventsClient = request.app.state.events_client
    return client


EventsClientDep = Annotated[EventsClient, Depends(events_client)]


def reported_at(body: Timed | None, settings: Settings) -> datetime:
    """The moment the switch or the desk reports for an action, checked against our clock."""
    at = body.at if body is not None else None
    return moment(at, now=datetime.now(UTC), settings=settings)
