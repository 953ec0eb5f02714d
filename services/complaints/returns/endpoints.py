"""``GET /v1/complaints/returns``: a regulator's complaint return, as JSON or CSV."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from services.complaints.access import limit_stats
from services.complaints.config import Settings
from services.complaints.deadlines import PACKS
from services.complaints.repository.stats import StatsScope
from services.complaints.returns import service as returns_service
from services.complaints.returns.schemas import ComplaintReturn
from shared.auth.http import PrincipalDep
from shared.http import SessionDep, settings_dependency
from shared.problems import InvalidField

# Its own router, included ahead of the service's: ``/complaints/{complaint_id}`` would
# otherwise take "returns" for a case id.
router = APIRouter(prefix="/v1", tags=["complaints"])

SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]

Jurisdiction = Annotated[
    str,
    Query(
        pattern=r"^[a-z]{2}$",
        description="The regulatory pack whose return is made.",
        json_schema_extra={"enum": sorted(PACKS)},
    ),
]
PeriodLabel = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{4}-(Q[1-4]|H[12])$",
        description="A quarter (2026-Q1) for cn and us, a half-year (2026-H1) for uk.",
        examples=["2026-Q1"],
    ),
]


@router.get(
    "/complaints/returns",
    response_model=ComplaintReturn,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The return; ``format=csv`` gives its tables one after another",
        }
    },
)
async def complaint_return(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    jurisdiction: Jurisdiction,
    period: PeriodLabel,
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> ComplaintReturn | Response:
    """The complaint return of a regulatory pack for a period, in the regulator's shape:
    the NFRA quarterly figures by the classes of JR/T 0169 (cn), the FCA's DISP 1 Annex 1R
    return and, from 2027-H1, its consolidated return (uk), the CFPB's fields (us). Periods are
    bounded in the pack's time zone. A complaint handler's return covers the cases they reach."""
    if jurisdiction not in PACKS:
        # The pattern admits two letters; only the shipped packs make returns.
        raise InvalidField("jurisdiction", f"is not one of {sorted(PACKS)}", where="query")
    now = datetime.now(UTC)
    answer = await returns_service.complaint_return(
        session,
        jurisdiction=jurisdiction,
        period_label=period,
        scope=limit_stats(StatsScope(now, now), principal),
        settings=settings,
        now=now,
    )
    if format_ == "csv":
        filename = f"complaints-{answer.jurisdiction}-{answer.form}-{answer.period}.csv"
        return Response(
            returns_service.as_csv(answer),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return answer
