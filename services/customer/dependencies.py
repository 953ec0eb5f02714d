"""FastAPI dependencies of the customer service, as ``Annotated`` aliases."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends

from services.customer.config import Settings
from shared.http import settings_dependency

SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]


def current_time() -> datetime:
    """The clock rules that fall due read (reviews); a test overrides it to move time."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(current_time)]
