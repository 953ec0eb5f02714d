"""The customer's HTTP models: registration, change and closing in; the customer, its
summary and lookup out.

Validation happens here, on the way in: an invalid ID number or an unknown country is a 422 that
names the field, before anything is written."""

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from contracts.identifiers import PHONE_PATTERN, InvalidIdentifier, normalise_phone
from services.customer.identity.resident_id import validate_resident_id
from services.customer.identity.social_credit_code import (
    USCC_PATTERN,
    validate_unified_social_credit_code,
)
from shared.masking import MaskedName
from shared.money import Money
from shared.requests import RequestModel, Version

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


Phone = Annotated[
    str,
    Field(max_length=30, examples=["13812345678"], json_schema_extra={"pattern": PHONE_PATTERN}),
    AfterValidator(_phone),
]

# The pattern is documented, not enforced by pydantic, so that the refusal keeps its own words.
Email = Annotated[
    str, Field(max_length=200, json_schema_extra={"pattern": EMAIL.pattern}), AfterValidator(_email)
]

# Listed in the document so that a client generated from it cannot send an unknown country.
ISO_3166_CODES = sorted(
    code for country in pycountry.countries for code in (country.alpha_2, country.alpha_3)
)
CountryCode = Annotated[
    str,
    Field(min_length=2, max_length=3, json_schema_extra={"enum": ISO_3166_CODES}),
    AfterValidator(_country),
]

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


class Address(RequestModel):
    kind: Literal["home", "work", "registered", "mailing"] = "home"
    line: Annotated[str, Field(min_length=1, max_length=300)]
    city: Annotated[str, Field(min_length=1, max_length=100)]
    postcode: Annotated[str | None, Field(pattern=r"^\d{6}$")] = None
    country: CountryCode = "CHN"


class IndividualProfile(RequestModel):
    gender: Gender = Gender.UNSPECIFIED
    birth_date: date | None = None
    id_type: IdType
    id_number: Annotated[str, Field(min_length=5, max_length=30)]
    nationality: CountryCode = "CHN"
    occupation: Annotated[str | None, Field(max_length=100)] = None
    income_band: IncomeBand | None = None
    addresses: Annotated[list[Address], Field(max_length=10)] = Field(default=[])
    phones: Annotated[list[Phone], Field(max_length=10)] = Field(default=[])
    emails: Annotated[list[Email], Field(max_length=10)] = Field(default=[])
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


class FinancialSummary(RequestModel):
    fiscal_year: Annotated[int, Field(ge=1990, le=2100)]
    revenue: Money
    total_assets: Money
    net_profit: Money


class CorporateProfile(RequestModel):
    social_credit_code: Annotated[
        str,
        Field(
            min_length=18,
            max_length=18,
            # GB 32100's alphabet and its digits-only division code; the two check characters
            # are beyond a pattern. Documented only, so that the refusal names the position.
            json_schema_extra={"pattern": USCC_PATTERN},
        ),
    ]
    industry_sector: IndustrySector
    industry_code: Annotated[str, Field(pattern=r"^[A-T](\d{2,4})?$", examples=["C3911"])]
    size: CompanySize
    ownership_type: Literal["state_owned", "private", "foreign", "joint_venture", "collective"]
    registered_capital: Money
    legal_representative: Name
    financials: FinancialSummary | None = None
    parent_customer_id: uuid.UUID | None = None
    phones: Annotated[list[Phone], Field(max_length=10)] = Field(default=[])
    emails: Annotated[list[Email], Field(max_length=10)] = Field(default=[])
    addresses: Annotated[list[Address], Field(max_length=10)] = Field(default=[])

    @field_validator("social_credit_code")
    @classmethod
    def _credit_code_is_valid(cls, value: str) -> str:
        try:
            return validate_unified_social_credit_code(value)
        except InvalidIdentifier as error:
            raise ValueError(str(error)) from error


# At most one answer per channel.
Consent = Annotated[dict[Channel, bool], Field(max_length=len(Channel))]


class IndividualCreate(RequestModel):
    kind: Literal["individual"]
    name: Name
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    preferred_channel: Channel | None = None
    consent: Consent = Field(default={})
    profile: IndividualProfile


class CorporateCreate(RequestModel):
    kind: Literal["corporate"]
    name: Name
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    preferred_channel: Channel | None = None
    consent: Consent = Field(default={})
    profile: CorporateProfile


CustomerCreate = Annotated[IndividualCreate | CorporateCreate, Field(discriminator="kind")]


class CustomerUpdate(RequestModel):
    """A partial update; ``version`` is the version the caller read (a stale one is a 409)."""

    version: Version
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


class CustomerClose(RequestModel):
    version: Version
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
    last_activity_at: datetime | None = Field(
        description="The later of the latest posting's booking time and the latest recorded"
        " contact; null before either."
    )
    created_at: datetime
    updated_at: datetime


class CustomerSummary(BaseModel):
    id: uuid.UUID
    kind: str
    name: MaskedName
    status: str
    value_tier: str
    manager_id: uuid.UUID | None


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    next_cursor: str | None


class LookupResult(BaseModel):
    matches: list[CustomerSummary]
