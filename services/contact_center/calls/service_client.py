"""Another CRM service, asked over HTTP while a call rings.

A call is ringing while we wait, so each request has a short timeout and no retry: a slow or
absent service makes the screen pop thinner (``degraded``), never late, and never keeps the
call from its queue."""

from typing import Any

import httpx
from opentelemetry.sdk.trace import TracerProvider

from services.contact_center.config import Settings
from shared.auth.credentials import ServiceCredentials
from shared.auth.roles import Role
from shared.http import CORRELATION_HEADER
from shared.logging import current_correlation_id, get_logger
from shared.tracing import trace_http_client

log = get_logger(__name__)


class ServiceClient:
    """``name`` prefixes what is logged (``customer_service.unreachable``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        base_url: str,
        timeout_seconds: float,
        role: Role,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._name = name
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout_seconds,
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            auth=ServiceCredentials(settings, role=role),
        )

    def traced_by(self, provider: TracerProvider | None) -> None:
        """Each call a client span of the contact centre's trace, continued by the service
        asked (nothing when tracing is off)."""
        trace_http_client(self._client, provider)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        correlation_id = current_correlation_id()
        return {CORRELATION_HEADER: correlation_id} if correlation_id else {}

    async def _ask(self, path: str, params: dict[str, str] | None = None) -> httpx.Response | None:
        """The service's answer; None when it could not be reached. An answer that is neither
        200 nor 404 is logged."""
        try:
            response = await self._client.get(path, params=params, headers=self._headers())
        except httpx.HTTPError as error:
            log.warning(f"{self._name}.unreachable", path=path, error=repr(error))
            return None
        if response.status_code not in (200, 404):
            log.warning(f"{self._name}.error", path=path, status=response.status_code)
        return response

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any | None:
        response = await self._ask(path, params)
        return response.json() if response is not None and response.status_code == 200 else None
