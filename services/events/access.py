"""Which opportunities a member of staff may reach (OWASP API1, object-level authorisation).

A customer manager works the opportunities the detector gave them (``owner`` "manager",
``owner_id`` their manager id): the list shows only those, and any other opportunity is
answered exactly as one that does not exist, 404, so ids cannot be probed. The other roles
that may read opportunities (agents, supervisors, auditors, administrators, integrations) are
not limited by owner: the contact centre works its own and the managers' when a customer calls.
"""

import uuid
from dataclasses import replace

from fastapi import Request

from services.events.errors import OpportunityNotFound
from services.events.repository import opportunities as opportunities_repository
from services.events.repository.opportunities import OpportunityFilter
from shared.auth.http import current_principal
from shared.auth.roles import Role
from shared.auth.tokens import Principal
from shared.http import SessionDep

# An owner id no opportunity has: what a manager's token without a manager id reaches.
NOBODY = "-"


def own_opportunities(principal: Principal) -> str | None:
    """The owner id the caller is limited to, or None when the caller is not limited."""
    if principal.role is not Role.CUSTOMER_MANAGER:
        return None
    return str(principal.manager_id) if principal.manager_id is not None else NOBODY


def limit_to_reach(criteria: OpportunityFilter, principal: Principal) -> OpportunityFilter:
    own = own_opportunities(principal)
    if own is None:
        return criteria
    asked = criteria.owner_id
    return replace(criteria, owner="manager", owner_id=own if asked in (None, own) else NOBODY)


async def opportunity_in_reach(request: Request, session: SessionDep) -> None:
    """Guards the routes that name an opportunity in their path."""
    own = own_opportunities(current_principal(request))
    if own is None:
        return
    try:
        opportunity_id = uuid.UUID(request.path_params["opportunity_id"])
    except (KeyError, ValueError):
        return  # the route's own validation answers
    owner_id = await opportunities_repository.owner_of(session, opportunity_id)
    if owner_id != own:
        raise OpportunityNotFound(f"no opportunity {opportunity_id}")
