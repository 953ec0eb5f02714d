"""The distributed topology's files, checked without a Docker engine.

``docker-compose.yml`` is validated against the Compose Specification's JSON schema as vendored
by ``check-jsonschema``, a pinned dev dependency (``pip install -c requirements.lock -e
'.[dev]'``, which ``make`` runs): nothing is fetched at test time, and a machine without it
fails here rather than skipping. The rest checks the files against each other and against the
code: every service a container runs exists, each container's environment loads that service's
production settings, Kafka is the version the tests run, Prometheus scrapes the four ports and
its alerts use metrics the services export."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.complaints.jobs import ComplaintMetrics
from services.contact_center.jobs import ContactMetrics
from services.customer.reconciliation.metrics import ReconciliationMetrics
from services.events.metrics import DetectorMetrics
from shared.metrics import ServiceMetrics
from shared.settings import WORKER_PORT_OFFSET

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"

# The four services and their ports (crm/registry.py and services/<name>/config.py).
SERVICE_PORTS = {"customer": 8001, "events": 8002, "complaints": 8003, "contact_center": 8004}

# Values for the variables that compose requires (`${NAME:?message}`) from the operator.
OPERATOR_VARIABLES = {
    "CRM_IDENTIFIER_KEY": "a-test-identifier-key",
    "CRM_AUTH_JWKS_URL": "https://idp.bank.example/jwks",
    "CRM_AUTH_TOKEN_URL": "https://idp.bank.example/token",
    "CRM_CONTACT_CENTER_AUTH_CLIENT_ID": "crm-contact-center",
    "CRM_CONTACT_CENTER_AUTH_CLIENT_SECRET": "a-test-client-secret",
}

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = _yaml(COMPOSE_FILE)
    return document


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _app_containers() -> dict[str, dict[str, Any]]:
    """The containers built from the project's Dockerfile."""
    return {name: spec for name, spec in _services().items() if "build" in spec}


def _served(*, part: str = "api") -> dict[str, str]:
    """Compose service name -> the CRM service whose ``part`` its container serves (`crm serve
    NAME`, which serves the API, alone or with the worker; `crm serve NAME --part worker`)."""
    served = {}
    for name, spec in _app_containers().items():
        command = spec["command"]
        if command[:2] != ["crm", "serve"]:
            continue
        serves = command[command.index("--part") + 1] if "--part" in command else "all"
        if serves == part or (serves == "all" and part == "api"):
            served[name] = command[2]
    return served


def _interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's variable interpolation: ``$$``, ``$NAME``, ``${NAME}``, ``${NAME:-default}``,
    ``${NAME-default}``, ``${NAME:?error}`` and ``${NAME?error}``."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"]
        present = name in variables and (variables[name] != "" or not (op or "").startswith(":"))
        if present:
            return variables[name]
        if op in (":?", "?"):
            raise KeyError(f"compose requires {name}: {arg}")
        return arg if op in (":-", "-") else ""

    return _VARIABLE.sub(substitute, value)


