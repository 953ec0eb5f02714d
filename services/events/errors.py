"""The events service's problems: each carries its HTTP status and a stable type."""

from shared.problems import Conflict, NotFound, ProblemError


class RuleNotFound(NotFound):
    slug = "rule-not-found"


class RuleExists(Conflict):
    slug, title = "rule-exists", "A rule with this id exists"


class InvalidRule(ProblemError):
    """The rule parses but cannot be evaluated; ``errors`` lists each field and why."""

    status, slug, title = 422, "invalid-rule", "The rule cannot be evaluated"


class VersionNotFound(NotFound):
    slug = "rule-version-not-found"


class OpportunityNotFound(NotFound):
    slug = "opportunity-not-found"


class OutcomeNotAllowed(Conflict):
    slug, title = "outcome-not-allowed", "The opportunity cannot take this outcome now"


class BacktestTooLarge(ProblemError):
    status, slug, title = 422, "backtest-too-large", "The period holds too many events"


class CustomerNotKnown(NotFound):
    slug = "customer-not-known"


class DecisionNotFound(NotFound):
    slug = "decision-not-found"


class ResponseRecorded(Conflict):
    slug, title = "response-recorded", "Another response is recorded for this offer"
