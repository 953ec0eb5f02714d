"""The local bus's log as stored in PostgreSQL: its tables, where a message goes, how its headers
are kept, and the relay's append of a round straight from the outbox.

That append is one ``INSERT … SELECT``: the log is in the service's database, so the round's
messages need not be built in Python (an envelope model and its encoded headers per message)
and sent back. The statement reads the outbox rows the relay names and writes the log rows,
headers and all, as ``EventEnvelope.to_headers`` and :func:`encode_headers` would.
``bench.outbox_relay`` measures it against the COPY of messages built in Python
(docs/performance.md).
"""

import base64
import json
import zlib
from typing import Any, Protocol

from sqlalchemy import text

from shared.envelope import Headers

# Statements name the schema from this constant, never from input; their `nosec B608` marks
# tell bandit so.
SCHEMA = "crm_bus"
# Notified by every append, on its commit.
APPENDED_CHANNEL = SCHEMA

# The log is the bus's own storage, created on start the way a broker creates its log
# directories; it is not a service's data, so it has no Alembic history of its own.
STORAGE_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.partition_heads (
        topic text NOT NULL, partition integer NOT NULL, next_offset bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (topic, partition))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.log (
        topic text NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL,
        key bytea, value bytea NOT NULL, headers jsonb NOT NULL,
        appended_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic, partition, "offset"))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.consumer_offsets (
        group_id text NOT NULL, topic text NOT NULL, partition integer NOT NULL,
        next_offset bigint NOT NULL, PRIMARY KEY (group_id, topic, partition))""",
)


LOG_COLUMNS = ("topic", "partition", "offset", "key", "value", "headers")


class OutboxRow(Protocol):
    """What appending an outbox row needs of it in Python: the rest stays in the database."""

    seq: int
    topic: str
    message_key: str


def partition_for(key: bytes | None, partitions: int, *, fallback: int = 0) -> int:
    if key is None:
        return fallback % partitions
    return zlib.crc32(key) % partitions


def encode_headers(headers: Headers) -> str:
    return json.dumps([[name, base64.b64encode(value).decode()] for name, value in headers])


def decode_headers(raw: Any) -> Headers:
    pairs = json.loads(raw) if isinstance(raw, str) else raw
    return tuple((name, base64.b64decode(value)) for name, value in pairs)


def _header(name: str, value: str) -> str:
    # PostgreSQL's base64 breaks lines every 76 characters; a header value has none.
    encoded = f"translate(encode(convert_to({value}, 'UTF8'), 'base64'), E'\\n', '')"
    return f"jsonb_build_array('{name}', {encoded})"


# EventEnvelope.to_headers, for an outbox row, in SQL; the traceparent is the relay's.
_OUTBOX_HEADERS = (
    "jsonb_build_array("
    + ", ".join(
        _header(name, value)
        for name, value in (
            ("ce_specversion", "'1.0'"),
            ("ce_id", "o.event_id::text"),
            ("ce_source", "o.source"),
            ("ce_type", "o.event_type"),
            (
                "ce_time",
                "to_char(o.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
                " || '+00:00'",
            ),
            ("ce_subject", "o.message_key"),
            ("content-type", "'application/json'"),
        )
    )
    + ")"
    + " || CASE WHEN o.correlation_id IS NULL OR o.correlation_id = '' THEN '[]'::jsonb"
    + f" ELSE jsonb_build_array({_header('ce_correlationid', 'o.correlation_id')}) END"
    + " || CASE WHEN p.traceparent IS NULL OR p.traceparent = '' THEN '[]'::jsonb"
    + f" ELSE jsonb_build_array({_header('ce_traceparent', 'p.traceparent')}) END"
)


# The round's topics' heads are locked first, in a fixed order (LOCK_HEADS); then offsets are
# given per partition in the outbox's order, the payload's text copied as it is, and the append
# notified. The outbox (the first on the search path) is the relay's to mark afterwards, in its
# own transaction.
LOCK_HEADS = text(
    f"SELECT topic, count(*) AS partitions FROM (SELECT topic FROM {SCHEMA}.partition_heads"  # nosec B608
    " WHERE topic = ANY(:topics) ORDER BY topic, partition FOR UPDATE) AS heads GROUP BY topic"
)
APPEND_FROM_OUTBOX = text(
    "WITH placed AS ("  # nosec B608
    " SELECT o.seq, o.topic, p.partition, o.message_key, o.payload, "
    + _OUTBOX_HEADERS
    + " AS headers, row_number() OVER (PARTITION BY o.topic, p.partition ORDER BY o.seq)"  # nosec B608
    " - 1 AS n FROM unnest(CAST(:seqs AS bigint[]), CAST(:partitions AS int[]),"
    " CAST(:traceparents AS text[])) AS p(seq, partition, traceparent)"
    " JOIN outbox o ON o.seq = p.seq"
    # Said again of the outbox itself, so that the statement's generic plan (a prepared
    # statement's, from its sixth run on) reads the outbox by its key: with the join alone it
    # hashed the whole outbox each round, slower as the outbox grew.
    " WHERE o.seq = ANY(CAST(:seqs AS bigint[]))),"
    " counts AS (SELECT topic, partition, count(*) AS c FROM placed"
    " GROUP BY topic, partition),"
    f" heads AS (UPDATE {SCHEMA}.partition_heads h SET next_offset = h.next_offset + counts.c"
    " FROM counts WHERE h.topic = counts.topic AND h.partition = counts.partition"
    " RETURNING h.topic, h.partition, h.next_offset - counts.c AS first),"
    f' appended AS (INSERT INTO {SCHEMA}.log (topic, partition, "offset", key, value, headers)'
    " SELECT placed.topic, placed.partition, heads.first + placed.n,"
    " convert_to(placed.message_key, 'UTF8'), convert_to(placed.payload::text, 'UTF8'),"
    " placed.headers FROM placed JOIN heads USING (topic, partition))"
    f" SELECT pg_notify('{APPENDED_CHANNEL}', '')"
)
