"""HTTP models of households and corporate groups."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from services.customer.groups.models import GroupKind, MemberRole
from shared.masking import MaskedName
from shared.requests import RequestModel


class GroupCreate(RequestModel):
    kind: GroupKind = Field(description="A household (people) or a corporate group (companies).")
    name: Annotated[str, Field(min_length=1, max_length=200)]


class MembershipPut(RequestModel):
    role: MemberRole = Field(
        description="In a household head, spouse, child or other; in a corporate group parent "
        "(the top, one at a time) or subsidiary."
    )
    parent_customer_id: uuid.UUID | None = Field(
        default=None,
        description="A subsidiary's parent: a current member of the same group. Only for a "
        "subsidiary; a parent that would make the group's tree a cycle is refused.",
    )
    since: date


class LeadManagerPut(RequestModel):
    manager_id: uuid.UUID | None = Field(
        description="An active manager to lead the group; null to clear it (the read then "
        "derives it again)."
    )


class LeadManagerSource(StrEnum):
    ASSIGNED = "assigned"  # set through the API
    HEAD = "head"  # none set: the household head's manager
    PARENT = "parent"  # none set: the corporate parent's manager
    NONE = "none"  # none set, and the top member has no manager (or there is no top member)


class LeadManagerRead(BaseModel):
    """Who leads the group for the bank: one manager for the group as a whole."""

    manager_id: uuid.UUID | None
    source: LeadManagerSource = Field(
        description="assigned when staff set it; otherwise derived from the top member, the "
        "household's head or the corporate group's parent: head or parent, or none."
    )


class MemberFigures(BaseModel):
    """A member's own share of the roll-up, in CNY."""

    deposits_cny: Decimal
    loans_cny: Decimal
    assets_cny: Decimal
    lifetime_value_cny: Decimal


class GroupMemberRead(BaseModel):
    customer_id: uuid.UUID
    name: MaskedName
    role: MemberRole
    parent_customer_id: uuid.UUID | None
    depth: int = Field(description="0 at the top of a corporate group's tree; 0 in a household.")
    since: date = Field(description="Since when in the current role (the history has the rest).")
    value_tier: str
    manager_id: uuid.UUID | None
    branch_code: str | None
    figures: MemberFigures


class GroupNode(BaseModel):
    customer_id: uuid.UUID
    name: MaskedName
    subsidiaries: list["GroupNode"]


class GroupRollup(BaseModel):
    """The current members' figures added up, from their balances as posted (in CNY)."""

    members: int
    deposits_cny: Decimal = Field(description="Current accounts and term deposits.")
    loans_cny: Decimal
    assets_under_management_cny: Decimal = Field(
        description="Deposits and wealth products, as a customer's tier counts them."
    )
    yearly_contribution_cny: Decimal
    lifetime_value_cny: Decimal
    combined_tier: str = Field(
        description="The tier the combined assets reach, or the highest member's own tier if "
        "that is higher (a restricted member does not lift it)."
    )


class CustomerGroupRead(BaseModel):
    id: uuid.UUID
    kind: GroupKind
    name: str
    created_at: datetime
    members: list[GroupMemberRead] = Field(description="Current members, the tree's order.")
    tree: GroupNode | None = Field(
        description="A corporate group's parent with its subsidiaries and theirs; null for a "
        "household or a group without a parent yet."
    )
    rollup: GroupRollup
    lead_manager: LeadManagerRead


class GroupMembershipRead(BaseModel):
    """The group a customer currently belongs to, as the 360 view shows it."""

    group_id: uuid.UUID
    kind: GroupKind
    name: str
    role: MemberRole
    parent_customer_id: uuid.UUID | None
    since: date


class MembershipPeriod(BaseModel):
    """One row of a member's history: a role (and a subsidiary's parent) from ``since`` until
    ``until`` (exclusive; null while it lasts)."""

    customer_id: uuid.UUID
    name: str
    role: MemberRole
    parent_customer_id: uuid.UUID | None
    since: date
    until: date | None


class GroupHistoryRead(BaseModel):
    group_id: uuid.UUID
    memberships: list[MembershipPeriod] = Field(
        description="Every membership, ended ones too, by the date it began: a change of role "
        "or parent ends one row and starts the next on the same date."
    )
