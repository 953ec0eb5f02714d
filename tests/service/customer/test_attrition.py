"""Attrition risk learned from observed attrition by the valuation batch, on the real
database: planted customers whose balances run down or whose relationship closes are learned
as attrited, from their features as they were when observed, and only once."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import create_app
from services.customer.attrition.service import learn_due_observations
from services.customer.config import AttritionModel, Settings
from services.customer.valuation.service import revalue_customer, revalue_everyone
from shared.adaptive_model import Evidence
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.db import create_engine, create_sessionmaker
from shared.outbox import EVENT_SOURCE
from tests.conftest import database_of_its_own
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import create_customer, open_account, transaction

# Observed 100 days ago with a horizon of 120 days: the horizon ends 20 days from now.
OBSERVED = datetime.now(UTC) - timedelta(days=100)
LEARNED = datetime.now(UTC) + timedelta(days=21)


@pytest.fixture(scope="session")
async def attrition_database(postgres_server: EmbeddedPostgres) -> str:
    """A database of its own: the counts learned are only this file's customers'."""
    return await database_of_its_own(postgres_server, "crm_customer_attrition_test")


@pytest.fixture
def attrition_settings(attrition_database: str) -> Settings:
    return Settings(
        database_url=attrition_database,
        relay_poll_interval_seconds=0.05,
        attrition=AttritionModel(horizon_days=120),
    )


@pytest.fixture
async def bank(attrition_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(attrition_settings)) as client:
        yield client


async def _batch(settings: Settings, at: datetime) -> dict[str, int]:
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})
    try:
        return await revalue_everyone(sessions, settings=settings, at=at)
    finally:
        await engine.dispose()


async def _rows(settings: Settings, sql: str, **params: object) -> list[Any]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def _post(
    client: httpx.AsyncClient, account: str, direction: str, amount: str, at: datetime
) -> None:
    body = transaction(account, direction=direction, amount=amount, booked_at=at.isoformat())
    posted = await client.post("/v1/transactions", json={"transactions": [body]})
    assert posted.status_code == 200, posted.text


async def _customer_with(client: httpx.AsyncClient, deposit: str) -> tuple[str, str]:
    customer = await create_customer(client)
    account = (await open_account(client, customer["id"]))["full_number"]
    await _post(client, account, "credit", deposit, OBSERVED - timedelta(days=10))
    return customer["id"], account


async def test_planted_attrition_is_learned_once_from_the_features_then(
    bank: httpx.AsyncClient, attrition_settings: Settings
) -> None:
    ran_down, closing = (
        await _customer_with(bank, "300000.00"),
        await _customer_with(bank, "10000.00"),
    )
    kept_most, untouched = (
        await _customer_with(bank, "10000.00"),
        await _customer_with(bank, "10000.00"),
    )
    observed = await _batch(attrition_settings, OBSERVED)
    # After the observation: 20,000 of 300,000 left (6.7% ≤ 20%: ran down); 3,000 of 10,000
    # left (30%: kept); the second customer leaves the bank within the horizon.
    await _post(bank, ran_down[1], "debit", "280000.00", OBSERVED + timedelta(days=10))
    await _post(bank, kept_most[1], "debit", "7000.00", OBSERVED + timedelta(days=10))
    await _post(bank, closing[1], "debit", "10000.00", OBSERVED + timedelta(days=15))
    closed_on = (OBSERVED + timedelta(days=20)).date().isoformat()
    closed = await bank.post(f"/v1/accounts/{closing[1]}/close", json={"closed_on": closed_on})
    assert closed.status_code == 200, closed.text
    left = await bank.post(
        f"/v1/customers/{closing[0]}/close", json={"version": 1, "reason": "moved"}
    )
    assert left.status_code == 200, left.text

    learning = await _batch(attrition_settings, LEARNED)
    again = await _batch(attrition_settings, LEARNED)

    outcomes = {
        str(row.customer_id): row
        for row in await _rows(
            attrition_settings,
            "SELECT customer_id, features, assets_cny, outcome, reason FROM attrition_observations"
            " WHERE observed_at = :at",
            at=OBSERVED,
        )
    }
    assert observed["customers"] == 4
    assert learning["attrition_learned"] == 4
    assert "attrition_learned" not in again
    assert {c: outcomes[c].outcome for c, _ in (ran_down, closing, kept_most, untouched)} == {
        ran_down[0]: "attrited",
        closing[0]: "attrited",
        kept_most[0]: "retained",
        untouched[0]: "retained",
    }
    assert outcomes[ran_down[0]].reason.startswith("balances ran down to 7% of CNY 300,000.00")
    assert outcomes[closing[0]].reason.startswith("relationship closed on ")
    # Learned under the features it had when observed: the tier then was key (300,000 ≥
    # 200,000), though the batch that learned it placed the customer as ordinary.
    assert outcomes[ran_down[0]].features["value_tier"] == "key"
    assert outcomes[ran_down[0]].features["balance_trend_90d"] == "new"
    now_tier = await _rows(
        attrition_settings,
        "SELECT value_tier FROM customers WHERE id = :id",
        id=uuid.UUID(ran_down[0]),
    )
    assert now_tier[0].value_tier == "ordinary"
    counts = {
        (row.predictor, row.bin): (row.positives, row.negatives)
        for row in await _rows(attrition_settings, "SELECT * FROM attrition_counts")
    }
    assert counts[("*", "*")] == (2, 2)
    assert counts[("value_tier", "key")] == (1, 0)
    assert counts[("value_tier", "ordinary")] == (1, 2)
    # Two attritions are too few to trust any predictor: the base rate moved by the counts,
    # (0.05 × 20 + 2) / (20 + 4) = 0.125, medium from 0.10.
    [risk] = await _rows(
        attrition_settings,
        "SELECT probability, band, responses, attritions, computed_at FROM attrition_risks"
        " WHERE customer_id = :id",
        id=uuid.UUID(untouched[0]),
    )
    assert risk.probability == pytest.approx(0.125)
    assert (risk.band, risk.responses, risk.attritions) == ("medium", 4, 2)
    assert risk.computed_at == LEARNED
    view = (await bank.get(f"/v1/customers/{untouched[0]}/view")).json()
    assert view["attrition_risk"] == {
        "probability": pytest.approx(0.125),
        "band": "medium",
        "contributions": [],
        "evidence_responses": 4,
        "evidence_attritions": 2,
        "computed_at": view["attrition_risk"]["computed_at"],
    }
    assert datetime.fromisoformat(view["attrition_risk"]["computed_at"]) == LEARNED
    # Two attritions are fewer than the 200 the learned retention waits for: the table's.
    assert view["value"]["retention_source"] == "loyalty_table"
    # The band moves are the segment history: low from the prior alone (0.05) when first
    # observed, medium once learned, each with its probability as the reason.
    segments = await bank.get(
        f"/v1/customers/{untouched[0]}/segments",
        params={"as_of": (LEARNED + timedelta(seconds=1)).isoformat()},
    )
    moved = segments.json()["segments"]["attrition_risk"]
    assert (moved["previous"], moved["current"]) == ("low", "medium")
    assert moved["reason"] == "attrition risk 12.5% (base rate only)"
    today = datetime.now(UTC).isoformat()
    then = (await bank.get(f"/v1/customers/{untouched[0]}/view", params={"as_of": today})).json()
    assert then["attrition_risk"]["current"] == "low"
    [later] = [c for c in then["changed_since"] if c["field"] == "attrition_risk.band"]
    assert (later["old"], later["new"]) == ("low", "medium")
    trusting = attrition_settings.model_copy(
        update={"attrition": AttritionModel(horizon_days=120, min_attritions_for_retention=2)}
    )
    async with serving(create_app(trusting)) as learned_bank:
        value = (await learned_bank.get(f"/v1/customers/{untouched[0]}/view")).json()["value"]
    # Staying 120 days at 0.875, held over a year: 0.875 ** (365 / 120) = 0.66620...
    assert (value["retention_source"], value["retention"]) == ("attrition_model", "0.6662")


async def _attrition_counted(settings: Settings) -> tuple[int, int]:
    total = await _rows(
        settings, "SELECT positives, negatives FROM attrition_counts WHERE predictor = '*'"
    )
    return (total[0].positives, total[0].negatives) if total else (0, 0)


async def test_erasure_learns_the_customers_pending_observation_and_removes_it(
    client: httpx.AsyncClient, customer_settings: Settings
) -> None:
    """In the shared database: erasure comes after the relationship closed, so the pending
    observation is an attrition; it is counted, and then the customer's rows go."""
    customer = await create_customer(client)
    customer_id = uuid.UUID(customer["id"])
    account = (await open_account(client, customer["id"]))["full_number"]
    await _post(client, account, "credit", "5000.00", datetime.now(UTC) - timedelta(days=1))
    engine = create_engine(customer_settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: customer_settings.event_source})
    try:
        async with sessions() as session, session.begin():
            await revalue_customer(
                session,
                customer_id,
                settings=customer_settings,
                at=datetime.now(UTC),
                attrition_evidence=Evidence(),
            )
    finally:
        await engine.dispose()
    supervisor = development_bearer(Role.SUPERVISOR, subject="sup-li")
    export = (await client.get(f"/v1/customers/{customer['id']}/export", headers=supervisor)).json()
    [observation] = export["attrition_observations"]
    assert observation["features"]["products"] == "1"
    assert [risk["band"] for risk in export["attrition_risk"]] == ["low"]
    held = "SELECT count(*) AS n FROM {} WHERE customer_id = :id"
    observed = await _rows(customer_settings, held.format("attrition_observations"), id=customer_id)
    before = await _attrition_counted(customer_settings)
    today = datetime.now(UTC).date().isoformat()
    await client.post(f"/v1/accounts/{account}/close", json={"closed_on": today})
    assert (
        await client.post(
            f"/v1/customers/{customer['id']}/close", json={"version": 1, "reason": "moved"}
        )
    ).status_code == 200

    erased = await client.post(
        f"/v1/customers/{customer['id']}/erasure",
        json={"version": 2, "reference": "DSR-2026-0301"},
        headers=supervisor,
    )

    assert erased.status_code == 200, erased.text
    assert observed[0].n == 1
    for table in ("attrition_observations", "attrition_risks"):
        assert (await _rows(customer_settings, held.format(table), id=customer_id))[0].n == 0
    positives, negatives = before
    assert await _attrition_counted(customer_settings) == (positives + 1, negatives)


