"""The Kubernetes overlays, as kustomize renders them, hold together and match the code."""

import os
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from contracts.catalogue import RETENTION_DAYS, Topic, dead_letter_topic
from crm.registry import SERVICES
from crm.serving import GRACEFUL_SHUTDOWN_SECONDS
from shared.settings import WORKER_PORT_OFFSET, KafkaSecurityProtocol, SharedSettings
from tests.unit.k8s_rendering import K8S, OVERLAYS, ROOT, documents
from tools.k8s.manifests import consumed_topics, published_topics
from tools.k8s.pod_security import pod_specs, problems

DAY_MS = 24 * 60 * 60 * 1000
# The services whose relay and consumer run in a Deployment of their own.
WORKERS = ("customer", "events")


def _all(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in documents(overlay) if d["kind"] == kind]


def _one(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _all(overlay, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def _name(service: str) -> str:
    return f"crm-{service.replace('_', '-')}"


def _environment(overlay: str, container: dict[str, Any]) -> dict[str, str]:
    """What the container's process finds in its environment (a Secret's value: a stand-in)."""
    assert container["envFrom"] == [{"configMapRef": {"name": "crm-config"}}]
    env = dict(_one(overlay, "ConfigMap", "crm-config")["data"])
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", "a-value-from-its-secret")
    return env


def _settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> SharedSettings:
    """The service's settings as its process would read them from ``env`` (its validation
    errors are the start-up errors the pod would end with)."""
    for name in [n for n in os.environ if n.startswith("CRM_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return SERVICES[service].settings_class()


def _tls_listener(overlay: str) -> dict[str, Any]:
    listeners = _one(overlay, "Kafka", "crm")["spec"]["kafka"]["listeners"]
    (listener,) = [x for x in listeners if x["tls"]]
    return dict(listener)


@pytest.mark.parametrize("service", WORKERS)
class TestEachWorker:
    def test_the_api_serves_without_the_worker_and_the_worker_apart(self, service: str) -> None:
        api = _one("production", "Deployment", _name(service))["spec"]["template"]["spec"]
        worker = _one("production", "Deployment", f"{_name(service)}-worker")["spec"]["template"][
            "spec"
        ]
        (container,) = worker["containers"]
        port = SERVICES[service].settings_class.default_port + WORKER_PORT_OFFSET

        assert api["containers"][0]["args"] == ["--part", "api"]
        assert [*container["command"], *container["args"]] == [
            "crm",
            "serve",
            service,
            "--part",
            "worker",
        ]
        assert container["ports"] == [{"name": "metrics", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert worker["initContainers"][0]["command"][:3] == ["crm", "wait-migrated", service]
        # The same database and Kafka sign-in as the service's API.
        assert container["env"] == api["containers"][0]["env"]

    def test_its_metrics_are_scraped_under_the_service_s_label(self, service: str) -> None:
        name = f"{_name(service)}-worker"
        labels = _one("production", "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        endpoint = _one("production", "ServiceMonitor", name)["spec"]["endpoints"][0]

        assert _one("production", "Service", name)["spec"]["selector"].items() <= labels.items()
        assert endpoint["port"] == "metrics"
        assert {"action": "replace", "targetLabel": "service", "replacement": service} in (
            endpoint["relabelings"]
        )
        for kind in ("PodDisruptionBudget", "NetworkPolicy"):
            selector = _one("production", kind, name)["spec"]
            selector = selector.get("selector") or selector["podSelector"]
            assert selector["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("service", sorted(SERVICES))
class TestEachService:
    def test_the_deployment_serves_the_service_on_its_port_with_probes(self, service: str) -> None:
        container = _one("production", "Deployment", _name(service))["spec"]["template"]["spec"][
            "containers"
        ][0]
        port = SERVICES[service].settings_class.default_port

        assert container["command"] == ["crm", "serve", service]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"

    def test_pods_wait_for_the_schema_of_their_own_service(self, service: str) -> None:
        spec = _one("production", "Deployment", _name(service))["spec"]["template"]["spec"]

        assert spec["initContainers"][0]["command"][:3] == ["crm", "wait-migrated", service]

    def test_the_grace_period_outlasts_the_pause_and_the_shutdown(self, service: str) -> None:
        spec = _one("production", "Deployment", _name(service))["spec"]["template"]["spec"]
        pause = 5  # the preStop sleep

        assert spec["terminationGracePeriodSeconds"] > pause + GRACEFUL_SHUTDOWN_SECONDS

    def test_service_hpa_pdb_monitor_and_policy_select_the_deployment(self, service: str) -> None:
        name = _name(service)
        labels = _one("production", "Deployment", name)["spec"]["template"]["metadata"]["labels"]

        for kind in ("PodDisruptionBudget", "NetworkPolicy"):
            selector = _one("production", kind, name)["spec"]
            selector = selector.get("selector") or selector["podSelector"]
            assert selector["matchLabels"].items() <= labels.items()
        assert _one("production", "Service", name)["spec"]["selector"].items() <= labels.items()
        hpa = _one("production", "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"]["name"] == name

    def test_the_scrape_labels_the_series_with_the_service(self, service: str) -> None:
        endpoint = _one("production", "ServiceMonitor", _name(service))["spec"]["endpoints"][0]

        assert {"action": "replace", "targetLabel": "service", "replacement": service} in (
            endpoint["relabelings"]
        )

    def test_no_more_replicas_than_partitions(self, service: str) -> None:
        hpa = _one("production", "HorizontalPodAutoscaler", _name(service))
        partitions = SharedSettings.model_fields["kafka_topic_partitions"].default

        assert hpa["spec"]["maxReplicas"] <= partitions

    def test_its_kafka_user_writes_only_its_own_topics_and_reads_what_it_consumes(
        self, service: str
    ) -> None:
        acls = _one("production", "KafkaUser", _name(service))["spec"]["authorization"]["acls"]
        topics = [a for a in acls if a["resource"]["type"] == "topic"]
        written = {a["resource"]["name"] for a in topics if "Write" in a["operations"]}
        read = {a["resource"]["name"] for a in topics if "Read" in a["operations"]}

        assert all(a["resource"]["patternType"] == "literal" for a in topics)
        assert written == published_topics()[service]
        assert read == consumed_topics()[service]

    def test_its_pods_sign_in_to_kafka_as_its_user_over_tls(
        self, service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        spec = _one("production", "Deployment", _name(service))["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        listener = _tls_listener("production")
        user = _one("production", "KafkaUser", _name(service))["spec"]
        local_ca = tmp_path / "ca.crt"
        local_ca.write_text("-----BEGIN CERTIFICATE-----\n")

        for container in spec["initContainers"] + spec["containers"]:
            env = _environment("production", container)
            # The CA file is the cluster CA's certificate, mounted from Strimzi's Secret.
            ca_file = PurePosixPath(env["CRM_KAFKA_SSL_CA_FILE"])
            (mount,) = [
                m for m in container["volumeMounts"] if ca_file.is_relative_to(m["mountPath"])
            ]
            secret = volumes[mount["name"]]["secret"]
            assert secret["secretName"] == "crm-cluster-ca-cert"
            path = str(ca_file.relative_to(mount["mountPath"]))
            assert {"key": "ca.crt", "path": path} in secret["items"]

            settings = _settings(
                service, env | {"CRM_KAFKA_SSL_CA_FILE": str(local_ca)}, monkeypatch
            )
            assert settings.kafka_security_protocol is KafkaSecurityProtocol.SASL_SSL
            assert settings.kafka_sasl_mechanism.lower() == user["authentication"]["type"]
            assert settings.kafka_sasl_mechanism == listener["authentication"]["type"].upper()
            assert settings.kafka_sasl_username == _name(service)
            assert settings.kafka_bootstrap_servers == f"crm-kafka-bootstrap:{listener['port']}"

        policy = _one("production", "NetworkPolicy", _name(service))["spec"]
        to_kafka = [r for r in policy["egress"] if "strimzi.io/cluster" in str(r.get("to"))]
        assert [r["ports"] for r in to_kafka] == [[{"protocol": "TCP", "port": listener["port"]}]]
        # The labels Strimzi 1.2.0 sets on a broker pod of a node pool (KafkaPool.java,
        # KafkaCluster.java), as its bootstrap Service selects them.
        brokers = {
            "strimzi.io/cluster": _one("production", "Kafka", "crm")["metadata"]["name"],
            "strimzi.io/kind": "Kafka",
            "strimzi.io/broker-role": "true",
        }
        assert to_kafka[0]["to"] == [{"podSelector": {"matchLabels": brokers}}]


@pytest.mark.parametrize("overlay", OVERLAYS)
class TestEachOverlay:
    def test_every_topic_of_the_catalogue_has_a_kafka_topic(self, overlay: str) -> None:
        declared = {t["spec"]["topicName"]: t["spec"] for t in _all(overlay, "KafkaTopic")}
        wanted = {t.value for t in Topic} | {dead_letter_topic(t) for t in Topic}

        assert set(declared) == wanted
        for name, spec in declared.items():
            assert (spec["replicas"], spec["config"]["min.insync.replicas"]) == (3, 2), name

    def test_every_topic_keeps_its_messages_as_long_as_the_catalogue_says(
        self, overlay: str
    ) -> None:
        declared = {t["spec"]["topicName"]: t["spec"] for t in _all(overlay, "KafkaTopic")}

        for topic, days in RETENTION_DAYS.items():
            expected = -1 if days is None else days * DAY_MS
            assert declared[topic.value]["config"]["retention.ms"] == expected

    def test_every_pod_spec_meets_pod_security_restricted(self, overlay: str) -> None:
        specs = [s for d in documents(overlay) for s in pod_specs(d)]

        # The Deployments (the services', and the workers' that run apart) and the migration Job
        assert len(specs) == len(SERVICES) + len(WORKERS) + 1
        assert [p for s in specs for p in problems(s)] == []

    def test_no_image_is_latest_or_without_a_registry(self, overlay: str) -> None:
        images = {
            c["image"]
            for d in documents(overlay)
            for s in pod_specs(d)
            for c in [*s.get("initContainers", []), *s["containers"]]
        }

        assert len(images) == 1
        image = images.pop()
        assert "/" in image.split(":")[0]
        assert not image.endswith((":latest", "bank-crm"))

    def test_the_migration_job_is_named_after_the_released_image(self, overlay: str) -> None:
        (job,) = _all(overlay, "Job")
        tag = job["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]

        assert job["metadata"]["name"] == f"crm-migrate-{tag.replace('.', '-')}"
        assert job["spec"]["ttlSecondsAfterFinished"] > 0
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["crm", "migrate"]

    def test_postgres_has_a_database_and_a_role_per_service(self, overlay: str) -> None:
        roles = _one(overlay, "Cluster", "crm-db")["spec"]["managed"]["roles"]
        databases = {d["spec"]["name"]: d["spec"]["owner"] for d in _all(overlay, "Database")}

        assert {r["name"] for r in roles} == {f"crm_{s}" for s in SERVICES}
        assert databases == {f"crm_{s}": f"crm_{s}" for s in SERVICES}

    def test_the_migration_job_starts_every_service_s_settings_cleanly(
        self, overlay: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # It shares the ConfigMap with the services but has no Kafka credentials: Kafka's
        # sign-in settings belong in the Deployments, or the Job would stop at start-up.
        (job,) = _all(overlay, "Job")
        (container,) = job["spec"]["template"]["spec"]["containers"]
        env = _environment(overlay, container)

        for service in SERVICES:
            assert _settings(service, env, monkeypatch).database_url.get_secret_value()

    def test_postgres_archives_its_wal_and_takes_base_backups_into_one_store(
        self, overlay: str
    ) -> None:
        cluster = _one(overlay, "Cluster", "crm-db")["spec"]
        (archiver,) = [p for p in cluster["plugins"] if p.get("isWALArchiver")]
        store = _one(overlay, "ObjectStore", archiver["parameters"]["barmanObjectName"])["spec"]
        (scheduled,) = _all(overlay, "ScheduledBackup")

        assert archiver["name"] == "barman-cloud.cloudnative-pg.io"
        assert cluster["postgresql"]["parameters"]["archive_timeout"]
        assert store["retentionPolicy"]
        assert scheduled["spec"]["cluster"] == {"name": "crm-db"}
        assert scheduled["spec"]["method"] == "plugin"
        assert scheduled["spec"]["pluginConfiguration"] == {"name": archiver["name"]}

    def test_secrets_are_referenced_never_inlined(self, overlay: str) -> None:
        assert not _all(overlay, "Secret")


class TestShared:
    def test_production_runs_three_postgres_instances_on_kafka(self) -> None:
        data = _one("production", "ConfigMap", "crm-config")["data"]

        assert (data["CRM_BUS"], data["CRM_ENVIRONMENT"]) == ("kafka", "production")
        assert _one("production", "Cluster", "crm-db")["spec"]["instances"] == 3

    def test_dev_backs_up_into_a_store_of_its_own(self) -> None:
        def path(overlay: str) -> str:
            store = _one(overlay, "ObjectStore", "crm-db-backups")
            return str(store["spec"]["configuration"]["destinationPath"])

        assert path("dev") != path("production")

    def test_kafka_runs_in_kraft_node_pools_without_topic_auto_creation(self) -> None:
        pools = {p["metadata"]["name"]: p["spec"] for p in _all("production", "KafkaNodePool")}
        kafka = _one("production", "Kafka", "crm")["spec"]["kafka"]

        assert {r for p in pools.values() for r in p["roles"]} == {"controller", "broker"}
        assert kafka["config"]["auto.create.topics.enable"] is False
        assert kafka["authorization"]["type"] == "simple"

    @pytest.mark.parametrize(
        ("name", "rule_file"),
        [("crm-alerts", "alerts.yml"), ("crm-cluster-alerts", "cluster-alerts.yml")],
    )
    def test_each_prometheus_rule_holds_the_alert_rules_of_its_file(
        self, name: str, rule_file: str
    ) -> None:
        alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / rule_file).read_text())
        rule = _one("production", "PrometheusRule", name)

        assert rule["spec"]["groups"] == alerts["groups"]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_database_s_exporter_is_scraped_for_the_archiving_alerts(
        self, overlay: str
    ) -> None:
        (cluster,) = _all(overlay, "Cluster")
        (monitor,) = _all(overlay, "PodMonitor")
        cluster_alerts = yaml.safe_load(
            (ROOT / "deploy" / "prometheus" / "cluster-alerts.yml").read_text()
        )
        expressions = " ".join(r["expr"] for g in cluster_alerts["groups"] for r in g["rules"])

        # CloudNativePG labels an instance's pod cnpg.io/cluster=<Cluster> and names the
        # exporter's port `metrics`.
        assert monitor["spec"]["selector"] == {
            "matchLabels": {"cnpg.io/cluster": cluster["metadata"]["name"]}
        }
        assert [e["port"] for e in monitor["spec"]["podMetricsEndpoints"]] == ["metrics"]
        assert "cnpg_pg_stat_archiver_seconds_since_last_archival" in expressions
        assert "cnpg_pg_stat_archiver_failed_count" in expressions

    def test_the_retention_figures_are_those_the_consumers_guide_states(self) -> None:
        guide = (ROOT / "docs" / "event-consumers.md").read_text()

        for topic, days in RETENTION_DAYS.items():
            kept = "for ever" if days is None else f"{days} days"
            assert f"| `{topic.value}` | {kept} |" in guide

    def test_the_manifests_hold_no_file_the_kustomizations_leave_out(self) -> None:
        listed = {
            (path.parent / resource).resolve()
            for path in K8S.rglob("kustomization.yaml")
            for resource in yaml.safe_load(path.read_text()).get("resources", [])
        }
        files = {p.resolve() for p in (K8S / "base").rglob("*.yaml")}
        files |= {p.resolve() for p in (K8S / "migrate").glob("*.yaml")}
        kustomizations = {p.resolve() for p in K8S.rglob("kustomization.yaml")}

        assert files - kustomizations <= listed

    def test_dev_names_its_own_namespace(self) -> None:
        namespaces = {d["metadata"].get("namespace") for d in documents("dev")}

        assert namespaces == {"crm-dev"}
