"""Masks for personal data in responses (OWASP ASVS V8: expose only what the caller needs),
following the mainland numbering plan for phones. Every service masks the same way.
"""

from typing import Annotated

from pydantic import AfterValidator, Field

from contracts.identifiers import LANDLINE, MOBILE


def _mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """Keep the ends, star the middle with one * per hidden character.

    A value too short to hide anything between the ends is starred completely: a mask must
    never reveal more than it was asked to, even for malformed data.
    """
    hidden = len(value) - keep_start - keep_end
    if hidden <= 0:
        return "*" * len(value)
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


def mask_resident_id(number: str) -> str:
    """First 6 (region code) and last 4 digits, the commonly accepted banking display."""
    return _mask_middle(number, 6, 4)


def mask_social_credit_code(code: str) -> str:
    """First 6 and last 4 characters, like the resident ID mask."""
    return _mask_middle(code, 6, 4)


def _area_code_length(landline: str) -> int:
    # Beijing (010) and the 02x cities have two-digit area codes after the trunk 0; every other
    # area code has three (e.g. 0755 Shenzhen).
    return 3 if landline.startswith(("010", "02")) else 4


def mask_phone(number: str) -> str:
    """Mobiles: first 3 and last 4 digits. Landlines: the area code and the last 4 digits."""
    if MOBILE.fullmatch(number):
        return _mask_middle(number, 3, 4)
    if LANDLINE.fullmatch(number):
        return _mask_middle(number, _area_code_length(number), 4)
    # Not a normalised number: show no more than the last 4.
    return _mask_middle(number, 0, 4)


def mask_email(address: str) -> str:
    """First character of the local part, one * per remaining character, the domain in full.

    The domain stays visible because it tells staff which mailbox provider to expect and is
    not personal on its own.
    """
    # rpartition: a quoted local part may itself contain "@"; the domain never does.
    local, at, domain = address.rpartition("@")
    if not at:
        return _mask_middle(address, 1, 0)
    # A one-character local part still gets a star, so the mask always shows that it is one.
    return local[:1] + "*" * max(len(local) - 1, 1) + "@" + domain


def mask_account(number: str) -> str:
    """Only the last 4 characters visible; the rest starred, keeping the length."""
    return _mask_middle(number, 0, 4)


def mask_name(name: str) -> str:
    """The first character (the surname, for Chinese names) and one * per other character."""
    # A one-character name still gets a star, so it is never returned unmasked.
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


# A customer's name in any list (analytics, search, lookup), a person's or a company's alike:
# a list's reader needs the id, not the name. The answer model masks it, so no route that uses
# the type can forget to. Masking a masked name changes
# nothing, so a value masked before it reaches the model is answered the same.
MaskedName = Annotated[
    str,
    AfterValidator(mask_name),
    Field(description="Masked: the first character, one * for each other."),
]
