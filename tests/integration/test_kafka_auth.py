"""The services on a broker that asks who they are (SCRAM-SHA-512, as Strimzi's listener does):
built from their settings, they publish and consume as their KafkaUser, in clear or over TLS
trusting the broker's CA; with a wrong password, or a broker their CA did not sign, they stop
at start-up with the reason, at once; the password is in no log."""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
    if subject == issuer[0]:  # a CA, as Strimzi's cluster CA
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:  # a broker, named as its clients reach it
        names = [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
    return builder.sign(issuer[1], hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """The broker's key store (its key and certificate, signed by a cluster CA), that CA's
    certificate, and the certificate of a CA that signed nothing of the broker's."""
    ca_key, other_key, broker_key = (ec.generate_private_key(ec.SECP256R1()) for _ in "abc")
    ca = _certificate("crm-cluster-ca", ca_key, ("crm-cluster-ca", ca_key))
    other = _certificate("another-ca", other_key, ("another-ca", other_key))
    broker = _certificate("crm-broker", broker_key, ("crm-cluster-ca", ca_key))
    keystore, ca_file, other_file = (directory / n for n in ("broker.pem", "ca.crt", "other.crt"))
    key = broker_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    keystore.write_bytes(key + _pem(broker) + _pem(ca))
    ca_file.write_bytes(_pem(ca))
    other_file.write_bytes(_pem(other))
    return keystore, ca_file, other_file


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return _tls_files(tmp_path_factory.mktemp("kafka-tls"))


@pytest.fixture(scope="module")
def scram_broker(
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
    tls_files: tuple[Path, Path, Path],
) -> Iterator[KafkaBroker]:
    require_kafka(pytestconfig)
    broker = KafkaBroker(
        tmp_path_factory.mktemp("kafka-scram"),
        scram_users={USER: PASSWORD},
        tls_keystore=tls_files[0],
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _customer_settings(
    broker: KafkaBroker, password: str, *, ca_file: Path | None = None
) -> CustomerSettings:
    """The customer service's, over TLS trusting ``ca_file`` if given."""
    return CustomerSettings(
        bus="kafka",
        kafka_bootstrap_servers=(
            broker.bootstrap_servers if ca_file is None else broker.tls_bootstrap_servers
        ),
        kafka_security_protocol=(
            KafkaSecurityProtocol.SASL_PLAINTEXT
            if ca_file is None
            else KafkaSecurityProtocol.SASL_SSL
        ),
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=USER,
        kafka_sasl_password=password,
        kafka_ssl_ca_file=str(ca_file or ""),
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
    # The logging set-up other tests ran quiets aiokafka to WARNING: listen to it directly.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="aiokafka")
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
    # The logging set-up other tests ran quiets aiokafka to WARNING: listen to it directly.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="aiokafka")
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


async def test_over_tls_a_service_trusts_the_broker_its_ca_file_vouches_for(
    scram_broker: KafkaBroker, tls_files: tuple[Path, Path, Path]
) -> None:
    topic = f"crm.auth-{uuid.uuid4().hex[:8]}.v1"
    bus = KafkaBus.from_settings(_customer_settings(scram_broker, PASSWORD, ca_file=tls_files[1]))
    await bus.start()
    try:
        await bus.ensure_topics([topic])
        await bus.publish([OutgoingMessage(topic, b"customer-7", b"over TLS")])
        received = await _consume(bus, topic, wanted=1)
    finally:
        await bus.stop()

    assert [(m.key, m.value) for m in received] == [(b"customer-7", b"over TLS")]


async def test_over_tls_a_broker_another_ca_signed_is_refused(
    scram_broker: KafkaBroker, tls_files: tuple[Path, Path, Path]
) -> None:
    bus = KafkaBus.from_settings(_customer_settings(scram_broker, PASSWORD, ca_file=tls_files[2]))

    started = time.monotonic()
    with pytest.raises(BusUnavailableError) as refused:
        await bus.start()

    assert f"SASL_SSL as '{USER}' with SCRAM-SHA-512" in str(refused.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert time.monotonic() - started < 5
