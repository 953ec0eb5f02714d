"""Who may do what: the bank's roles and the scopes each holds.

A route needs one scope, ``<resource>:<action>``. The resource is the route's OpenAPI tag and
the action is ``read`` for GET and ``write`` for anything else, unless the route names a
narrower scope (``customers:identify`` for the caller lookup a channel may use without being
able to search the customer base). Deriving the scope from the route means a new route is
guarded the moment it exists: no role holds a scope nobody wrote down, so it starts forbidden
to everyone until this table grants it.

This table is the one place the four services' access policy is written, so that a role means
the same in each of them; object-level limits (a manager's portfolio, a branch, a complaint
department) are each service's own rule, applied in its queries.
"""

from enum import StrEnum


class Role(StrEnum):
    CHANNEL = "channel"  # ATM, web, mobile, IVR and branch systems: service accounts
    CONTACT_CENTRE_AGENT = "contact_centre_agent"
    CUSTOMER_MANAGER = "customer_manager"
    BRANCH_STAFF = "branch_staff"
    COMPLAINT_HANDLER = "complaint_handler"
    SUPERVISOR = "supervisor"
    # Contact-centre workforce planners: forecast the calls and roster the agents.
    WORKFORCE_PLANNER = "workforce_planner"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    # Back-office integration accounts: the core-banking feed, one CRM service calling
    # another, the demo-data loader. Every business scope, no object limits; never a person.
    SYSTEM = "system"


READ, WRITE = "read", "write"

# Scopes that are not "<tag>:read|write" of some route, but a capability of their own.
REVEAL_PERSONAL_DATA = "personal-data:reveal"  # full ID numbers, phones, e-mails, accounts
AUDIT_READ = "audit:read"
# A data subject's requests: a copy of everything held, and erasure. Both are done by a
# supervisor for a case the bank has verified, and both are audited.
EXPORT_PERSONAL_DATA = "personal-data:export"
ERASE_PERSONAL_DATA = "personal-data:erase"

# Narrower scopes than the tag's read/write, named by the routes that need them.
CUSTOMERS_IDENTIFY = "customers:identify"  # the lookup of a caller or card holder
CUSTOMERS_VIEW = "customers:view"  # the 360 view a channel shows
COMPLAINTS_FILE = "complaints:file"  # lodging a complaint, not handling one
CALLS_OFFER = "calls:offer"  # a call arriving from the telephony platform or IVR
# A customer's say on marketing, read and recorded where they give it: web and mobile banking,
# the branch's system, the IVR, as well as staff who may change the customer.
CONSENT_READ = "consent:read"
CONSENT_RECORD = "consent:record"
AGENTS_STATE = "agents:state"  # an agent signing in, out, or taking a break


def _scopes(*resources: str, actions: tuple[str, ...] = (READ, WRITE)) -> frozenset[str]:
    return frozenset(f"{resource}:{action}" for resource in resources for action in actions)


def _reads(*resources: str) -> frozenset[str]:
    return _scopes(*resources, actions=(READ,))


# What a person at the front line needs to recognise and serve whoever is in front of them.
_SERVE_A_CUSTOMER = frozenset({CUSTOMERS_IDENTIFY, CUSTOMERS_VIEW, COMPLAINTS_FILE})

_BUSINESS_RESOURCES = (
    "customers",
    "segments",
    "accounts",
    "transactions",
    # Core banking's end-of-day balances against the view's: posted by the core-banking feed,
    # read by supervisors and auditors.
    "reconciliation",
    "interactions",
    "managers",
    "satisfaction",
    "leads",
    "relationships",
    "analytics",
    "rules",
    "opportunities",
    "complaints",
    "calls",
    "agents",
    "queues",
    "statistics",
    "callbacks",
    "outbound",
    "staffing",
)

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.CHANNEL: frozenset(
        {CUSTOMERS_IDENTIFY, CUSTOMERS_VIEW, COMPLAINTS_FILE, CALLS_OFFER}
        | {CONSENT_READ, CONSENT_RECORD}
        | _scopes("transactions", "interactions", actions=(WRITE,))
    ),
    Role.CONTACT_CENTRE_AGENT: _SERVE_A_CUSTOMER
    | _scopes("interactions", "calls", "callbacks", "outbound", "opportunities")
    | _reads("customers", "segments", "relationships", "complaints", "agents", "queues")
    | {CALLS_OFFER, AGENTS_STATE},
    Role.CUSTOMER_MANAGER: _SERVE_A_CUSTOMER
    | _scopes("customers", "interactions", "satisfaction", "leads", "relationships")
    | _scopes("opportunities", "callbacks")
    | _reads("segments", "managers", "complaints"),
    Role.BRANCH_STAFF: _SERVE_A_CUSTOMER
    | _scopes("customers", "accounts", "interactions", "satisfaction", "leads")
    | _reads("segments", "relationships", "managers", "complaints"),
    Role.COMPLAINT_HANDLER: _SERVE_A_CUSTOMER
    | _scopes("complaints", "interactions")
    | _reads("customers", "segments"),
    Role.SUPERVISOR: _SERVE_A_CUSTOMER
    | {CALLS_OFFER, AGENTS_STATE, REVEAL_PERSONAL_DATA, EXPORT_PERSONAL_DATA, ERASE_PERSONAL_DATA}
    | _reads(*_BUSINESS_RESOURCES)
    | _scopes("managers", "complaints", "opportunities", "agents", "callbacks", "outbound"),
    Role.WORKFORCE_PLANNER: _reads("staffing", "statistics", "queues", "agents"),
    Role.AUDITOR: _reads(*_BUSINESS_RESOURCES) | {AUDIT_READ},
    Role.ADMINISTRATOR: _scopes("rules", "managers", "agents")
    | _reads("opportunities", "analytics", "queues", "statistics"),
    Role.SYSTEM: _scopes(*_BUSINESS_RESOURCES)
    | {CUSTOMERS_IDENTIFY, CUSTOMERS_VIEW, COMPLAINTS_FILE, CALLS_OFFER, AGENTS_STATE},
}


def _with_consent(scopes: frozenset[str]) -> frozenset[str]:
    """Who may read a customer may read their consent; who may change them may record it."""
    derived = {CONSENT_READ} if f"customers:{READ}" in scopes else set()
    derived |= {CONSENT_RECORD} if f"customers:{WRITE}" in scopes else set()
    return scopes | derived


ROLE_SCOPES = {role: _with_consent(scopes) for role, scopes in ROLE_SCOPES.items()}
