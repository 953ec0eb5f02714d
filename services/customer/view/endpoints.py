"""HTTP API of the 360 view (统一客户视图) and a customer's segments with their reasons."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Response

from services.customer.access import customer_in_reach
from services.customer.dependencies import SettingsDep
from services.customer.view import as_of as view_as_of
from services.customer.view import assembly as view_assembly
from services.customer.view.schemas import CustomerView, CustomerViewAsOf, SegmentsAsOf
from shared.auth.http import requires_scope
from shared.auth.roles import CUSTOMERS_VIEW
from shared.http import SessionDep
from shared.periods import Moment, end_of

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.get(
    "/customers/{customer_id}/view",
    tags=["customers"],
    response_model=CustomerView | CustomerViewAsOf,
    openapi_extra=requires_scope(CUSTOMERS_VIEW),
)
async def customer_view(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    as_of: Moment | None = None,
) -> Response | CustomerViewAsOf:
    """The 360 view (统一客户视图) a channel shows, from this service's own data only.

    With ``as_of`` (a date alone: the end of that day; a moment in the future: now), the
    profile, accounts and balances, segments, manager, relationships and group as they stood
    then, and every change since. The history is complete from ``history_complete_from``;
    an earlier moment gets what was known then, flagged ``history_complete: false``."""
    if as_of is None:
        view = await view_assembly.customer_view(session, customer_id, settings=settings)
        # Serialized by its own model: through the route's union of the two answers, the
        # live view took about 11 µs more to serialize (24 against 13, measured with
        # pydantic's TypeAdapter on a view of ten transactions).
        return Response(view.model_dump_json(), media_type="application/json")
    moment = end_of(as_of, settings.bank_zone)
    return await view_as_of.customer_view_as_of(session, customer_id, moment, settings=settings)


@router.get("/customers/{customer_id}/segments", tags=["segments"])
async def customer_segments(
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    as_of: Moment | None = None,
) -> SegmentsAsOf:
    """The customer's segments and tier policy now, or as they were at ``as_of`` (a date
    alone: at the end of that day), and why."""
    moment = end_of(as_of, settings.bank_zone) if as_of is not None else datetime.now(UTC)
    return await view_assembly.segments_as_of(session, customer_id, moment, settings=settings)
