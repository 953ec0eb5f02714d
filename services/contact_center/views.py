"""Answers built from the records: explicit output models, personal numbers masked."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center import repository
from services.contact_center.config import Settings
from services.contact_center.identification import Identification
from services.contact_center.models import (
    Agent,
    AgentState,
    Call,
    Callback,
    CallStatus,
    OutboundEntry,
    Skill,
)
from services.contact_center.outbound import rules_for
from services.contact_center.schemas import (
    AgentRead,
    CallbackRead,
    CallRead,
    ComplaintCard,
    InteractionCard,
    OpportunityCard,
    OutboundEntryRead,
    ProductCard,
    ProfileCard,
    QueueRead,
    ScreenPop,
    TierPolicyCard,
)
from shared.logging import get_logger
from shared.masking import mask_name, mask_phone

log = get_logger(__name__)

RECENT_INTERACTIONS = 5
CUSTOMER_SERVICE = "customer_service"


def estimated_wait(position: int, handle_seconds: float, staffed: int) -> float | None:
    """Callers ahead (and this one) share the staffed agents, each freed every handle time."""
    if staffed == 0:
        return None
    return round(position * handle_seconds / staffed, 1)


async def _handle_seconds(
    session: AsyncSession, queues: list[str], settings: Settings
) -> dict[str, float]:
    recent = await repository.recent_handle_seconds(session, queues)
    return {q: recent.get(q, settings.assumed_handle_seconds) for q in queues}


async def call_read(session: AsyncSession, call: Call, *, settings: Settings) -> CallRead:
    position = wait = None
    if call.status == CallStatus.WAITING:
        leg = await repository.current_leg(session, call.id)
        position = await repository.position_in_queue(session, leg)
        staffed, _ = (await repository.agents_by_skill(session)).get(call.queue, (0, 0))
        handle = (await _handle_seconds(session, [call.queue], settings))[call.queue]
        wait = estimated_wait(position, handle, staffed)
    return CallRead(
        id=call.id, direction=call.direction, status=call.status, queue=call.queue,
        priority=call.priority, customer_id=call.customer_id, identified_by=call.identified_by,
        value_tier=call.value_tier, caller_number=call.caller_number_masked,
        agent_id=call.agent_id, arrived_at=call.arrived_at, answered_at=call.answered_at,
        ended_at=call.ended_at, position=position, estimated_wait_seconds=wait,
        transfers=call.transfers, wrap_up_code=call.wrap_up_code,
        complaint_requested=call.complaint_requested, callback_id=call.callback_id,
    )  # fmt: skip


async def maybe_call_read(
    session: AsyncSession, call: Call | None, *, settings: Settings
) -> CallRead | None:
    return await call_read(session, call, settings=settings) if call is not None else None


def agent_read(agent: Agent) -> AgentRead:
    return AgentRead(
        id=agent.id, name=agent.name, skills=list(agent.skills), state=agent.state,
        state_since=agent.state_since,
        idle_since=agent.idle_since if agent.state == AgentState.AVAILABLE else None,
        current_call_id=agent.current_call_id,
    )  # fmt: skip


async def queues(session: AsyncSession, *, now: datetime, settings: Settings) -> list[QueueRead]:
    waiting = await repository.waiting_by_queue(session)
    agents = await repository.agents_by_skill(session)
    handle_by_queue = await _handle_seconds(session, list(Skill), settings)
    answer = []
    for queue in Skill:
        count, oldest = waiting.get(queue, (0, None))
        staffed, available = agents.get(queue, (0, 0))
        handle = handle_by_queue[queue]
        answer.append(
            QueueRead(
                queue=queue, waiting=count,
                oldest_wait_seconds=(now - oldest).total_seconds() if oldest else None,
                agents_staffed=staffed, agents_available=available,
                estimated_wait_seconds=0.0 if available and not count
                else estimated_wait(count + 1, handle, staffed),
            )
        )  # fmt: skip
    return answer


def callback_read(callback: Callback) -> CallbackRead:
    return CallbackRead(
        id=callback.id, customer_id=callback.customer_id, call_id=callback.call_id,
        phone_number=mask_phone(callback.phone_number), requested_for=callback.requested_for,
        next_attempt_at=callback.next_attempt_at, queue=callback.queue,
        agent_id=callback.agent_id, note=callback.note, attempts=callback.attempts,
        max_attempts=callback.max_attempts, status=callback.status,
        last_result=callback.last_result,
    )  # fmt: skip


async def entry_read(
    session: AsyncSession, entry: OutboundEntry, *, now: datetime, settings: Settings
) -> OutboundEntryRead:
    return OutboundEntryRead(
        id=entry.id, opportunity_id=entry.opportunity_id, customer_id=entry.customer_id,
        rule_id=entry.rule_id, action=entry.action, product=entry.product,
        priority=entry.priority, facts=entry.facts,
        script=settings.script_for(entry.action, entry.product), due_at=entry.due_at,
        expires_at=entry.expires_at, status=entry.status, attempts=entry.attempts,
        next_attempt_at=entry.next_attempt_at, last_result=entry.last_result,
        blocked_by=await rules_for(session, entry, now=now, settings=settings),
    )  # fmt: skip


# --- The screen pop ---------------------------------------------------------------------------


def screen_pop(
    identity: Identification, view: dict[str, Any] | None, *, settings: Settings
) -> ScreenPop:
    """The customer view from the customer service, with this service's own knowledge of the
    tier's policy and the scripts. An identified caller without a view is a degraded pop."""
    policy = TierPolicyCard(
        queue_priority=identity.queue_priority
        if identity.queue_priority is not None
        else settings.default_queue_priority,
        route_to_vip_queue=identity.route_to_vip_queue,
    )
    pop = ScreenPop(
        customer_id=identity.customer_id, identified_by=identity.identified_by,
        value_tier=identity.value_tier, policy=policy, profile=None, total_balance_cny=None,
        products=[], recent_interactions=[], open_complaints=[], open_opportunities=[],
        degraded=[CUSTOMER_SERVICE] if identity.customer_id and view is None else [],
    )  # fmt: skip
    if view is None:
        return pop
    try:
        return _with_view(pop, view, settings)
    except (ValidationError, KeyError, TypeError) as error:
        # A view this service cannot read is a fault upstream; the call still gets its pop.
        log.warning(
            "screen_pop.unreadable_view", customer_id=str(identity.customer_id), error=str(error)
        )
        return pop.model_copy(update={"degraded": [CUSTOMER_SERVICE]})


def _with_view(pop: ScreenPop, view: dict[str, Any], settings: Settings) -> ScreenPop:
    customer = view["customer"]
    opportunities = []
    for item in view.get("open_opportunities", []):
        card = OpportunityCard.model_validate(item)
        opportunities.append(
            card.model_copy(update={"script": settings.script_for(card.action, card.product)})
        )
    profile = ProfileCard.model_validate(customer)
    if profile.kind == "individual":
        # Enough to greet the caller (张先生), not enough to read out the whole name.
        profile = profile.model_copy(update={"name": mask_name(profile.name)})
    total = view.get("total_balance_cny")
    return pop.model_copy(
        update={
            "value_tier": pop.value_tier or customer.get("segments", {}).get("value_tier"),
            "profile": profile,
            "total_balance_cny": Decimal(str(total)) if total is not None else None,
            "products": [ProductCard.model_validate(a) for a in view.get("accounts", [])],
            "recent_interactions": [
                InteractionCard.model_validate(i)
                for i in view.get("recent_interactions", [])[:RECENT_INTERACTIONS]
            ],
            "open_complaints": [
                ComplaintCard.model_validate(c) for c in view.get("open_complaints", [])
            ],
            "open_opportunities": opportunities,
        }
    )
