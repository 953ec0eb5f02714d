"""The letters of a case under ``/v1/complaints/{complaint_id}/letters``: read as anyone who
may read the case (``case_in_reach`` limits a complaint handler to their department's)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from starlette.concurrency import run_in_threadpool

from services.complaints.access import case_in_reach
from services.complaints.errors import ComplaintNotFound
from services.complaints.letters import repository as letters_repository
from services.complaints.letters import service as letters_service
from services.complaints.letters.rendering import pdf_of
from services.complaints.letters.schemas import LetterList, LetterRead, LetterRequest
from services.complaints.repository import complaints as complaints_repository
from services.complaints.staff import ActingStaff
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import get_or_404

router = APIRouter(prefix="/v1", tags=["complaints"], dependencies=[Depends(case_in_reach)])

ComplaintId = Annotated[uuid.UUID, Path(description="The complaint case")]
LetterId = Annotated[uuid.UUID, Path(description="A letter of the case")]


@router.get("/complaints/{complaint_id}/letters")
async def list_letters(complaint_id: ComplaintId, session: SessionDep) -> LetterList:
    """The letters sent on the case, oldest first, each as the text that was sent."""
    exists, _ = await complaints_repository.department_of(session, complaint_id)
    if not exists:
        raise ComplaintNotFound(f"no complaint {complaint_id}")
    letters = await letters_repository.letters_of(session, complaint_id)
    return LetterList(
        items=[LetterRead.model_validate(letter, from_attributes=True) for letter in letters]
    )


@router.get(
    "/complaints/{complaint_id}/letters/{letter_id}/pdf",
    response_class=Response,
    responses={
        200: {
            "description": "The letter as PDF, fonts embedded",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def letter_pdf(
    complaint_id: ComplaintId, letter_id: LetterId, session: SessionDep
) -> Response:
    """One letter as PDF, drawn from the text that was sent."""
    letter = await get_or_404(
        letters_repository.letter(session, complaint_id, letter_id),
        ComplaintNotFound(f"no letter {letter_id} on complaint {complaint_id}"),
    )
    content = await run_in_threadpool(pdf_of, letter)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{letter.kind}-{letter.id}.pdf"'},
    )


@router.post(
    "/complaints/{complaint_id}/letters",
    status_code=status.HTTP_201_CREATED,
    response_model=LetterRead,
    responses={
        409: {"description": "The case has not reached the step of this letter (``kind``)"},
        422: {"description": "An integration account did not send X-Staff-Id / X-Staff-Role"},
    },
)
async def issue_letter(
    complaint_id: ComplaintId,
    body: LetterRequest,
    staff: ActingStaff,
    session: SessionDep,
    key: IdempotencyKey = None,
) -> Response:
    """Send a letter again, written afresh from the case (one lost in the post, say). Each
    letter is also sent by itself when the procedure reaches its step; none goes before it:
    a final response before the decision is a ``409 letter-not-due``."""
    now = datetime.now(UTC)

    async def issue() -> tuple[LetterRead, dict[str, str]]:
        letter = await letters_service.issue_again(
            session, complaint_id, body.kind, issued_by=staff.staff_id, now=now
        )
        location = f"/v1/complaints/{complaint_id}/letters/{letter.id}/pdf"
        return LetterRead.model_validate(letter, from_attributes=True), {"Location": location}

    return await answer_once(
        session,
        key=key,
        scope=f"POST /v1/complaints/{complaint_id}/letters",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=issue,
    )
