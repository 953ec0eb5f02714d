"""``crm worklist``: a manager's worklist, read straight from the customer service's database
as the API answers it (an operator's command: no caller's limits apply)."""

import asyncio
import json
import uuid
from datetime import UTC, datetime

import click

from services.customer.config import Settings as CustomerSettings
from services.customer.errors import ManagerNotFound
from services.customer.worklist import service as worklist_service
from services.customer.worklist.schemas import WorklistPage
from shared.db import create_engine, create_sessionmaker, transaction


@click.command()
@click.option("--manager", "manager_id", type=click.UUID, required=True, help="The manager's id.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The API's answer, as JSON.")
def worklist(manager_id: uuid.UUID, limit: int, as_json: bool) -> None:
    """Print MANAGER's worklist: overdue first, then due, then scheduled; one line each with
    its status, due date, kind, name and why it is there."""
    try:
        page = asyncio.run(_worklist(manager_id, limit))
    except ManagerNotFound as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(page.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    click.echo(f"manager {manager_id}: {page.overdue} overdue, {page.due} due")
    for entry in page.entries:
        late = f" +{entry.overdue_days}d" if entry.overdue_days else ""
        click.echo(
            f"{entry.status.value:<9} {entry.due_on}{late:<6} {entry.kind.value:<11} "
            f"{entry.name}  {entry.reason}"
        )
    if page.next_cursor:
        click.echo(f"(more: raise --limit above {limit})")


async def _worklist(manager_id: uuid.UUID, limit: int) -> WorklistPage:
    settings = CustomerSettings()
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await worklist_service.worklist(
                session,
                manager_id,
                reach=None,
                settings=settings,
                now=datetime.now(UTC),
                limit=limit,
            )
    finally:
        await engine.dispose()
