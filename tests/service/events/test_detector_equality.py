"""The detector's states, history, firings and opportunities after one generated stream equal
those the design before issue #29 left on the same input, stored in
``detector_equality.json``: how the detector writes and reads may change, what it keeps and
decides may not.

Compared on named columns only (customers, rules and versions, the states' figures, each
firing's event, time and decision with its suppression reason, each opportunity's status and
lineage), never on generated ids or wall-clock stamps. The stream's ids and times are fixed
here, so that the same customers fall in the control groups on every run.

To store the expected output anew (when a change is meant to alter what the detector decides,
saying why in its commit): ``CRM_WRITE_DETECTOR_EQUALITY=1`` and run this test; it writes the
file and fails, so that a run that writes can never pass for a comparison."""

import hashlib
import json
import os
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from contracts.base import DomainEvent
from crm.infra.postgres import EmbeddedPostgres
from services.events import service
from services.events.config import Settings
from services.events.detector import LiveRule
from services.events.state_cache import StateCache
from shared.db import create_engine, create_sessionmaker, transaction
from shared.envelope import EventEnvelope
from shared.outbox import EVENT_SOURCE
from tests.conftest import database_of_its_own
from tests.service.events.conftest import builtin
from tests.service.events.stream import generated_stream
from tests.service.events.test_backtest_parity import STREAM_RULES

EXPECTED = Path(__file__).with_name("detector_equality.json")
SEED = 20261206
CUSTOMERS = 120
MAX_RUN = 200  # events in one run, at most (a poll holds up to 500)
# The stream ends here: a fixed time, so that the business days fall alike on every run.
END = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)

# Each table's named columns, in a stable order. The history's payload is compared by digest.
QUERIES = {
    "profiles": "SELECT customer_id, value_tier, manager_id, consent, preferred_channel,"
    " birth_month_day, status, last_activity_at, open_complaints FROM customer_profiles"
    " ORDER BY customer_id",
    "days": "SELECT customer_id, day, money_in, money_out, count_in, count_out, max_in, max_out,"
    " contacts, closing_balance, conversations FROM customer_days ORDER BY customer_id, day",
    "holdings": "SELECT customer_id, account_number, product_type, balance, maturity_date, open"
    " FROM customer_holdings ORDER BY customer_id, account_number",
    "recurring": "SELECT customer_id, source, last_month, streak FROM customer_recurring_credits"
    " ORDER BY customer_id, source",
    # In the order consumed: backtests replay it so.
    "history": "SELECT event_id, customer_id, event_name, occurred_at, topic, partition,"
    ' "offset", payload FROM observed_events ORDER BY consumed_seq',
    "firings": "SELECT customer_id, rule_id, rule_version, mode, dedupe_key, decision, fired_at,"
    " opportunity_id IS NOT NULL AS opened FROM rule_firings"
    " ORDER BY customer_id, fired_at, rule_id, mode, dedupe_key",
    "opportunities": "SELECT customer_id, rule_id, rule_version, dedupe_key, action, product,"
    " priority, owner, owner_id, channel, due_at, expires_at, status, outcome, control_group,"
    " facts, lineage, created_at FROM opportunities ORDER BY dedupe_key",
    "published": "SELECT count(*) AS opportunities_created FROM outbox"
    " WHERE event_type LIKE '%opportunity.created%'",
}


def _rules() -> list[LiveRule]:
    """The built-in rules the stream reaches, with their control groups, and a shadow version
    beside the large withdrawal's, ordered as the rule book orders them."""
    rules = [builtin(rule_id, holdout=True) for rule_id in STREAM_RULES]
    active = builtin("large_withdrawal", holdout=True)
    document = active.definition.model_dump(mode="json")
    for condition in document["conditions"]:
        if condition.get("field") == "amount":
            condition["value"] = "50000"
    shadow = LiveRule(
        "large_withdrawal", 2, "shadow", type(active.definition).model_validate(document)
    )
    rules.append(shadow)
    return sorted(rules, key=lambda r: (r.rule_id, r.status != "shadow"))


