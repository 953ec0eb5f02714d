"""The Kubernetes manifests hold together and match the code."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from crm.registry import SERVICES
from crm.serving import GRACEFUL_SHUTDOWN_SECONDS
from shared.settings import SharedSettings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def _documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


@pytest.mark.parametrize("service", sorted(SERVICES))
class TestEachService:
    def test_the_deployment_serves_the_service_on_its_port_with_probes(self, service: str) -> None:
        name = f"crm-{service.replace('_', '-')}"
        container = _one("Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        port = SERVICES[service].settings_class.default_port

        assert container["command"] == ["crm", "serve", service]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"

    def test_the_grace_period_outlasts_the_pause_and_the_shutdown(self, service: str) -> None:
        spec = _one("Deployment", f"crm-{service.replace('_', '-')}")["spec"]["template"]["spec"]
        pause = 5  # the preStop sleep

        assert spec["terminationGracePeriodSeconds"] > pause + GRACEFUL_SHUTDOWN_SECONDS

    def test_service_hpa_and_pdb_select_the_deployment(self, service: str) -> None:
        name = f"crm-{service.replace('_', '-')}"
        labels = _one("Deployment", name)["spec"]["template"]["metadata"]["labels"]

        selector = _one("Service", name)["spec"]["selector"]
        assert selector.items() <= labels.items()
        pdb = _one("PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"]
        assert pdb.items() <= labels.items()
        assert _one("HorizontalPodAutoscaler", name)["spec"]["scaleTargetRef"]["name"] == name

    def test_no_more_replicas_than_partitions(self, service: str) -> None:
        hpa = _one("HorizontalPodAutoscaler", f"crm-{service.replace('_', '-')}")
        partitions = SharedSettings.model_fields["kafka_topic_partitions"].default

        assert hpa["spec"]["maxReplicas"] <= partitions


class TestShared:
    def test_the_config_selects_kafka_in_production(self) -> None:
        data = _one("ConfigMap", "crm-config")["data"]

        assert data["CRM_BUS"] == "kafka"
        assert data["CRM_ENVIRONMENT"] == "production"

    def test_secrets_are_referenced_never_inlined(self) -> None:
        assert not [d for d in _documents() if d["kind"] == "Secret"]
        customer = _one("Deployment", "crm-customer")["spec"]["template"]["spec"]
        names = {e["name"] for e in customer["containers"][0]["env"]}
        assert {"CRM_DATABASE_URL", "CRM_IDENTIFIER_KEY"} <= names

    def test_migrations_run_as_a_job(self) -> None:
        job = _one("Job", "crm-migrate")["spec"]["template"]["spec"]["containers"][0]

        assert job["command"] == ["crm", "migrate"]
