"""HTTP API of households and corporate groups (``/v1/customer-groups``).

One resource for both kinds: a household and a corporate group have the same shape (dated
members with roles, a roll-up), and differ only in the roles their members take. The pairwise
ties under ``/v1/customers/{id}/relationships`` stay as they are."""

import uuid

from fastapi import APIRouter, Depends, status

from services.customer.access import customer_in_reach, reach_of
from services.customer.dependencies import NowDep, SettingsDep
from services.customer.groups import service as groups_service
from services.customer.groups.schemas import (
    CustomerGroupRead,
    GroupCreate,
    GroupHistoryRead,
    LeadManagerPut,
    MembershipPut,
)
from shared.auth.http import PrincipalDep
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post("/customer-groups", status_code=status.HTTP_201_CREATED, tags=["relationships"])
async def create_group(
    body: GroupCreate, session: SessionDep, settings: SettingsDep, now: NowDep
) -> CustomerGroupRead:
    """A household (家庭) or a corporate group (集团客户), without members yet."""
    return await groups_service.create_group(session, body, settings=settings, now=now)


@router.get("/customer-groups/{group_id}", tags=["relationships"])
async def read_group(
    group_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> CustomerGroupRead:
    """The group's current members with their roles and dates, a corporate group's tree, and
    the roll-up of their deposits, loans, assets, value and combined tier, as posted."""
    return await groups_service.read_group(
        session, group_id, reach=reach_of(principal), settings=settings, now=now
    )


@router.get("/customer-groups/{group_id}/history", tags=["relationships"])
async def group_history(
    group_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> GroupHistoryRead:
    """Every membership of the group, ended ones too: when each member joined, changed role
    or parent, and left."""
    return await groups_service.membership_history(session, group_id, reach=reach_of(principal))


@router.put("/customer-groups/{group_id}/members/{customer_id}", tags=["relationships"])
async def put_member(
    group_id: uuid.UUID,
    customer_id: uuid.UUID,
    body: MembershipPut,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> CustomerGroupRead:
    """Add the customer to the group or change their role or parent. A change is dated by
    ``since``: the current membership ends that day and a new one starts (the history keeps
    both); a date before the current role began is a 422. A customer belongs to one group at
    a time (409); a parent that makes the tree a cycle is a 422."""
    return await groups_service.put_member(
        session, group_id, customer_id, body, reach=reach_of(principal), settings=settings, now=now
    )


@router.delete("/customer-groups/{group_id}/members/{customer_id}", tags=["relationships"])
async def end_membership(
    group_id: uuid.UUID,
    customer_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> CustomerGroupRead:
    """The customer leaves the group today (the membership keeps its dates). A parent whose
    subsidiaries still name it stays (409)."""
    return await groups_service.end_membership(
        session, group_id, customer_id, reach=reach_of(principal), settings=settings, now=now
    )


@router.put("/customer-groups/{group_id}/lead-manager", tags=["managers"])
async def set_lead_manager(
    group_id: uuid.UUID,
    body: LeadManagerPut,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> CustomerGroupRead:
    """Set the manager who leads the group as a whole (集团客户: one lead manager), or clear
    it with null. While none is set the read derives it from the household head's or the
    corporate parent's manager, and says so (``lead_manager.source``)."""
    return await groups_service.set_lead_manager(
        session, group_id, body, reach=reach_of(principal), settings=settings, now=now
    )