async def test_two_runs_at_once_learn_each_observation_once(
    postgres_server: EmbeddedPostgres,
) -> None:
    """Two batches learning at the same moment (two replicas, or a rerun over a slow one):
    each due observation is counted by one of them."""
    url = await database_of_its_own(postgres_server, "crm_customer_attrition_race_test")
    settings = Settings(
        database_url=url,
        relay_poll_interval_seconds=0.05,
        attrition=AttritionModel(horizon_days=120),
    )
    async with serving(create_app(settings)) as bank:
        for _ in range(12):
            await _customer_with(bank, "10000.00")
    await _batch(settings, OBSERVED)
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    try:
        learned = await asyncio.gather(
            *(learn_due_observations(sessions, settings=settings, at=LEARNED) for _ in range(2))
        )
    finally:
        await engine.dispose()
    assert sum(learned) == 12
    assert await _attrition_counted(settings) == (0, 12)


async def test_a_predictor_that_separates_the_attritions_explains_the_risk_in_the_view(
    postgres_server: EmbeddedPostgres,
) -> None:
    """Counts as learned from 200 observations where key customers left far more often
    (30 of 50) than ordinary ones (10 of 150): the tier is an active predictor, and each
    customer's risk moves by their tier's bin."""
    url = await database_of_its_own(postgres_server, "crm_customer_attrition_reasons_test")
    settings = Settings(database_url=url, relay_poll_interval_seconds=0.05)
    await scalar(
        settings,
        "INSERT INTO attrition_counts VALUES ('*', '*', 40, 160),"
        " ('value_tier', 'key', 30, 20), ('value_tier', 'ordinary', 10, 140) RETURNING 1",
    )
    async with serving(create_app(settings)) as bank:
        key, _ = await _customer_with(bank, "300000.00")
        ordinary, _ = await _customer_with(bank, "1000.00")
        await _batch(settings, datetime.now(UTC))
        views = {c: (await bank.get(f"/v1/customers/{c}/view")).json() for c in (key, ordinary)}
    # Prior and counts: log(41 / 179). The bin's likelihood ratio, Laplace-smoothed over the
    # two bins and an unseen one: key (31/43) / (21/163), +1.7220; ordinary (11/43) /
    # (141/163), -1.2183. Probabilities 0.5617 (high) and 0.0634 (low).
    risks = {c: views[c]["attrition_risk"] for c in views}
    assert risks[key]["contributions"] == [
        {"predictor": "value_tier", "bin": "key", "log_odds": 1.722}
    ]
    assert risks[ordinary]["contributions"] == [
        {"predictor": "value_tier", "bin": "ordinary", "log_odds": -1.2183}
    ]
    assert risks[key]["probability"] == pytest.approx(0.56173, abs=1e-5)
    assert risks[ordinary]["probability"] == pytest.approx(0.06344, abs=1e-5)
    assert (risks[key]["band"], risks[ordinary]["band"]) == ("high", "low")
    assert risks[key]["evidence_responses"] == 200
