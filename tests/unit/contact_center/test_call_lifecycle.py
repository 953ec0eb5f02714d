"""The call lifecycle table, without a database: which action moves a call from which status,
whose action it is, and what is refused."""

import pytest

from services.contact_center.calls.lifecycle import (
    LIFECYCLE,
    REFUSED_AS,
    CallAction,
    Party,
    allowed_actions,
    move_for,
)
from services.contact_center.errors import CallStateConflict
from services.contact_center.models import CallStatus

TALKING = (CallStatus.CONNECTED, CallStatus.ON_HOLD)
ENDED = (CallStatus.COMPLETED, CallStatus.ABANDONED)


class TestTheTable:
    def test_every_status_has_a_row_and_every_action_a_refusal_wording(self) -> None:
        assert set(LIFECYCLE) == set(CallStatus)
        assert set(REFUSED_AS) == set(CallAction)

    def test_every_move_leads_to_a_status_of_the_table(self) -> None:
        for moves in LIFECYCLE.values():
            for move in moves.values():
                assert move.to in LIFECYCLE

    @pytest.mark.parametrize("status", ENDED)
    def test_an_ended_call_takes_no_action(self, status: CallStatus) -> None:
        assert allowed_actions(status) == []


class TestInbound:
    def test_routing_offers_a_waiting_call(self) -> None:
        move = move_for(CallStatus.WAITING, CallAction.OFFER)

        assert (move.by, move.to) == (Party.ROUTING, CallStatus.OFFERED)

    def test_only_the_agent_it_rings_for_answers_an_offered_call(self) -> None:
        move = move_for(CallStatus.OFFERED, CallAction.ANSWER)

        assert (move.by, move.to) == (Party.OFFERED_AGENT, CallStatus.CONNECTED)

    @pytest.mark.parametrize("status", [CallStatus.WAITING, CallStatus.OFFERED])
    def test_a_hang_up_before_an_answer_abandons_the_call(self, status: CallStatus) -> None:
        move = move_for(status, CallAction.HANG_UP)

        assert (move.by, move.to) == (Party.CALLER, CallStatus.ABANDONED)

    @pytest.mark.parametrize("status", TALKING)
    def test_a_hang_up_after_an_answer_goes_to_wrap_up(self, status: CallStatus) -> None:
        assert move_for(status, CallAction.HANG_UP).to is CallStatus.WRAP_UP


class TestOnTheLine:
    def test_hold_and_resume_go_back_and_forth(self) -> None:
        assert move_for(CallStatus.CONNECTED, CallAction.HOLD).to is CallStatus.ON_HOLD
        assert move_for(CallStatus.ON_HOLD, CallAction.RESUME).to is CallStatus.CONNECTED

    @pytest.mark.parametrize("status", TALKING)
    def test_a_transfer_puts_the_call_back_in_a_queue(self, status: CallStatus) -> None:
        move = move_for(status, CallAction.TRANSFER)

        assert (move.by, move.to) == (Party.HANDLING_AGENT, CallStatus.WAITING)

    @pytest.mark.parametrize("status", [*TALKING, CallStatus.WRAP_UP])
    def test_the_agent_completes_a_call_by_wrapping_it_up(self, status: CallStatus) -> None:
        move = move_for(status, CallAction.WRAP_UP)

        assert (move.by, move.to) == (Party.HANDLING_AGENT, CallStatus.COMPLETED)


class TestRefusals:
    @pytest.mark.parametrize(
        ("status", "action", "detail"),
        [
            (CallStatus.WAITING, CallAction.ANSWER, "a waiting call cannot be answered"),
            (CallStatus.ON_HOLD, CallAction.HOLD, "a on_hold call cannot be put on hold"),
            (CallStatus.CONNECTED, CallAction.RESUME, "a connected call cannot be resumed"),
            (CallStatus.OFFERED, CallAction.TRANSFER, "a offered call cannot be transferred"),
            (CallStatus.COMPLETED, CallAction.HANG_UP, "a completed call cannot be hung up"),
            (CallStatus.ABANDONED, CallAction.WRAP_UP, "a abandoned call cannot be wrapped up"),
            (CallStatus.CONNECTED, CallAction.OFFER, "a connected call cannot be offered"),
        ],
    )
    def test_an_action_the_table_does_not_list_is_a_conflict_naming_the_status(
        self, status: CallStatus, action: CallAction, detail: str
    ) -> None:
        with pytest.raises(CallStateConflict) as refused:
            move_for(status, action)

        assert refused.value.status == 409
        assert refused.value.detail == detail
        assert refused.value.extensions == {"call_status": status}
