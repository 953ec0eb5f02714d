"""``crm rules`` and ``crm replay``: the detector's rules as files, and rebuilding its state."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import click
import yaml

from services.events import rule_admin
from services.events.config import Settings as EventsSettings
from services.events.replay import rebuild
from services.events.repository import rules as rules_repository
from services.events.rule_admin import VersionStatus
from services.events.rules import RuleDefinition
from shared.db import create_engine, create_sessionmaker, transaction
from shared.logging import configure_logging


@click.group()
def rules() -> None:
    """The detector's trigger rules, as YAML files (rule id → definition)."""


@rules.command(name="export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_rules(out: Path | None) -> None:
    """Write every rule's active version (the file `crm rules load` reads)."""
    document = asyncio.run(_active_definitions())
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=True)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(document)} rules to {out}", err=True)


async def _active_definitions() -> dict[str, object]:
    engine = create_engine(EventsSettings())
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return {
                v.rule_id: v.definition
                for v in await rules_repository.live_versions(session)
                if v.status == "active"
            }
    finally:
        await engine.dispose()


@rules.command(name="load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--status",
    type=click.Choice(["active", "shadow", "draft"]),
    default="active",
    show_default=True,
    help="What each loaded version becomes.",
)
def load_rules(path: Path, status: str) -> None:
    """Create each rule of the file, or add it as a new version of the rule with its id.
    Every rule is checked first; one that cannot be evaluated stops the load."""
    try:
        definitions = rule_admin.read_rule_file(path)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    created, versioned = asyncio.run(_load(definitions, cast(VersionStatus, status)))
    click.echo(f"created={created} new_versions={versioned}")


async def _load(definitions: dict[str, RuleDefinition], status: VersionStatus) -> tuple[int, int]:
    engine = create_engine(EventsSettings())
    now = datetime.now(UTC)
    created = versioned = 0
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            for rule_id, definition in definitions.items():
                if await rules_repository.rule(session, rule_id) is None:
                    await rule_admin.create_rule(session, rule_id, definition, status, now=now)
                    created += 1
                else:
                    await rule_admin.add_version(session, rule_id, definition, status, now=now)
                    versioned += 1
    finally:
        await engine.dispose()
    return created, versioned


@click.command()
@click.argument("service", type=click.Choice(["events"]))
def replay(service: str) -> None:
    """Rebuild a service's derived state by consuming its topics from the beginning.

    Stop the service first. The detector's per-customer state and history are emptied and
    rebuilt; its opportunities are kept, and the replay recreates none that exist."""
    configure_logging()
    group = asyncio.run(rebuild(EventsSettings()))
    click.echo(f"replayed {service} under consumer group {group}")
