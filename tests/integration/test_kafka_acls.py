"""The KafkaUsers' ACLs (deploy/k8s/base/kafka/users.yaml) on a broker that enforces them, as
Strimzi's `simple` authorization does (KRaft's StandardAuthorizer): created as the manifests
state them, they let a service publish its own topic, refuse it another service's, and let a
service read what it consumes under its own consumer group."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.catalogue import Topic, dead_letter_topic
from crm.infra.kafka import KafkaBroker
from crm.infra.kafka_sign_in import BROKER_USER
from crm.registry import SERVICES
from shared.bus import BusUnavailableError, OutgoingMessage, ReceivedMessage
from shared.bus.kafka import KafkaBus
from shared.settings import KafkaSecurityProtocol
from tests.conftest import require_kafka
from tests.integration.mechanics import drain

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]
USERS = ROOT / "deploy" / "k8s" / "base" / "kafka" / "users.yaml"
CREATE_ACLS = Path(__file__).with_name("CreateAcls.java")
# Strimzi's names for a pattern type, and Kafka's.
PATTERN_TYPES = {"literal": "LITERAL", "prefix": "PREFIXED"}


def _kafka_users() -> dict[str, list[dict[str, Any]]]:
    """KafkaUser name -> its ACLs, as the manifests state them."""
    return {
        user["metadata"]["name"]: user["spec"]["authorization"]["acls"]
        for user in yaml.safe_load_all(USERS.read_text())
        if user["kind"] == "KafkaUser"
    }


def _bindings(users: dict[str, list[dict[str, Any]]]) -> str:
    """The ACLs as CreateAcls.java reads them: one binding per operation."""
    return "".join(
        f"User:{user}\t{acl['resource']['type'].upper()}\t{acl['resource']['name']}"
        f"\t{PATTERN_TYPES[acl['resource']['patternType']]}\t{operation.upper()}\n"
        for user, acls in users.items()
        for acl in acls
        for operation in acl["operations"]
    )


def _create_acls(broker: KafkaBroker, users: dict[str, list[dict[str, Any]]]) -> None:
    assert broker.sign_in is not None
    client = broker.work_dir / "platform-admin.properties"
    properties = {
        "bootstrap.servers": broker.bootstrap_servers,
        **broker.sign_in.client_properties(BROKER_USER),
    }
    client.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
    created = subprocess.run(
        broker.java_command(str(CREATE_ACLS), str(client), heap="-Xmx128m"),
        input=_bindings(users),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr[-3000:]


@pytest.fixture(scope="module")
def acl_broker(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[KafkaBroker]:
    """A broker holding the four services' KafkaUsers to their ACLs, with every topic of the
    catalogue, as Strimzi's topic and user operators would leave it."""
    require_kafka(pytestconfig)
    users = _kafka_users()
    broker = KafkaBroker(
        tmp_path_factory.mktemp("kafka-acls"),
        scram_users={user: f"{user}-{uuid.uuid4().hex}" for user in users},
        authorize=True,
    )
    broker.start()
    try:
        _create_acls(broker, users)
        yield broker
    finally:
        broker.stop()


async def _ensure_catalogue_topics(broker: KafkaBroker) -> None:
    assert broker.sign_in is not None
    platform = KafkaBus(
        broker.bootstrap_servers,
        client_id="crm-platform",
        partitions=1,
        replication_factor=1,
        security=broker.sign_in.security_of(BROKER_USER),
    )
    try:
        await platform.ensure_topics([n for t in Topic for n in (t.value, dead_letter_topic(t))])
    finally:
        await platform.stop()


async def _read_as(bus: KafkaBus, group: str, topic: str) -> list[ReceivedMessage]:
    """One message of ``topic``, read and committed in consumer group ``group``."""
    consumer = bus.consumer(group, [topic])
    try:
        await consumer.start()
        return await drain(consumer, expected=1, timeout=20)
    finally:
        await consumer.stop()


def _service_bus(broker: KafkaBroker, service: str) -> KafkaBus:
    """The service's bus, built from its settings, signed in as its KafkaUser."""
    assert broker.sign_in is not None
    user = f"crm-{service.replace('_', '-')}"
    settings = SERVICES[service].settings_class(
        bus="kafka",
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_security_protocol=KafkaSecurityProtocol.SASL_PLAINTEXT,
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=user,
        kafka_sasl_password=broker.sign_in.users[user],
    )
    return KafkaBus.from_settings(settings)


async def test_a_service_publishes_its_own_topic_and_another_reads_it_in_its_group(
    acl_broker: KafkaBroker,
) -> None:
    await _ensure_catalogue_topics(acl_broker)
    customer, complaints = (
        _service_bus(acl_broker, "customer"),
        _service_bus(acl_broker, "complaints"),
    )
    key = f"customer-{uuid.uuid4().hex[:8]}".encode()
    try:
        await customer.publish([OutgoingMessage(Topic.CUSTOMER.value, key, b'{"tier":"gold"}')])
        # The complaints service consumes the customer topic, as crm-complaints.
        received = await _read_as(complaints, "crm-complaints", Topic.CUSTOMER.value)
    finally:
        await customer.stop()
        await complaints.stop()

    assert [(m.key, m.value) for m in received] == [(key, b'{"tier":"gold"}')]


async def test_a_service_is_refused_another_service_s_topic(acl_broker: KafkaBroker) -> None:
    await _ensure_catalogue_topics(acl_broker)
    customer = _service_bus(acl_broker, "customer")
    try:
        # The customer service reads the complaints topic; only the complaints service writes it.
        with pytest.raises(BusUnavailableError, match="TopicAuthorizationFailed"):
            await customer.publish([OutgoingMessage(Topic.COMPLAINTS.value, b"c-1", b"{}")])
    finally:
        await customer.stop()


async def test_a_service_may_not_read_in_another_service_s_group(acl_broker: KafkaBroker) -> None:
    await _ensure_catalogue_topics(acl_broker)
    complaints = _service_bus(acl_broker, "complaints")
    try:
        with pytest.raises(BusUnavailableError, match="GroupAuthorizationFailed"):
            await _read_as(complaints, "crm-customer", Topic.CUSTOMER.value)
    finally:
        await complaints.stop()
