"""The complaints service's problems: each carries its HTTP status and a stable type."""

from shared.problems import Conflict, NotFound, ProblemError


class ComplaintNotFound(NotFound):
    slug = "complaint-not-found"


class ActionNotAllowed(Conflict):
    """The case is not at a step where this action is taken; ``allowed`` lists those that are."""

    slug, title = "action-not-allowed", "The case cannot take this action now"


class RoleNotAllowed(ProblemError):
    status, slug, title = 403, "role-not-allowed", "This step is not the caller's role"


class SameHandsForbidden(ProblemError):
    """Segregation of duties: the person who approved a resolution does not judge it."""

    status, slug, title = 403, "segregation-of-duties", "Someone else must take this step"


class StaffUnidentified(ProblemError):
    # 422, not 401: the caller is authenticated; the request lacks the person it acts for.
    status, slug, title = 422, "staff-unidentified", "Who is acting is not known"


class NoFurtherExtension(Conflict):
    slug, title = "no-further-extension", "The deadline cannot be extended further"


class ReopenPeriodOver(Conflict):
    slug, title = "reopen-period-over", "The case was closed too long ago to reopen"


class OpenCaseExists(Conflict):
    slug, title = "open-case-exists", "The customer already has an open case of this category"
