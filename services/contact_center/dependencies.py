"""FastAPI dependencies of the contact-centre service, and when a reported action happened."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from services.contact_center import service
from services.contact_center.config import Settings
from services.contact_center.directory import CustomerDirectory
from services.contact_center.schemas import Timed
from shared.http import settings_dependency

SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]


async def customer_directory(request: Request) -> CustomerDirectory:
    directory: CustomerDirectory = request.app.state.customer_directory
    return directory


DirectoryDep = Annotated[CustomerDirectory, Depends(customer_directory)]


def reported_at(body: Timed | None, settings: Settings) -> datetime:
    """The moment the switch or the desk reports for an action, checked against our clock."""
    at = body.at if body is not None else None
    return service.moment(at, now=datetime.now(UTC), settings=settings)
