"""Queries of the rules and their versions."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.models import Rule, RuleVersion


async def live_versions(session: AsyncSession) -> Sequence[RuleVersion]:
    """The active and shadow versions of every enabled rule."""
    statement = (
        select(RuleVersion)
        .join(Rule, Rule.rule_id == RuleVersion.rule_id)
        .where(Rule.enabled.is_(True), RuleVersion.status.in_(("active", "shadow")))
        .order_by(RuleVersion.rule_id, RuleVersion.version)
    )
    return (await session.scalars(statement)).all()


async def rule(session: AsyncSession, rule_id: str, *, for_update: bool = False) -> Rule | None:
    statement = select(Rule).where(Rule.rule_id == rule_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def versions_of(session: AsyncSession, rule_id: str) -> Sequence[RuleVersion]:
    statement = (
        select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
    )
    return (await session.scalars(statement)).all()


async def all_rules(session: AsyncSession) -> Sequence[Rule]:
    return (await session.scalars(select(Rule).order_by(Rule.rule_id))).all()


async def insert_rule(session: AsyncSession, rule_id: str, now: datetime) -> bool:
    """False when the rule id is taken."""
    statement = (
        insert(Rule)
        .values(rule_id=rule_id, enabled=True, updated_at=now)
        .on_conflict_do_nothing()
        .returning(Rule.rule_id)
    )
    return (await session.scalar(statement)) is not None


async def next_version(session: AsyncSession, rule_id: str) -> int:
    latest = await session.scalar(
        select(func.max(RuleVersion.version)).where(RuleVersion.rule_id == rule_id)
    )
    return (latest or 0) + 1


async def retire(session: AsyncSession, rule_id: str, status: str) -> None:
    """Retire the rule's version in ``status`` (active or shadow), if any."""
    await session.execute(
        update(RuleVersion)
        .where(RuleVersion.rule_id == rule_id, RuleVersion.status == status)
        .values(status="retired")
    )


async def add_version(session: AsyncSession, values: dict[str, Any]) -> RuleVersion:
    version = RuleVersion(**values)
    session.add(version)
    await session.flush()
    return version
