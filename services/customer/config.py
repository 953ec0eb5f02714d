"""Settings of the customer service: ``CRM_CUSTOMER_*`` first, then ``CRM_*``."""

from typing import ClassVar

from shared.settings import SharedSettings


class Settings(SharedSettings):
    service_name: ClassVar[str] = "customer"
    default_port: ClassVar[int] = 8001
