"""The four services, as the command line and the embedded run know them."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.complaints import app as complaints_app
from services.complaints.config import Settings as ComplaintsSettings
from services.contact_center import app as contact_center_app
from services.contact_center.config import Settings as ContactCenterSettings
from services.customer import app as customer_app
from services.customer.config import Settings as CustomerSettings
from services.events import app as events_app
from services.events.config import Settings as EventsSettings
from shared.settings import SharedSettings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    settings_class: type[SharedSettings]
    create_app: Callable[..., FastAPI]
    migrations: Path

    def settings(self) -> SharedSettings:
        return self.settings_class()


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("customer", CustomerSettings, customer_app.create_app, customer_app.MIGRATIONS),
        ServiceSpec("events", EventsSettings, events_app.create_app, events_app.MIGRATIONS),
        ServiceSpec(
            "complaints", ComplaintsSettings, complaints_app.create_app, complaints_app.MIGRATIONS
        ),
        ServiceSpec(
            "contact_center",
            ContactCenterSettings,
            contact_center_app.create_app,
            contact_center_app.MIGRATIONS,
        ),
    )
}
