"""FastAPI dependencies of the customer service, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from services.customer.config import Settings
from shared.http import runtime_of


def _settings(request: Request) -> Settings:
    settings = runtime_of(request).settings
    assert isinstance(settings, Settings)
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
