"""Which customers a member of staff may reach (OWASP API1, object-level authorisation).

A customer manager reaches the customers of their own portfolio and branch staff those of
their branch; the other roles reach any customer their scopes allow (a channel acts for the
customer who identified themselves to it, an agent for whoever calls). A customer out of reach
is answered exactly as one that does not exist, 404, so that ids cannot be probed.

``customer_in_reach`` guards every route of the customer service's routers by the customer or
account named in its path, so a new route under ``/customers/{customer_id}`` is limited
without anyone remembering to; lists apply the same limit as a filter (``limit_search``).
"""

import uuid
from dataclasses import dataclass, replace

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts import repository as accounts_repository
from services.customer.customers import repository as customers_repository
from services.customer.customers.repository import Custody, CustomerFilter
from services.customer.errors import AccountNotFound, CustomerNotFound, LeadNotFound
from services.customer.prospects import repository as prospects_repository
from shared.auth.http import current_principal
from shared.auth.roles import Role
from shared.auth.tokens import Principal
from shared.http import SessionDep
from shared.problems import ProblemError


class OutOfBranch(ProblemError):
    status, slug, title = 403, "out-of-branch", "Only customers of your own branch"


class OutOfPortfolio(ProblemError):
    status, slug, title = 403, "out-of-portfolio", "Only your own portfolio"


class RestrictionReserved(ProblemError):
    status, slug, title = 403, "restriction-reserved", "Only a supervisor restricts a customer"


# Who may restrict a customer or lift a restriction: a supervisor, or the core-banking feed
# (an integration account) passing on one the bank decided there. Front-line staff serve the
# customer and so may not decide it themselves.
MAY_RESTRICT = frozenset({Role.SUPERVISOR, Role.SYSTEM})


@dataclass(frozen=True)
class Reach:
    """The limit on a caller's customers; a field left None does not limit."""

    manager_id: uuid.UUID | None = None
    branch_code: str | None = None
    nobody: bool = False  # a limited role whose token lacks the claim that limits it

    def admits(self, custody: Custody) -> bool:
        if self.nobody:
            return False
        if self.manager_id is not None and custody.manager_id != self.manager_id:
            return False
        return self.branch_code is None or custody.branch_code == self.branch_code


def reach_of(principal: Principal) -> Reach | None:
    """None: no object limit."""
    if principal.role is Role.CUSTOMER_MANAGER:
        return Reach(manager_id=principal.manager_id, nobody=principal.manager_id is None)
    if principal.role is Role.BRANCH_STAFF:
        return Reach(branch_code=principal.branch, nobody=principal.branch is None)
    return None


async def customer_in_reach(request: Request, session: SessionDep) -> None:
    reach = reach_of(current_principal(request))
    if reach is None:
        return  # no query at all on the paths channels and agents use
    customer_id = request.path_params.get("customer_id")
    account_number = request.path_params.get("account_number")
    if customer_id is not None:
        try:
            await ensure_customer_in_reach(session, reach, uuid.UUID(customer_id))
        except ValueError:
            return  # not a UUID: the route's own validation answers 422
    if account_number is not None:
        custody = await accounts_repository.custody_of_account(session, account_number)
        if custody is None or not reach.admits(custody):
            raise AccountNotFound(f"no account {account_number}")
    lead_id = request.path_params.get("lead_id")
    if lead_id is not None:
        try:
            custody = await prospects_repository.custody_of_lead(session, uuid.UUID(lead_id))
        except ValueError:
            return
        if custody is None or not reach.admits(custody):
            raise LeadNotFound(f"no potential customer {lead_id}")


async def ensure_customer_in_reach(
    session: AsyncSession, reach: Reach | None, customer_id: uuid.UUID
) -> None:
    """For a customer named in a request body rather than the path."""
    if reach is None:
        return
    custody = await customers_repository.custody_of_customer(session, customer_id)
    if custody is None or not reach.admits(custody):
        raise CustomerNotFound(f"no customer {customer_id}")


def limit_search(criteria: CustomerFilter, principal: Principal) -> CustomerFilter:
    reach = reach_of(principal)
    if reach is None:
        return criteria
    if reach.nobody:
        # Matches no customer: a nil UUID is never a manager.
        return replace(criteria, portfolio_of=uuid.UUID(int=0))
    return replace(criteria, portfolio_of=reach.manager_id, branch_code=reach.branch_code)


def assign_own_lead(principal: Principal, manager_id: uuid.UUID | None) -> uuid.UUID | None:
    """A customer manager registers potential customers for their own portfolio: the lead is
    theirs unless it names another manager, which is refused (it would be out of reach)."""
    if principal.role is not Role.CUSTOMER_MANAGER:
        return manager_id
    if manager_id is not None and manager_id != principal.manager_id:
        raise OutOfPortfolio("manager_id: must be you or left out", field="manager_id")
    return principal.manager_id


def ensure_own_branch(
    principal: Principal, branch_code: str | None, *, field: str = "branch_code"
) -> None:
    """Branch staff register customers at, and move them to, their own branch only: a
    customer placed elsewhere would at once be out of their reach."""
    if principal.role is Role.BRANCH_STAFF and principal.branch != branch_code:
        raise OutOfBranch(f"{field}: must be your branch, {principal.branch}", field=field)


def ensure_may_restrict(principal: Principal, *, changes_restriction: bool) -> None:
    if changes_restriction and principal.role not in MAY_RESTRICT:
        raise RestrictionReserved(
            f"restriction: the {principal.role.value} role may not set or lift a restriction",
            field="restriction",
        )
