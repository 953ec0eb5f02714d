"""A service's own token: renewed once however many requests need it, and retried when the
identity provider stumbles. The identity provider and the called service are a real HTTP server
on loopback (uvicorn), so the client-credentials grant goes over a socket as in production."""

import asyncio
import contextlib
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from crm.infra.kafka import free_port
from shared.auth.credentials import FETCH_ATTEMPTS, ServiceCredentials
from shared.auth.roles import Role
from shared.settings import SharedSettings
from tests.waiting import wait_until


@dataclass
class IdentityProvider:
    """Issues numbered tokens; the called service accepts only tokens it has not revoked."""

    grants: int = 0
    failures_to_come: int = 0
    failure_status: int = 503
    revoked: set[str] = field(default_factory=set)
    fetch_delay_seconds: float = 0.05

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = urllib.parse.parse_qs((await request.body()).decode())
            assert form["grant_type"] == ["client_credentials"]
            await asyncio.sleep(self.fetch_delay_seconds)  # a real provider takes a moment
            if self.failures_to_come:
                self.failures_to_come -= 1
                return JSONResponse({"error": "temporarily_unavailable"}, self.failure_status)
            self.grants += 1
            return JSONResponse({"access_token": f"token-{self.grants}", "expires_in": 3600})

        @app.get("/resource")
        async def resource(request: Request) -> Response:
            sent = request.headers.get("authorization", "").removeprefix("Bearer ")
            if not sent.startswith("token-") or sent in self.revoked:
                return Response(status_code=401)
            return JSONResponse({"token": sent})

        return app


@contextlib.asynccontextmanager
async def serving(provider: IdentityProvider) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: _started(server), timeout=10, every=0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


def client_of(base: str) -> httpx.AsyncClient:
    settings = SharedSettings(
        auth_token_url=f"{base}/token", auth_client_id="crm-test", auth_client_secret="s" * 16
    )
    return httpx.AsyncClient(
        base_url=base, auth=ServiceCredentials(settings, role=Role.CHANNEL), timeout=10
    )


class TestRenewal:
    async def test_concurrent_requests_share_one_token_fetch(self) -> None:
        provider = IdentityProvider()
        async with serving(provider) as base, client_of(base) as client:
            answers = await asyncio.gather(*(client.get("/resource") for _ in range(40)))
        assert [answer.status_code for answer in answers] == [200] * 40
        assert provider.grants == 1
        assert {answer.json()["token"] for answer in answers} == {"token-1"}

    async def test_a_revoked_token_is_renewed_once_for_all_requests_that_met_it(self) -> None:
        provider = IdentityProvider()
        async with serving(provider) as base, client_of(base) as client:
            assert (await client.get("/resource")).json()["token"] == "token-1"
            provider.revoked.add("token-1")
            answers = await asyncio.gather(*(client.get("/resource") for _ in range(20)))
        assert [answer.status_code for answer in answers] == [200] * 20
        assert provider.grants == 2
        assert {answer.json()["token"] for answer in answers} == {"token-2"}


class TestRetry:
    @pytest.mark.parametrize("status", [503, 429])
    async def test_a_fetch_that_fails_on_the_way_is_tried_again(self, status: int) -> None:
        provider = IdentityProvider(failures_to_come=FETCH_ATTEMPTS - 1, failure_status=status)
        async with serving(provider) as base, client_of(base) as client:
            answer = await client.get("/resource")
        assert answer.status_code == 200
        assert provider.grants == 1

    async def test_it_gives_up_after_its_attempts(self) -> None:
        provider = IdentityProvider(failures_to_come=FETCH_ATTEMPTS)
        async with serving(provider) as base, client_of(base) as client:
            with pytest.raises(httpx.HTTPStatusError):
                await client.get("/resource")
        assert provider.grants == 0

    async def test_a_refusal_of_the_client_is_not_retried(self) -> None:
        provider = IdentityProvider(failures_to_come=1, failure_status=400)
        async with serving(provider) as base, client_of(base) as client:
            with pytest.raises(httpx.HTTPStatusError):
                await client.get("/resource")
        assert provider.failures_to_come == 0
        assert provider.grants == 0
