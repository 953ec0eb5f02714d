"""HTTP API of satisfaction surveys."""

from fastapi import APIRouter, Depends, Response, status

from services.customer.access import customer_in_reach
from services.customer.dependencies import SettingsDep
from services.customer.surveys import service as surveys_service
from services.customer.surveys.schemas import SurveyCreate, SurveyRead
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post("/surveys", status_code=status.HTTP_201_CREATED, tags=["satisfaction"])
async def record_survey(
    body: SurveyCreate, session: SessionDep, settings: SettingsDep, response: Response
) -> SurveyRead:
    """Record a satisfaction answer (CSAT 1-5, NPS 0-10); a repeated ``external_id`` is
    answered with the first recording (200)."""
    answer, created = await surveys_service.record_survey(session, body, settings=settings)
    if not created:
        response.status_code = status.HTTP_200_OK
    return answer
