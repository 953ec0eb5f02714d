"""Unified social credit code (统一社会信用代码): GB 32100-2015, which embeds an organisation
code (组织机构代码) with its own GB 11714-1997 check character."""

from contracts.identifiers import InvalidIdentifier

# GB 32100-2015 character set: digits and upper-case Latin letters without I, O, Z, S and V,
# which are too easily confused with 1, 0, 2, 5 and U. A character's value is its index here.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Lower case is accepted (and upper-cased), so the document admits it too.
_USCC_CHARACTER = f"[{USCC_ALPHABET}{USCC_ALPHABET[10:].lower()}]"
USCC_PATTERN = f"^{_USCC_CHARACTER}{{2}}[0-9]{{6}}{_USCC_CHARACTER}{{10}}$"
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
