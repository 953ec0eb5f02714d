"""Settings of the contact_center service: ``CRM_CONTACT_CENTER_*`` first, then ``CRM_*``."""

from typing import ClassVar

from shared.settings import SharedSettings


class Settings(SharedSettings):
    service_name: ClassVar[str] = "contact_center"
    default_port: ClassVar[int] = 8004
