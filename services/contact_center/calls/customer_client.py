"""The customer service, asked over HTTP: the lookup of a caller the projection does not know,
and the customer view the screen pop shows.

A call is ringing while we wait, so each request has a short timeout and no retry: a slow or
absent customer service makes the screen pop thinner (``degraded``), never late, and never
keeps the call from its queue."""

import uuid
from typing import Any

import httpx
from opentelemetry.sdk.trace import TracerProvider

from services.contact_center.calls.identification import Lookup
from services.contact_center.config import Settings
from shared.auth.credentials import ServiceCredentials
from shared.auth.roles import Role
from shared.http import CORRELATION_HEADER
from shared.logging import current_correlation_id, get_logger
from shared.tracing import trace_http_client

log = get_logger(__name__)


class CustomerClient:
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        self._client = httpx.AsyncClient(
            base_url=settings.customer_service_url,
            timeout=settings.customer_service_timeout_seconds,
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            # The contact centre asks as the call-centre channel: identify and view, no more.
            auth=ServiceCredentials(settings, role=Role.CHANNEL),
        )

    def traced_by(self, provider: TracerProvider | None) -> None:
        """Each call a client span of the contact centre's trace, continued by the customer
        service (nothing when tracing is off)."""
        trace_http_client(self._client, provider)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        correlation_id = current_correlation_id()
        return {CORRELATION_HEADER: correlation_id} if correlation_id else {}

    async def _ask(self, path: str, params: dict[str, str] | None = None) -> httpx.Response | None:
        """The customer service's answer; None when it could not be reached. An answer that is
        neither 200 nor 404 is logged."""
        try:
            response = await self._client.get(path, params=params, headers=self._headers())
        except httpx.HTTPError as error:
            log.warning("customer_service.unreachable", path=path, error=repr(error))
            return None
        if response.status_code not in (200, 404):
            log.warning("customer_service.error", path=path, status=response.status_code)
        return response

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any | None:
        response = await self._ask(path, params)
        return response.json() if response is not None and response.status_code == 200 else None

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
