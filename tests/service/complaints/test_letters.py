"""The letters a complainant receives: each sent when the procedure reaches its step, saying
what its jurisdiction requires, in the complainant's language, readable as text and as PDF."""

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject
from sqlalchemy.exc import DBAPIError

from services.complaints.app import create_app
from services.complaints.config import Settings
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.service.complaints.conftest import (
    FRONT_LINE,
    HANDLER,
    act,
    file_complaint,
    walk_to,
)
from tests.service.conftest import scalar, serving

REASON = "We are waiting for the card scheme's record of the charge."


@asynccontextmanager
async def complaints_in(pack: str, database: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database, deadline_pack=pack)
    async with serving(create_app(settings)) as client:
        yield client


async def letters(client: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/complaints/{case_id}/letters")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def letter_of(client: httpx.AsyncClient, case_id: str, kind: str) -> dict[str, Any]:
    found = [letter for letter in await letters(client, case_id) if letter["kind"] == kind]
    assert len(found) == 1, found
    return found[0]


async def extended_and_decided(
    client: httpx.AsyncClient, **complaint: Any
) -> tuple[str, dict[str, dict[str, Any]]]:
    """A case extended once, then decided: its three letters by kind."""
    case = await file_complaint(client, **complaint)
    await walk_to(client, case["id"], "cause_analysis")
    await act(client, case["id"], HANDLER, action="extend_deadline", reason=REASON)
    await walk_to(client, case["id"], "implementation")
    sent = {letter["kind"]: letter for letter in await letters(client, case["id"])}
    return case["id"], sent


def flat(text: str) -> str:
    """Text without its white space, as a PDF's is compared: the lines wrap where the page
    ends them, and pypdf reads fpdf2's two-byte glyph codes (an embedded encoding CMap, which
    it does not apply) as a NUL before each character."""
    return "".join(text.replace("\x00", "").split())


class TestMainlandChina:
    async def test_each_letter_says_what_the_regulation_requires(
        self, migrated_database: str
    ) -> None:
        async with complaints_in("cn", migrated_database) as client:
            case_id, sent = await extended_and_decided(client)

        assert list(sent) == ["acknowledgement", "holding", "final_response"]
        assert {letter["language"] for letter in sent.values()} == {"zh-CN"}
        assert {letter["jurisdiction"] for letter in sent.values()} == {"cn"}
        acknowledgement = sent["acknowledgement"]["body"]
        assert case_id in acknowledgement
        assert "15日内作出处理决定" in acknowledgement
        assert "延长至30日" in acknowledgement
        holding = sent["holding"]["body"]
        assert REASON in holding  # the reason of an extension is told
        assert "延长的原因" in holding
        final = sent["final_response"]["body"]
        assert "Refund the fee and apologise." in final
        assert "200.00 CNY" in final
        for route in ("30日内", "书面申请核查", "申请调解", "申请仲裁", "人民法院提起诉讼"):
            assert route in final, route
        assert "Financial Ombudsman" not in final

    async def test_an_english_speaking_complainant_reads_the_routes_in_english(
        self, migrated_database: str
    ) -> None:
        async with complaints_in("cn", migrated_database) as client:
            _, sent = await extended_and_decided(client, language="en")

        final = sent["final_response"]["body"]
        assert sent["final_response"]["language"] == "en"
        for route in ("review", "within 30 days", "mediation", "arbitration", "people's courts"):
            assert route in final, route

    async def test_an_invalid_complaint_is_answered_with_the_routes_too(
        self, migrated_database: str
    ) -> None:
        explanation = "The fee is in the tariff you signed on 3 March."
        async with complaints_in("cn", migrated_database) as client:
            case = await file_complaint(client)
            await act(
                client,
                case["id"],
                FRONT_LINE,
                action="judge_validity",
                valid=False,
                explanation=explanation,
            )
            final = await letter_of(client, case["id"], "final_response")

        assert "不成立" in final["body"]
        assert explanation in final["body"]
        assert "人民法院提起诉讼" in final["body"]


class TestUnitedKingdom:
    async def test_each_letter_names_the_financial_ombudsman_service(
        self, migrated_database: str
    ) -> None:
        async with complaints_in("uk", migrated_database) as client:
            # Payment services are the complaints DISP lets a firm extend with a holding reply.
            _, sent = await extended_and_decided(client, category="payment_services")

        assert list(sent) == ["acknowledgement", "holding", "final_response"]
        assert {letter["language"] for letter in sent.values()} == {"en"}
        assert "eight weeks" in sent["acknowledgement"]["body"]
        assert REASON in sent["holding"]["body"]
        contact = (
            "Exchange Tower, London E14 9SR",
            "0800 023 4567",
            "www.financial-ombudsman.org.uk",
        )
        for letter in sent.values():
            assert "Financial Ombudsman Service" in letter["body"]
            for detail in contact:
                assert detail in letter["body"], (letter["kind"], detail)
        final = sent["final_response"]["body"]
        assert "This letter is our final response" in final
        assert "within six months of the date of this letter" in final
        assert "free of charge" in final
        assert "standard explanatory leaflet" in final

    async def test_a_chinese_speaking_complainant_reads_the_referral_right_in_chinese(
        self, migrated_database: str
    ) -> None:
        async with complaints_in("uk", migrated_database) as client:
            _, sent = await extended_and_decided(
                client, category="payment_services", language="zh-CN"
            )

        final = sent["final_response"]["body"]
        assert sent["final_response"]["language"] == "zh-CN"
        assert "六个月内" in final
        assert "Financial Ombudsman Service" in final
        assert "0800 023 4567" in final


class TestUnitedStates:
    async def test_the_letters_give_the_cfpb_times_and_no_other_jurisdictions_routes(
        self, migrated_database: str
    ) -> None:
        async with complaints_in("us", migrated_database) as client:
            _, sent = await extended_and_decided(client)

        assert list(sent) == ["acknowledgement", "holding", "final_response"]
        acknowledgement = sent["acknowledgement"]["body"]
        assert "within 15 days" in acknowledgement
        assert "within 60 days" in acknowledgement
        assert "no later than 60 days" in sent["holding"]["body"]
        assert "Refund the fee and apologise." in sent["final_response"]["body"]
        for letter in sent.values():
            assert "Financial Ombudsman" not in letter["body"]
            assert "arbitration" not in letter["body"]


class TestNotBeforeItsStep:
    async def test_a_final_response_is_refused_before_the_decision(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "approval")
        early = await client.post(
            f"/v1/complaints/{case['id']}/letters",
            json={"kind": "final_response"},
            headers=FRONT_LINE,
        )
        assert early.status_code == 409, early.text
        assert early.json()["type"].endswith("letter-not-due")
        assert [letter["kind"] for letter in await letters(client, case["id"])] == [
            "acknowledgement"
        ]

        await walk_to(client, case["id"], "implementation")
        again = await client.post(
            f"/v1/complaints/{case['id']}/letters",
            json={"kind": "final_response"},
            headers=FRONT_LINE,
        )
        assert again.status_code == 201, again.text
        kinds = [letter["kind"] for letter in await letters(client, case["id"])]
        assert kinds == ["acknowledgement", "final_response", "final_response"]

    async def test_a_holding_reply_is_refused_without_an_extension(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "cause_analysis")
        refused = await client.post(
            f"/v1/complaints/{case['id']}/letters", json={"kind": "holding"}, headers=HANDLER
        )
        assert refused.status_code == 409, refused.text


class TestKeptAndPublished:
    async def test_each_letter_is_announced_through_the_outbox_in_its_steps_transaction(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        sent = await letters(client, case["id"])
        published = await scalar(
            complaints_settings,
            "SELECT payload FROM outbox WHERE event_type = 'crm.complaint.letter_issued.v1' "
            "AND payload->>'complaint_id' = :id",
            id=case["id"],
        )
        assert isinstance(published, dict)
        assert published["letter_id"] == sent[0]["id"]
        assert (published["kind"], published["language"], published["jurisdiction"]) == (
            "acknowledgement",
            "zh-CN",
            "cn",
        )

    async def test_a_step_refused_sends_no_letter(self, client: httpx.AsyncClient) -> None:
        case = await file_complaint(client)
        await walk_to(client, case["id"], "approval")
        await act(client, case["id"], HANDLER, expect=403, action="approve_resolution")
        assert len(await letters(client, case["id"])) == 1

    async def test_a_letter_cannot_be_rewritten(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        case = await file_complaint(client)
        for sql in (
            "UPDATE complaint_letters SET body = 'changed' WHERE complaint_id = :id RETURNING id",
            "DELETE FROM complaint_letters WHERE complaint_id = :id RETURNING id",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                await scalar(complaints_settings, sql, id=case["id"])


class TestPdf:
    async def test_the_pdf_opens_and_holds_the_letters_text(
        self, client: httpx.AsyncClient
    ) -> None:
        for language in ("zh-CN", "en"):
            case = await file_complaint(client, language=language)
            letter = await letter_of(client, case["id"], "acknowledgement")
            response = await client.get(f"/v1/complaints/{case['id']}/letters/{letter['id']}/pdf")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/pdf"
            reader = PdfReader(io.BytesIO(response.content))
            text = flat("".join(page.extract_text() for page in reader.pages))
            assert flat(letter["subject"]) in text
            assert flat(letter["body"]) in text
            assert reader.metadata is not None
            assert reader.metadata.title == letter["subject"]
            resources = reader.pages[0]["/Resources"]
            assert isinstance(resources, DictionaryObject)
            fonts = resources["/Font"]
            assert isinstance(fonts, DictionaryObject)
            for font in fonts.values():
                descendants = font.get_object()["/DescendantFonts"]
                assert isinstance(descendants, ArrayObject)
                drawn_in = descendants[0].get_object()
                assert "/FontFile3" in drawn_in["/FontDescriptor"]  # embedded, not the reader's


class TestAccess:
    async def test_another_departments_handler_finds_no_letters(
        self, client: httpx.AsyncClient
    ) -> None:
        case = await walk_to(client, (await file_complaint(client))["id"], "cause_analysis")
        letter = await letter_of(client, case["id"], "acknowledgement")
        paths = (
            f"/v1/complaints/{case['id']}/letters",
            f"/v1/complaints/{case['id']}/letters/{letter['id']}/pdf",
        )
        for department, status in (("loans", 404), ("cards", 200)):
            headers = development_bearer(Role.COMPLAINT_HANDLER, department=department)
            for path in paths:
                answer = await client.get(path, headers=headers)
                assert answer.status_code == status, (department, path, answer.text)
