"""Which cases a complaint handler may reach (OWASP API1, object-level authorisation).

A complaint handler works the cases of their own department, and the cases no department has
yet (validity and assignment are front-line work before a department is chosen). Supervisors,
auditors, the integration accounts and the roles that only read a customer's complaints are
not limited by department. A case out of reach is answered as one that does not exist: 404.

``case_in_reach`` guards every route of the service's router by the case named in its path,
so a new route under ``/complaints/{complaint_id}`` is limited without anyone remembering to.
"""

import uuid
from dataclasses import replace

from fastapi import Request

from services.complaints.errors import ComplaintNotFound
from services.complaints.repository import complaints as complaints_repository
from services.complaints.repository.complaints import ComplaintFilter
from services.complaints.repository.stats import StatsScope
from shared.auth.http import current_principal
from shared.auth.roles import Role
from shared.auth.tokens import Principal
from shared.http import SessionDep


def _limited(principal: Principal) -> bool:
    return principal.role is Role.COMPLAINT_HANDLER


async def case_in_reach(request: Request, session: SessionDep) -> None:
    principal = current_principal(request)
    complaint_id = request.path_params.get("complaint_id")
    if complaint_id is None or not _limited(principal):
        return
    try:
        case_id = uuid.UUID(complaint_id)
    except ValueError:
        return  # the route's own validation answers 422
    exists, department = await complaints_repository.department_of(session, case_id)
    if not exists or department not in (None, principal.department):
        raise ComplaintNotFound(f"no complaint {complaint_id}")


def limit_list(criteria: ComplaintFilter, principal: Principal) -> ComplaintFilter:
    if not _limited(principal):
        return criteria
    return replace(criteria, department_limited=True, reachable_department=principal.department)


def limit_stats(scope: StatsScope, principal: Principal) -> StatsScope:
    """A handler's statistics are those of the cases they reach, as their list is."""
    if not _limited(principal):
        return scope
    return replace(scope, department_limited=True, reachable_department=principal.department)
