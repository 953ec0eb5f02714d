"""The complaint procedure's table, without a database: which actions each step allows, to
whom, and which step follows; and that every action the table names has its handler."""

import pytest

from services.complaints.actions import ACTIONS, permitted_move
from services.complaints.errors import ActionNotAllowed, RoleNotAllowed
from services.complaints.procedure import (
    DECISION_STEPS,
    OPEN_STEPS,
    PROCEDURE,
    ComplaintAction,
    ComplaintStep,
    StaffRole,
    allowed_actions,
    move_for,
)
from services.complaints.staff import Staff

Step, Action, Role = ComplaintStep, ComplaintAction, StaffRole

# The main path of a valid complaint: the action each step waits for and the step it leads to.
MAIN_PATH = [
    (Step.VALIDITY, Action.JUDGE_VALIDITY, Step.ASSIGNMENT),
    (Step.ASSIGNMENT, Action.ASSIGN_DEPARTMENT, Step.CAUSE_ANALYSIS),
    (Step.CAUSE_ANALYSIS, Action.ANALYSE_CAUSE, Step.RESOLUTION_PROPOSAL),
    (Step.RESOLUTION_PROPOSAL, Action.PROPOSE_RESOLUTION, Step.APPROVAL),
    (Step.APPROVAL, Action.APPROVE_RESOLUTION, Step.IMPLEMENTATION),
    (Step.IMPLEMENTATION, Action.IMPLEMENT_RESOLUTION, Step.EVALUATION),
    (Step.EVALUATION, Action.EVALUATE, Step.CLOSED),
]


def _staff(role: StaffRole) -> Staff:
    return Staff(staff_id="s-1", role=role)


class TestNextStep:
    @pytest.mark.parametrize(("step", "action", "following"), MAIN_PATH)
    def test_the_main_path_moves_one_step_on(
        self, step: ComplaintStep, action: ComplaintAction, following: ComplaintStep
    ) -> None:
        move = move_for(step, action)
        assert move is not None
        assert move.to is following

    def test_a_supervisor_s_return_sends_the_proposal_back(self) -> None:
        move = move_for(Step.APPROVAL, Action.RETURN_RESOLUTION)
        assert move is not None
        assert move.to is Step.RESOLUTION_PROPOSAL

    def test_a_withdrawal_closes_the_case_from_every_open_step(self) -> None:
        for step in OPEN_STEPS:
            move = move_for(step, Action.WITHDRAW)
            assert move is not None, step
            assert move.to is Step.CLOSED, step

    def test_an_extension_and_a_reopening_leave_the_step_to_the_service(self) -> None:
        for step in DECISION_STEPS:
            move = move_for(step, Action.EXTEND_DEADLINE)
            assert move is not None, step
            assert move.to is None, step
        reopen = move_for(Step.CLOSED, Action.REOPEN)
        assert reopen is not None
        assert reopen.to is None


class TestAllowedActions:
    def test_each_open_step_allows_its_own_action_and_a_withdrawal(self) -> None:
        for step, action, _ in MAIN_PATH:
            assert action in allowed_actions(step)
            assert Action.WITHDRAW in allowed_actions(step)

    def test_the_deadline_extends_only_while_the_decision_is_pending(self) -> None:
        extendable = {step for step in Step if Action.EXTEND_DEADLINE in allowed_actions(step)}
        assert extendable == set(DECISION_STEPS)

    def test_a_closed_case_can_only_be_reopened(self) -> None:
        assert allowed_actions(Step.CLOSED) == [Action.REOPEN]

    def test_recording_is_done_on_receipt_and_allows_nothing(self) -> None:
        assert allowed_actions(Step.RECORD) == []
        assert move_for(Step.RECORD, Action.JUDGE_VALIDITY) is None

    def test_an_action_of_another_step_is_not_allowed(self) -> None:
        assert move_for(Step.VALIDITY, Action.APPROVE_RESOLUTION) is None
        assert move_for(Step.EVALUATION, Action.REOPEN) is None


class TestRoles:
    @pytest.mark.parametrize(
        ("step", "action", "roles"),
        [
            (Step.VALIDITY, Action.JUDGE_VALIDITY, {Role.FRONT_LINE, Role.SUPERVISOR}),
            (Step.ASSIGNMENT, Action.ASSIGN_DEPARTMENT, {Role.FRONT_LINE, Role.SUPERVISOR}),
            (Step.CAUSE_ANALYSIS, Action.ANALYSE_CAUSE, {Role.DEPARTMENT_HANDLER}),
            (Step.RESOLUTION_PROPOSAL, Action.PROPOSE_RESOLUTION, {Role.DEPARTMENT_HANDLER}),
            (Step.APPROVAL, Action.APPROVE_RESOLUTION, {Role.SUPERVISOR}),
            (Step.APPROVAL, Action.RETURN_RESOLUTION, {Role.SUPERVISOR}),
            (Step.IMPLEMENTATION, Action.IMPLEMENT_RESOLUTION, {Role.DEPARTMENT_HANDLER}),
            (Step.EVALUATION, Action.EVALUATE, {Role.QUALITY_OFFICER}),
            (Step.APPROVAL, Action.EXTEND_DEADLINE, {Role.DEPARTMENT_HANDLER, Role.SUPERVISOR}),
            (Step.IMPLEMENTATION, Action.WITHDRAW, {Role.FRONT_LINE, Role.SUPERVISOR}),
            (Step.CLOSED, Action.REOPEN, {Role.FRONT_LINE, Role.SUPERVISOR}),
        ],
    )
    def test_whose_role_each_action_is(
        self, step: ComplaintStep, action: ComplaintAction, roles: set[StaffRole]
    ) -> None:
        move = move_for(step, action)
        assert move is not None
        assert move.roles == roles


class TestPermittedMove:
    def test_the_move_is_given_to_a_role_it_is_for(self) -> None:
        move = permitted_move(Step.APPROVAL, Action.APPROVE_RESOLUTION, _staff(Role.SUPERVISOR))
        assert move.to is Step.IMPLEMENTATION

    def test_an_action_the_step_does_not_allow_names_those_it_does(self) -> None:
        with pytest.raises(ActionNotAllowed) as refused:
            permitted_move(Step.APPROVAL, Action.EVALUATE, _staff(Role.QUALITY_OFFICER))
        assert refused.value.extensions["step"] == "approval"
        assert refused.value.extensions["allowed"] == [
            "approve_resolution",
            "return_resolution",
            "extend_deadline",
            "withdraw",
        ]

    def test_another_role_is_refused_and_told_whose_it_is(self) -> None:
        with pytest.raises(RoleNotAllowed) as refused:
            permitted_move(Step.APPROVAL, Action.APPROVE_RESOLUTION, _staff(Role.FRONT_LINE))
        assert refused.value.extensions["required_roles"] == ["supervisor"]


class TestHandlers:
    def test_every_action_has_a_handler(self) -> None:
        assert set(ACTIONS) == set(ComplaintAction)

    def test_every_action_of_the_table_is_a_known_action_with_a_handler(self) -> None:
        named = {action for moves in PROCEDURE.values() for action in moves}
        assert named == set(ACTIONS)
