"""Identifiers the bank takes from its customers: validation, normalisation and masking.

Rules: resident identity card numbers per GB 11643-1999 (ISO 7064 MOD 11-2 check), unified
social credit codes per GB 32100-2015 (with the GB 11714 organisation-code check inside),
card numbers by the Luhn check (ISO/IEC 7812). Pure functions, standard library only.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date


class InvalidIdentifier(ValueError):
    """The identifier is not valid; the message says why."""


_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECKS = "10X98765432"
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)  # fmt: skip
EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: str
    region_code: str


def validate_resident_id(number: str, *, today: date | None = None) -> ResidentId:
    value = number.strip().upper()
    if len(value) != 18:
        raise InvalidIdentifier(f"must be 18 characters, got {len(value)}")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdentifier("must be 17 digits and a check digit (0-9 or X)")
    if int(value[:2]) not in _PROVINCES:
        raise InvalidIdentifier(f"{value[:2]} is not a province-level region code")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as error:
        raise InvalidIdentifier(f"birth date {value[6:14]} is not a date") from error
    if not EARLIEST_BIRTH <= birth <= (today or date.today()):
        raise InvalidIdentifier(f"birth date {value[6:14]} is out of range")
    expected = _RESIDENT_CHECKS[
        sum(int(d) * w for d, w in zip(value[:17], _RESIDENT_WEIGHTS, strict=True)) % 11
    ]
    if value[17] != expected:
        raise InvalidIdentifier(f"check digit should be {expected}")
    gender = "male" if int(value[16]) % 2 == 1 else "female"
    return ResidentId(number=value, birth_date=birth, gender=gender, region_code=value[:6])


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _organisation_check(code: str) -> str:
    # GB 11714: letters count 10-35 by their place in the Latin alphabet.
    total = sum(int(c, 36) * w for c, w in zip(code, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def validate_unified_social_credit_code(code: str) -> str:
    value = code.strip().upper()
    if len(value) != 18:
        raise InvalidIdentifier(f"must be 18 characters, got {len(value)}")
    wrong = [c for c in value if c not in USCC_ALPHABET]
    if wrong:
        raise InvalidIdentifier(f"{wrong[0]!r} is not allowed (no I, O, S, V or Z)")
    if not value[2:8].isdigit():
        raise InvalidIdentifier("characters 3-8 must be the administrative division code")
    organisation = value[8:17]
    if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", organisation):
        raise InvalidIdentifier("characters 9-17 are not an organisation code")
    if organisation[8] != _organisation_check(organisation[:8]):
        raise InvalidIdentifier(
            f"organisation code check should be {_organisation_check(organisation[:8])}"
        )
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    expected = USCC_ALPHABET[(31 - total % 31) % 31]
    if value[17] != expected:
        raise InvalidIdentifier(f"check character should be {expected}")
    return value


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


def _digits(number: str) -> str:
    cleaned = re.sub(r"[\s\-()]", "", number.strip())
    for prefix in ("+86", "0086"):
        if cleaned.startswith(prefix):
            return cleaned[len(prefix) :]
    if cleaned.startswith("86") and len(cleaned) == 13:
        return cleaned[2:]
    return cleaned


def normalise_mobile(number: str) -> str:
    digits = _digits(number)
    if not _MOBILE.fullmatch(digits):
        raise InvalidIdentifier("not a mainland mobile number (11 digits starting 13-19)")
    return digits


def normalise_phone(number: str) -> str:
    digits = _digits(number)
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    raise InvalidIdentifier("not a mainland mobile or landline number")


def mask_resident_id(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_social_credit_code(code: str) -> str:
    return code[:6] + "*" * (len(code) - 10) + code[-4:]


def mask_phone(number: str) -> str:
    if _MOBILE.fullmatch(number):
        return number[:3] + "****" + number[-4:]
    area = (
        3
        if number[:3] in {"010", "020", "021", "022", "023", "024", "025", "027", "028", "029"}
        else 4
    )
    return number[:area] + "*" * max(len(number) - area - 4, 0) + number[-4:]


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return local[:1] + "*" * max(len(local) - 1, 1) + "@" + domain


def mask_account(number: str) -> str:
    return "*" * max(len(number) - 4, 0) + number[-4:]


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1)


def _luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_token_last_four(card_number: str, *, key: bytes) -> tuple[str, str]:
    """A keyed token for a card number and its last four digits; the number is not kept."""
    digits = re.sub(r"[\s\-]", "", card_number)
    if not re.fullmatch(r"\d{13,19}", digits):
        raise InvalidIdentifier("a card number has 13 to 19 digits")
    if not _luhn_valid(digits):
        raise InvalidIdentifier("fails the Luhn check")
    token = "tok_" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
    return token, digits[-4:]
