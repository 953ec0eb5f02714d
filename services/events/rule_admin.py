"""Managing rules: create, a new version, enable and disable, promote a version. Each change
is checked (a rule that cannot be evaluated is refused with the reasons) and clears the
process's rule cache."""

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.errors import InvalidRule, RuleExists, RuleNotFound, VersionNotFound
from services.events.models import Rule, RuleVersion
from services.events.repository import rules as rules_repository
from services.events.rules import RuleDefinition, rule_problems
from shared.problems import get_or_404

VersionStatus = Literal["draft", "active", "shadow"]


def check(definition: RuleDefinition) -> None:
    problems = rule_problems(definition)
    if problems:
        field, reason = problems[0]
        raise InvalidRule(
            f"{field}: {reason}",
            field=field,
            errors=[{"field": f, "message": m} for f, m in problems],
        )


async def create_rule(
    session: AsyncSession,
    rule_id: str,
    definition: RuleDefinition,
    status: VersionStatus,
    *,
    now: datetime,
    built_in: bool = False,
) -> RuleVersion:
    check(definition)
    if not await rules_repository.insert_rule(session, rule_id, now):
        raise RuleExists(f"rule {rule_id!r} exists; PUT a new version instead", rule_id=rule_id)
    return await rules_repository.add_version(
        session,
        {
            "rule_id": rule_id,
            "version": 1,
            "status": status,
            "definition": definition.model_dump(mode="json"),
            "built_in": built_in,
            "created_at": now,
        },
    )


async def _locked(session: AsyncSession, rule_id: str) -> Rule:
    return await get_or_404(
        rules_repository.rule(session, rule_id, for_update=True),
        RuleNotFound(f"no rule {rule_id!r}"),
    )


async def add_version(
    session: AsyncSession,
    rule_id: str,
    definition: RuleDefinition,
    status: VersionStatus,
    *,
    now: datetime,
) -> RuleVersion:
    """A change is a new version; an active or shadow one takes the place of the last."""
    check(definition)
    rule = await _locked(session, rule_id)
    if status in ("active", "shadow"):
        await rules_repository.retire(session, rule_id, status)
    rule.updated_at = now
    return await rules_repository.add_version(
        session,
        {
            "rule_id": rule_id,
            "version": await rules_repository.next_version(session, rule_id),
            "status": status,
            "definition": definition.model_dump(mode="json"),
            "built_in": False,
            "created_at": now,
        },
    )


async def promote(
    session: AsyncSession, rule_id: str, version: int, status: VersionStatus, *, now: datetime
) -> Sequence[RuleVersion]:
    rule = await _locked(session, rule_id)
    versions = await rules_repository.versions_of(session, rule_id)
    target = next((v for v in versions if v.version == version), None)
    if target is None:
        raise VersionNotFound(f"rule {rule_id!r} has no version {version}")
    if status in ("active", "shadow") and target.status != status:
        await rules_repository.retire(session, rule_id, status)
    await session.flush()
    target.status = status
    rule.updated_at = now
    await session.flush()
    return await rules_repository.versions_of(session, rule_id)


async def set_enabled(session: AsyncSession, rule_id: str, enabled: bool, *, now: datetime) -> Rule:
    rule = await _locked(session, rule_id)
    rule.enabled, rule.updated_at = enabled, now
    return rule


BUILTIN_RULES = Path(__file__).with_name("builtin_rules.yaml")


def read_rule_file(path: Path) -> dict[str, RuleDefinition]:
    """Rules from a YAML file (rule id → definition), each checked as the API checks it."""
    documents = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = {}
    for rule_id, document in documents.items():
        definition = RuleDefinition.model_validate(document)
        problems = rule_problems(definition)
        if problems:
            raise ValueError(f"{path.name}: {rule_id}: {problems}")
        rules[str(rule_id)] = definition
    return rules
