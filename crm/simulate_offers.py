"""``crm simulate-offers``: a synthetic bank whose customers answer offers with planted
probabilities the service never sees, run through the events service's API for many rounds.

Each seed starts the models afresh, registers its customers with the detector as the customer
service's events would (tier, a current account, balances that fell or did not), then asks
``GET /v1/customers/{id}/next-best-actions`` for a random customer, lets the customer answer the
first action by its planted probability and records the answer at
``POST /v1/decisions/{id}/responses``. After the learning rounds it measures the next offers
(``crm.offer_world`` scores them). Every action is worth the same to the simulated bank, so
the ranking chases acceptance, the measure the comparison is made in.

It runs on an embedded PostgreSQL of its own in a temporary directory, with the events service
in this process (its HTTP API reached over ASGI): no server to start."""

import asyncio
import random
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import httpx
import yaml
from sqlalchemy import text

from contracts.base import DomainEvent
from contracts.customer import AccountOpened, CustomerRegistered, TransactionPosted
from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.offer_world import (
    ACTIONS,
    BANK_TIER,
    Offer,
    SeedResult,
    SimulatedCustomer,
    draw_customers,
    score,
)
from services.events import service as detector
from services.events.app import MIGRATIONS, create_app
from services.events.config import Settings
from shared.auth.tokens import development_bearer
from shared.db import create_engine, create_sessionmaker, transaction
from shared.envelope import EventEnvelope
from shared.migrations import upgrade

ACCOUNT = "6222000000000001"
# The candidate strategy scored off-policy: exploitation only, the wealth up-sell weighed up.
CANDIDATE_WEIGHTS = {"wealth_up_sell": 1.5}


@dataclass(frozen=True)
class Run:
    seeds: int
    customers: int
    learn: int
    measure: int
    exploration: float
    fell_share: float
    resamples: int
    concurrency: int


def catalogue_document() -> dict[str, Any]:
    """Every planted action always on and worth the same; the general entries the catalogue
    needs of each kind, never offered here."""
    names = {
        "retention_call": ("Retention call", "retention_call", None),
        "card_cross_sell": ("Credit card", "cross_sell", "card"),
        "wealth_up_sell": ("Wealth product", "up_sell", "wealth"),
        "loan_offer": ("Personal loan", "cross_sell", "loan"),
        "insurance": ("Insurance", "cross_sell", "insurance"),
    }
    document: dict[str, Any] = {
        action: {
            "name": name,
            "kind": kind,
            "product": product,
            "value": 1000,
            "propensity": 0.05,
            "channels": ["phone"],
            "always_on": True,
        }
        for action, (name, kind, product) in names.items()
    }
    for kind in ("up_sell", "cross_sell", "relationship_care", "service_recovery"):
        document[kind] = {
            "name": kind,
            "kind": kind,
            "value": 0,
            "propensity": 0.01,
            "channels": ["branch"],
        }
    return document


def _customer_events(customer: SimulatedCustomer, now: datetime) -> list[DomainEvent]:
    who = customer.customer_id
    before, after = (
        Decimal(100_000),
        Decimal(60_000) if customer.balance_fell else Decimal(101_000),
    )
    posting = {"customer_id": who, "account_number": ACCOUNT, "product_type": "current"}
    posting |= {"currency": "CNY", "channel": "web", "counterparty_bank": None}
    return [
        CustomerRegistered(
            customer_id=who,
            kind="individual",
            branch_code="0101",
            value_tier=BANK_TIER[customer.tier],
            identifiers=[],
            consent={"phone": True},
            preferred_channel="phone",
            birth_month_day=None,
        ),
        AccountOpened(
            customer_id=who,
            account_number=ACCOUNT,
            product_type="current",
            product_code="CURRENT-1",
            currency="CNY",
            opened_on=(now - timedelta(days=60)).date(),
            maturity_date=None,
            payoff_date=None,
        ),
        TransactionPosted(
            **posting,
            transaction_id=f"SIM-{uuid.uuid4().hex}",
            direction="credit",
            amount=before,
            balance_after=before,
            kind="deposit",
            booked_at=now - timedelta(days=40),
        ),
        TransactionPosted(
            **posting,
            transaction_id=f"SIM-{uuid.uuid4().hex}",
            direction="debit" if customer.balance_fell else "credit",
            amount=abs(before - after),
            balance_after=after,
            kind="withdrawal" if customer.balance_fell else "deposit",
            booked_at=now - timedelta(hours=1),
        ),
    ]


