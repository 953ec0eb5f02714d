"""A call as the desk and the switch read it: while it waits, its place in the queue and the
wait its caller can expect."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.agents import repository as agents_repository
from services.contact_center.calls import repository as calls_repository
from services.contact_center.calls.schemas import CallRead
from services.contact_center.config import Settings
from services.contact_center.models import Call, CallStatus


def estimated_wait(position: int, handle_seconds: float, staffed: int) -> float | None:
    """Callers ahead (and this one) share the staffed agents, each freed every handle time."""
    if staffed == 0:
        return None
    return round(position * handle_seconds / staffed, 1)


async def handle_seconds(
    session: AsyncSession, queues: list[str], settings: Settings
) -> dict[str, float]:
    recent = await calls_repository.recent_handle_seconds(session, queues)
    return {q: recent.get(q, settings.assumed_handle_seconds) for q in queues}


async def call_read(session: AsyncSession, call: Call, *, settings: Settings) -> CallRead:
    position = wait = None
    if call.status == CallStatus.WAITING:
        leg = await calls_repository.current_leg(session, call.id)
        position = await calls_repository.position_in_queue(session, leg)
        staffed, _ = (await agents_repository.agents_by_skill(session)).get(call.queue, (0, 0))
        handle = (await handle_seconds(session, [call.queue], settings))[call.queue]
        wait = estimated_wait(position, handle, staffed)
    return CallRead(
        id=call.id,
        direction=call.direction,
        status=call.status,
        queue=call.queue,
        priority=call.priority,
        customer_id=call.customer_id,
        identified_by=call.identified_by,
        value_tier=call.value_tier,
        caller_number=call.caller_number_masked,
        agent_id=call.agent_id,
        arrived_at=call.arrived_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        position=position,
        estimated_wait_seconds=wait,
        transfers=call.transfers,
        wrap_up_code=call.wrap_up_code,
        complaint_requested=call.complaint_requested,
        callback_id=call.callback_id,
    )


async def maybe_call_read(
    session: AsyncSession, call: Call | None, *, settings: Settings
) -> CallRead | None:
    return await call_read(session, call, settings=settings) if call is not None else None