def _fixed_stream() -> list[tuple[DomainEvent, EventEnvelope]]:
    """The generated stream with every id drawn from the seed: customers, complaints and
    contacts, transactions, and each envelope's id and position."""
    draw, ids_draw = random.Random(SEED), random.Random(SEED + 1)
    ids: dict[uuid.UUID, uuid.UUID] = {}

    def fixed(value: uuid.UUID) -> uuid.UUID:
        if value not in ids:
            ids[value] = uuid.UUID(int=ids_draw.getrandbits(128), version=4)
        return ids[value]

    items = []
    for n, arrival in enumerate(generated_stream(draw, CUSTOMERS, now=END)):
        event = arrival.event
        update: dict[str, Any] = {
            name: fixed(value) for name, value in event if isinstance(value, uuid.UUID)
        }
        if "transaction_id" in type(event).model_fields:
            update["transaction_id"] = f"TX-{n:06d}"
        event = event.model_copy(update=update)
        envelope = EventEnvelope(
            id=str(uuid.UUID(int=ids_draw.getrandbits(128), version=4)),
            source="/crm/test",
            type=event.event_type,
            subject=event.subject,
            time=arrival.time,
            position=(event.topic, 0, n),
        )
        items.append((event, envelope))
    return items


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list):
        return value
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


async def _snapshot(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            snapshot = {}
            for name, query in QUERIES.items():
                rows = [dict(row._mapping) for row in await connection.execute(text(query))]
                snapshot[name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    finally:
        await engine.dispose()
    for row in snapshot["history"]:
        payload = json.dumps(row.pop("payload"), sort_keys=True)
        row["payload_sha256"] = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return snapshot


def _as_lines(snapshot: dict[str, list[dict[str, Any]]]) -> str:
    """One row a line, so that a change to the expected output reads as a diff of rows."""
    tables = [
        f"{json.dumps(name)}: [\n" + ",\n".join(json.dumps(row, sort_keys=True) for row in rows)
        for name, rows in sorted(snapshot.items())
    ]
    return "{\n" + "\n],\n".join(tables) + "\n]\n}\n"


def _differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    pairs = [(e, a) for e, a in zip(expected, actual, strict=False) if e != a]
    first = f"; first: expected {pairs[0][0]}, got {pairs[0][1]}" if pairs else ""
    return f"{len(expected)} rows expected, {len(actual)} got, {len(pairs)} differ{first}"


async def test_a_generated_stream_leaves_what_the_design_before_left(
    postgres_server: EmbeddedPostgres,
) -> None:
    url = await database_of_its_own(postgres_server, "crm_events_equality")
    settings = Settings(database_url=url, schedule_interval_seconds=3600, rule_cache_seconds=0)
    items, rules = _fixed_stream(), _rules()
    draw = random.Random(SEED + 2)
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})
    cache = StateCache(settings.state_cache_customers)
    try:
        fed = 0
        while fed < len(items):
            run = items[fed : fed + draw.randint(1, MAX_RUN)]
            async with transaction(sessions) as session:
                await service.handle_events(
                    session, run, rules=rules, settings=settings, cache=cache
                )
            fed += len(run)
    finally:
        await engine.dispose()

    actual = await _snapshot(settings)

    if os.environ.get("CRM_WRITE_DETECTOR_EQUALITY"):
        EXPECTED.write_text(_as_lines(actual))
        raise AssertionError(f"{EXPECTED.name} written; run again without the variable")
    expected = json.loads(EXPECTED.read_text())
    assert expected.keys() == actual.keys()
    assert len(actual["firings"]) > 100, "the stream must reach the rules"
    differing = {
        name: _differences(expected[name], actual[name])
        for name in expected
        if expected[name] != actual[name]
    }
    assert not differing, differing
