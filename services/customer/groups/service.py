"""Households and corporate groups: their membership, tree and roll-up.

Who may reach a group follows the 360 view's limits: a customer manager reaches a group in
which a customer of their portfolio is a current member, branch staff one with a current
member at their branch (the group is managed as a whole, so whoever looks after one member
sees the combined figures). A group out of reach answers as one that does not exist."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.access import Reach
from services.customer.config import Settings
from services.customer.customers import service as customers_service
from services.customer.customers.repository import Custody
from services.customer.errors import (
    GroupNotFound,
    InvalidMembership,
    MembershipConflict,
    MembershipNotFound,
)
from services.customer.groups import repository as groups_repository
from services.customer.groups import rollup as groups_rollup
from services.customer.groups.models import (
    ROLES,
    TOP_ROLES,
    CustomerGroup,
    GroupKind,
    GroupMember,
    MemberRole,
)
from services.customer.groups.repository import MemberHoldings
from services.customer.groups.schemas import (
    CustomerGroupRead,
    GroupCreate,
    GroupHistoryRead,
    LeadManagerPut,
    LeadManagerRead,
    LeadManagerSource,
    MembershipPeriod,
    MembershipPut,
)
from services.customer.managers import repository as managers_repository
from services.customer.models import CustomerKind
from services.customer.valuation.money import FEES_WINDOW
from shared.problems import InvalidField

MEMBER_KIND = {
    GroupKind.HOUSEHOLD: CustomerKind.INDIVIDUAL,
    GroupKind.CORPORATE: CustomerKind.CORPORATE,
}


def _in_reach(reach: Reach | None, custodies: Sequence[Custody]) -> bool:
    """An empty group holds nobody's data: any caller who may read groups reaches it."""
    return reach is None or not custodies or any(reach.admits(c) for c in custodies)


async def create_group(
    session: AsyncSession, request: GroupCreate, *, settings: Settings, now: datetime
) -> CustomerGroupRead:
    group = CustomerGroup(id=uuid.uuid4(), kind=request.kind, name=request.name, created_at=now)
    await groups_repository.add_group(session, group)
    return await read_group(session, group.id, reach=None, settings=settings, now=now)


async def read_group(
    session: AsyncSession,
    group_id: uuid.UUID,
    *,
    reach: Reach | None,
    settings: Settings,
    now: datetime,
) -> CustomerGroupRead:
    group = await groups_repository.get_group(session, group_id)
    if group is None:
        raise GroupNotFound(f"no group {group_id}")
    holdings = await groups_repository.member_holdings(
        session, group_id, fees_since=now - FEES_WINDOW
    )
    custodies = [Custody(h.customer.manager_id, h.customer.branch_code) for h in holdings]
    if not _in_reach(reach, custodies):
        raise GroupNotFound(f"no group {group_id}")
    values = [groups_rollup.member_value(h, settings) for h in holdings]
    members, tree = groups_rollup.arranged(holdings, values)
    return CustomerGroupRead(
        id=group.id,
        kind=group.kind,
        name=group.name,
        created_at=group.created_at,
        members=members,
        tree=tree,
        rollup=groups_rollup.rollup(holdings, values, settings),
        lead_manager=lead_manager(group, holdings),
    )


async def membership_history(
    session: AsyncSession, group_id: uuid.UUID, *, reach: Reach | None
) -> GroupHistoryRead:
    """Every membership row of the group, current and ended: when each member joined, changed
    role or parent, and left."""
    await _group_in_reach(session, group_id, reach, lock=False)
    rows = await groups_repository.membership_history(session, group_id)
    return GroupHistoryRead(
        group_id=group_id,
        memberships=[
            MembershipPeriod(
                customer_id=member.customer_id,
                name=name,
                role=member.role,
                parent_customer_id=member.parent_customer_id,
                since=member.since,
                until=member.until,
            )
            for member, name in rows
        ],
    )


def lead_manager(group: CustomerGroup, holdings: Sequence[MemberHoldings]) -> LeadManagerRead:
    """The manager staff set; else the top member's (the head's, the parent's), since the
    bank serves a household through its head and a corporate group through its parent."""
    if group.lead_manager_id is not None:
        return LeadManagerRead(manager_id=group.lead_manager_id, source=LeadManagerSource.ASSIGNED)
    for holding in holdings:
        role = holding.membership.role
        if role in TOP_ROLES and holding.customer.manager_id is not None:
            return LeadManagerRead(
                manager_id=holding.customer.manager_id, source=LeadManagerSource(str(role))
            )
    return LeadManagerRead(manager_id=None, source=LeadManagerSource.NONE)


async def set_lead_manager(
    session: AsyncSession,
    group_id: uuid.UUID,
    request: LeadManagerPut,
    *,
    reach: Reach | None,
    settings: Settings,
    now: datetime,
) -> CustomerGroupRead:
    """Set (or clear) the manager who leads the group."""
    group, _ = await _locked_in_reach(session, group_id, reach)
    if request.manager_id is not None:
        manager = await managers_repository.get_manager(session, request.manager_id)
        if manager is None or not manager.active:
            raise InvalidField("manager_id", f"no active manager {request.manager_id}")
    group.lead_manager_id = request.manager_id
    await session.flush()
    return await read_group(session, group_id, reach=None, settings=settings, now=now)