async def _register(settings: Settings, customers: Sequence[SimulatedCustomer]) -> None:
    """The customers as the detector learns of them from the customer service's events."""
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    try:
        for start in range(0, len(customers), 250):
            items = []
            for customer in customers[start : start + 250]:
                for n, event in enumerate(_customer_events(customer, now)):
                    envelope = EventEnvelope(
                        id=str(uuid.uuid4()),
                        source="/crm/customer",
                        type=event.event_type,
                        subject=event.subject,
                        time=now,
                        position=(event.topic, 0, start * 4 + n),
                    )
                    items.append((event, envelope))
            async with transaction(sessions) as session:
                await detector.handle_events(
                    session, items, rules=[], settings=settings, cache=None
                )
    finally:
        await engine.dispose()


async def _forget_models(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("TRUNCATE action_evidence, action_decision_entries, action_decisions")
            )
    finally:
        await engine.dispose()


@asynccontextmanager
async def _events_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://events", headers=development_bearer()
        ) as client:
            yield client


async def _offer(
    client: httpx.AsyncClient, customer: SimulatedCustomer, rng: random.Random
) -> Offer:
    asked = await client.get(
        f"/v1/customers/{customer.customer_id}/next-best-actions",
        params={"channel": "phone", "limit": len(ACTIONS)},
    )
    asked.raise_for_status()
    decision = asked.json()
    served = decision["items"][0]
    accepted = rng.random() < customer.acceptance(served["action_id"])
    answer = await client.post(
        f"/v1/decisions/{decision['decision_id']}/responses",
        json={"action_id": served["action_id"], "outcome": "accepted" if accepted else "declined"},
    )
    answer.raise_for_status()
    return Offer(
        customer=customer,
        served=served["action_id"],
        accepted=accepted,
        estimates={i["action_id"]: i["model"]["estimate"] for i in decision["items"]},
        first_choice_probability=served["model"]["first_choice_probability"],
    )


async def _seed(
    run: Run, seed: int, settings: Settings, progress: Callable[[str], None]
) -> SeedResult:
    rng = random.Random(seed)
    customers = draw_customers(run.customers, rng, run.fell_share)
    await _forget_models(settings)
    await _register(settings, customers)
    measured: list[Offer] = []
    rounds = run.learn + run.measure

    async def channel(lane: int) -> None:
        mine = customers[lane :: run.concurrency]
        lane_rng = random.Random(f"{seed}-{lane}")
        for n in range(lane, rounds, run.concurrency):
            offer = await _offer(client, lane_rng.choice(mine), lane_rng)
            if n >= run.learn and len(offer.estimates) == len(ACTIONS):
                measured.append(offer)
            if n % 5000 == 0:
                progress(f"seed {seed}: {n} of {rounds} offers")

    async with _events_api(settings) as client:
        await asyncio.gather(*(channel(lane) for lane in range(run.concurrency)))
    return score(measured, CANDIDATE_WEIGHTS, seed=seed, resamples=run.resamples)


