"""Settings of the complaints service: ``CRM_COMPLAINTS_*`` first, then ``CRM_*``."""

from typing import ClassVar

from shared.settings import SharedSettings


class Settings(SharedSettings):
    service_name: ClassVar[str] = "complaints"
    default_port: ClassVar[int] = 8003
