"""Every query of the agents: who they are, their states and the history of them."""

from datetime import datetime
from typing import Any

from sqlalchemy import any_, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.models import STAFFED_STATES, Agent, AgentState, AgentStateSpell


async def agent(session: AsyncSession, agent_id: str, *, for_update: bool = False) -> Agent | None:
    statement = select(Agent).where(Agent.id == agent_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def add_agent(session: AsyncSession, values: dict[str, Any]) -> bool:
    statement = insert(Agent).values(**values).on_conflict_do_nothing().returning(Agent.id)
    return (await session.scalar(statement)) is not None


async def agents(session: AsyncSession, *, state: str | None = None) -> list[Agent]:
    statement = select(Agent).order_by(Agent.id)
    if state is not None:
        statement = statement.where(Agent.state == state)
    return list(await session.scalars(statement))


async def longest_idle_agent(session: AsyncSession, queue: str) -> Agent | None:
    await session.flush()
    statement = (
        select(Agent)
        .where(Agent.state == AgentState.AVAILABLE, literal(queue) == any_(Agent.skills))
        .order_by(Agent.idle_since, Agent.id)
        .limit(1)
        .with_for_update()
    )
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def record_state_spell(
    session: AsyncSession, agent_id: str, state: str, at: datetime
) -> None:
    await session.flush()  # the spell added by the previous change, so it is closed here
    await session.execute(
        update(AgentStateSpell)
        .where(AgentStateSpell.agent_id == agent_id, AgentStateSpell.ended_at.is_(None))
        .values(ended_at=at)
    )
    session.add(AgentStateSpell(agent_id=agent_id, state=state, started_at=at))


async def agents_by_skill(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Skill → (agents staffed, agents available)."""
    skill = func.unnest(Agent.skills).label("skill")
    inner = select(skill, Agent.state).where(Agent.state.in_(STAFFED_STATES)).subquery()
    statement = select(
        inner.c.skill,
        func.count(),
        func.count().filter(inner.c.state == AgentState.AVAILABLE),
    ).group_by(inner.c.skill)
    return {s: (staffed, free) for s, staffed, free in (await session.execute(statement)).all()}


async def agent_counts_by_state(session: AsyncSession) -> dict[str, int]:
    statement = select(Agent.state, func.count()).group_by(Agent.state)
    return {state: n for state, n in (await session.execute(statement)).all()}
