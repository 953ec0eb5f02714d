"""Who is acting on a case: a member of staff and the role they act in.

The agent desktop and the branch system send them as ``X-Staff-Id`` and ``X-Staff-Role``.
When bearer tokens arrive (the security issue), this dependency reads the same two facts from
the token's claims instead; the procedure's role checks do not change."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header

from services.complaints.errors import StaffUnidentified
from services.complaints.procedure import StaffRole
from shared.problems import ProblemError


@dataclass(frozen=True)
class Staff:
    staff_id: str
    role: StaffRole


SYSTEM = "system"  # the actor of what the deadline sweep does


def _acting_staff(
    x_staff_id: Annotated[str | None, Header(max_length=64)] = None,
    x_staff_role: Annotated[str | None, Header(max_length=30)] = None,
) -> Staff:
    if not x_staff_id or not x_staff_role:
        raise StaffUnidentified(
            "send X-Staff-Id and X-Staff-Role to act on a complaint", field="X-Staff-Role"
        )
    try:
        role = StaffRole(x_staff_role)
    except ValueError as error:
        raise ProblemError(
            f"X-Staff-Role: {x_staff_role!r} is not one of {[r.value for r in StaffRole]}",
            field="X-Staff-Role",
        ) from error
    return Staff(x_staff_id, role)


ActingStaff = Annotated[Staff, Depends(_acting_staff)]
