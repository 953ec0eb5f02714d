"""The complaints service's HTTP API under ``/v1``: parse, call the service, shape the answer."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from services.complaints import actions, answers, receiving, statistics
from services.complaints.access import case_in_reach, limit_list, limit_stats
from services.complaints.config import Settings
from services.complaints.errors import ComplaintNotFound
from services.complaints.models import ComplaintPriority, ComplaintStatus
from services.complaints.procedure import ComplaintStep
from services.complaints.repository import complaints as complaints_repository
from services.complaints.repository.complaints import ComplaintFilter
from services.complaints.repository.stats import StatsScope
from services.complaints.schemas import (
    ActionRequest,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintPage,
    ComplaintRead,
    ComplaintStats,
)
from services.complaints.staff import ActingStaff
from shared.auth.http import PrincipalDep, requires_scope
from shared.auth.roles import COMPLAINTS_FILE
from shared.http import SessionDep, settings_dependency
from shared.idempotency import IdempotencyKey, answer_once
from shared.pagination import decode_cursor, encode_cursor
from shared.periods import Moment, period
from shared.problems import get_or_404

router = APIRouter(prefix="/v1", tags=["complaints"], dependencies=[Depends(case_in_reach)])

ComplaintId = Annotated[uuid.UUID, Path(description="The complaint case")]


SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]


@router.post(
    "/complaints",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=requires_scope(COMPLAINTS_FILE),
    response_model=ComplaintRead,
    responses={
        200: {
            "model": ComplaintRead,
            "description": "The customer already had an open case of this category: the "
            "submission was linked to it (``linked_to_open_case``), not opened twice",
        }
    },
)
async def receive_complaint(
    body: ComplaintCreate, settings: SettingsDep, session: SessionDep, key: IdempotencyKey = None
) -> Response:
    """Record a complaint from any channel (step 1, 登记). Its priority follows the customer's
    value tier, the category and the channel; its deadlines follow the configured pack."""
    now = datetime.now(UTC)

    async def receive() -> tuple[ComplaintRead, dict[str, str]]:
        received = await receiving.receive_complaint(session, body, settings=settings, now=now)
        case = received.complaint
        answer = answers.complaint_read(case, now=now, linked=received.linked_to_open_case)
        return answer, {"Location": f"/v1/complaints/{case.id}"}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/complaints",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=receive,
        status_of=lambda answer: (
            status.HTTP_200_OK
            if isinstance(answer, ComplaintRead) and answer.linked_to_open_case
            else status.HTTP_201_CREATED
        ),
    )


@router.get("/complaints")
async def list_complaints(
    session: SessionDep,
    principal: PrincipalDep,
    customer_id: uuid.UUID | None = None,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    step: ComplaintStep | None = None,
    department: Annotated[str | None, Query(max_length=60)] = None,
    priority: ComplaintPriority | None = None,
    escalated: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ComplaintPage:
    """Cases, newest first; pages follow ``next_cursor``."""
    criteria = ComplaintFilter(
        customer_id=customer_id,
        status=status_,
        step=step,
        department=department,
        priority=priority,
        escalated=escalated,
    )
    return await _page(session, limit_list(criteria, principal), cursor=cursor, limit=limit)


@router.get("/complaints/overdue")
async def overdue_complaints(
    session: SessionDep,
    principal: PrincipalDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ComplaintPage:
    """Open cases past the deadline of the step they wait at."""
    criteria = ComplaintFilter(overdue_at=datetime.now(UTC))
    return await _page(session, limit_list(criteria, principal), cursor=cursor, limit=limit)


async def _page(
    session: SessionDep, criteria: ComplaintFilter, *, cursor: str | None, limit: int
) -> ComplaintPage:
    after = decode_cursor(cursor) if cursor else None
    rows = await complaints_repository.list_complaints(
        session, criteria, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    now = datetime.now(UTC)
    return ComplaintPage(
        items=[answers.complaint_read(case, now=now) for case in page],
        next_cursor=encode_cursor(page[-1].received_at, page[-1].id) if more and page else None,
    )


@router.get("/complaints/stats")
async def complaint_stats(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    received_from: Annotated[Moment | None, Query(alias="from")] = None,
    received_to: Annotated[Moment | None, Query(alias="to")] = None,
) -> ComplaintStats:
    """Volumes by category, cause, channel and department; time per step; on-time rate;
    repeats; satisfaction after resolution; customers who left after complaining. The period
    is of receipt, the last 30 days unless given. A complaint handler's figures cover the
    cases they reach: their department's and the unassigned."""
    now = datetime.now(UTC)
    start, end = period(
        received_from, received_to, zone=settings.bank_zone, now=now, default=timedelta(days=30)
    )
    scope = limit_stats(StatsScope(start, end), principal)
    return await statistics.complaint_stats(session, scope=scope, now=now)


@router.get("/complaints/{complaint_id}")
async def read_complaint(complaint_id: ComplaintId, session: SessionDep) -> ComplaintDetail:
    """The case with its whole history: who did what, when, what was decided."""
    case = await get_or_404(
        complaints_repository.complaint(session, complaint_id),
        ComplaintNotFound(f"no complaint {complaint_id}"),
    )
    history = list(await complaints_repository.history_of(session, complaint_id))
    return answers.complaint_detail(case, history, now=datetime.now(UTC))


@router.post(
    "/complaints/{complaint_id}/actions",
    responses={
        403: {"description": "The step is another procedure role's, or not one yours may act in"},
        422: {"description": "An integration account did not send X-Staff-Id / X-Staff-Role"},
        409: {"description": "The case is not at a step that takes this action (``allowed``)"},
    },
)
async def act_on_complaint(
    complaint_id: ComplaintId,
    body: ActionRequest,
    staff: ActingStaff,
    settings: SettingsDep,
    session: SessionDep,
    key: IdempotencyKey = None,
) -> Response:
    """Move the case through its procedure; the answer is the case after the step. The
    actor is the token's subject; ``X-Staff-Role`` chooses the procedure role among those
    the token's role allows (an integration account also names the person in ``X-Staff-Id``)."""
    now = datetime.now(UTC)

    async def act() -> tuple[ComplaintRead, dict[str, str]]:
        case = await actions.act(session, complaint_id, body, staff, settings=settings, now=now)
        return answers.complaint_read(case, now=now), {}

    return await answer_once(
        session,
        key=key,
        scope=f"POST /v1/complaints/{complaint_id}/actions",
        request_body=body,
        status_code=status.HTTP_200_OK,
        produce=act,
    )
