"""Customer identifiers: validation, normalisation, masking and card tokens.

Check characters are computed here from the standards (GB 11643, GB 11714, GB 32100, Luhn)
independently of the production code, so a wrong weight or table there fails these tests.
"""

import dataclasses
import hashlib
import hmac
from datetime import date

import pytest

from contracts.identifiers import InvalidIdentifier, normalise_mobile, normalise_phone
from services.customer.identity.cards import card_token_last_four
from services.customer.identity.resident_id import ResidentId, validate_resident_id
from services.customer.identity.social_credit_code import validate_unified_social_credit_code
from shared.masking import (
    mask_account,
    mask_email,
    mask_name,
    mask_phone,
    mask_resident_id,
    mask_social_credit_code,
)

TODAY = date(2024, 6, 15)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_check(first_17: str) -> str:
    """GB 11643-1999 / ISO 7064 MOD 11-2, weights 2^(18-i) mod 11."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first_17))
    return "10X98765432"[total % 11]


def organisation_check(body: str) -> str:
    """GB 11714-1997 over the eight body characters of an organisation code."""
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def social_credit_check(first_17: str) -> str:
    """GB 32100-2015, weights 3^(i-1) mod 31."""
    total = sum(ALPHABET.index(c) * (3**i % 31) for i, c in enumerate(first_17))
    return ALPHABET[(31 - total % 31) % 31]


def resident_id(base: str) -> str:
    return base + resident_check(base)


def social_credit_code(first_16: str) -> str:
    """A valid code from positions 1-16: adds the organisation and final check characters."""
    first_17 = first_16 + organisation_check(first_16[8:16])
    return first_17 + social_credit_check(first_17)


def reason(error: pytest.ExceptionInfo[InvalidIdentifier]) -> str:
    return error.value.field_reason


class TestInvalidIdentifier:
    def test_is_a_value_error_carrying_the_reason(self) -> None:
        error = InvalidIdentifier("must be 18 characters, got 3")
        assert isinstance(error, ValueError)
        assert error.field_reason == "must be 18 characters, got 3"
        assert str(error) == "must be 18 characters, got 3"


class TestResidentIdCheckDigit:
    def test_the_documented_gb_11643_example_is_valid(self) -> None:
        assert resident_check("11010519491231002") == "X"
        assert validate_resident_id("11010519491231002X", today=TODAY).number == (
            "11010519491231002X"
        )

    @pytest.mark.parametrize(
        "base",
        ["11010519491231002", "44030419900307123", "31011519850101888", "65010220000229001"],
    )
    def test_a_number_with_the_computed_check_digit_is_valid(self, base: str) -> None:
        number = resident_id(base)
        assert validate_resident_id(number, today=TODAY).number == number

    def test_every_other_check_character_is_refused_with_the_right_one_named(self) -> None:
        base = "44030419900307123"
        right = resident_check(base)
        for wrong in sorted(set("0123456789X") - {right}):
            with pytest.raises(InvalidIdentifier) as error:
                validate_resident_id(base + wrong, today=TODAY)
            assert reason(error) == f"check digit should be {right}"

    def test_a_transposed_digit_is_caught(self) -> None:
        number = resident_id("44030419900307123")
        swapped = number[:14] + number[15] + number[14] + number[16:]
        with pytest.raises(InvalidIdentifier, match="check digit should be"):
            validate_resident_id(swapped, today=TODAY)


class TestResidentIdNormalisation:
    def test_lower_case_x_is_accepted_and_upper_cased(self) -> None:
        assert validate_resident_id("11010519491231002x", today=TODAY).number == (
            "11010519491231002X"
        )

    def test_surrounding_whitespace_is_stripped(self) -> None:
        number = resident_id("44030419900307123")
        assert validate_resident_id(f"  {number}\t\n", today=TODAY).number == number


class TestResidentIdFacts:
    def test_birth_date_gender_and_region_are_read_from_the_number(self) -> None:
        assert validate_resident_id("11010519491231002X", today=TODAY) == ResidentId(
            number="11010519491231002X",
            birth_date=date(1949, 12, 31),
            gender="female",
            region_code="110105",
        )

    @pytest.mark.parametrize(
        ("sequence", "gender"),
        [("001", "male"), ("013", "male"), ("119", "male"), ("002", "female"), ("120", "female")],
    )
    def test_gender_follows_the_parity_of_the_17th_digit(self, sequence: str, gender: str) -> None:
        number = resident_id("44030419900307" + sequence)
        assert validate_resident_id(number, today=TODAY).gender == gender

    def test_the_result_is_immutable(self) -> None:
        resident = validate_resident_id("11010519491231002X", today=TODAY)
        with pytest.raises(dataclasses.FrozenInstanceError):
            resident.number = "other"  # type: ignore[misc]


class TestResidentIdBirthDate:
    @pytest.mark.parametrize("birth", ["19900230", "19901340", "19900001", "19900100", "19000229"])
    def test_an_impossible_calendar_date_is_refused(self, birth: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_resident_id(resident_id(f"110105{birth}123"), today=TODAY)
        assert reason(error) == f"birth date {birth} is not a date"

    def test_a_leap_day_in_a_leap_year_is_a_date(self) -> None:
        resident = validate_resident_id(resident_id("11010520000229123"), today=TODAY)
        assert resident.birth_date == date(2000, 2, 29)

    def test_a_birth_date_in_the_future_is_refused(self) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_resident_id(resident_id("11010520240616123"), today=TODAY)
        assert reason(error) == "birth date 20240616 is in the future"

    def test_a_birth_date_far_in_the_future_is_refused_against_the_real_clock(self) -> None:
        with pytest.raises(InvalidIdentifier, match="is in the future"):
            validate_resident_id(resident_id("11010529991231123"))

    def test_born_today_is_allowed(self) -> None:
        resident = validate_resident_id(resident_id("11010520240615123"), today=TODAY)
        assert resident.birth_date == TODAY

    def test_a_birth_date_before_1900_is_refused(self) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_resident_id(resident_id("11010518991231123"), today=TODAY)
        assert reason(error) == "birth date 18991231 is before 1900-01-01"

    def test_1900_01_01_is_the_earliest_allowed(self) -> None:
        resident = validate_resident_id(resident_id("11010519000101123"), today=TODAY)
        assert resident.birth_date == date(1900, 1, 1)


class TestResidentIdLengthAndFormat:
    @pytest.mark.parametrize("number", ["", "1101051949123100", "11010519491231002", "1" * 19])
    def test_a_number_that_is_not_18_characters_is_refused(self, number: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_resident_id(number, today=TODAY)
        assert reason(error) == f"must be 18 characters, got {len(number)}"

    def test_the_old_15_digit_number_is_refused(self) -> None:
        with pytest.raises(InvalidIdentifier, match="must be 18 characters, got 15"):
            validate_resident_id("110105491231002", today=TODAY)

    @pytest.mark.parametrize(
        "number",
        [
            "1101051949123100AX",  # a letter in the sequence code
            "X10105194912310021",  # X anywhere but last
            "11010519491231002Y",  # a check character outside 0-9 and X
            "１１0105194912310021",  # full-width digits
            "110105194912310²21",  # a superscript, which str.isdigit() would accept
        ],
    )
    def test_anything_but_17_digits_and_a_check_character_is_refused(self, number: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_resident_id(number, today=TODAY)
        assert reason(error) == "must be 17 digits followed by a check character (0-9 or X)"


class TestResidentIdProvince:
    @pytest.mark.parametrize("province", ["00", "10", "16", "24", "38", "47", "55", "66", "84"])
    def test_an_unknown_province_code_is_refused(self, province: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_resident_id(resident_id(f"{province}0105199003071234"[:17]), today=TODAY)
        assert reason(error) == f"{province} is not a province-level region code"

    @pytest.mark.parametrize(
        "province", ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71"]
    )
    def test_every_province_range_boundary_is_accepted(self, province: str) -> None:
        number = resident_id(f"{province}010519900307123")
        assert validate_resident_id(number, today=TODAY).region_code == f"{province}0105"

    @pytest.mark.parametrize("code", ["810000", "820000", "830000"])
    def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted(
        self, code: str
    ) -> None:
        number = resident_id(f"{code}19900307123")
        assert validate_resident_id(number, today=TODAY).region_code == code


class TestSocialCreditCodeCheckCharacter:
    @pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
    def test_published_examples_are_valid(self, code: str) -> None:
        first_17 = code[:17]
        assert organisation_check(code[8:16]) == code[16]
        assert social_credit_check(first_17) == code[17]
        assert validate_unified_social_credit_code(code) == code

    @pytest.mark.parametrize(
        "first_16", ["9144030071526726", "12100000400000AB", "5233010050000001"]
    )
    def test_a_code_with_computed_check_characters_is_valid(self, first_16: str) -> None:
        code = social_credit_code(first_16)
        assert validate_unified_social_credit_code(code) == code

    @pytest.mark.parametrize("position", range(18))
    def test_one_wrong_character_anywhere_makes_it_invalid(self, position: int) -> None:
        code = "91350100M000100Y43"
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(InvalidIdentifier):
                validate_unified_social_credit_code(changed)

    def test_a_wrong_final_check_character_names_the_right_one(self) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_unified_social_credit_code("91350100M000100Y44")
        assert reason(error) == "check character should be 3"

    def test_a_wrong_organisation_check_is_refused_even_when_the_final_check_fits(self) -> None:
        first_17 = "91350100M000100Y5"  # Y4 is right; 5 is not
        code = first_17 + social_credit_check(first_17)
        with pytest.raises(InvalidIdentifier) as error:
            validate_unified_social_credit_code(code)
        assert reason(error) == "organisation code check character (position 17) should be 4"


class TestSocialCreditCodeFormat:
    def test_lower_case_is_normalised_to_upper_and_whitespace_stripped(self) -> None:
        assert validate_unified_social_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"

    @pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
    def test_the_excluded_letters_are_refused(self, letter: str) -> None:
        code = "91350100M000100Y43".replace("M", letter)
        with pytest.raises(InvalidIdentifier) as error:
            validate_unified_social_credit_code(code)
        assert reason(error) == (
            f"character 9 {letter!r} is not allowed (digits and letters other than "
            "I, O, S, V and Z)"
        )

    @pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y431"])
    def test_a_code_that_is_not_18_characters_is_refused(self, code: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            validate_unified_social_credit_code(code)
        assert reason(error) == f"must be 18 characters, got {len(code)}"

    def test_the_administrative_division_code_must_be_digits(self) -> None:
        code = social_credit_code("91A50100M000100Y")
        with pytest.raises(InvalidIdentifier) as error:
            validate_unified_social_credit_code(code)
        assert reason(error) == (
            "characters 3-8 'A50100' must be digits (the administrative division code)"
        )


class TestNormaliseMobile:
    @pytest.mark.parametrize(
        "written",
        [
            "13812345678",
            "  13812345678 ",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+86-13812345678",
            "+8613812345678",
            "0086 138 1234 5678",
            "8613812345678",
            "86 138-1234-5678",
        ],
    )
    def test_prefixes_and_separators_are_removed(self, written: str) -> None:
        assert normalise_mobile(written) == "13812345678"

    @pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
    def test_every_mobile_range_is_accepted(self, prefix: str) -> None:
        assert normalise_mobile(f"{prefix}912345678") == f"{prefix}912345678"

    @pytest.mark.parametrize(
        "written",
        [
            "12812345678",  # 12x is not a mobile range
            "1381234567",  # 10 digits
            "138123456789",  # 12 digits
            "+1 138 1234 5678",  # another country code
            "01088888888",  # a landline
            "138１２３４５６７８",  # full-width digits
            "138.1234.5678",  # dots are not a separator we accept
            "",
        ],
    )
    def test_anything_else_is_refused(self, written: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            normalise_mobile(written)
        assert reason(error) == "not a mainland mobile number (11 digits starting 13-19)"


class TestNormalisePhone:
    @pytest.mark.parametrize(
        ("written", "digits"),
        [
            ("+86 138 1234 5678", "13812345678"),
            ("010-88888888", "01088888888"),
            ("010 8888 8888", "01088888888"),
            ("(021) 6123-4567", "02161234567"),
            ("0755-1234567", "07551234567"),
            ("0755-12345678", "075512345678"),
            ("+86 10 8888 8888", "01088888888"),  # international form drops the trunk 0
            ("+86 (0)10 8888 8888", "01088888888"),
            ("0086-755-12345678", "075512345678"),
        ],
    )
    def test_mobiles_and_landlines_become_digits(self, written: str, digits: str) -> None:
        assert normalise_phone(written) == digits

    @pytest.mark.parametrize(
        "written",
        [
            "12345",
            "010-123456",  # local number too short
            "0755-123456789",  # local number too long
            "0012345678",  # 00 is the international prefix, not an area code
            "12812345678",
            "+1 800 555 0100",  # another country code
        ],
    )
    def test_anything_else_is_refused(self, written: str) -> None:
        with pytest.raises(InvalidIdentifier, match="not a mainland mobile number"):
            normalise_phone(written)


class TestMasks:
    def test_resident_id_shows_the_first_6_and_last_4(self) -> None:
        assert mask_resident_id("110101199003071234") == "110101********1234"

    def test_social_credit_code_shows_the_first_6_and_last_4(self) -> None:
        assert mask_social_credit_code("91350100M000100Y43") == "913501********0Y43"

    @pytest.mark.parametrize(
        ("phone", "masked"),
        [
            ("13812345678", "138****5678"),
            ("01088888888", "010****8888"),
            ("02161234567", "021****4567"),
            ("075512345678", "0755****5678"),
            ("07551234567", "0755***4567"),
            ("12345", "*2345"),  # not a normalised number: the last 4 at most
        ],
    )
    def test_phone_keeps_the_mobile_prefix_or_area_code_and_the_last_4(
        self, phone: str, masked: str
    ) -> None:
        assert mask_phone(phone) == masked

    @pytest.mark.parametrize(
        ("address", "masked"),
        [
            # One * per hidden character: "hang.wei" is 8 characters.
            ("zhang.wei@example.com", "z********@example.com"),
            ("li@bank.cn", "l*@bank.cn"),
            ("a@bank.cn", "a*@bank.cn"),
            ('"a@b"@bank.cn', '"****@bank.cn'),
        ],
    )
    def test_email_keeps_the_first_character_and_the_domain(
        self, address: str, masked: str
    ) -> None:
        assert mask_email(address) == masked

    def test_account_shows_only_the_last_4_and_keeps_the_length(self) -> None:
        masked = mask_account("6222020200112233445")
        assert masked == "*" * 15 + "3445"
        assert len(masked) == len("6222020200112233445")

    @pytest.mark.parametrize(
        ("name", "masked"), [("张三丰", "张**"), ("张伟", "张*"), ("李", "李*"), ("", "")]
    )
    def test_name_keeps_the_first_character(self, name: str, masked: str) -> None:
        assert mask_name(name) == masked

    @pytest.mark.parametrize("short", ["1234", "12345678", "1234567890"])
    def test_a_value_too_short_to_mask_is_starred_completely(self, short: str) -> None:
        assert mask_resident_id(short) == "*" * len(short)
        assert mask_social_credit_code(short) == "*" * len(short)


class TestCardToken:
    KEY = b"a-test-key-of-some-length"

    @pytest.mark.parametrize(
        "pan",
        [
            "4111111111111111",  # Visa test card
            "5555555555554444",  # Mastercard test card
            "378282246310005",  # American Express test card, 15 digits
            "6011111111111117",  # Discover test card
            "4222222222222",  # 13 digits
            "6250941006528599",  # UnionPay test card
        ],
    )
    def test_a_luhn_valid_pan_gives_a_keyed_token_and_the_last_four(self, pan: str) -> None:
        token, last_four = card_token_last_four(pan, key=self.KEY)
        expected = hmac.new(self.KEY, pan.encode(), hashlib.sha256).hexdigest()
        assert token == f"tok_{expected}"
        assert last_four == pan[-4:]

    @pytest.mark.parametrize(
        "pan", ["4111111111111112", "4111111111111121", "5555555555554440", "378282246310006"]
    )
    def test_a_luhn_invalid_pan_is_refused(self, pan: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            card_token_last_four(pan, key=self.KEY)
        assert reason(error) == "card number fails the Luhn check"

    @pytest.mark.parametrize(
        "pan",
        ["", "411111111111", "41111111111111111111", "4111 1111 1111 111A", "４111111111111111"],
    )
    def test_anything_but_13_to_19_digits_is_refused(self, pan: str) -> None:
        with pytest.raises(InvalidIdentifier) as error:
            card_token_last_four(pan, key=self.KEY)
        assert reason(error) == "a card number has 13 to 19 digits"

    def test_the_token_is_stable_for_the_same_key_and_grouping_does_not_matter(self) -> None:
        first = card_token_last_four("4111111111111111", key=self.KEY)
        again = card_token_last_four("4111 1111 1111 1111", key=self.KEY)
        dashed = card_token_last_four("4111-1111-1111-1111", key=self.KEY)
        assert first == again == dashed

    def test_another_key_gives_another_token(self) -> None:
        token, _ = card_token_last_four("4111111111111111", key=self.KEY)
        other, _ = card_token_last_four("4111111111111111", key=b"another-key-entirely")
        assert token != other

    def test_different_cards_give_different_tokens(self) -> None:
        first, _ = card_token_last_four("4111111111111111", key=self.KEY)
        second, _ = card_token_last_four("5555555555554444", key=self.KEY)
        assert first != second

    def test_the_pan_never_appears_in_the_token(self) -> None:
        pan = "4111111111111111"
        token, _ = card_token_last_four(pan, key=self.KEY)
        assert token.startswith("tok_")
        assert len(token) == len("tok_") + 64
        assert pan not in token
        assert pan[:6] not in token  # not even the issuer identification number
        assert token != "tok_" + hashlib.sha256(pan.encode()).hexdigest()  # keyed, not a hash
