"""The customer service's HTTP models: ``...Create`` / ``...Update`` in, ``...Read`` out.

Validation happens here, on the way in: an invalid ID number, a negative amount or an unknown
currency is a 422 that names the field, before anything is written."""

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from contracts.identifiers import InvalidIdentifier, normalise_phone
from services.customer.identity import (
    validate_resident_id,
    validate_unified_social_credit_code,
)
from services.customer.models import Direction, ProductType
from shared.money import Amount, CurrencyCode, Money, PositiveAmount

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Channel(StrEnum):
    ATM = "atm"
    WEB = "web"
    MOBILE = "mobile"
    BRANCH = "branch"
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidIdentifier as error:
        raise ValueError(str(error)) from error


def _email(value: str) -> str:
    if not EMAIL.fullmatch(value):
        raise ValueError("not an e-mail address")
    return str(value).lower()


def _country(value: str) -> str:
    country = pycountry.countries.get(alpha_3=value.upper()) or pycountry.countries.get(
        alpha_2=value.upper()
    )
    if country is None:
        raise ValueError(f"{value!r} is not an ISO 3166 country code")
    return str(country.alpha_3)


Phone = Annotated[str, Field(max_length=30, examples=["13812345678"]), AfterValidator(_phone)]
Email = Annotated[str, Field(max_length=200), AfterValidator(_email)]
CountryCode = Annotated[str, Field(min_length=2, max_length=3), AfterValidator(_country)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNSPECIFIED = "unspecified"


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"


class IncomeBand(StrEnum):
    UNDER_50K = "under_50k"
    FROM_50K_TO_200K = "50k_200k"
    FROM_200K_TO_1M = "200k_1m"
    OVER_1M = "over_1m"


class Address(Strict):
    kind: Literal["home", "work", "registered", "mailing"] = "home"
    line: Annotated[str, Field(min_length=1, max_length=300)]
    city: Annotated[str, Field(min_length=1, max_length=100)]
    postcode: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None
    country: CountryCode = "CHN"


class IndividualProfile(Strict):
    gender: Gender = Gender.UNSPECIFIED
    birth_date: date | None = None
    id_type: IdType
    id_number: Annotated[str, Field(min_length=5, max_length=30)]
    nationality: CountryCode = "CHN"
    occupation: Annotated[str | None, Field(max_length=100)] = None
    income_band: IncomeBand | None = None
    addresses: Annotated[list[Address], Field(max_length=10)] = []
    phones: Annotated[list[Phone], Field(max_length=10)] = []
    emails: Annotated[list[Email], Field(max_length=10)] = []
    preferred_language: Literal["zh-CN", "zh-HK", "en"] = "zh-CN"

    @field_validator("id_number")
    @classmethod
    def _id_number_is_valid(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("id_type") is not IdType.RESIDENT_ID:
            return value.upper()
        try:
            return validate_resident_id(value).number
        except InvalidIdentifier as error:
            raise ValueError(str(error)) from error

    @model_validator(mode="after")
    def _birth_and_gender_match_the_id(self) -> "IndividualProfile":
        # A resident ID number encodes the birth date and gender: fill them in, refuse a clash.
        if self.id_type is not IdType.RESIDENT_ID:
            return self
        resident = validate_resident_id(self.id_number)
        if self.birth_date is None:
            self.birth_date = resident.birth_date
        elif self.birth_date != resident.birth_date:
            raise ValueError("birth_date does not match the resident ID number")
        if self.gender is Gender.UNSPECIFIED:
            self.gender = Gender(resident.gender)
        elif self.gender.value != resident.gender:
            raise ValueError("gender does not match the resident ID number")
        return self


class IndustrySector(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class CompanySize(StrEnum):
    GROUP = "group"
    LARGE = "large"
    SMALL_AND_MEDIUM = "small_and_medium"


class FinancialSummary(Strict):
    fiscal_year: Annotated[int, Field(ge=1990, le=2100)]
    revenue: Money
    total_assets: Money
    net_profit: Money


class CorporateProfile(Strict):
    social_credit_code: Annotated[str, Field(min_length=18, max_length=18)]
    industry_sector: IndustrySector
    industry_code: Annotated[str, Field(pattern=r"^[A-T](\d{2,4})?$", examples=["C3911"])]
    size: CompanySize
    ownership_type: Literal["state_owned", "private", "foreign", "joint_venture", "collective"]
    registered_capital: Money
    legal_representative: Name
    financials: FinancialSummary | None = None
    parent_customer_id: uuid.UUID | None = None
    phones: Annotated[list[Phone], Field(max_length=10)] = []
    emails: Annotated[list[Email], Field(max_length=10)] = []
    addresses: Annotated[list[Address], Field(max_length=10)] = []

    @field_validator("social_credit_code")
    @classmethod
    def _credit_code_is_valid(cls, value: str) -> str:
        try:
            return validate_unified_social_credit_code(value)
        except InvalidIdentifier as error:
            raise ValueError(str(error)) from error


Consent = dict[Channel, bool]


class IndividualCreate(Strict):
    kind: Literal["individual"]
    name: Name
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    preferred_channel: Channel | None = None
    consent: Consent = {}
    profile: IndividualProfile


class CorporateCreate(Strict):
    kind: Literal["corporate"]
    name: Name
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    preferred_channel: Channel | None = None
    consent: Consent = {}
    profile: CorporateProfile


CustomerCreate = Annotated[IndividualCreate | CorporateCreate, Field(discriminator="kind")]


class CustomerUpdate(Strict):
    """A partial update; ``version`` is the version the caller read (a stale one is a 409)."""

    version: Annotated[int, Field(ge=1)]
    # Left out means unchanged. These cannot be cleared (an empty list clears a list), so an
    # explicit null is refused and the document does not offer it.
    name: Name | SkipJsonSchema[None] = None
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    preferred_channel: Channel | None = None
    phones: Annotated[list[Phone], Field(max_length=10)] | SkipJsonSchema[None] = None
    emails: Annotated[list[Email], Field(max_length=10)] | SkipJsonSchema[None] = None
    addresses: Annotated[list[Address], Field(max_length=10)] | SkipJsonSchema[None] = None
    occupation: Annotated[str | None, Field(max_length=100)] = None
    income_band: IncomeBand | None = None
    restriction: Annotated[str | None, Field(max_length=200)] = None

    @field_validator("name", "phones", "emails", "addresses", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it")
        return value


class ConsentChange(Strict):
    """The customer's say on marketing by one or more channels, and where they said it."""

    version: Annotated[int, Field(ge=1)]
    channels: Annotated[Consent, Field(min_length=1)]
    source: Channel = Field(description="The channel the customer gave or withdrew it through")
    given_at: AwareDatetime | None = Field(
        default=None, description="When the customer said so; now if left out. Not in the future."
    )


class ConsentRead(BaseModel):
    channel: str
    granted: bool
    at: datetime
    source: str
    recorded_by: str | None


class CustomerConsent(BaseModel):
    customer_id: uuid.UUID
    version: int
    channels: list[ConsentRead]


class ErasureRequest(Strict):
    version: Annotated[int, Field(ge=1)]
    reference: Annotated[
        str, Field(min_length=1, max_length=100, description="The request's case reference")
    ]


class CustomerExport(BaseModel):
    """Everything this service holds about one customer, unmasked: an access request's
    answer. Cards appear as their last four digits: the full number is never stored."""

    customer: dict[str, Any]
    consent: list[ConsentRead]
    accounts: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    survey_answers: list[dict[str, Any]]
    segment_history: list[dict[str, Any]]
    relationships: list[dict[str, Any]]
    leads: list[dict[str, Any]]
    exported_at: datetime


class CustomerClose(Strict):
    version: Annotated[int, Field(ge=1)]
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class SegmentRead(BaseModel):
    value_tier: str
    loyalty: str | None
    usage_density: str | None
    lifecycle_stage: str | None
    policy: dict[str, Any]


class CustomerRead(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    status: str
    version: int
    branch_code: str | None
    manager_id: uuid.UUID | None
    preferred_channel: str | None
    consent: dict[str, bool]
    profile: dict[str, Any] = Field(description="Personal identifiers masked.")
    segments: SegmentRead
    last_activity_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountOpen(Strict):
    account_number: Annotated[str, Field(pattern=r"^\d{8,32}$")]
    customer_id: uuid.UUID
    product_type: ProductType
    product_code: Annotated[str, Field(min_length=1, max_length=40)]
    currency: CurrencyCode
    opened_on: date
    opening_balance: Amount = Decimal("0.00")
    maturity_date: date | None = None
    payoff_date: date | None = None
    card_number: Annotated[str | None, Field(pattern=r"^\d{13,19}$")] = None

    @model_validator(mode="after")
    def _product_dates(self) -> "AccountOpen":
        if self.product_type is ProductType.TERM_DEPOSIT and self.maturity_date is None:
            raise ValueError("maturity_date is required for a term deposit")
        if self.product_type is ProductType.LOAN and self.payoff_date is None:
            raise ValueError("payoff_date is required for a loan")
        if self.product_type is ProductType.CARD and self.card_number is None:
            raise ValueError("card_number is required for a card (only its token is kept)")
        for field, value in (
            ("maturity_date", self.maturity_date),
            ("payoff_date", self.payoff_date),
        ):
            if value is not None and value <= self.opened_on:
                raise ValueError(f"{field} must be after opened_on")
        return self


class AccountClose(Strict):
    closed_on: date
    paid_off: bool = False


class AccountRead(BaseModel):
    account_number: str = Field(description="Masked: only the last four digits.")
    product_type: str
    product_code: str
    currency: str
    balance: Decimal
    status: str
    opened_on: date
    maturity_date: date | None
    payoff_date: date | None
    card_last_four: str | None


class TransactionIn(Strict):
    transaction_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w\-.:]+$")]
    account_number: Annotated[str, Field(pattern=r"^\d{8,32}$")]
    direction: Direction
    amount: PositiveAmount
    currency: CurrencyCode
    kind: Literal[
        "salary", "deposit", "withdrawal", "transfer_in", "transfer_out", "payment",
        "fee", "interest", "loan_repayment", "card_spend", "refund",
    ]  # fmt: skip
    channel: Literal["atm", "web", "mobile", "branch", "phone", "pos", "core", "batch"]
    counterparty_name: Annotated[str | None, Field(max_length=200)] = None
    counterparty_bank: Annotated[str | None, Field(max_length=100)] = None
    description: Annotated[str | None, Field(max_length=500)] = None
    booked_at: AwareDatetime


class TransactionBatch(Strict):
    transactions: Annotated[list[TransactionIn], Field(min_length=1)]


class TransactionOutcome(BaseModel):
    transaction_id: str
    status: Literal["posted", "duplicate"]


class TransactionBatchResult(BaseModel):
    posted: int
    duplicates: int
    results: list[TransactionOutcome]


class TransactionRead(BaseModel):
    transaction_id: str
    direction: str
    amount: Decimal
    currency: str
    balance_after: Decimal
    kind: str
    channel: str
    counterparty_name: str | None
    booked_at: datetime


class InteractionCreate(Strict):
    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    customer_id: uuid.UUID
    channel: Literal["atm", "web", "mobile", "branch", "phone"]
    kind: Annotated[str, Field(min_length=1, max_length=40, examples=["balance_enquiry"])]
    summary: Annotated[str | None, Field(max_length=2000)] = None
    occurred_at: AwareDatetime


class InteractionRead(BaseModel):
    id: uuid.UUID
    channel: str
    kind: str
    summary: str | None
    occurred_at: datetime
    source: str


class SegmentChangeRead(BaseModel):
    dimension: str
    previous: str | None
    current: str
    reason: str
    effective_at: datetime


class SegmentsAsOf(BaseModel):
    as_of: datetime
    segments: dict[str, SegmentChangeRead | None]
    policy: dict[str, Any] | None


class MonthlyFigures(BaseModel):
    month: date
    currency: str
    money_in: Decimal
    money_out: Decimal
    transaction_count: int


class CustomerValue(BaseModel):
    """The customer's worth to the bank (docs/customer-value.md gives the model)."""

    assets_cny: Decimal
    loans_cny: Decimal
    yearly_contribution_cny: Decimal
    retention: Decimal
    lifetime_value_cny: Decimal


class CustomerView(BaseModel):
    """What a channel shows of a customer, in one answer."""

    customer: CustomerRead
    accounts: list[AccountRead]
    total_balance_cny: Decimal
    value: CustomerValue
    satisfaction_index: Decimal | None
    relationships: list["RelationshipRead"]
    open_complaints: list["OpenComplaintRead"]
    open_opportunities: list["OpenOpportunityRead"]
    recent_transactions: list[TransactionRead]
    recent_interactions: list[InteractionRead]
    monthly_figures: list[MonthlyFigures]


class CustomerSummary(BaseModel):
    id: uuid.UUID
    kind: str
    name: str = Field(description="Masked for individuals.")
    status: str
    value_tier: str
    manager_id: uuid.UUID | None


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    next_cursor: str | None


class LookupResult(BaseModel):
    matches: list[CustomerSummary]


class ManagerCreate(Strict):
    employee_number: Annotated[str, Field(pattern=r"^[A-Z0-9\-]{3,30}$")]
    name: Name
    branch_code: Annotated[str, Field(min_length=1, max_length=20)]
    capacity: Annotated[int, Field(ge=1, le=2000)] = 300


class ManagerRead(BaseModel):
    id: uuid.UUID
    employee_number: str
    name: str
    branch_code: str
    capacity: int
    active: bool


class ManagerWorkload(BaseModel):
    manager: ManagerRead
    customers: int
    by_tier: dict[str, int]
    utilisation: Decimal = Field(description="Customers served over capacity.")


class ManagerAssign(Strict):
    manager_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=300)] = "assigned by staff"


class SurveyCreate(Strict):
    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    customer_id: uuid.UUID
    channel: Channel
    csat: Annotated[int | None, Field(ge=1, le=5)] = None
    nps: Annotated[int | None, Field(ge=0, le=10)] = None
    comment: Annotated[str | None, Field(max_length=2000)] = None
    answered_at: AwareDatetime

    @model_validator(mode="after")
    def _some_score(self) -> "SurveyCreate":
        if self.csat is None and self.nps is None:
            raise ValueError("give csat, nps or both")
        return self


class SurveyRead(BaseModel):
    id: uuid.UUID
    satisfaction_index: Decimal | None = Field(
        description="0-100 over the last 12 months (CSAT and NPS rescaled, averaged)."
    )


class LeadSource(StrEnum):
    REFERRAL = "referral"
    WALK_IN = "walk_in"
    EVENT = "event"
    CAMPAIGN = "campaign"
    WEB = "web"
    PARTNER = "partner"


class LeadCreate(Strict):
    name: Name
    kind: Literal["individual", "corporate"] = "individual"
    source: LeadSource
    estimated_value: Money
    phone: Phone | None = None
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    manager_id: uuid.UUID | None = None
    referred_by: uuid.UUID | None = None


class LeadRead(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    source: str
    estimated_value_cny: Decimal
    grade: str
    branch_code: str | None
    manager_id: uuid.UUID | None
    status: str
    converted_customer_id: uuid.UUID | None


class VisitPlanCreate(Strict):
    planned_at: AwareDatetime
    purpose: Annotated[str, Field(min_length=1, max_length=300)]


class VisitOutcome(StrEnum):
    MET = "met"
    NO_SHOW = "no_show"
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    CONVERTED = "converted"


class VisitOutcomeRecord(Strict):
    outcome: VisitOutcome
    note: Annotated[str | None, Field(max_length=2000)] = None


class VisitPlanRead(BaseModel):
    id: uuid.UUID
    lead_id: uuid.UUID
    planned_at: datetime
    purpose: str
    outcome: str | None
    outcome_note: str | None


class RelationshipCreate(Strict):
    related_customer_id: uuid.UUID
    kind: Literal["household", "parent_company", "subsidiary", "related_party", "referred_by"]
    since: date


class RelationshipRead(BaseModel):
    """``kind`` as seen from this customer (the other side sees the inverse)."""

    related_customer_id: uuid.UUID
    kind: str
    since: date


class TierValue(BaseModel):
    tier: str
    customers: int
    customer_share: Decimal
    aum_cny: Decimal
    aum_share: Decimal
    contribution_cny: Decimal


class ValuePyramid(BaseModel):
    """Share of the bank's book by value tier, and the 20:80 rule measured."""

    tiers: list[TierValue]
    top_fifth_aum_share: Decimal = Field(description="Share of assets held by the top 20%.")
    top_fifth_contribution_share: Decimal = Field(
        description="Share of the yearly contribution earned from the top 20% (can exceed 1 "
        "when loss-making customers take some away)."
    )
    profitable: int
    marginal: int
    loss_making: int


class MigrationCell(BaseModel):
    from_tier: str
    to_tier: str
    customers: int


class SegmentMigration(BaseModel):
    start: datetime
    end: datetime
    cells: list[MigrationCell]
    upgrades: int
    downgrades: int


class DriftingCustomer(BaseModel):
    id: uuid.UUID
    name: str
    value_tier: str
    manager_id: uuid.UUID | None
    aum_cny: Decimal
    contribution_cny: Decimal
    satisfaction_index: Decimal | None


class RfmScore(BaseModel):
    id: uuid.UUID
    name: str
    value_tier: str
    recency_days: int
    frequency: int
    monetary_cny: Decimal
    recency: int = Field(ge=1, le=5)
    frequency_score: int = Field(ge=1, le=5)
    monetary: int = Field(ge=1, le=5)
    rfm: str = Field(description="The three scores as a cell, e.g. 555.")


class OpenComplaintRead(BaseModel):
    complaint_id: uuid.UUID
    category: str
    priority: str
    step: str
    received_at: datetime
    due_at: datetime | None
    escalation_level: int


class OpenOpportunityRead(BaseModel):
    opportunity_id: uuid.UUID
    action: str
    product: str | None
    priority: int
    status: str
    owner: str
    due_at: datetime
    expires_at: datetime


# The view refers to models declared after it.
CustomerView.model_rebuild()
