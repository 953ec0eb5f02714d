"""A currency is an ISO 4217 code as pycountry keeps the list: the check the services run on
every amount agrees with that list, code for code, and takes a code in any case."""

import pycountry
import pytest
from pydantic import ValidationError

from shared.money import Money


def test_every_code_pycountry_knows_is_taken() -> None:
    for currency in pycountry.currencies:
        assert Money(amount="1.00", currency=currency.alpha_3).currency == currency.alpha_3


def test_a_code_in_lower_case_is_taken_in_upper_case() -> None:
    assert Money(amount="1.00", currency="cny").currency == "CNY"


@pytest.mark.parametrize("code", ["XYZ", "ABC", "RMB"])
def test_a_code_not_in_the_standard_is_refused_naming_it(code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Money(amount="1.00", currency=code)

    (error,) = refused.value.errors()
    assert error["loc"] == ("currency",)
    assert f"{code!r} is not an ISO 4217 currency code" in error["msg"]