async def simulate(run: Run, work: Path, progress: Callable[[str], None]) -> list[SeedResult]:
    postgres = EmbeddedPostgres(work / "pg", port=free_port())
    postgres.start()
    try:
        postgres.ensure_database("offers")
        catalogue_file = work / "actions.yaml"
        catalogue_file.write_text(yaml.safe_dump(catalogue_document()), encoding="utf-8")
        settings = Settings(
            database_url=postgres.url("offers"),
            action_catalogue=catalogue_file,
            nba_exploration=run.exploration,
            # The simulated customers are offered something at every round.
            fatigue_cap=1_000_000,
            log_level="WARNING",
        )
        await upgrade(settings, MIGRATIONS)
        results = []
        for seed in range(1, run.seeds + 1):
            result = await _seed(run, seed, settings, progress)
            progress(
                f"seed {seed}: learned {result.learned:.4f}, priority only"
                f" {result.priority_only:.4f}, oracle {result.oracle:.4f}, AUC"
                f" {result.learned_auc} against {result.planted_auc}, candidate"
                f" {result.candidate_true:.4f} estimated {result.candidate['dr'].value:.4f}"
                f" [{result.candidate['dr'].low:.4f}, {result.candidate['dr'].high:.4f}]"
            )
            results.append(result)
        return results
    finally:
        postgres.stop()


def report(results: Sequence[SeedResult]) -> list[str]:
    def spread(values: Sequence[float]) -> str:
        mean = statistics.fmean(values)
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{mean:.4f} ± {sd:.4f} (min {min(values):.4f}, max {max(values):.4f})"

    lines = [
        f"seeds: {len(results)}",
        "acceptance (planted probability of the offers served):",
        f"  learned ranking     {spread([r.learned for r in results])}",
        f"  priority only       {spread([r.priority_only for r in results])}",
        f"  oracle              {spread([r.oracle for r in results])}",
        f"  accepted (drawn)    {spread([r.accepted for r in results])}",
        f"learned / priority    {spread([r.learned / r.priority_only for r in results])}"
        "  (aim ≥ 1.3)",
        f"learned / oracle      {spread([r.learned / r.oracle for r in results])}  (aim ≥ 0.90)",
    ]
    paired = [r for r in results if r.learned_auc is not None and r.planted_auc is not None]
    if paired:
        lines += [
            f"AUC learned           {spread([r.learned_auc or 0 for r in paired])}",
            f"AUC planted           {spread([r.planted_auc or 0 for r in paired])}",
            f"AUC learned / planted {spread([_auc_ratio(r) for r in paired])}  (aim ≥ 0.95)",
        ]
    lines.append(f"candidate strategy (weights {CANDIDATE_WEIGHTS}, no exploration):")
    lines.append(f"  true rate           {spread([r.candidate_true for r in results])}")
    for estimator in ("ips", "snips", "dr"):
        covered = sum(r.covered(estimator) for r in results)
        values = [r.candidate[estimator].value for r in results]
        lines.append(
            f"  {estimator:<5} estimate     {spread(values)}; 95% interval held the true rate"
            f" in {covered} of {len(results)} seeds (aim ≥ 9 of 10)"
        )
    return lines


def _auc_ratio(result: SeedResult) -> float:
    return (result.learned_auc or 0.0) / (result.planted_auc or 1.0)


@click.command("simulate-offers")
@click.option("--seeds", default=10, show_default=True)
@click.option("--customers", default=2000, show_default=True)
@click.option("--learn", default=20_000, show_default=True, help="Responses before measuring.")
@click.option("--measure", default=5_000, show_default=True, help="Offers measured.")
@click.option("--exploration", default=0.1, show_default=True)
@click.option("--fell-share", default=0.2, show_default=True, help="Customers whose balance fell.")
@click.option("--resamples", default=1000, show_default=True, help="Bootstrap resamples.")
@click.option("--concurrency", default=4, show_default=True, help="Offers in flight.")
def simulate_offers(
    seeds: int,
    customers: int,
    learn: int,
    measure: int,
    exploration: float,
    fell_share: float,
    resamples: int,
    concurrency: int,
) -> None:
    """Run the planted world of offers through the next best action and report."""
    run = Run(seeds, customers, learn, measure, exploration, fell_share, resamples, concurrency)
    with tempfile.TemporaryDirectory(prefix="crm-offers-") as work:
        results = asyncio.run(simulate(run, Path(work), lambda m: click.echo(m, err=True)))
    for line in report(results):
        click.echo(line)
