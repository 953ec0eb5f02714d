"""A service's own bearer token for calling another service (the contact centre asking the
customer service for a caller's view).

In production the service is an OAuth2 client of the bank's identity provider and gets its
token by the client-credentials grant (RFC 6749 section 4.4), kept until shortly before it
expires. Elsewhere it signs a development token for itself. Either way it is an
``httpx.Auth``: the client attaches it to every request, and on a 401 (the token revoked or
the keys rotated) fetches a new one and retries once.

One renewal at a time: when the token falls due, or a 401 says it is dead, the first request
fetches a new one under a lock and the requests behind it take that token, instead of each
posting to the identity provider at once. A fetch that fails on the way (no answer, a 5xx, a
429) is retried a few times with jittered backoff before the request fails.
"""

import asyncio
import time
from collections.abc import AsyncGenerator

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from shared.auth.roles import Role
from shared.auth.tokens import issue_development_token
from shared.settings import Environment, SharedSettings

# Fetch a new token this long before the current one expires, so none is sent stale.
RENEW_BEFORE_SECONDS = 60
# Tries of one fetch from the identity provider, and the longest pause between two.
FETCH_ATTEMPTS = 4
FETCH_MAX_PAUSE_SECONDS = 2.0


def _worth_retrying(error: BaseException) -> bool:
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        return status >= 500 or status == 429
    return False


class ServiceCredentials(httpx.Auth):
    def __init__(self, settings: SharedSettings, *, role: Role) -> None:
        if settings.environment is Environment.PRODUCTION and not settings.auth_token_url:
            raise ValueError("CRM_AUTH_TOKEN_URL must be set in production")
        self._settings = settings
        self._role = role
        self._token: str | None = None
        self._renew_at = 0.0
        self._renewal = asyncio.Lock()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        sent = await self._current()
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {await self._current(refused=sent)}"
            yield request

    async def _current(self, *, refused: str | None = None) -> str:
        """The token to send; `refused` is one a 401 answered, which must not be sent again."""
        async with self._renewal:
            # Checked under the lock: a request that waited here finds the token the request
            # before it fetched, and sends that.
            token = self._token
            if token is None or token == refused or time.monotonic() >= self._renew_at:
                token, lifetime = await self._obtain_with_retries()
                self._token = token
                self._renew_at = time.monotonic() + max(lifetime - RENEW_BEFORE_SECONDS, 0)
            return token

    async def _obtain_with_retries(self) -> tuple[str, float]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(FETCH_ATTEMPTS),
            wait=wait_exponential_jitter(multiplier=0.1, max=FETCH_MAX_PAUSE_SECONDS),
            retry=retry_if_exception(_worth_retrying),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._obtain()
        raise AssertionError("unreachable: tenacity reraises the last error")

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
