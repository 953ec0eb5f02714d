"""The services on a broker that asks who they are (SCRAM-SHA-512, as Strimzi's listener does):
built from their settings, they publish and consume as their KafkaUser; with a wrong password
they stop at start-up with the broker's reason, at once; the password is in no log."""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator

import pytest

from crm.infra.kafka import KafkaBroker
from services.customer.config import Settings as CustomerSettings
from shared.bus import BusUnavailableError, OutgoingMessage, ReceivedMessage
from shared.bus.kafka import KafkaBus
from shared.settings import KafkaSecurityProtocol
from tests.conftest import require_kafka

pytestmark = pytest.mark.kafka

USER = "crm-customer"
PASSWORD = f"customer-{uuid.uuid4().hex}"
WRONG_PASSWORD = f"not-the-customer-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def scram_broker(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[KafkaBroker]:
    require_kafka(pytestconfig)
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka-scram"), scram_users={USER: PASSWORD})
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _customer_settings(broker: KafkaBroker, password: str) -> CustomerSettings:
    return CustomerSettings(
        bus="kafka",
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_security_protocol=KafkaSecurityProtocol.SASL_PLAINTEXT,
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=USER,
        kafka_sasl_password=password,
    )


def _logged(broker: KafkaBroker, caplog: pytest.LogCaptureFixture, printed: str) -> str:
    """Everything logged: the clients' records, the services' printed lines, the broker's."""
    broker_logs = [broker.log_file, broker.stdout_file, *broker.work_dir.glob("*.properties")]
    return "\n".join([caplog.text, printed, *(p.read_text(errors="replace") for p in broker_logs)])


async def _consume(bus: KafkaBus, topic: str, wanted: int) -> list[ReceivedMessage]:
    consumer = bus.consumer(f"auth-{uuid.uuid4().hex[:6]}", [topic])
    await consumer.start()
    received: list[ReceivedMessage] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < wanted:
                received += await consumer.poll(max_records=10, timeout=0.5)
    finally:
        await consumer.stop()
    return received


async def test_a_service_publishes_and_consumes_as_its_kafka_user(
    scram_broker: KafkaBroker, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    topic = f"crm.auth-{uuid.uuid4().hex[:8]}.v1"
    bus = KafkaBus.from_settings(_customer_settings(scram_broker, PASSWORD))
    await bus.start()
    try:
        await bus.ensure_topics([topic])
        await bus.publish([OutgoingMessage(topic, b"customer-42", b'{"tier":"gold"}')])
        received = await _consume(bus, topic, wanted=1)
    finally:
        await bus.stop()

    assert [(m.key, m.value) for m in received] == [(b"customer-42", b'{"tier":"gold"}')]
    # aiokafka says, at INFO, whom the broker took it for.
    assert f"Authenticated as {USER} via SCRAM-SHA-512" in caplog.text
    assert PASSWORD not in _logged(scram_broker, caplog, capfd.readouterr().out)


async def test_a_wrong_password_stops_the_service_at_once_with_the_reason(
    scram_broker: KafkaBroker, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    bus = KafkaBus.from_settings(_customer_settings(scram_broker, WRONG_PASSWORD))

    started = time.monotonic()
    with pytest.raises(BusUnavailableError) as producer_refused:
        await bus.start()
    consumer = bus.consumer("auth-refused", ["crm.customer.v1"])
    with pytest.raises(BusUnavailableError) as consumer_refused:
        await consumer.start()
    await consumer.stop()
    elapsed = time.monotonic() - started

    for refused in (producer_refused, consumer_refused):
        message = str(refused.value)
        assert f"SASL_PLAINTEXT as '{USER}' with SCRAM-SHA-512" in message
        assert "SaslAuthenticationFailed" in message
        assert "invalid credentials" in message
        assert WRONG_PASSWORD not in message
    # Refused, not retried until some timeout.
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert WRONG_PASSWORD not in _logged(scram_broker, caplog, capfd.readouterr().out)


async def test_a_client_without_credentials_is_refused(scram_broker: KafkaBroker) -> None:
    # The broker really asks: the same client options, less the SCRAM login, get nowhere.
    bus = KafkaBus(
        scram_broker.bootstrap_servers,
        client_id="crm-anonymous",
        partitions=1,
        replication_factor=1,
        request_timeout_seconds=3,
    )

    with pytest.raises(BusUnavailableError, match=r"\(PLAINTEXT\): .*Unable to bootstrap"):
        await bus.start()
