"""Households (家庭) and corporate groups (集团客户): the aggregates a bank manages as a whole.

A membership is dated: ``until`` stays empty while the customer belongs, and a customer
belongs to one group at a time (a person to one household, a company to one group). In a
corporate group every subsidiary names its parent, so the members form a tree under the one
member whose role is ``parent``. The tables are in the service's schema and metadata
(``models.Base``); the migrations' environment imports this module."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import Base


class GroupKind(StrEnum):
    HOUSEHOLD = "household"  # 家庭: people
    CORPORATE = "corporate"  # 集团: companies


class MemberRole(StrEnum):
    HEAD = "head"  # 户主
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"
    PARENT = "parent"  # 集团母公司: the top of the tree
    SUBSIDIARY = "subsidiary"  # under the parent it names


ROLES = {
    GroupKind.HOUSEHOLD: frozenset(
        {MemberRole.HEAD, MemberRole.SPOUSE, MemberRole.CHILD, MemberRole.OTHER}
    ),
    GroupKind.CORPORATE: frozenset({MemberRole.PARENT, MemberRole.SUBSIDIARY}),
}
# The one member a group has at most one of at a time: the household's head, the group's parent.
TOP_ROLES = frozenset({MemberRole.HEAD, MemberRole.PARENT})


class CustomerGroup(Base):
    __tablename__ = "customer_groups"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[GroupKind] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # Set by staff; while empty the group read derives it from the top member's manager.
    lead_manager_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("managers.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupMember(Base):
    """A customer's membership of a group, with its role and dates."""

    __tablename__ = "group_members"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer_groups.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    role: Mapped[MemberRole] = mapped_column(String(20))
    parent_customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        # The roll-up reads a group's current members; the 360 view a customer's current group.
        Index("ix_group_members_group", "group_id", postgresql_where=text("until IS NULL")),
        # A group's history: every row, ended ones too, by the date it began.
        Index("ix_group_members_history", "group_id", "since"),
        # Erasure's look-up of every group a customer was ever in.
        Index("ix_group_members_customer", "customer_id"),
        Index(
            "uq_group_members_current",
            "customer_id",
            unique=True,
            postgresql_where=text("until IS NULL"),
        ),
        Index(
            "uq_group_members_top",
            "group_id",
            unique=True,
            postgresql_where=text("until IS NULL AND role IN ('head', 'parent')"),
        ),
    )