def makes_cycle(
    parents: Mapping[uuid.UUID, uuid.UUID | None], customer_id: uuid.UUID, parent: uuid.UUID
) -> bool:
    """Whether ``customer_id`` under ``parent`` would be its own ancestor."""
    seen: set[uuid.UUID] = set()
    at: uuid.UUID | None = parent
    while at is not None and at not in seen:
        if at == customer_id:
            return True
        seen.add(at)
        at = parents.get(at)
    return False


def _check_role(
    kind: GroupKind,
    request: MembershipPut,
    customer_id: uuid.UUID,
    current: Mapping[uuid.UUID, GroupMember],
) -> None:
    if request.role not in ROLES[kind]:
        allowed = ", ".join(sorted(ROLES[kind]))
        raise InvalidMembership(f"role: a {kind} member is one of {allowed}", field="role")
    if request.role is not MemberRole.SUBSIDIARY:
        if request.parent_customer_id is not None:
            raise InvalidMembership(
                "parent_customer_id: only a subsidiary names a parent", field="parent_customer_id"
            )
    else:
        parent = request.parent_customer_id
        if parent is None or parent not in current:
            raise InvalidMembership(
                "parent_customer_id: a subsidiary names its parent, a current member",
                field="parent_customer_id",
            )
        parents = {m.customer_id: m.parent_customer_id for m in current.values()}
        if makes_cycle(parents, customer_id, parent):
            raise InvalidMembership(
                f"parent_customer_id: {parent} is {customer_id} or under it; the group's "
                "tree would be a cycle",
                field="parent_customer_id",
            )
    if request.role in TOP_ROLES:
        top = [m for m in current.values() if m.role == request.role]
        if top and top[0].customer_id != customer_id:
            raise MembershipConflict(
                f"role: the group's {request.role} is {top[0].customer_id}", field="role"
            )


async def _locked_in_reach(
    session: AsyncSession, group_id: uuid.UUID, reach: Reach | None
) -> tuple[CustomerGroup, list[tuple[GroupMember, Custody]]]:
    """The group, locked for a change of its members, and its current members."""
    return await _group_in_reach(session, group_id, reach, lock=True)


async def _group_in_reach(
    session: AsyncSession, group_id: uuid.UUID, reach: Reach | None, *, lock: bool
) -> tuple[CustomerGroup, list[tuple[GroupMember, Custody]]]:
    """The group and its current members; a group with no member in the caller's reach is
    not found, as in a read."""
    group = await groups_repository.get_group(session, group_id, for_update=lock)
    if group is None:
        raise GroupNotFound(f"no group {group_id}")
    rows = await groups_repository.current_members(session, group_id)
    if not _in_reach(reach, [custody for _, custody in rows]):
        raise GroupNotFound(f"no group {group_id}")
    return group, rows


async def put_member(
    session: AsyncSession,
    group_id: uuid.UUID,
    customer_id: uuid.UUID,
    request: MembershipPut,
    *,
    reach: Reach | None,
    settings: Settings,
    now: datetime,
) -> CustomerGroupRead:
    """Add the customer to the group, or change their role or parent in it."""
    group, rows = await _locked_in_reach(session, group_id, reach)
    current = {m.customer_id: m for m, _ in rows}
    # Locked: two groups adding one customer at once take turns, and the second finds the
    # first's membership rather than the unique index's error.
    customer = await customers_service.locked_customer(session, customer_id)
    if customer.kind != MEMBER_KIND[group.kind]:
        raise InvalidMembership(
            f"customer_id: a {group.kind} is made of {MEMBER_KIND[group.kind]} customers",
            field="customer_id",
        )
    _check_role(group.kind, request, customer_id, current)
    member = current.get(customer_id)
    if member is None:
        elsewhere = await groups_repository.current_membership(session, customer_id)
        if elsewhere is not None:
            raise MembershipConflict(
                f"customer_id: a member of group {elsewhere.group_id}; end that first",
                field="customer_id",
            )
        member = GroupMember(group_id=group_id, customer_id=customer_id)
    elif (member.role, member.parent_customer_id) != (request.role, request.parent_customer_id):
        member = await _change_role(session, member, request.since)
    # A member whose role and parent are given again keeps their row: a retry, or a
    # correction of the date it began.
    member.role = request.role
    member.parent_customer_id = request.parent_customer_id
    member.since = request.since
    await groups_repository.save_member(session, member)
    return await read_group(session, group_id, reach=None, settings=settings, now=now)


async def _change_role(session: AsyncSession, member: GroupMember, on: date) -> GroupMember:
    """A new role or parent is dated: the current row ends the day the change takes effect and
    a new row starts that day, in the same transaction, so the history keeps every role."""
    if on < member.since:
        raise InvalidField(
            "since", f"a change of role takes effect on or after the current role's {member.since}"
        )
    await groups_repository.end_membership(session, member, on)
    return GroupMember(group_id=member.group_id, customer_id=member.customer_id)


async def end_membership(
    session: AsyncSession,
    group_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    reach: Reach | None,
    settings: Settings,
    now: datetime,
) -> CustomerGroupRead:
    """The customer leaves the group today; the dated row stays."""
    _, rows = await _locked_in_reach(session, group_id, reach)
    member = next((m for m, _ in rows if m.customer_id == customer_id), None)
    if member is None:
        raise MembershipNotFound(f"{customer_id} is not a member of {group_id}")
    if any(m.parent_customer_id == customer_id for m, _ in rows):
        raise MembershipConflict(
            "customer_id: its subsidiaries name it as parent; move them first", field="customer_id"
        )
    await groups_repository.end_membership(
        session, member, now.astimezone(settings.bank_zone).date()
    )
    return await read_group(session, group_id, reach=None, settings=settings, now=now)
