"""What each letter says, in each language, and what each jurisdiction requires it to say.

A letter is its kind's own text (the case's facts) followed by its jurisdiction's statements.
The statements, and the sources they follow:

- ``cn``: 《银行保险机构消费投诉处理管理办法》 (CBIRC Order 2020 No. 3): the decision within
  15 days of acceptance, 30 for a complex case, a further 30 with a senior approval, and the
  reason told when the period is extended; with the decision, the routes for a complainant who
  disagrees: a written review by the bank's superior office within 30 days of receiving it,
  mediation, arbitration and the courts.
- ``uk``: FCA DISP 1.2 (the acknowledgement carries a summary of the complaint procedure,
  naming the Financial Ombudsman Service), DISP 1.6.2A (a holding reply gives the reason for the
  delay and the date of the final response) and DISP 1.6.2 with DISP 1 Annex 3R (the final
  response: the right to refer to the Ombudsman, free, within six months of its date, the
  Ombudsman's standard explanatory leaflet and its contact details).
- ``us``: the CFPB's process asks nothing of the letters themselves; they say its times (a
  response within 15 days, the final one within 60) and otherwise carry the generic content.

Letters carry no name or address: the channel that delivers one addresses it."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class LetterKind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    HOLDING = "holding"
    FINAL_RESPONSE = "final_response"


class LetterLanguage(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


# The language of a complainant who named none: their jurisdiction's.
DEFAULT_LANGUAGE: dict[str, LetterLanguage] = {
    "cn": LetterLanguage.ZH_CN,
    "uk": LetterLanguage.EN,
    "us": LetterLanguage.EN,
}


@dataclass(frozen=True)
class LetterFacts:
    """What a letter says about its case."""

    kind: LetterKind
    language: LetterLanguage
    jurisdiction: str
    reference: str
    category: str
    received_on: date
    issued_on: date
    decide_by: date | None = None
    extension_reason: str | None = None
    upheld: bool = True  # False: the complaint was judged invalid
    resolution: str | None = None
    compensation: str | None = None  # "200.00 CNY"


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


_CATEGORY = {
    LetterLanguage.EN: {
        "product": "a product",
        "fees": "fees and charges",
        "service_attitude": "the service you received",
        "dispute_or_fraud": "a disputed or fraudulent transaction",
        "system_failure": "a failure of our systems",
        "payment_services": "a payment service",
        "data_privacy": "your personal data",
        "mis_selling": "how a product was sold to you",
        "other": "your concern",
    },
    LetterLanguage.ZH_CN: {
        "product": "产品",
        "fees": "收费",
        "service_attitude": "服务态度",
        "dispute_or_fraud": "交易争议或欺诈",
        "system_failure": "系统故障",
        "payment_services": "支付服务",
        "data_privacy": "个人信息",
        "mis_selling": "产品销售",
        "other": "其他事项",
    },
}

_FOS_CONTACT = (
    "Financial Ombudsman Service, Exchange Tower, London E14 9SR\n"
    "Telephone: 0800 023 4567 (from abroad +44 20 7964 0500)\n"
    "E-mail: complaint.info@financial-ombudsman.org.uk\n"
    "Website: www.financial-ombudsman.org.uk"
)

# (jurisdiction, kind) → the statements that jurisdiction requires, per language.
_REQUIRED: dict[tuple[str, LetterKind], dict[LetterLanguage, str]] = {
    ("cn", LetterKind.ACKNOWLEDGEMENT): {
        LetterLanguage.ZH_CN: "我行将自受理您的投诉之日起15日内作出处理决定并告知您；情况复杂的，"
        "处理期限可延长至30日；情况特别复杂或者有其他特殊原因的，经审批可再延长30日。"
        "延长处理期限的，我行将告知您延长的原因。",
        LetterLanguage.EN: "We will decide on your complaint and tell you our decision within 15 "
        "days of accepting it. If the case is complex we may extend this to 30 days, and, "
        "for an especially complex case and with approval, by a further 30 days. If we "
        "extend the period we will tell you why.",
    },
    ("cn", LetterKind.HOLDING): {
        LetterLanguage.ZH_CN: "依照《银行保险机构消费投诉处理管理办法》，"
        "我行在延长处理期限时告知您延长的原因，原因如上所述。",
        LetterLanguage.EN: "Under the rules on banking consumer complaints (CBIRC Order 2020 "
        "No. 3), we tell you the reason whenever we extend the period; it is given above.",
    },
    ("cn", LetterKind.FINAL_RESPONSE): {
        LetterLanguage.ZH_CN: "如您对本处理决定有异议，可以自收到本处理决定之日起30日内，"
        "向我行上级机构书面申请核查；也可以向金融纠纷调解组织申请调解；"
        "依据仲裁协议向仲裁机构申请仲裁；或者依法向人民法院提起诉讼。",
        LetterLanguage.EN: "If you disagree with this decision, you may apply in writing to our "
        "superior office for a review of it within 30 days of receiving it. You may also "
        "apply to a financial dispute mediation organisation for mediation, apply to an "
        "arbitration institution under an arbitration agreement, or bring proceedings in "
        "the people's courts.",
    },
    ("uk", LetterKind.ACKNOWLEDGEMENT): {
        LetterLanguage.EN: "How we handle your complaint: we will investigate it and send you "
        "our final response in writing within eight weeks of receiving it (for a payment "
        "service, within 15 business days, or 35 in exceptional circumstances, when we will "
        "tell you why). If we have not sent our final response by then, or you are not "
        "satisfied with it, you may be able to refer your complaint to the Financial "
        "Ombudsman Service, free of charge:\n" + _FOS_CONTACT,
        LetterLanguage.ZH_CN: "我行处理投诉的程序：我行将调查您的投诉，"
        "并自收到之日起八周内以书面形式作出最终答复"
        "（支付服务为15个工作日，特殊情况下为35个工作日，届时将告知原因）。"
        "如我行届时未作出最终答复，或您对答复不满意，"
        "您可以将投诉免费提交英国金融申诉专员服务机构"
        "（Financial Ombudsman Service）：\n" + _FOS_CONTACT,
    },
    ("uk", LetterKind.HOLDING): {
        LetterLanguage.EN: "If we have not sent you our final response by that date, or you "
        "are not satisfied with it, you may refer your complaint to the Financial Ombudsman "
        "Service, free of charge:\n" + _FOS_CONTACT,
        LetterLanguage.ZH_CN: "如我行在上述日期前未作出最终答复，或您对答复不满意，"
        "您可以将投诉免费提交"
        "英国金融申诉专员服务机构（Financial Ombudsman Service）：\n" + _FOS_CONTACT,
    },
    ("uk", LetterKind.FINAL_RESPONSE): {
        LetterLanguage.EN: "This letter is our final response. If you remain dissatisfied, you "
        "have the right to refer your complaint to the Financial Ombudsman Service, free of "
        "charge, but you must do so within six months of the date of this letter. If you do "
        "not refer your complaint in time, the Ombudsman will not have our permission to "
        "consider it and so will only be able to do so in very limited circumstances. We "
        "enclose the Financial Ombudsman Service's standard explanatory leaflet.\n" + _FOS_CONTACT,
        LetterLanguage.ZH_CN: "本函为我行的最终答复。如您仍不满意，"
        "您有权将投诉免费提交英国金融申诉专员服务机构"
        "（Financial Ombudsman Service），但须在本函日期起六个月内提交。逾期提交的，"
        "申诉专员未获我行同意受理，仅能在极为有限的情况下受理。随函附上该机构的标准说明手册。\n"
        + _FOS_CONTACT,
    },
    ("us", LetterKind.ACKNOWLEDGEMENT): {
        LetterLanguage.EN: "We will respond within 15 days of receiving your complaint. If we "
        "cannot give you a full answer by then, we will tell you what we have done so far "
        "and send our final response within 60 days.",
        LetterLanguage.ZH_CN: "我行将自收到您的投诉之日起15日内答复；如届时无法完整答复，"
        "我行将告知处理进展，并在60日内作出最终答复。",
    },
    ("us", LetterKind.HOLDING): {
        LetterLanguage.EN: "Our final response will reach you no later than 60 days after we "
        "received your complaint.",
        LetterLanguage.ZH_CN: "我行将在收到您的投诉之日起60日内作出最终答复。",
    },
}


def required_statements(jurisdiction: str, kind: LetterKind, language: LetterLanguage) -> str:
    """What the jurisdiction requires this letter to say; empty where it requires nothing."""
    return _REQUIRED.get((jurisdiction, kind), {}).get(language, "")


def _on(day: date, language: LetterLanguage) -> str:
    if language is LetterLanguage.ZH_CN:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day.strftime('%B')} {day.year}"


def _english(facts: LetterFacts) -> tuple[str, list[str]]:
    about = _CATEGORY[LetterLanguage.EN].get(facts.category, facts.category)
    received = _on(facts.received_on, LetterLanguage.EN)
    due = _on(facts.decide_by, LetterLanguage.EN) if facts.decide_by else None
    opening = (
        f"This letter is about your complaint about {about}, received on {received} "
        f"(reference {facts.reference})."
    )
    if facts.kind is LetterKind.ACKNOWLEDGEMENT:
        lines = [
            f"We received your complaint about {about} on {received}. Your reference is "
            f"{facts.reference}; please quote it whenever you contact us about it.",
        ]
        if due:
            lines.append(f"We will send you our decision by {due}.")
        return f"We have received your complaint ({facts.reference})", lines
    if facts.kind is LetterKind.HOLDING:
        return f"Your complaint {facts.reference}: we need more time", [
            opening,
            "We are still looking into it and have not yet been able to reach a decision, "
            f"because: {facts.extension_reason}",
            f"We will send you our final response by {due}.",
        ]
    if facts.upheld:
        decision = [f"We have completed our investigation. Our decision: {facts.resolution}"]
        if facts.compensation:
            decision.append(f"We will pay you {facts.compensation}.")
    else:
        decision = [f"We have looked into it and do not uphold it: {facts.resolution}"]
    return f"Our final response to your complaint {facts.reference}", [opening, *decision]


def _chinese(facts: LetterFacts) -> tuple[str, list[str]]:
    about = _CATEGORY[LetterLanguage.ZH_CN].get(facts.category, facts.category)
    received = _on(facts.received_on, LetterLanguage.ZH_CN)
    due = _on(facts.decide_by, LetterLanguage.ZH_CN) if facts.decide_by else None
    opening = f"您于{received}提出的关于{about}的投诉（投诉编号：{facts.reference}）。"
    if facts.kind is LetterKind.ACKNOWLEDGEMENT:
        lines = [
            f"我行已于{received}收到您关于{about}的投诉，投诉编号为{facts.reference}。"
            "如需查询，请提供该编号。"
        ]
        if due:
            lines.append(f"我行将于{due}前作出处理决定并告知您。")
        return f"投诉受理告知书（{facts.reference}）", lines
    if facts.kind is LetterKind.HOLDING:
        return f"投诉处理期限延长告知书（{facts.reference}）", [
            f"关于{opening}",
            f"我行正在处理您的投诉，因以下原因尚未能作出处理决定：{facts.extension_reason}",
            f"我行将于{due}前作出处理决定并告知您。",
        ]
    if facts.upheld:
        decision = [f"我行已完成调查，处理决定如下：{facts.resolution}"]
        if facts.compensation:
            decision.append(f"我行将向您支付{facts.compensation}。")
    else:
        decision = [f"经核实，您的投诉不成立：{facts.resolution}"]
    return f"投诉处理决定告知书（{facts.reference}）", [f"关于{opening}", *decision]


_GREETING = {LetterLanguage.EN: "Dear customer,", LetterLanguage.ZH_CN: "尊敬的客户："}
_CLOSING = {
    LetterLanguage.EN: "Yours sincerely,\nCustomer Complaints",
    LetterLanguage.ZH_CN: "此致\n敬礼\n客户投诉处理中心",
}


def compose(facts: LetterFacts) -> Letter:
    """The letter's subject and text, dated the day it is issued."""
    own = _chinese if facts.language is LetterLanguage.ZH_CN else _english
    subject, lines = own(facts)
    required = required_statements(facts.jurisdiction, facts.kind, facts.language)
    paragraphs = [
        _on(facts.issued_on, facts.language),
        _GREETING[facts.language],
        *lines,
        *([required] if required else []),
        _CLOSING[facts.language],
    ]
    return Letter(subject=subject, body="\n\n".join(paragraphs))
