"""Settings of the events service: ``CRM_EVENTS_*`` first, then ``CRM_*``."""

from typing import ClassVar

from shared.settings import SharedSettings


class Settings(SharedSettings):
    service_name: ClassVar[str] = "events"
    default_port: ClassVar[int] = 8002
