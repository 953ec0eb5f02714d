"""The launchers start real servers: PostgreSQL answers over TCP and keeps its data across a
restart; the Kafka broker carries a record with its key and headers, and survives a crash."""

import asyncio
import socket
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from crm.infra.kafka import KafkaBroker, free_port, new_cluster_id
from crm.infra.postgres import EmbeddedPostgres

HEADERS = [("ce_type", b"bank.crm.customer.updated"), ("ce_id", uuid.uuid4().bytes)]


def _asyncpg_dsn(sqlalchemy_url: str) -> str:
    # asyncpg speaks plain libpq URLs; the "+asyncpg" driver suffix is SQLAlchemy's.
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# -- PostgreSQL ----------------------------------------------------------------------------


async def test_postgres_answers_over_tcp(database_url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        version = await connection.fetchval("SELECT version()")
        # inet_server_addr() is NULL over a Unix socket: this proves the TCP listener.
        server_addr = await connection.fetchval("SELECT host(inet_server_addr())")
        database = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()
    assert version.startswith("PostgreSQL 18")
    assert server_addr == "127.0.0.1"
    assert database == "crm_test"


async def test_postgres_data_survive_a_restart(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    first = EmbeddedPostgres(data_dir, port=port)
    first.start()
    try:
        first.ensure_database("durable")
        first.ensure_database("durable")  # idempotent
        dsn = _asyncpg_dsn(first.url("durable"))
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("CREATE TABLE note (id int PRIMARY KEY, body text)")
            await connection.execute("INSERT INTO note VALUES (1, 'written before the stop')")
        finally:
            await connection.close()
        assert first.pid_file.read_text().strip() == str(first.postmaster_pid())

        # A second launcher on the same dir reuses the running server and must not stop it.
        reuser = EmbeddedPostgres(data_dir, port=port)
        reuser.start()
        assert not reuser.started_here
        reuser.stop()
        assert first.is_running()
    finally:
        first.stop()

    assert not first.is_running()
    assert not _accepts_tcp(port)
    assert not first.pid_file.exists()

    second = EmbeddedPostgres(data_dir, port=port)
    with second:
        assert second.started_here  # the data dir was found, not re-initialised
        connection = await asyncpg.connect(dsn)
        try:
            body = await connection.fetchval("SELECT body FROM note WHERE id = 1")
        finally:
            await connection.close()
    assert body == "written before the stop"
    assert not second.is_running()


# -- Kafka ---------------------------------------------------------------------------------


async def _create_topic(bootstrap: str, partitions: int) -> str:
    topic = f"infra-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, replication_factor=1)])
    finally:
        await admin.close()
    return topic


async def _produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> tuple[int, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value=value, key=key, headers=HEADERS)
    finally:
        await producer.stop()
    return int(sent.partition), int(sent.offset)


@pytest.mark.kafka
async def test_kafka_round_trip_keeps_key_and_headers(kafka_bootstrap: str) -> None:
    topic = await _create_topic(kafka_bootstrap, partitions=3)
    partition, offset = await _produce(kafka_bootstrap, topic, b"customer-42", b'{"tier":"gold"}')

    # A consumer group, as the services use: this also exercises the group coordinator and
    # the single-replica __consumer_offsets topic the broker creates on first use.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"infra-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
    finally:
        await consumer.stop()

    assert (record.topic, record.partition, record.offset) == (topic, partition, offset)
    assert record.key == b"customer-42"
    assert record.value == b'{"tier":"gold"}'
    assert list(record.headers) == HEADERS


@pytest.mark.kafka
async def test_kafka_broker_recovers_its_data_after_a_kill(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    # kafka_bootstrap applies the one policy for a machine without Kafka (fail in CI).
    broker = KafkaBroker(tmp_path / "kafka")
    # start/kill/start block on the broker; a worker thread keeps the event loop free.
    await asyncio.to_thread(broker.start)
    try:
        topic = await _create_topic(broker.bootstrap_servers, partitions=1)
        await _produce(broker.bootstrap_servers, topic, b"k", b"acknowledged before the crash")
        first_pid = broker.pid
        assert broker.pid_file.read_text().strip() == str(first_pid)

        await asyncio.to_thread(broker.kill)
        assert not broker.is_running()
        assert not broker.pid_file.exists()
        await asyncio.to_thread(broker.start)  # same storage, same ports: no reformat
        assert broker.pid not in (None, first_pid)

        consumer = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
        assert record.value == b"acknowledged before the crash"
    finally:
        await asyncio.to_thread(broker.stop)
    assert not broker.pid_file.exists()


def test_a_cluster_id_never_reads_as_an_option() -> None:
    ids = [new_cluster_id() for _ in range(5000)]

    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 for i in ids)
    assert len(set(ids)) == len(ids)
