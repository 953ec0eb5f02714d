"""A customer's money as valuation reads it: balances in CNY, the yearly contribution and the
lifetime value."""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from services.customer.attrition.features import yearly_retention
from services.customer.config import Settings
from services.customer.models import AccountStatus, Customer, ProductType
from services.customer.view.schemas import AttritionRiskRead, CustomerValue

ASSET_PRODUCTS = frozenset({ProductType.CURRENT, ProductType.TERM_DEPOSIT, ProductType.WEALTH})


def to_cny(amount: Decimal, currency: str, settings: Settings) -> Decimal:
    rate = settings.fx_rates_to_cny.get(currency)
    if rate is None:
        # A currency without a reference rate is left out of the valuation rather than guessed.
        return Decimal("0")
    return amount * rate


def lifetime_value(contribution: Decimal, retention: Decimal, discount_rate: Decimal) -> Decimal:
    """The yearly contribution kept for as long as the customer stays, discounted: with
    retention r and discount rate d, m·(1+d)/(1+d−r) (Gupta and Lehmann's constant-margin
    form, margins counted at the start of each year)."""
    return contribution * (1 + discount_rate) / (1 + discount_rate - retention)


class HeldBalance(Protocol):
    """What valuing a customer reads of an account: a row, or an account in the 360 view."""

    @property
    def product_type(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def balance(self) -> Decimal: ...
    @property
    def status(self) -> str: ...


def balances_cny(accounts: Sequence[HeldBalance], settings: Settings) -> tuple[Decimal, Decimal]:
    """Assets under management and loans outstanding, in CNY, of the open accounts given."""
    assets = loans = Decimal("0")
    for account in accounts:
        if account.status != AccountStatus.OPEN:
            continue
        if account.product_type in ASSET_PRODUCTS:
            assets += to_cny(account.balance, account.currency, settings)
        elif account.product_type == ProductType.LOAN:
            loans += to_cny(account.balance, account.currency, settings)
    return assets, loans


FEES_WINDOW = timedelta(days=365)


def customer_value(
    customer: Customer,
    accounts: Sequence[HeldBalance],
    fees: Mapping[str, Decimal],
    *,
    settings: Settings,
    attrition: AttritionRiskRead | None = None,
) -> CustomerValue:
    """The customer's worth, from the accounts read for the view and the fees paid (per
    currency) over the last ``FEES_WINDOW``. The retention is the learned attrition risk's
    over a year once the model has learned enough attritions, else the table's by loyalty."""
    model = settings.profit_model
    assets, loans = balances_cny(accounts, settings)
    fees_cny = sum((to_cny(v, c, settings) for c, v in fees.items()), Decimal("0"))
    contribution = (
        assets * model.deposit_margin + loans * model.loan_margin + fees_cny - model.cost_to_serve
    )
    learned = settings.attrition
    if (
        attrition is not None
        and attrition.evidence_attritions >= learned.min_attritions_for_retention
    ):
        retention, source = yearly_retention(attrition.probability, learned), "attrition_model"
    else:
        retention = model.retention.get(customer.loyalty or "", Decimal("0.70"))
        source = "loyalty_table"
    cents = Decimal("0.01")
    return CustomerValue(
        assets_cny=assets.quantize(cents),
        loans_cny=loans.quantize(cents),
        yearly_contribution_cny=contribution.quantize(cents),
        retention=retention,
        retention_source=source,
        lifetime_value_cny=lifetime_value(contribution, retention, model.discount_rate).quantize(
            cents
        ),
    )
