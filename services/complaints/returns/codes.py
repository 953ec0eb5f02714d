"""The shipped packs' reporting rules and code lists.

- ``cn``: JR/T 0169-2018 《金融消费者投诉统计分类及编码 银行业金融机构》 classifies a complaint
  by the channel the business was done through (A), the business type (B) and the cause (C);
  "other" is coded 99. The lists below are its top-level classes; their two-digit numbers are
  this pack's own and must be checked against the standard's published codes before a return
  is filed (the standard's text was not at hand when they were written). Regions are the
  provincial divisions of GB/T 2260. The NFRA's quarterly bulletins rank banks by complaints
  per 1,000 outlets and per 10 million personal customers.
- ``uk``: DISP 1 Annex 1R, twice a year, due within 30 business days of the period's end, by
  product grouping and main cause; from the period 1 January – 30 June 2027 the consolidated
  return of PS25/19 (per legal entity, fixed six-month periods, the updated product taxonomy,
  vulnerable customers). Each product of the taxonomy names the Annex 1R grouping it falls in.
- ``us``: the CFPB's complaint fields: product and sub-product, issue and sub-issue,
  "submitted via", the company's response and whether it was timely (15 days).
"""

from datetime import date

from services.complaints.returns.taxonomy import (
    Code,
    CodeList,
    Dimension,
    PeriodKind,
    ReportingRules,
    ReturnForm,
    ReturnShape,
)

_CN_PROVINCES = (
    ("11", "北京 Beijing"),
    ("12", "天津 Tianjin"),
    ("13", "河北 Hebei"),
    ("14", "山西 Shanxi"),
    ("15", "内蒙古 Inner Mongolia"),
    ("21", "辽宁 Liaoning"),
    ("22", "吉林 Jilin"),
    ("23", "黑龙江 Heilongjiang"),
    ("31", "上海 Shanghai"),
    ("32", "江苏 Jiangsu"),
    ("33", "浙江 Zhejiang"),
    ("34", "安徽 Anhui"),
    ("35", "福建 Fujian"),
    ("36", "江西 Jiangxi"),
    ("37", "山东 Shandong"),
    ("41", "河南 Henan"),
    ("42", "湖北 Hubei"),
    ("43", "湖南 Hunan"),
    ("44", "广东 Guangdong"),
    ("45", "广西 Guangxi"),
    ("46", "海南 Hainan"),
    ("50", "重庆 Chongqing"),
    ("51", "四川 Sichuan"),
    ("52", "贵州 Guizhou"),
    ("53", "云南 Yunnan"),
    ("54", "西藏 Tibet"),
    ("61", "陕西 Shaanxi"),
    ("62", "甘肃 Gansu"),
    ("63", "青海 Qinghai"),
    ("64", "宁夏 Ningxia"),
    ("65", "新疆 Xinjiang"),
    ("99", "其他 other or not recorded"),
)


def _codes(*pairs: tuple[str, str], fallback: str) -> CodeList:
    return CodeList(tuple(Code(code, label) for code, label in pairs), fallback)


def _children(parent: Dimension, *rows: tuple[str, str, str], fallback: str | None) -> CodeList:
    return CodeList(
        tuple(Code(code, label, parent=up) for up, code, label in rows), fallback, parent
    )


CN = ReportingRules(
    period=PeriodKind.QUARTER,
    currency="CNY",
    codes={
        Dimension.BUSINESS_CHANNEL: _codes(
            ("01", "营业网点 branch premises"),
            ("02", "自助机具 self-service machines"),
            ("03", "电子渠道 electronic channels"),
            ("04", "第三方渠道 third-party channels"),
            ("05", "中后台业务 middle and back office"),
            ("99", "其他 other"),
            fallback="99",
        ),
        Dimension.BUSINESS_TYPE: _codes(
            ("01", "人民币储蓄 RMB savings"),
            ("02", "贷款 loans"),
            ("03", "银行卡 bank cards"),
            ("04", "支付结算 payment and settlement"),
            ("05", "人民币管理 RMB currency management"),
            ("06", "个人金融信息 personal financial information"),
            ("99", "其他 other"),
            fallback="99",
        ),
        Dimension.CAUSE: _codes(
            ("01", "服务态度及服务质量 service attitude and quality"),
            ("02", "服务设施、设备、业务系统 facilities, equipment, systems"),
            ("03", "管理制度、业务规则与流程 policies, rules and procedures"),
            ("04", "营销方式 marketing practices"),
            ("05", "信息披露 disclosure"),
            ("06", "产品收益 product returns"),
            ("07", "自主选择权 freedom of choice"),
            ("08", "合同条款 contract terms"),
            ("09", "消费者资金安全 safety of funds"),
            ("10", "消费者信息安全 safety of personal information"),
            ("99", "其他 other"),
            fallback="99",
        ),
        Dimension.REGION: _codes(*_CN_PROVINCES, fallback="99"),
    },
    required=frozenset(
        {Dimension.BUSINESS_CHANNEL, Dimension.BUSINESS_TYPE, Dimension.CAUSE, Dimension.REGION}
    ),
    forms=(ReturnForm("nfra_quarterly", "NFRA / PBoC quarterly", ReturnShape.NFRA_QUARTERLY),),
)

_BANKING, _HOME = "banking_and_credit_cards", "home_finance"
_INSURANCE, _PENSIONS = "insurance_and_pure_protection", "decumulation_and_pensions"
_INVESTMENTS = "investments"