def _environment(spec: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    environment = spec.get("environment", {})
    assert isinstance(environment, dict), "environment is written as a mapping"
    return {
        key: _interpolate("" if value is None else str(value), variables)
        for key, value in environment.items()
    }


def _validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.fail(
            "check-jsonschema is missing: it is a dev dependency, install it with "
            "`pip install -c requirements.lock -e '.[dev]'` (or `make venv`)"
        )
    schema = ["--builtin-schema", "vendor.compose-spec"]
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def clean_crm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CRM_* variable of the machine's leaks into the settings a container would load."""
    for key in list(os.environ):
        if key.startswith("CRM_"):
            monkeypatch.delenv(key)


class TestComposeSpecification:
    def test_the_compose_file_follows_it(self) -> None:
        result = _validate_compose(COMPOSE_FILE)

        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize(
        "broken",
        [
            "services:\n  customer:\n    image: x\n    healthcheck: {every: 5s}\n",
            # A misspelt key in a service that takes the rest from an anchor.
            "x-app: &app\n  image: x\nservices:\n  customer:\n    <<: *app\n    comand: [a]\n",
            "services:\n  customer:\n    image: x\n    depends_on:\n"
            "      db: {condition: service_done}\n",
        ],
    )
    def test_the_validator_does_refuse_a_broken_file(self, tmp_path: Path, broken: str) -> None:
        path = tmp_path / "docker-compose.yml"
        path.write_text(broken)

        assert _validate_compose(path).returncode != 0

    def test_every_variable_has_a_default_or_is_required_of_the_operator(self) -> None:
        text = COMPOSE_FILE.read_text()
        for match in _VARIABLE.finditer(text):
            if match["escaped"]:
                continue
            assert match["op"] in (":-", ":?"), f"{match[0]}: give a default or a :? message"
            if match["op"] == ":?":
                assert match["braced"] in OPERATOR_VARIABLES, match[0]


class TestAppContainers:
    def test_the_build_context_has_the_dockerfile(self) -> None:
        for name, spec in _app_containers().items():
            assert spec["build"] == ".", name
        assert (ROOT / "Dockerfile").is_file()

    def test_each_runs_a_crm_command(self) -> None:
        for name, spec in _app_containers().items():
            assert spec["command"][:2] in (["crm", "serve"], ["crm", "migrate"]), name

    def test_the_four_services_each_run_in_a_container_of_their_own(self) -> None:
        served = _served()

        assert sorted(served.values()) == sorted(SERVICE_PORTS)
        assert all(container == service for container, service in served.items())

    def test_the_customer_and_events_services_run_their_workers_in_containers_of_their_own(
        self,
    ) -> None:
        assert _served(part="worker") == {"customer-worker": "customer", "events-worker": "events"}
        for service in ("customer", "events"):
            assert _services()[service]["command"][3:] == ["--part", "api"]

    @pytest.mark.parametrize(("name", "service"), sorted(_served(part="worker").items()))
    def test_each_worker_is_checked_on_its_worker_port_and_not_published(
        self, name: str, service: str
    ) -> None:
        spec = _services()[name]
        probe = " ".join(spec["healthcheck"]["test"])

        assert f"http://localhost:{SERVICE_PORTS[service] + WORKER_PORT_OFFSET}/readyz" in probe
        assert "ports" not in spec  # Prometheus reaches it inside the compose network
        assert spec["depends_on"] == _services()[service]["depends_on"]

    @pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
    def test_every_served_service_exists_as_a_package(self, name: str) -> None:
        # Checked by path: the service packages are written alongside this file.
        assert name in _served().values()
        assert (ROOT / "services" / name / "app.py").is_file(), f"services/{name}/app.py"

    @pytest.mark.parametrize(("name", "port"), sorted(SERVICE_PORTS.items()))
    def test_each_is_published_and_checked_on_its_own_port(self, name: str, port: int) -> None:
        spec = _services()[name]

        assert spec["ports"] == [f"{port}:{port}"]
        probe = " ".join(spec["healthcheck"]["test"])
        assert spec["healthcheck"]["test"][0] == "CMD"
        assert f"http://localhost:{port}/readyz" in probe
        assert "urllib.request" in probe  # the slim image has no curl

    @pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
    def test_each_service_waits_for_its_dependencies(self, name: str) -> None:
        spec = _services()[name]

        assert spec["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
        assert spec["stop_grace_period"] == "15s"

    def test_migrations_run_once_before_the_services(self) -> None:
        migrate = _services()["migrate"]

        assert migrate["command"] == ["crm", "migrate"]
        assert migrate.get("restart", "no") == "no"
        assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}

    def test_each_runs_in_production_on_kafka_and_postgres(self) -> None:
        kafka = _services()["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        for name, spec in _app_containers().items():
            environment = _environment(spec, OPERATOR_VARIABLES)

            assert environment["CRM_ENVIRONMENT"] == "production", name
            assert environment["CRM_BUS"] == "kafka", name
            assert f"//{environment['CRM_KAFKA_BOOTSTRAP_SERVERS']}" in kafka, name
            assert environment["CRM_DATABASE_URL"] == (
                "postgresql+asyncpg://crm:crm@postgres:5432/crm"
            ), name

    @pytest.mark.usefixtures("clean_crm_environment")
    @pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
    def test_a_service_container_loads_its_production_settings(
        self, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from crm.registry import SERVICES

        for key, value in _environment(_services()[name], OPERATOR_VARIABLES).items():
            monkeypatch.setenv(key, value)
        settings = SERVICES[name].settings()

        assert settings.port == SERVICE_PORTS[name]
        assert settings.host == "0.0.0.0"  # reachable through the published port

    @pytest.mark.usefixtures("clean_crm_environment")
    def test_the_migrate_container_loads_every_services_settings(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from crm.registry import SERVICES

        for key, value in _environment(_services()["migrate"], OPERATOR_VARIABLES).items():
            monkeypatch.setenv(key, value)

        assert sorted(SERVICES) == sorted(SERVICE_PORTS)
        for spec in SERVICES.values():
            spec.settings()


class TestInfrastructure:
    def test_every_long_running_container_has_a_health_check(self) -> None:
        for name, spec in _services().items():
            if name != "migrate":
                assert spec.get("healthcheck", {}).get("test"), name

    def test_every_condition_waited_on_can_be_met(self) -> None:
        services = _services()
        for name, spec in services.items():
            for dependency, rule in spec.get("depends_on", {}).items():
                assert dependency in services, f"{name} -> {dependency}"
                if rule["condition"] == "service_healthy":
                    assert "healthcheck" in services[dependency], f"{name} -> {dependency}"
                elif rule["condition"] == "service_completed_successfully":
                    assert services[dependency].get("restart", "no") == "no", dependency

    def test_kafka_is_the_version_the_tests_run(self) -> None:
        pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
        match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
        assert match is not None

        assert _services()["kafka"]["image"] == f"apache/kafka:{match.group(1)}"

    def test_kafka_is_one_kraft_node_without_topic_auto_creation(self) -> None:
        kafka = _services()["kafka"]
        env = {key: str(value) for key, value in kafka["environment"].items()}
        controller_port = re.search(r"CONTROLLER://[^:,]*:(\d+)", env["KAFKA_LISTENERS"])
        assert controller_port is not None

        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == (
            f"{env['KAFKA_NODE_ID']}@kafka:{controller_port.group(1)}"
        )
        assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        for key, value in env.items():
            if key.endswith(("_REPLICATION_FACTOR", "_MIN_ISR")):
                assert value == "1", key
        # The broker's log is in the volume, not in the container's /tmp.
        assert f"kafka-data:{env['KAFKA_LOG_DIRS']}" in kafka["volumes"]
        assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in " ".join(
            kafka["healthcheck"]["test"]
        )

    def test_postgres_keeps_its_data_in_a_volume(self) -> None:
        postgres = _services()["postgres"]

        assert postgres["image"] == "postgres:18"
        assert "postgres-data:/var/lib/postgresql" in postgres["volumes"]
        assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


class TestDockerfile:
    @staticmethod
    def _instructions() -> list[tuple[str, str]]:
        text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
        lines = [line.strip() for line in text.splitlines()]
        return [
            (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
            for line in lines
            if line and not line.startswith("#")
        ]

    def test_it_installs_the_hashed_lock_on_a_pinned_python_of_the_tests_minor(self) -> None:
        instructions = self._instructions()
        base = re.fullmatch(
            r"python:(\d+)\.(\d+)\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", instructions[0][1]
        )

        assert instructions[0][0] == "FROM"
        assert base is not None, instructions[0]
        assert (int(base[1]), int(base[2])) == sys.version_info[:2]
        runs = [argument for keyword, argument in instructions if keyword == "RUN"]
        installs = [
            "pip install --no-cache-dir --require-hashes -r requirements-runtime.lock",
            "pip install --no-cache-dir --no-deps --no-build-isolation .",
        ]
        assert any(all(step in run for step in installs) for run in runs)

    def test_it_copies_every_package_the_project_installs(self) -> None:
        copied = {
            source
            for keyword, argument in self._instructions()
            if keyword == "COPY"
            for source in argument.split()[:-1]
        }
        pyproject = (ROOT / "pyproject.toml").read_text()
        include = re.search(
            r"\[tool\.setuptools\.packages\.find\]\s*include = \[([^]]*)\]", pyproject
        )
        assert include is not None
        packages = {name.strip(' "*') for name in include.group(1).split(",")}

        assert {"pyproject.toml", "requirements-runtime.lock"} <= copied
        assert packages <= copied

    def test_it_runs_as_a_numeric_non_root_user(self) -> None:
        users = [argument for keyword, argument in self._instructions() if keyword == "USER"]

        assert users
        uid = users[-1].split(":")[0]
        assert uid.isdigit()
        assert int(uid) != 0


def _service_metrics() -> CollectorRegistry:
    """Every metric a service can export: the shared ones and the services' own."""
    metrics = ServiceMetrics("probe")
    ComplaintMetrics(metrics.registry)
    DetectorMetrics(metrics.registry)
    ContactMetrics(metrics.registry)
    ReconciliationMetrics(metrics.registry)
    return metrics.registry


class TestMonitoringFiles:
    @staticmethod
    def _exported_metrics() -> set[str]:
        """The sample names a service's /metrics can show (counters end in _total): the shared
        ones and the services' own."""
        suffixes = {
            "counter": ("_total",),
            "gauge": ("",),
            "histogram": ("_bucket", "_sum", "_count"),
        }
        return {
            family.name + suffix
            for family in _service_metrics().collect()
            for suffix in suffixes[family.type]
        }

    def test_prometheus_scrapes_the_four_services(self) -> None:
        config = _yaml(PROMETHEUS_DIR / "prometheus.yml")
        groups = [
            group
            for job in config["scrape_configs"]
            if job.get("metrics_path", "/metrics") == "/metrics" and job["job_name"] == "crm"
            for group in job["static_configs"]
        ]

        assert config["global"]["scrape_interval"] == "15s"
        assert {target for group in groups for target in group["targets"]} == {
            f"{name}:{port}" for name, port in SERVICE_PORTS.items()
        }
        for group in groups:
            assert [f"{group['labels']['service']}:"] == [
                target[: target.index(":") + 1] for target in group["targets"]
            ]

    def test_prometheus_scrapes_each_worker_under_its_service_s_label(self) -> None:
        config = _yaml(PROMETHEUS_DIR / "prometheus.yml")
        (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "crm-workers"]
        scraped = {
            target: group["labels"]["service"]
            for group in job["static_configs"]
            for target in group["targets"]
        }

        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert scraped == {
            f"{name}:{SERVICE_PORTS[service] + WORKER_PORT_OFFSET}": service
            for name, service in _served(part="worker").items()
        }

    def test_prometheus_and_grafana_run_with_these_files(self) -> None:
        services = _services()

        assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
        assert any(
            volume.startswith("./deploy/grafana/provisioning:/etc/grafana/provisioning")
            for volume in services["grafana"]["volumes"]
        )

    def test_every_rule_file_exists_and_holds_named_rules(self) -> None:
        config = _yaml(PROMETHEUS_DIR / "prometheus.yml")
        for rule_file in config.get("rule_files", []):
            rules = _yaml(PROMETHEUS_DIR / rule_file)
            assert rules["groups"], rule_file
            for group in rules["groups"]:
                for rule in group["rules"]:
                    assert rule.get("alert") or rule.get("record"), rule
                    assert isinstance(rule["expr"], str), rule
                    if "alert" in rule:
                        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
                        assert rule["annotations"]["summary"], rule["alert"]

    def test_alerts_use_metrics_the_services_export(self) -> None:
        alerts = PROMETHEUS_DIR / "alerts.yml"
        assert alerts.exists(), "prometheus.yml loads alerts.yml"
        exported = self._exported_metrics()
        for group in _yaml(alerts)["groups"]:
            for rule in group["rules"]:
                used = set(re.findall(r"\b(?:crm|http)_[a-z_]+\b", rule["expr"]))
                assert used, rule["alert"]
                assert used <= exported, (rule["alert"], used - exported)

    def test_grafana_files_parse(self) -> None:
        files = sorted(path for path in GRAFANA_DIR.rglob("*") if path.is_file())

        assert files
        for path in files:
            if path.suffix == ".json":
                document = json.loads(path.read_text())
            else:
                assert path.suffix in (".yaml", ".yml"), path
                document = _yaml(path)
            assert isinstance(document, dict), path

    def test_grafana_reads_the_compose_prometheus(self) -> None:
        datasources = _yaml(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yaml")
        (prometheus,) = datasources["datasources"]

        assert prometheus["type"] == "prometheus"
        assert prometheus["url"] == "http://prometheus:9090"
        assert "9090:9090" in _services()["prometheus"]["ports"]


class TestGrafanaDashboards:
    def test_every_panel_queries_metrics_the_services_export(self) -> None:
        # Family names: counters lose "_total", histograms expose _bucket/_sum/_count.
        exported = {family.name for family in _service_metrics().collect()}
        dashboards = list((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
        assert dashboards
        for path in dashboards:
            document = json.loads(path.read_text())
            for panel in document["panels"]:
                for target in panel["targets"]:
                    names = set(re.findall(r"\b(http_\w+|crm_\w+)\b", target["expr"]))
                    assert names
                    known = {
                        n for n in names
                        if re.sub(r"_(total|bucket|sum|count)$", "", n) in exported
                    }  # fmt: skip
                    assert known == names, (path.name, panel["title"], names - known)

    def test_the_system_and_business_dashboards_each_have_their_own_uid(self) -> None:
        documents = [
            json.loads(path.read_text())
            for path in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")
        ]
        uids = [document["uid"] for document in documents]
        assert sorted(uids) == ["crm-business", "crm-system"]
        for document in documents:
            ids = [panel["id"] for panel in document["panels"]]
            assert len(ids) == len(set(ids)), document["uid"]

    def test_compose_mounts_the_dashboards_where_the_provider_reads_them(self) -> None:
        provider = yaml.safe_load(
            (ROOT / "deploy/grafana/provisioning/dashboards/crm.yaml").read_text()
        )
        path = provider["providers"][0]["options"]["path"]
        mounts = _compose()["services"]["grafana"]["volumes"]

        assert f"./deploy/grafana/dashboards:{path}:ro" in mounts
