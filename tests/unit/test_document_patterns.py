"""The patterns the documents show are never wider than what the services accept: every value
drawn from a pattern passes the validation it stands for. A client generated from a document
can then send whatever the document allows."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.identifiers import PHONE_PATTERN, normalise_phone
from services.customer.identity.social_credit_code import USCC_ALPHABET, USCC_PATTERN
from shared.money import ISO_4217_CODES, Money
from shared.nul_guard import ANY_TEXT, NUL, _text_of_at_least
from shared.requests import RequestModel


@settings(max_examples=400)
@given(st.from_regex(PHONE_PATTERN, fullmatch=True))
def test_every_phone_number_the_document_shows_normalises(number: str) -> None:
    assert normalise_phone(number).isdigit()


@settings(max_examples=400)
@given(st.from_regex(USCC_PATTERN, fullmatch=True))
def test_a_credit_code_of_the_documented_form_uses_only_the_standard_alphabet(code: str) -> None:
    assert set(code.upper()) <= set(USCC_ALPHABET)
    assert code[2:8].isdigit()


def test_the_credit_code_pattern_refuses_the_letters_the_standard_leaves_out() -> None:
    for letter in "IOSVZ":
        assert not re.fullmatch(USCC_PATTERN, "91" + "110000" + letter * 10)


@settings(max_examples=300)
@given(st.integers(min_value=1, max_value=8), st.data())
def test_text_of_a_minimum_length_has_it_once_stripped(least: int, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(_text_of_at_least(least), fullmatch=True))

    class Note(RequestModel):
        text: str

    assert len(Note(text=text).text) >= least
    assert NUL not in text


@given(st.from_regex(ANY_TEXT, fullmatch=True))
def test_free_text_never_carries_nul(text: str) -> None:
    assert NUL not in text


def test_every_currency_the_document_lists_is_accepted() -> None:
    for code in ISO_4217_CODES:
        assert Money(amount="1", currency=code).currency == code