UK = ReportingRules(
    period=PeriodKind.HALF_YEAR,
    currency="GBP",
    codes={
        Dimension.PRODUCT_GROUP: _codes(
            (_BANKING, "Banking and credit cards"),
            (_HOME, "Home finance"),
            (_INSURANCE, "Insurance & pure protection"),
            (_PENSIONS, "Decumulation & pensions"),
            (_INVESTMENTS, "Investments"),
            fallback=_BANKING,
        ),
        Dimension.PRODUCT: _children(
            Dimension.PRODUCT_GROUP,
            (_BANKING, "current_account", "Current account"),
            (_BANKING, "packaged_account", "Packaged bank account"),
            (_BANKING, "savings", "Savings (including cash ISAs)"),
            (_BANKING, "credit_card", "Credit card"),
            (_BANKING, "overdraft", "Overdraft"),
            (_BANKING, "personal_loan", "Personal loan"),
            (_BANKING, "payment_services", "Payment services"),
            (_BANKING, "e_money", "Electronic money"),
            (_BANKING, "other_banking", "Other banking"),
            (_HOME, "mortgage", "Mortgage"),
            (_HOME, "equity_release", "Equity release"),
            (_INSURANCE, "payment_protection", "Payment protection insurance"),
            (_INSURANCE, "home_insurance", "Home insurance"),
            (_INSURANCE, "travel_insurance", "Travel insurance"),
            (_PENSIONS, "personal_pension", "Personal pension"),
            (_PENSIONS, "annuity", "Annuity"),
            (_INVESTMENTS, "investment_isa", "Stocks and shares ISA"),
            (_INVESTMENTS, "other_investment", "Other investment"),
            fallback="other_banking",
        ),
        Dimension.CAUSE: _codes(
            ("arrears", "Arrears related"),
            ("advising_selling_arranging", "Advising, selling and arranging"),
            ("terms_and_charges", "Terms and disputed sums/charges"),
            ("admin_and_service", "General admin/customer service"),
            ("other", "Other"),
            fallback="other",
        ),
    },
    required=frozenset({Dimension.PRODUCT, Dimension.CAUSE}),
    forms=(
        ReturnForm(
            "disp_1_annex_1r",
            "FCA complaints return (DISP 1 Annex 1R)",
            ReturnShape.FCA_DISP_1_ANNEX_1R,
            due_business_days=30,
        ),
        ReturnForm(
            "consolidated",
            "FCA consolidated complaints return (PS25/19)",
            ReturnShape.FCA_CONSOLIDATED,
            first_period_start=date(2027, 1, 1),
            due_business_days=30,
        ),
    ),
)

_ACCOUNT, _CARD = "checking_or_savings_account", "credit_card"
_TRANSFER, _MORTGAGE = "money_transfer", "mortgage"
_MANAGING, _PURCHASE, _FEES = "managing_an_account", "problem_with_a_purchase", "fees_or_interest"

US = ReportingRules(
    period=PeriodKind.QUARTER,
    currency="USD",
    codes={
        Dimension.PRODUCT: _codes(
            (_ACCOUNT, "Checking or savings account"),
            (_CARD, "Credit card"),
            (_TRANSFER, "Money transfer, virtual currency, or money service"),
            (_MORTGAGE, "Mortgage"),
            fallback=_ACCOUNT,
        ),
        Dimension.SUB_PRODUCT: _children(
            Dimension.PRODUCT,
            (_ACCOUNT, "checking_account", "Checking account"),
            (_ACCOUNT, "savings_account", "Other savings account"),
            (_ACCOUNT, "cd", "CD (Certificate of Deposit)"),
            (_ACCOUNT, "other_banking_product", "Other banking product or service"),
            (_CARD, "general_purpose_card", "General-purpose credit card or charge card"),
            (_CARD, "store_card", "Store credit card"),
            (_TRANSFER, "domestic_transfer", "Domestic (US) money transfer"),
            (_TRANSFER, "international_transfer", "International money transfer"),
            (_TRANSFER, "digital_wallet", "Mobile or digital wallet"),
            (_MORTGAGE, "conventional_mortgage", "Conventional home mortgage"),
            (_MORTGAGE, "home_equity", "Home equity loan or line of credit (HELOC)"),
            fallback=None,
        ),
        Dimension.ISSUE: _codes(
            (_MANAGING, "Managing an account"),
            ("opening_an_account", "Opening an account"),
            ("closing_an_account", "Closing an account"),
            (_PURCHASE, "Problem with a purchase shown on your statement"),
            (_FEES, "Fees or interest"),
            ("fraud_or_scam", "Fraud or scam"),
            ("other", "Other"),
            fallback="other",
        ),
        Dimension.SUB_ISSUE: _children(
            Dimension.ISSUE,
            (_MANAGING, "deposits_and_withdrawals", "Deposits and withdrawals"),
            (_MANAGING, "banking_errors", "Banking errors"),
            (_MANAGING, "fee_problem", "Fee problem"),
            (_PURCHASE, "dispute_not_resolved", "Credit card company isn't resolving a dispute"),
            (
                _PURCHASE,
                "charged_not_purchased",
                "Card was charged for something you did not purchase",
            ),
            (_FEES, "problem_with_fees", "Problem with fees"),
            (_FEES, "charged_too_much_interest", "Charged too much interest"),
            fallback=None,
        ),
    },
    required=frozenset({Dimension.PRODUCT, Dimension.ISSUE}),
    forms=(ReturnForm("cfpb", "CFPB complaint fields", ReturnShape.CFPB),),
    submitted_via={
        "web": "Web",
        "mobile": "Web",
        "phone": "Phone",
        "letter": "Postal mail",
        "email": "Email",
        "regulator_referral": "Referral",
        "branch": "In person",
    },
)
