"""The customer service's problems: each carries its HTTP status and a stable type."""

from shared.problems import Conflict, NotFound, ProblemError


class CustomerNotFound(NotFound):
    slug = "customer-not-found"


class AccountNotFound(NotFound):
    slug = "account-not-found"


class ReconciliationNotFound(NotFound):
    slug = "reconciliation-not-found"


class StaleVersion(Conflict):
    slug, title = "stale-version", "The customer changed since it was read"


class DuplicateCustomer(Conflict):
    slug, title = "duplicate-customer", "The customer is already known"


class AccountExists(Conflict):
    slug, title = "account-exists", "The account number is already in use"


class OpenAccountsRemain(Conflict):
    slug, title = "open-accounts-remain", "The customer still holds open accounts"


class InvalidCardNumber(ProblemError):
    status, slug, title = 422, "invalid-card-number", "Invalid card number"


class CustomerClosed(Conflict):
    slug, title = "customer-closed", "The customer relationship is closed"


class ManagerNotFound(NotFound):
    slug = "manager-not-found"


class ManagerExists(Conflict):
    slug, title = "manager-exists", "The employee number is already a manager's"


class ManagerUnavailable(ProblemError):
    status, slug, title = 409, "manager-unavailable", "The manager cannot take the customer"


class InvalidBatch(ProblemError):
    status, slug, title = 422, "invalid-transaction-batch", "The batch cannot be posted"


class ConcurrentDuplicate(Conflict):
    slug = "concurrent-duplicate"


class LookupNeedsOneKey(ProblemError):
    status, slug, title = 422, "lookup-needs-one-key", "Give exactly one identifier"

    def __init__(self, keys: tuple[str, ...], given: list[str]) -> None:
        # Name what was sent twice over, or, when nothing was, every key that would do.
        super().__init__(
            f"give exactly one of {', '.join(keys)}",
            errors=[
                {"field": key, "in": "query", "message": "give exactly one identifier"}
                for key in (given or keys)
            ],
        )


class LeadNotFound(NotFound):
    slug = "lead-not-found"


class VisitNotFound(NotFound):
    slug = "visit-not-found"


class LeadClosed(Conflict):
    slug, title = "lead-closed", "The potential customer is converted or lost"


class InvalidRelationship(ProblemError):
    status, slug, title = 422, "invalid-relationship", "The relationship cannot be recorded"


class GroupNotFound(NotFound):
    slug = "group-not-found"


class MembershipNotFound(NotFound):
    slug = "membership-not-found"


class InvalidMembership(ProblemError):
    status, slug, title = 422, "invalid-membership", "The membership cannot be recorded"


class MembershipConflict(Conflict):
    slug, title = "membership-conflict", "The membership clashes with the group as it stands"
