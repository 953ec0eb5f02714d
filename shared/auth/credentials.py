"""A service's own bearer token for calling another service (the contact centre asking the
customer service for a caller's view).

In production the service is an OAuth2 client of the bank's identity provider and gets its
token by the client-credentials grant (RFC 6749 section 4.4), kept until shortly before it
expires. Elsewhere it signs a development token for itself. Either way it is an
``httpx.Auth``: the client attaches it to every request, and on a 401 (the token revoked or
the keys rotated) fetches a new one and retries once.
"""

import time
from collections.abc import AsyncGenerator

import httpx

from shared.auth.roles import Role
from shared.auth.tokens import issue_development_token
from shared.settings import Environment, SharedSettings

# Fetch a new token this long before the current one expires, so none is sent stale.
RENEW_BEFORE_SECONDS = 60


class ServiceCredentials(httpx.Auth):
    def __init__(self, settings: SharedSettings, *, role: Role) -> None:
        if settings.environment is Environment.PRODUCTION and not settings.auth_token_url:
            raise ValueError("CRM_AUTH_TOKEN_URL must be set in production")
        self._settings = settings
        self._role = role
        self._token: str | None = None
        self._renew_at = 0.0

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self._current()}"
        response = yield request
        if response.status_code == 401:
            self._token = None
            request.headers["Authorization"] = f"Bearer {await self._current()}"
            yield request

    async def _current(self) -> str:
        if self._token is None or time.monotonic() >= self._renew_at:
            self._token, lifetime = await self._obtain()
            self._renew_at = time.monotonic() + max(lifetime - RENEW_BEFORE_SECONDS, 0)
        return self._token

    async def _obtain(self) -> tuple[str, float]:
        settings = self._settings
        if not settings.auth_token_url:
            seconds = 3600
            token = issue_development_token(
                settings, role=self._role, subject=f"crm-{settings.service_name}", seconds=seconds
            )
            return token, seconds
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(
                settings.auth_token_url,
                data={"grant_type": "client_credentials", "audience": settings.auth_audience},
                auth=(settings.auth_client_id, settings.auth_client_secret.get_secret_value()),
            )
        response.raise_for_status()
        grant = response.json()
        return str(grant["access_token"]), float(grant.get("expires_in", 300))
