"""``crm token``: development bearer tokens, and the token the other commands call with."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import click

from shared.auth.roles import ROLE_SCOPES, Role
from shared.auth.tokens import (
    DEVELOPMENT_TOKEN_SECONDS,
    development_bearer,
    issue_development_token,
)
from shared.settings import Environment, SharedSettings

F = TypeVar("F", bound=Callable[..., Any])


def token_option(command: F) -> F:
    """``--token`` / ``CRM_TOKEN`` for a command that calls a running service."""
    return click.option(
        "--token",
        envvar="CRM_TOKEN",
        default=None,
        help="Bearer token to call with [env CRM_TOKEN]; by default a development token of "
        "the system (integration) role.",
    )(command)


def bearer_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else development_bearer()


@click.command()
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    required=True,
    help="Who the token speaks for.",
)
@click.option("--subject", default=None, help="The user or client id (default: dev-<role>).")
@click.option("--branch", default=None, help="Branch code, for branch staff.")
@click.option("--manager-id", type=click.UUID, default=None, help="For a customer manager.")
@click.option("--department", default=None, help="For a complaint handler.")
@click.option(
    "--minutes",
    type=click.IntRange(1, 24 * 60),
    default=DEVELOPMENT_TOKEN_SECONDS // 60,
    show_default=True,
    help="How long the token is valid.",
)
@click.option("--scopes", "show_scopes", is_flag=True, help="Also list the scopes it holds.")
def token(
    role: str,
    subject: str | None,
    branch: str | None,
    manager_id: uuid.UUID | None,
    department: str | None,
    minutes: int,
    show_scopes: bool,
) -> None:
    """Print a development bearer token for ROLE, signed with the development key that
    services trust when no identity provider is configured (never in production).

    \b
    TOKEN=$(crm token --role channel)
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8001/v1/customers/lookup?phone=...
    """
    settings = SharedSettings()
    if settings.environment is Environment.PRODUCTION:
        raise click.UsageError("production tokens come from the bank's identity provider")
    chosen = Role(role)
    if chosen is Role.CUSTOMER_MANAGER and manager_id is None:
        raise click.BadParameter(
            "a customer manager's token needs --manager-id", param_hint="--manager-id"
        )
    if chosen is Role.BRANCH_STAFF and not branch:
        raise click.BadParameter("branch staff need --branch", param_hint="--branch")
    if chosen is Role.COMPLAINT_HANDLER and not department:
        raise click.BadParameter(
            "a complaint handler needs --department", param_hint="--department"
        )
    click.echo(
        issue_development_token(
            settings,
            role=chosen,
            subject=subject or f"dev-{chosen.value}",
            branch=branch,
            manager_id=manager_id,
            department=department,
            seconds=minutes * 60,
        )
    )
    if show_scopes:
        click.echo(" ".join(sorted(ROLE_SCOPES[chosen])), err=True)
