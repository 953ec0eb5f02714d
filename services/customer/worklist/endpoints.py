"""HTTP API of a manager's worklist (``/v1/managers/{manager_id}/worklist``)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.customer.access import customer_in_reach, reach_of
from services.customer.dependencies import NowDep, SettingsDep
from services.customer.worklist import service as worklist_service
from services.customer.worklist.priority import decode_after
from services.customer.worklist.schemas import WorklistPage
from shared.auth.http import PrincipalDep
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.get("/managers/{manager_id}/worklist", tags=["managers"])
async def manager_worklist(
    manager_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WorklistPage:
    """The manager's reviews due and overdue, the open opportunities they own and the visits
    to their potential customers coming up, in one list: overdue first (the longest overdue
    leading), then due, then scheduled; on one date by weight (the customer's tier, an
    opportunity's priority, a lead's grade). Pages follow ``next_cursor``. A manager reads
    their own list, branch staff their branch's managers'."""
    return await worklist_service.worklist(
        session,
        manager_id,
        reach=reach_of(principal),
        settings=settings,
        now=now,
        after=decode_after(cursor) if cursor else None,
        limit=limit,
    )
