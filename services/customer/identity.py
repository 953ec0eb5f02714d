"""Identifiers the bank takes from its customers: validation, normalisation, masking, tokens.

Rules and their sources:

* Resident identity card number (居民身份证号码): GB 11643-1999, check character by
  ISO 7064:1983 MOD 11-2; province-level codes from GB/T 2260.
* Unified social credit code (统一社会信用代码): GB 32100-2015, which embeds an organisation
  code (组织机构代码) with its own GB 11714-1997 check character.
* Phone numbers: the mainland numbering plan (country code +86, trunk prefix 0 for landlines).
* Payment card numbers (PAN): Luhn check per ISO/IEC 7812-1; only a keyed token and the last
  four digits are kept, in line with PCI DSS requirement 3 (do not store the PAN).
* Masks follow OWASP guidance (ASVS V8 "Data Protection"): show only what the caller needs.

Pure functions, standard library only, so any layer (schemas, views, consumers) can use them.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from contracts.identifiers import InvalidIdentifier

# --- Resident identity card number (GB 11643-1999) -------------------------------------------

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


# --- Unified social credit code (GB 32100-2015) ----------------------------------------------

# GB 32100-2015 character set: digits and upper-case Latin letters without I, O, Z, S and V,
# which are too easily confused with 1, 0, 2, 5 and U. A character's value is its index here.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 weights for positions 1-17: 3^(i-1) mod 31.
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997 weights for the eight body characters of the organisation code.
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _organisation_check_character(body: str) -> str:
    # GB 11714: digits count at face value and letters A-Z as 10-35, i.e. base-36 digits.
    total = sum(
        int(char, 36) * weight for char, weight in zip(body, _ORGANISATION_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _social_credit_check_character(first_17: str) -> str:
    total = sum(
        USCC_ALPHABET.index(char) * weight
        for char, weight in zip(first_17, _USCC_WEIGHTS, strict=True)
    )
    # GB 32100: check value = 31 - (sum mod 31), where a result of 31 stands for 0.
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_unified_social_credit_code(code: str) -> str:
    """Validate a unified social credit code and return it in upper case.

    Positions: 1 registration authority, 2 organisation type, 3-8 administrative division
    code, 9-17 organisation code (GB 11714, with its own check character at 17), 18 check.
    The registration authority and organisation type tables are deliberately not enforced:
    they are extended by the issuing authorities over time, and a closed list here would
    refuse codes that were lawfully issued; the two check characters catch keying errors.
    """
    value = code.strip().upper()
    if len(value) != 18:
        raise InvalidIdentifier(f"must be 18 characters, got {len(value)}")
    for position, char in enumerate(value, start=1):
        if char not in USCC_ALPHABET:
            raise InvalidIdentifier(
                f"character {position} {char!r} is not allowed (digits and letters other than "
                "I, O, S, V and Z)"
            )
    if not value[2:8].isascii() or not value[2:8].isdigit():
        raise InvalidIdentifier(
            f"characters 3-8 {value[2:8]!r} must be digits (the administrative division code)"
        )
    organisation = value[8:17]
    expected_organisation = _organisation_check_character(organisation[:8])
    if organisation[8] != expected_organisation:
        raise InvalidIdentifier(
            f"organisation code check character (position 17) should be {expected_organisation}"
        )
    expected = _social_credit_check_character(value[:17])
    if value[17] != expected:
        raise InvalidIdentifier(f"check character should be {expected}")
    return value


# --- Phone numbers (mainland numbering plan) -------------------------------------------------

# --- Payment card numbers (ISO/IEC 7812, PCI DSS) --------------------------------------------

# ISO/IEC 7812-1: a PAN is 8-19 digits; payment cards in use are 13-19.
_PAN = re.compile(r"[0-9]{13,19}")


def _luhn_valid(pan: str) -> bool:
    # ISO/IEC 7812-1 Annex B (Luhn): from the right, double every second digit, subtract 9 from
    # two-digit products, and the total must be a multiple of 10.
    total = 0
    for position, char in enumerate(reversed(pan)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_token_last_four(card_number: str, *, key: bytes) -> tuple[str, str]:
    """A keyed token for a card number and its last four digits, so the PAN is never stored.

    The token is HMAC-SHA256 under `key` (hex, prefixed "tok_"): a plain hash would not do,
    because the PAN space is small enough to enumerate, whereas without the key the token
    reveals nothing. The same card under the same key always gives the same token, which is
    what lets the service find a customer by card. The key's strength is the caller's duty
    (the customer service's settings require at least 16 characters).
    """
    # Card numbers are printed and read out in groups; the token must not depend on grouping.
    pan = re.sub(r"[\s\-]", "", card_number)
    if not _PAN.fullmatch(pan):
        raise InvalidIdentifier("a card number has 13 to 19 digits")
    if not _luhn_valid(pan):
        raise InvalidIdentifier("card number fails the Luhn check")
    token = "tok_" + hmac.new(key, pan.encode("ascii"), hashlib.sha256).hexdigest()
    return token, pan[-4:]
