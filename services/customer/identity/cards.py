"""Payment card numbers (PAN): Luhn check per ISO/IEC 7812-1; only a keyed token and the last
four digits are kept, in line with PCI DSS requirement 3 (do not store the PAN)."""

import hashlib
import hmac
import re

from contracts.identifiers import InvalidIdentifier

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
