"""Resident identity card number (居民身份证号码): GB 11643-1999, check character by
ISO 7064:1983 MOD 11-2; province-level codes from GB/T 2260."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from contracts.identifiers import InvalidIdentifier

# ISO 7064 MOD 11-2 weight of position i (1-17, from the left) is 2^(18-i) mod 11; written out
# as GB 11643 lists them so the table can be checked against the standard by eye.
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# GB 11643-1999 table: (weighted sum mod 11) 0..10 -> check character; 10 in MOD 11-2 is "X".
_RESIDENT_CHECKS = "10X98765432"
# Province-level codes of GB/T 2260 (first two digits of the region code). 71 is Taiwan
# province; 81/82/83 are the codes used on residence permits for Hong Kong, Macao and Taiwan
# residents (港澳台居民居住证申领发放办法, 2018), which carry an 18-character number in the
# same format and which the bank accepts as identity documents.
_PROVINCES = frozenset(
    # By region, as the first digit groups them: north, north-east, east, centre and south,
    # south-west, north-west; then Taiwan and the residence-permit codes.
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
# No living customer was born before 1900; an earlier date is a keying error, not a customer.
EARLIEST_BIRTH = date(1900, 1, 1)
# [0-9] rather than \d: \d also matches full-width and other Unicode digits, which would let
# "１" through and then be stored in a form no other system can match on.
_RESIDENT_FORMAT = re.compile(r"[0-9]{17}[0-9X]")


@dataclass(frozen=True)
class ResidentId:
    """A valid resident ID number and the facts GB 11643 encodes in it."""

    number: str  # normalised: upper-case check character, no surrounding whitespace
    birth_date: date
    gender: Literal["male", "female"]
    region_code: str  # address code of the place of first registration (GB/T 2260)


def _resident_check_character(first_17: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first_17, _RESIDENT_WEIGHTS, strict=True)
    )
    return _RESIDENT_CHECKS[total % 11]


def validate_resident_id(number: str, *, today: date | None = None) -> ResidentId:
    """Validate a resident identity card number and return it normalised with its facts.

    `today` is the reference for "not in the future"; it defaults to the current date and is
    a parameter so callers and tests get a deterministic answer.
    """
    # Customers paste numbers with stray spaces and type the check "x" in lower case; both
    # denote the same number, so normalise before judging and store one canonical form.
    value = number.strip().upper()
    if len(value) != 18:
        raise InvalidIdentifier(f"must be 18 characters, got {len(value)}")
    if not _RESIDENT_FORMAT.fullmatch(value):
        raise InvalidIdentifier("must be 17 digits followed by a check character (0-9 or X)")
    if int(value[:2]) not in _PROVINCES:
        raise InvalidIdentifier(f"{value[:2]} is not a province-level region code")
    # GB 11643: positions 7-14 are the birth date as YYYYMMDD.
    birth_text = value[6:14]
    try:
        birth = date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:]))
    except ValueError as error:
        raise InvalidIdentifier(f"birth date {birth_text} is not a date") from error
    if birth < EARLIEST_BIRTH:
        raise InvalidIdentifier(f"birth date {birth_text} is before {EARLIEST_BIRTH:%Y-%m-%d}")
    if birth > (today or date.today()):
        raise InvalidIdentifier(f"birth date {birth_text} is in the future")
    # The check character comes last: a structurally wrong number gets the more useful reason.
    expected = _resident_check_character(value[:17])
    if value[17] != expected:
        raise InvalidIdentifier(f"check digit should be {expected}")
    # GB 11643: the 17th digit (last of the sequence code) is odd for men, even for women.
    gender: Literal["male", "female"] = "male" if int(value[16]) % 2 == 1 else "female"
    return ResidentId(number=value, birth_date=birth, gender=gender, region_code=value[:6])
