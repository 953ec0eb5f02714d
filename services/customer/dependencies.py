"""FastAPI dependencies of the customer service, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends

from services.customer.config import Settings
from shared.http import settings_dependency

SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]
