"""A group's figures and tree, from its members' holdings as read in one statement.

Each member is valued exactly as their own 360 view values them (``customer_value``), and
the group's figures are the members' added up."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import TypeAdapter

from services.customer.config import Settings, ValueThresholds
from services.customer.groups.models import MemberRole
from services.customer.groups.repository import MemberHoldings
from services.customer.groups.schemas import GroupMemberRead, GroupNode, GroupRollup, MemberFigures
from services.customer.models import ProductType
from services.customer.valuation.money import customer_value, to_cny
from services.customer.valuation.segmentation import TIER_RANK, ValueTier

DEPOSIT_PRODUCTS = frozenset({ProductType.CURRENT, ProductType.TERM_DEPOSIT})
CENTS = Decimal("0.01")
# A household lists its head first, then spouse, children and others.
HOUSEHOLD_ORDER = {MemberRole.HEAD: 0, MemberRole.SPOUSE: 1, MemberRole.CHILD: 2}


@dataclass(frozen=True)
class HeldAccount:
    product_type: str
    currency: str
    balance: Decimal
    status: str


_ACCOUNTS = TypeAdapter(list[HeldAccount])
_FEES = TypeAdapter(dict[str, Decimal])


@dataclass(frozen=True)
class MemberValue:
    figures: MemberFigures
    yearly_contribution_cny: Decimal


def member_value(holding: MemberHoldings, settings: Settings) -> MemberValue:
    accounts = _ACCOUNTS.validate_json(holding.accounts)
    fees = _FEES.validate_json(holding.fees)
    value = customer_value(holding.customer, accounts, fees, settings=settings)
    deposits = sum(
        (
            to_cny(a.balance, a.currency, settings)
            for a in accounts
            if a.product_type in DEPOSIT_PRODUCTS
        ),
        Decimal("0"),
    )
    return MemberValue(
        MemberFigures(
            deposits_cny=deposits.quantize(CENTS),
            loans_cny=value.loans_cny,
            assets_cny=value.assets_cny,
            lifetime_value_cny=value.lifetime_value_cny,
        ),
        value.yearly_contribution_cny,
    )


def combined_tier(assets_cny: Decimal, tiers: Iterable[str], thresholds: ValueThresholds) -> str:
    """The tier the combined assets reach, or a member's own if higher: a potential customer's
    household is no less than potential. A restricted member neither lifts nor lowers it."""
    if assets_cny >= thresholds.premium_aum:
        by_assets = ValueTier.PREMIUM
    elif assets_cny >= thresholds.key_aum:
        by_assets = ValueTier.KEY
    else:
        by_assets = ValueTier.ORDINARY
    own = [ValueTier(t) for t in tiers if t != ValueTier.RESTRICTED]
    return str(max([by_assets, *own], key=TIER_RANK.__getitem__))


def rollup(
    holdings: Sequence[MemberHoldings], values: Sequence[MemberValue], settings: Settings
) -> GroupRollup:
    figures = [v.figures for v in values]
    assets = sum((f.assets_cny for f in figures), Decimal("0"))
    return GroupRollup(
        members=len(holdings),
        deposits_cny=sum((f.deposits_cny for f in figures), Decimal("0.00")),
        loans_cny=sum((f.loans_cny for f in figures), Decimal("0.00")),
        assets_under_management_cny=assets,
        yearly_contribution_cny=sum((v.yearly_contribution_cny for v in values), Decimal("0.00")),
        lifetime_value_cny=sum((f.lifetime_value_cny for f in figures), Decimal("0.00")),
        combined_tier=combined_tier(
            assets, (h.customer.value_tier for h in holdings), settings.value_thresholds
        ),
    )


def member_read(holding: MemberHoldings, value: MemberValue, depth: int) -> GroupMemberRead:
    member, customer = holding.membership, holding.customer
    return GroupMemberRead(
        customer_id=customer.id,
        name=customer.name,
        role=member.role,
        parent_customer_id=member.parent_customer_id,
        depth=depth,
        since=member.since,
        value_tier=customer.value_tier,
        manager_id=customer.manager_id,
        branch_code=customer.branch_code,
        figures=value.figures,
    )


def arranged(
    holdings: Sequence[MemberHoldings], values: Sequence[MemberValue]
) -> tuple[list[GroupMemberRead], GroupNode | None]:
    """The members in the tree's order (each parent before its subsidiaries) with their
    depth, and the tree under the group's parent (None without one, as in a household)."""
    by_id = {h.customer.id: (h, v) for h, v in zip(holdings, values, strict=True)}
    children: dict[uuid.UUID | None, list[uuid.UUID]] = defaultdict(list)
    for h in holdings:
        children[h.membership.parent_customer_id].append(h.customer.id)
    top = [h.customer.id for h in holdings if h.membership.role == MemberRole.PARENT]
    members: list[GroupMemberRead] = []

    def node(customer_id: uuid.UUID, depth: int) -> GroupNode:
        holding, value = by_id.pop(customer_id)
        members.append(member_read(holding, value, depth))
        return GroupNode(
            customer_id=customer_id,
            name=holding.customer.name,
            subsidiaries=[node(c, depth + 1) for c in children[customer_id] if c in by_id],
        )

    tree = node(top[0], 0) if top else None
    rest = sorted(by_id.values(), key=lambda hv: HOUSEHOLD_ORDER.get(hv[0].membership.role, 3))
    members += [member_read(h, v, 0) for h, v in rest]
    return members, tree
