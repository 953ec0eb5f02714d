"""HTTP API of reconciliation with core banking under ``/v1``.

Core banking's feed (an integration account) posts the figures; supervisors and auditors read
the runs (the ``reconciliation`` scopes of ``shared.auth.roles``)."""

import csv
import io
import uuid
from datetime import UTC, date, datetime
from email.message import Message
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from services.customer.dependencies import SettingsDep
from services.customer.reconciliation import service as reconciliation_service
from services.customer.reconciliation.metrics import ReconciliationMetrics
from services.customer.reconciliation.schemas import (
    COLUMNS,
    END_OF_DAY_BALANCES,
    EndOfDayBalances,
    ReconciliationRead,
    request_body_document,
)
from shared.auth.http import TOO_LARGE_RESPONSE
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import InvalidField, Problem, ProblemError

router = APIRouter(prefix="/v1", tags=["reconciliation"])

# The accounts that did not match, in the answer to the figures: the rest are read by page.
FIRST_PAGE = 100
# A file with many bad lines is answered with the first ones: enough to mend it.
MOST_ERRORS = 100


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Send application/json or text/csv"


class _Submission(BaseModel):
    """What an ``Idempotency-Key`` stands for: the day and its figures, in either form."""

    business_date: date
    digest: str


@router.post(
    "/reconciliations",
    status_code=status.HTTP_201_CREATED,
    response_model=ReconciliationRead,
    openapi_extra={"requestBody": request_body_document()},
    responses={
        200: {
            "description": "These figures of this day were reconciled before: that run",
            "model": ReconciliationRead,
        },
        413: TOO_LARGE_RESPONSE,
        415: {"description": "A body neither JSON nor CSV", "model": Problem},
    },
)
async def reconcile_end_of_day_balances(
    request: Request,
    business_date: Annotated[
        date, Query(description="The business day the balances close, in the bank's time zone.")
    ],
    session: SessionDep,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> Response:
    """Compare core banking's end-of-day balance of each account (a JSON batch, or the file
    as ``text/csv``) with the view's at the end of ``business_date``. Answers the counts and
    the accounts that differ, with both figures; the run is kept. The same figures for the same
    day sent again answer the first run (200)."""
    figures = await _figures(request)
    reconciliation_service.check_figures(
        figures, business_date=business_date, now=datetime.now(UTC), zone=settings.bank_zone
    )
    digest = reconciliation_service.digest_of(figures)
    new = True

    async def run_it() -> tuple[ReconciliationRead, dict[str, str]]:
        nonlocal new
        reconciled = await reconciliation_service.reconcile(
            session, figures, business_date=business_date, digest=digest, zone=settings.bank_zone
        )
        new = reconciled.new
        if new:
            metrics: ReconciliationMetrics = request.app.state.reconciliation_metrics
            differing = await reconciliation_service.latest_differing(session)
            metrics.differing.set(differing or 0)
        answer = await reconciliation_service.reconciliation_read(
            session, reconciled.run, cursor=None, limit=FIRST_PAGE
        )
        return answer, {}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/reconciliations",
        request_body=_Submission(business_date=business_date, digest=digest),
        status_code=status.HTTP_201_CREATED,
        produce=run_it,
        status_of=lambda _: status.HTTP_201_CREATED if new else status.HTTP_200_OK,
    )


@router.get("/reconciliations/{reconciliation_id}")
async def read_reconciliation(
    reconciliation_id: uuid.UUID,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReconciliationRead:
    """A run, with a page of the accounts that did not match; pages follow ``next_cursor``."""
    return await reconciliation_service.get_reconciliation(
        session, reconciliation_id, cursor=cursor, limit=limit
    )


async def _figures(request: Request) -> EndOfDayBalances:
    """The body in either form, validated as one batch; a refusal names the line's field
    (``balances[3].currency``) as a JSON body's would, a file's first line being its header."""
    raw = await request.body()
    content_type = Message()
    content_type["content-type"] = request.headers.get("content-type", "application/json")
    media = content_type.get_content_type()
    data: Any = None
    try:
        if media == "text/csv":
            data = {"balances": _lines_of_file(raw)}
            return END_OF_DAY_BALANCES.validate_python(data)
        if media == "application/json":
            return END_OF_DAY_BALANCES.validate_json(raw)
    except ValidationError as error:
        errors = [
            {**item, "loc": ("body", *item["loc"])}
            for item in error.errors(include_url=False)[:MOST_ERRORS]
        ]
        raise RequestValidationError(errors, body=data) from error
    raise UnsupportedMediaType(f"Content-Type: {media} is neither application/json nor text/csv")


def _lines_of_file(raw: bytes) -> list[dict[str, str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidField("body", "a file in UTF-8") from error
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as error:
        raise InvalidField("body", f"not a CSV file: {error}") from error
    header = ",".join(COLUMNS)
    if not rows or tuple(name.strip() for name in rows[0]) != COLUMNS:
        raise InvalidField("body", f"the first line names the columns: {header}")
    lines = []
    for index, row in enumerate(rows[1:]):
        if len(row) != len(COLUMNS):
            raise InvalidField(f"balances[{index}]", f"a line has {len(COLUMNS)} fields: {header}")
        lines.append(dict(zip(COLUMNS, row, strict=True)))
    return lines
