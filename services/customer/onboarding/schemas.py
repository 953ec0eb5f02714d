"""HTTP models of onboarding: new customers registered with their accounts, a batch at once."""

import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from services.customer.accounts.schemas import AccountTerms
from services.customer.customers.schemas import CustomerCreate
from shared.requests import RequestModel


class NewCustomer(RequestModel):
    customer: CustomerCreate
    accounts: Annotated[list[AccountTerms], Field(max_length=100)] = Field(
        default=[], description="The accounts and products the customer opened, if any."
    )


class OnboardingBatch(RequestModel):
    """New customers and their accounts, registered all or nothing: a branch's book moved
    from another system, or the bank's first load."""

    customers: Annotated[list[NewCustomer], Field(min_length=1, max_length=1000)]


class OnboardingResult(BaseModel):
    customer_ids: list[uuid.UUID] = Field(
        description="The new customers' ids, in the batch's order."
    )
    accounts_opened: int
