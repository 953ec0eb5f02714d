"""Who is acting on a case: a member of staff and the procedure role they act in.

Who it is comes from the bearer token (its subject). Which of the procedure's roles they act
in is theirs to say in ``X-Staff-Role`` among those their bank role allows: a complaint handler
works at the front line or as a department's handler, a supervisor approves or reviews
quality. An integration account (the agent desktop's back end, say) relays the person it acts
for in ``X-Staff-Id`` and must name the role; it may name any.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header
from pydantic.json_schema import SkipJsonSchema

from services.complaints.errors import RoleNotAllowed, StaffUnidentified
from services.complaints.procedure import StaffRole
from shared.auth.http import PrincipalDep
from shared.auth.roles import Role


@dataclass(frozen=True)
class Staff:
    staff_id: str
    role: StaffRole


SYSTEM = "system"  # the actor of what the deadline sweep does

# The first is the role acted in when the caller names none.
PROCEDURE_ROLES: dict[Role, tuple[StaffRole, ...]] = {
    Role.COMPLAINT_HANDLER: (StaffRole.DEPARTMENT_HANDLER, StaffRole.FRONT_LINE),
    Role.SUPERVISOR: (StaffRole.SUPERVISOR, StaffRole.QUALITY_OFFICER),
}


async def _acting_staff(
    principal: PrincipalDep,
    x_staff_id: Annotated[
        str | SkipJsonSchema[None], Header(alias="X-Staff-Id", min_length=1, max_length=64)
    ] = None,
    x_staff_role: Annotated[StaffRole | SkipJsonSchema[None], Header(alias="X-Staff-Role")] = None,
) -> Staff:
    if principal.role is Role.SYSTEM:
        if not x_staff_id or not x_staff_role:
            raise StaffUnidentified(
                "an integration account names who acts: send X-Staff-Id and X-Staff-Role",
                field="X-Staff-Role",
            )
        return Staff(x_staff_id, x_staff_role)
    allowed = PROCEDURE_ROLES.get(principal.role, ())
    role = x_staff_role or (allowed[0] if allowed else None)
    if role is None or role not in allowed:
        raise RoleNotAllowed(
            f"X-Staff-Role: the {principal.role.value} role acts as one of "
            f"{[r.value for r in allowed]}",
            field="X-Staff-Role",
        )
    return Staff(principal.subject, role)


ActingStaff = Annotated[Staff, Depends(_acting_staff)]
