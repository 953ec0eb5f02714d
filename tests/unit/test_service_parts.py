"""What each part of every service serves (`crm serve SERVICE --part`), and on which port."""

import pytest
from fastapi import FastAPI

from crm.registry import SERVICES
from shared.settings import WORKER_PORT_OFFSET, ServicePart

OPERATIONS = {"/healthz", "/readyz", "/metrics"}


def _app(service: str, part: ServicePart) -> FastAPI:
    spec = SERVICES[service]
    return spec.create_app(spec.settings().model_copy(update={"part": part}))


def _routes(app: FastAPI) -> set[str]:
    return set(app.openapi()["paths"])


@pytest.mark.parametrize("service", sorted(SERVICES))
class TestEachServiceByPart:
    def test_the_worker_serves_the_probes_and_the_metrics_only(self, service: str) -> None:
        assert _routes(_app(service, ServicePart.WORKER)) == OPERATIONS

    def test_the_api_serves_every_route_of_the_whole_service(self, service: str) -> None:
        api = _routes(_app(service, ServicePart.API))

        assert api == _routes(_app(service, ServicePart.ALL))
        assert api > OPERATIONS

    def test_the_worker_listens_on_the_api_port_plus_the_offset(self, service: str) -> None:
        settings = SERVICES[service].settings()
        default_port = SERVICES[service].settings_class.default_port
        worker = settings.model_copy(update={"part": ServicePart.WORKER})

        assert settings.listen_port == default_port
        assert worker.listen_port == default_port + WORKER_PORT_OFFSET
