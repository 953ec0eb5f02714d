"""Identifiers both sides of an event need: phone numbers in one normal form, and keyed digests.

A phone number is normalised the same way where it is stored (the customer service) and where
a caller's number is matched (the contact centre), or the two digests never meet. The mainland
numbering plan: country code +86, trunk prefix 0 for landlines.

An event says "this customer has a phone whose digest is d" instead of the phone number: a
consumer that must recognise a caller hashes the number it was given with the same key and
looks the digest up, and nobody downstream keeps the bank's list of numbers in clear."""

import hashlib
import hmac
import re

# Mobile: 11 digits, 1 then 3-9 (the 10x-12x ranges are not subscriber numbers).
MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Landline: trunk prefix 0, an area code of 2-3 more digits (never 0 after the trunk 0: "00"
# is the international prefix), then a 7-8 digit local number. Digits only, so the split
# between area code and local number is not recoverable; the length bounds still hold.
LANDLINE = re.compile(r"0[1-9][0-9]{1,2}[0-9]{7,8}")
# The forms a document shows (national, or after +86, where a landline may drop its trunk 0);
# normalise_phone also takes separators and the 0086 and 86 prefixes, so this is the stricter.
PHONE_PATTERN = r"^(1[3-9][0-9]{9}|0[1-9][0-9]{8,10}|\+86(1[3-9][0-9]{9}|0?[1-9][0-9]{8,10}))$"


class InvalidIdentifier(ValueError):
    """The identifier is not valid; `field_reason` says why, in plain English.

    A ValueError so pydantic validators and callers that already catch ValueError keep working.
    """

    def __init__(self, field_reason: str) -> None:
        super().__init__(field_reason)
        self.field_reason = field_reason


# Separators people write numbers with: spaces, hyphens, and brackets around an area code.
_SEPARATORS = re.compile(r"[\s\-()]")
# Ways the country code is written: "+86", "0086" (international prefix) or bare "86".
_COUNTRY_PREFIXES = ("+86", "0086", "86")


def _national_candidates(number: str) -> list[str]:
    """The national-format readings of a number, with and without a country code."""
    cleaned = _SEPARATORS.sub("", number)
    candidates = [cleaned]
    for prefix in _COUNTRY_PREFIXES:
        if cleaned.startswith(prefix):
            national = cleaned[len(prefix) :]
            # In international format a landline drops its trunk 0 ("+86 10 ..." is 010 ...),
            # and some people keep it anyway; accept both and restore the national form.
            candidates += [national, national if national.startswith("0") else "0" + national]
            break
    return candidates


def normalise_mobile(number: str) -> str:
    """A mainland mobile number as its 11 digits (country code and separators removed)."""
    for candidate in _national_candidates(number):
        if MOBILE.fullmatch(candidate):
            return candidate
    raise InvalidIdentifier("not a mainland mobile number (11 digits starting 13-19)")


def normalise_phone(number: str) -> str:
    """A mainland mobile or landline number as digits only, landlines with their trunk 0."""
    for candidate in _national_candidates(number):
        if MOBILE.fullmatch(candidate) or LANDLINE.fullmatch(candidate):
            return candidate
    raise InvalidIdentifier(
        "not a mainland mobile number (11 digits starting 13-19) or landline "
        "(0, a 2-3 digit area code, then 7-8 digits)"
    )


def identifier_digest(kind: str, value: str, *, key: bytes) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
