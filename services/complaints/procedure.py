"""The complaint procedure as an explicit state machine: which action moves a case from which
step, and whose role it is to take it.

1. record (登记) → 2. validity (成立 / 不成立) → 3. assignment of the responsible department →
4. cause analysis → 5. resolution proposal → 6. supervisor approval (or back to 5) →
7. implementation → 8. evaluation → closed; a closed case may be reopened.

The table below is the whole procedure: anything it does not list is refused, so a new action
cannot slip in without a row here."""

from dataclasses import dataclass
from enum import StrEnum


class ComplaintStep(StrEnum):
    """The step a case is waiting at (``RECORD`` is done when the case is created)."""

    RECORD = "record"
    VALIDITY = "validity"
    ASSIGNMENT = "assignment"
    CAUSE_ANALYSIS = "cause_analysis"
    RESOLUTION_PROPOSAL = "resolution_proposal"
    APPROVAL = "approval"
    IMPLEMENTATION = "implementation"
    EVALUATION = "evaluation"
    CLOSED = "closed"


class StaffRole(StrEnum):
    FRONT_LINE = "front_line"
    DEPARTMENT_HANDLER = "department_handler"
    SUPERVISOR = "supervisor"
    QUALITY_OFFICER = "quality_officer"


class ComplaintAction(StrEnum):
    JUDGE_VALIDITY = "judge_validity"
    ASSIGN_DEPARTMENT = "assign_department"
    ANALYSE_CAUSE = "analyse_cause"
    PROPOSE_RESOLUTION = "propose_resolution"
    APPROVE_RESOLUTION = "approve_resolution"
    RETURN_RESOLUTION = "return_resolution"
    IMPLEMENT_RESOLUTION = "implement_resolution"
    EVALUATE = "evaluate"
    EXTEND_DEADLINE = "extend_deadline"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"


class ClosingOutcome(StrEnum):
    RESOLVED = "resolved"
    INVALID = "invalid"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Move:
    roles: frozenset[StaffRole]
    # None: the case stays at its step (an extension) or the service decides (validity, reopen).
    to: ComplaintStep | None


_FRONT = frozenset({StaffRole.FRONT_LINE})
_HANDLER = frozenset({StaffRole.DEPARTMENT_HANDLER})
_SUPERVISOR = frozenset({StaffRole.SUPERVISOR})
_QUALITY = frozenset({StaffRole.QUALITY_OFFICER})
_FRONT_OR_SUPERVISOR = _FRONT | _SUPERVISOR
# Who may extend is also limited per extension by the regulatory pack (the second needs a
# supervisor); this is who may ask at all.
_EXTENDERS = _HANDLER | _SUPERVISOR

# Steps between acceptance and the approved decision: the decision deadline runs over them.
DECISION_STEPS = (
    ComplaintStep.ASSIGNMENT,
    ComplaintStep.CAUSE_ANALYSIS,
    ComplaintStep.RESOLUTION_PROPOSAL,
    ComplaintStep.APPROVAL,
)
OPEN_STEPS = (
    ComplaintStep.VALIDITY,
    *DECISION_STEPS,
    ComplaintStep.IMPLEMENTATION,
    ComplaintStep.EVALUATION,
)

PROCEDURE: dict[ComplaintStep, dict[ComplaintAction, Move]] = {
    ComplaintStep.VALIDITY: {
        ComplaintAction.JUDGE_VALIDITY: Move(_FRONT_OR_SUPERVISOR, ComplaintStep.ASSIGNMENT),
    },
    ComplaintStep.ASSIGNMENT: {
        ComplaintAction.ASSIGN_DEPARTMENT: Move(_FRONT_OR_SUPERVISOR, ComplaintStep.CAUSE_ANALYSIS),
    },
    ComplaintStep.CAUSE_ANALYSIS: {
        ComplaintAction.ANALYSE_CAUSE: Move(_HANDLER, ComplaintStep.RESOLUTION_PROPOSAL),
    },
    ComplaintStep.RESOLUTION_PROPOSAL: {
        ComplaintAction.PROPOSE_RESOLUTION: Move(_HANDLER, ComplaintStep.APPROVAL),
    },
    ComplaintStep.APPROVAL: {
        ComplaintAction.APPROVE_RESOLUTION: Move(_SUPERVISOR, ComplaintStep.IMPLEMENTATION),
        ComplaintAction.RETURN_RESOLUTION: Move(_SUPERVISOR, ComplaintStep.RESOLUTION_PROPOSAL),
    },
    ComplaintStep.IMPLEMENTATION: {
        ComplaintAction.IMPLEMENT_RESOLUTION: Move(_HANDLER, ComplaintStep.EVALUATION),
    },
    ComplaintStep.EVALUATION: {
        ComplaintAction.EVALUATE: Move(_QUALITY, ComplaintStep.CLOSED),
    },
    ComplaintStep.CLOSED: {
        ComplaintAction.REOPEN: Move(_FRONT_OR_SUPERVISOR, None),
    },
}
for _step in DECISION_STEPS:
    PROCEDURE[_step][ComplaintAction.EXTEND_DEADLINE] = Move(_EXTENDERS, None)
for _step in OPEN_STEPS:
    PROCEDURE[_step][ComplaintAction.WITHDRAW] = Move(_FRONT_OR_SUPERVISOR, ComplaintStep.CLOSED)


def allowed_actions(step: ComplaintStep) -> list[ComplaintAction]:
    return list(PROCEDURE.get(step, {}))


def move_for(step: ComplaintStep, action: ComplaintAction) -> Move | None:
    return PROCEDURE.get(step, {}).get(action)
