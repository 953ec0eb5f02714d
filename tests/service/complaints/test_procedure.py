"""A complaint walks the eight-step procedure: every path, every refusal, the whole history."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from services.complaints.config import Settings
from services.complaints.deadlines import BusinessCalendar
from tests.service.complaints.conftest import (
    FRONT_LINE,
    HANDLER,
    QUALITY,
    SUPERVISOR,
    act,
    file_complaint,
    outbox_types,
    walk_to,
)
from tests.service.conftest import scalar


class TestValidCase:
    async def test_walks_all_eight_steps_and_keeps_each_one(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        assert (case["step"], case["status"], case["allowed_actions"]) == (
            "validity", "open", ["judge_validity", "withdraw"],
        )  # fmt: skip
        closed = await walk_to(client, case["id"], "closed")
        assert closed["status"] == "closed"
        assert closed["outcome"] == "resolved"
        assert closed["cause"] == "unset_expectations"
        assert closed["department"] == "cards"
        assert closed["satisfaction"] == 4
        assert closed["lesson"]
        assert closed["decided_at"] is not None
        assert closed["allowed_actions"] == ["reopen"]

        detail = (await client.get(f"/v1/complaints/{case['id']}")).json()
        moves = [(e["action"], e["from_step"], e["to_step"]) for e in detail["history"]]
        assert moves == [
            ("record", None, "validity"),
            ("judge_validity", "validity", "assignment"),
            ("assign_department", "assignment", "cause_analysis"),
            ("analyse_cause", "cause_analysis", "resolution_proposal"),
            ("propose_resolution", "resolution_proposal", "approval"),
            ("approve_resolution", "approval", "implementation"),
            ("implement_resolution", "implementation", "evaluation"),
            ("evaluate", "evaluation", "closed"),
        ]
        approval = detail["history"][5]
        assert (approval["actor_id"], approval["actor_role"]) == ("supervisor-03", "supervisor")
        assert approval["decision"]["on_time"] is True
        assert detail["history"][4]["decision"]["compensation"] == {
            "amount": "200.00", "currency": "CNY",
        }  # fmt: skip

        # The acknowledgement goes with the receipt, the final response with the approval.
        assert await outbox_types(complaints_settings, case["id"]) == [
            "received", "step_completed", "letter_issued", *["step_completed"] * 5,
            "letter_issued", *["step_completed"] * 2, "closed",
        ]  # fmt: skip

    async def test_acceptance_starts_the_15_day_decision_clock(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        assert case["decide_by"] is None  # China: the clock starts at acceptance
        accepted = await act(client, case["id"], FRONT_LINE, action="judge_validity", valid=True)
        calendar = BusinessCalendar.of(complaints_settings.pack)
        accepted_at = datetime.fromisoformat(accepted["accepted_at"])
        decide_by = datetime.fromisoformat(accepted["decide_by"])
        assert decide_by == calendar.due(accepted_at, complaints_settings.pack.decision.period)
        assert accepted["step_due_at"] == accepted["decide_by"]
        assert timedelta(days=15) <= decide_by - accepted_at < timedelta(days=25)


class TestInvalidCase:
    async def test_is_closed_with_the_explanation_for_the_customer(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        explanation = "The fee is in the tariff you signed on 3 March; here is the page."
        closed = await act(
            client, case["id"], FRONT_LINE,
            action="judge_validity", valid=False, explanation=explanation,
        )  # fmt: skip
        assert (closed["status"], closed["outcome"], closed["step"]) == (
            "closed", "invalid", "closed",
        )  # fmt: skip
        assert closed["resolution"] == explanation
        assert await outbox_types(complaints_settings, case["id"]) == [
            "received", "step_completed", "letter_issued", "step_completed", "closed",
            "letter_issued",
        ]  # fmt: skip

    async def test_without_an_explanation_is_refused_and_nothing_changes(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await file_complaint(client)
        response = await client.post(
            f"/v1/complaints/{case['id']}/actions",
            json={"action": "judge_validity", "valid": False},
            headers=FRONT_LINE,
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        after = (await client.get(f"/v1/complaints/{case['id']}")).json()
        assert after["step"] == "validity"
        assert len(after["history"]) == 1


class TestSupervisorReturn:
    async def test_a_returned_proposal_goes_back_to_the_department_with_the_comment(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "approval")
        returned = await act(
            client, case["id"], SUPERVISOR,
            action="return_resolution", comment="Offer the refund with interest.",
        )  # fmt: skip
        assert returned["step"] == "resolution_proposal"
        again = await act(
            client, case["id"], HANDLER,
            action="propose_resolution", resolution="Refund with interest.",
        )  # fmt: skip
        assert again["step"] == "approval"
        approved = await act(client, case["id"], SUPERVISOR, action="approve_resolution")
        assert approved["step"] == "implementation"
        history = (await client.get(f"/v1/complaints/{case['id']}")).json()["history"]
        returns = [e for e in history if e["action"] == "return_resolution"]
        assert returns[0]["decision"] == {
            "returned": True, "comment": "Offer the refund with interest.",
        }  # fmt: skip

    async def test_a_return_without_a_comment_is_a_422_naming_it(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "approval")
        response = await client.post(
            f"/v1/complaints/{case['id']}/actions",
            json={"action": "return_resolution"},
            headers=SUPERVISOR,
        )
        assert response.status_code == 422
        assert "comment" in response.text


class TestExtensions:
    async def test_extended_once_by_the_department_then_only_by_a_supervisor(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        accepted = await walk_to(client, case["id"], "cause_analysis")
        pack = complaints_settings.pack
        calendar = BusinessCalendar.of(pack)
        accepted_at = datetime.fromisoformat(accepted["accepted_at"])
        first_ext, second_ext = pack.decision.extensions

        once = await act(
            client, case["id"], HANDLER, action="extend_deadline", reason="Needs card-scheme data"
        )
        assert once["extensions_used"] == 1
        assert once["step"] == "cause_analysis"
        assert datetime.fromisoformat(once["decide_by"]) == calendar.due(
            accepted_at, first_ext.period
        )
        refused = await act(
            client, case["id"], HANDLER, expect=403, action="extend_deadline", reason="More data"
        )
        assert refused["required_roles"] == ["supervisor"]
        twice = await act(
            client, case["id"], SUPERVISOR, action="extend_deadline", reason="Scheme arbitration"
        )
        assert twice["extensions_used"] == 2
        assert datetime.fromisoformat(twice["decide_by"]) == calendar.due(
            accepted_at, second_ext.period
        )
        # 60 days to the end of a day, moved on past the closed days it may land on (a weekend,
        # at most a Golden Week of them).
        assert datetime.fromisoformat(twice["decide_by"]) - accepted_at <= timedelta(days=61 + 9)
        beyond = await act(
            client, case["id"], SUPERVISOR, expect=409, action="extend_deadline", reason="Again"
        )
        assert beyond["type"].endswith("/no-further-extension")
        history = (await client.get(f"/v1/complaints/{case['id']}")).json()["history"]
        extensions = [e for e in history if e["action"] == "extend_deadline"]
        assert [(e["actor_role"], e["decision"]["extension"]) for e in extensions] == [
            ("department_handler", 1), ("supervisor", 2),
        ]  # fmt: skip

    async def test_no_extension_before_acceptance_or_after_the_decision(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await file_complaint(client)
        early = await act(
            client, case["id"], SUPERVISOR, expect=409, action="extend_deadline", reason="x"
        )
        assert "extend_deadline" not in early["allowed"]
        await walk_to(client, case["id"], "implementation")
        await act(client, case["id"], SUPERVISOR, expect=409, action="extend_deadline", reason="x")


class TestReopen:
    async def test_a_closed_case_reopens_at_cause_analysis_with_a_new_clock(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "closed")
        reopened = await act(
            client, case["id"], FRONT_LINE, action="reopen", reason="The refund never arrived."
        )
        assert (reopened["status"], reopened["step"], reopened["reopen_count"]) == (
            "open", "cause_analysis", 1,
        )  # fmt: skip
        assert reopened["outcome"] is None
        assert reopened["decided_at"] is None
        assert reopened["department"] == "cards"
        assert datetime.fromisoformat(reopened["decide_by"]) > datetime.now(UTC)
        types = await outbox_types(complaints_settings, case["id"])
        assert types[-4:] == ["closed", "received", "step_completed", "letter_issued"]
        closed_again = await walk_to(client, case["id"], "closed")
        assert closed_again["outcome"] == "resolved"

    async def test_not_after_the_reopening_period(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "closed")
        await scalar(
            complaints_settings,
            "UPDATE complaints SET closed_at = now() - interval '31 days' WHERE id = :id "
            "RETURNING id",
            id=case["id"],
        )
        late = await act(client, case["id"], FRONT_LINE, expect=409, action="reopen", reason="x")
        assert late["type"].endswith("/reopen-period-over")

    async def test_not_while_a_newer_case_of_the_matter_is_open(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "closed")
        newer = await file_complaint(client, customer_id=case["customer_id"])
        refused = await act(client, case["id"], FRONT_LINE, expect=409, action="reopen", reason="x")
        assert refused["open_complaint_id"] == newer["id"]


class TestWithdraw:
    async def test_the_customer_may_withdraw_at_any_open_step(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "resolution_proposal")
        withdrawn = await act(
            client, case["id"], FRONT_LINE, action="withdraw", reason="Settled at the branch."
        )
        assert (withdrawn["status"], withdrawn["outcome"]) == ("closed", "withdrawn")
        assert (await outbox_types(complaints_settings, case["id"]))[-1] == "closed"


ILLEGAL: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    # (step the case waits at, action sent, the role that would own it)
    ("validity", {"action": "assign_department", "department": "cards"}, FRONT_LINE),
    ("validity", {"action": "approve_resolution"}, SUPERVISOR),
    ("assignment", {"action": "judge_validity", "valid": True}, FRONT_LINE),
    ("cause_analysis", {"action": "propose_resolution", "resolution": "r"}, HANDLER),
    ("approval", {"action": "implement_resolution", "done": "d"}, HANDLER),
    ("implementation", {"action": "evaluate", "satisfaction": 5, "root_cause": "c",
                        "lesson": "l"}, QUALITY),
    ("evaluation", {"action": "approve_resolution"}, SUPERVISOR),
    ("closed", {"action": "withdraw", "reason": "r"}, FRONT_LINE),
    ("closed", {"action": "evaluate", "satisfaction": 5, "root_cause": "c", "lesson": "l"},
     QUALITY),
]  # fmt: skip

WRONG_ROLE: list[tuple[str, dict[str, Any], dict[str, str], list[str]]] = [
    # (step, action, a role that may not take it, the roles that may)
    ("validity", {"action": "judge_validity", "valid": True}, HANDLER,
     ["front_line", "supervisor"]),
    ("assignment", {"action": "assign_department", "department": "x"}, QUALITY,
     ["front_line", "supervisor"]),
    ("cause_analysis", {"action": "analyse_cause", "cause": "felt_ignored", "finding": "f"},
     FRONT_LINE, ["department_handler"]),
    ("resolution_proposal", {"action": "propose_resolution", "resolution": "r"}, SUPERVISOR,
     ["department_handler"]),
    ("approval", {"action": "approve_resolution"}, HANDLER, ["supervisor"]),
    ("approval", {"action": "return_resolution", "comment": "c"}, QUALITY, ["supervisor"]),
    ("implementation", {"action": "implement_resolution", "done": "d"}, FRONT_LINE,
     ["department_handler"]),
    ("evaluation", {"action": "evaluate", "satisfaction": 3, "root_cause": "c", "lesson": "l"},
     SUPERVISOR, ["quality_officer"]),
    ("closed", {"action": "reopen", "reason": "r"}, HANDLER, ["front_line", "supervisor"]),
]  # fmt: skip


class TestRefusals:
    async def test_every_illegal_transition_is_a_409_listing_the_allowed_ones(
        self, client: httpx.AsyncClient
    ) -> None:
        for step, action, staff in ILLEGAL:
            case = await file_complaint(client)
            await walk_to(client, case["id"], step)
            before = (await client.get(f"/v1/complaints/{case['id']}")).json()
            problem = await act(client, case["id"], staff, expect=409, **action)
            assert problem["type"].endswith("/action-not-allowed"), (step, action)
            assert problem["step"] == step
            assert problem["allowed"] == before["allowed_actions"]
            after = (await client.get(f"/v1/complaints/{case['id']}")).json()
            assert after["history"] == before["history"]
            assert after["step"] == step

    async def test_every_step_by_the_wrong_role_is_a_403_naming_the_right_roles(
        self, client: httpx.AsyncClient
    ) -> None:
        for step, action, staff, roles in WRONG_ROLE:
            case = await file_complaint(client)
            await walk_to(client, case["id"], step)
            problem = await act(client, case["id"], staff, expect=403, **action)
            assert problem["required_roles"] == roles, (step, action)
            after = (await client.get(f"/v1/complaints/{case['id']}")).json()
            assert after["step"] == step

    async def test_an_unidentified_caller_may_not_act(self, client: httpx.AsyncClient) -> None:
        case = await file_complaint(client)
        response = await client.post(
            f"/v1/complaints/{case['id']}/actions", json={"action": "withdraw", "reason": "r"}
        )
        assert response.status_code == 422
        assert response.json()["field"] == "X-Staff-Role"
        bad_role = await client.post(
            f"/v1/complaints/{case['id']}/actions",
            json={"action": "withdraw", "reason": "r"},
            headers={"X-Staff-Id": "x", "X-Staff-Role": "janitor"},
        )
        assert bad_role.status_code == 422
        assert [e["field"] for e in bad_role.json()["errors"]] == ["X-Staff-Role"]

    async def test_an_unknown_action_or_case(self, client: httpx.AsyncClient) -> None:
        case = await file_complaint(client)
        unknown = await client.post(
            f"/v1/complaints/{case['id']}/actions", json={"action": "shred"}, headers=SUPERVISOR
        )
        assert unknown.status_code == 422
        missing = await client.post(
            f"/v1/complaints/{uuid.uuid4()}/actions",
            json={"action": "withdraw", "reason": "r"},
            headers=FRONT_LINE,
        )
        assert missing.status_code == 404
        assert missing.json()["type"].endswith("/complaint-not-found")

    async def test_the_history_cannot_be_rewritten(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        for sql in (
            "UPDATE complaint_history SET note = 'edited' WHERE complaint_id = :id RETURNING seq",
            "DELETE FROM complaint_history WHERE complaint_id = :id RETURNING seq",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                await scalar(complaints_settings, sql, id=case["id"])


class TestSegregationOfDuties:
    async def test_the_supervisor_who_approved_may_not_evaluate_the_same_case(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await walk_to(client, (await file_complaint(client))["id"], "evaluation")
        same_person = {"X-Staff-Id": SUPERVISOR["X-Staff-Id"], "X-Staff-Role": "quality_officer"}
        evaluation: dict[str, Any] = {
            "action": "evaluate",
            "satisfaction": 5,
            "root_cause": "Fee schedule not stopped",
            "lesson": "Cancel fee schedules together with the card.",
        }

        refused = await act(client, case["id"], same_person, expect=403, **evaluation)
        unchanged = (await client.get(f"/v1/complaints/{case['id']}")).json()
        closed = await act(client, case["id"], QUALITY, **evaluation)

        assert refused["type"].endswith("/segregation-of-duties")
        assert unchanged["step"] == "evaluation"
        assert closed["step"] == "closed"
