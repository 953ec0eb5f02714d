"""The detector's own metrics: what the rules decided and what became of the contacts.
Labels are rule ids (a bounded set the bank manages), decisions and statuses."""

from prometheus_client import CollectorRegistry, Counter, Histogram

# Up to a quarter of an hour: a detector that falls behind is minutes late, not seconds.
DELAY_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    900.0,
)


class DetectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "crm_rule_decisions",
            "Rule matches by rule, mode and decision (created, held_out, suppressed:<check>, "
            "would_create...).",
            ["rule", "mode", "decision"],
            registry=registry,
        )
        self.outcomes = Counter(
            "crm_opportunity_outcomes",
            "Opportunities reaching a status (in_contact, accepted, declined, expired), by rule.",
            ["rule", "status"],
            registry=registry,
        )
        self.states = Counter(
            "crm_detector_states",
            "Customers' states a run worked on, by where they came from: memory (kept from an "
            "earlier run and still current) or tables (read back).",
            ["source"],
            registry=registry,
        )
        self.detection_delay = Histogram(
            "crm_detection_delay_seconds",
            "From an event's publication to the detector's decision on it (its freshness).",
            buckets=DELAY_BUCKETS,
            registry=registry,
        )
        self.rankings = Counter(
            "crm_next_best_rankings",
            "Next-best-action rankings served, by whether they explored (posterior draws).",
            ["explored"],
            registry=registry,
        )
        self.responses = Counter(
            "crm_next_best_responses",
            "Responses the action models learned from through the API and by expiry, by action "
            "(the catalogue's ids) and outcome (accepted, declined, no_answer, expired); call "
            "results show in crm_opportunity_outcomes.",
            ["action", "outcome"],
            registry=registry,
        )
