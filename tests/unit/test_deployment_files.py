"""The distributed topology's files, checked without a Docker engine.

``docker-compose.yml`` is validated against the Compose Specification's JSON schema, as vendored
by ``check-jsonschema`` (a pinned dev dependency), and against the code: every service it runs
exists, and its Kafka is the version the tests run."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from crm.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def _validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


class TestComposeFile:
    def test_it_follows_the_compose_specification(self) -> None:
        result = _validate_compose(ROOT / "docker-compose.yml")

        assert result.returncode == 0, result.stdout + result.stderr

    def test_the_validator_does_refuse_a_broken_file(self, tmp_path: Path) -> None:
        broken = tmp_path / "docker-compose.yml"
        broken.write_text("services:\n  customer:\n    image: x\n    healthcheck: {every: 5s}\n")

        assert _validate_compose(broken).returncode != 0

    def test_every_crm_service_it_runs_exists_in_the_code(self) -> None:
        served = {
            spec["command"][2]
            for spec in _compose()["services"].values()
            if spec.get("command", [])[:2] == ["crm", "serve"]
        }

        assert served == set(SERVICES)
        for name in served:
            assert (ROOT / "services" / name / "app.py").is_file()

    def test_every_long_running_container_has_a_health_check(self) -> None:
        services = _compose()["services"]
        for name, spec in services.items():
            if name != "migrate":
                assert "healthcheck" in spec, name

    @pytest.mark.parametrize("name", sorted(SERVICES))
    def test_each_service_is_checked_on_its_own_readiness_port(self, name: str) -> None:
        spec = _compose()["services"][name]
        port = SERVICES[name].settings_class.default_port

        assert spec["ports"] == [f"{port}:{port}"]
        assert f"localhost:{port}/readyz" in " ".join(spec["healthcheck"]["test"])

    def test_kafka_is_the_version_the_tests_run(self) -> None:
        pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
        match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
        assert match is not None

        assert _compose()["services"]["kafka"]["image"] == f"apache/kafka:{match.group(1)}"


class TestMonitoringFiles:
    def test_prometheus_scrapes_the_four_services(self) -> None:
        config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
        targets = {
            target
            for job in config["scrape_configs"]
            for group in job["static_configs"]
            for target in group["targets"]
        }

        assert targets == {
            f"{name}:{spec.settings_class.default_port}" for name, spec in SERVICES.items()
        }

    def test_grafana_provisioning_parses(self) -> None:
        files = list((ROOT / "deploy" / "grafana").rglob("*.y*ml"))

        assert files
        for path in files:
            assert isinstance(yaml.safe_load(path.read_text()), dict), path
