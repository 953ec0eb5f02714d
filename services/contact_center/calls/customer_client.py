"""The customer service, asked over HTTP: the lookup of a caller the projection does not know,
and the customer view the screen pop shows (short timeout, no retry: see ``service_client``)."""

import uuid
from typing import Any

import httpx

from services.contact_center.calls.identification import Lookup
from services.contact_center.calls.service_client import ServiceClient
from services.contact_center.config import Settings
from shared.auth.roles import Role

CUSTOMER_SERVICE = "customer_service"


class CustomerClient(ServiceClient):
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__(
            settings,
            name=CUSTOMER_SERVICE,
            base_url=settings.customer_service_url,
            timeout_seconds=settings.customer_service_timeout_seconds,
            # The contact centre asks as the call-centre channel: identify and view, no more.
            role=Role.CHANNEL,
            transport=transport,
        )

    async def lookup(self, lookup: Lookup) -> tuple[uuid.UUID, str] | None:
        """The one customer the identifier belongs to, with their value tier; None when nobody
        or several customers have it, or the service did not answer."""
        found = await self._get("/v1/customers/lookup", {lookup.param: lookup.value})
        matches = found.get("matches", []) if isinstance(found, dict) else []
        if len(matches) != 1:
            return None
        return uuid.UUID(matches[0]["id"]), str(matches[0]["value_tier"])

    async def exists(self, customer_id: uuid.UUID) -> bool | None:
        """Whether the customer service has this customer; None when it could not be asked."""
        response = await self._ask(f"/v1/customers/{customer_id}/view")
        if response is None or response.status_code not in (200, 404):
            return None
        return response.status_code == 200

    async def view(self, customer_id: uuid.UUID) -> dict[str, Any] | None:
        found = await self._get(f"/v1/customers/{customer_id}/view")
        return found if isinstance(found, dict) else None
