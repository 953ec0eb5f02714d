"""Bearer token verification: what is trusted and what is refused."""

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth.roles import ROLE_SCOPES, Role
from shared.auth.tokens import (
    InvalidToken,
    TokenVerifier,
    development_private_key,
    issue_development_token,
)
from shared.settings import Environment, SharedSettings

SETTINGS = SharedSettings()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": SETTINGS.auth_issuer, "aud": SETTINGS.auth_audience, "sub": "u-1",
              "role": "supervisor", "iat": now, "exp": now + 600}  # fmt: skip
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _signed(
    claims: dict[str, Any], key: Any = None, algorithm: str = "ES256", **header: Any
) -> str:
    return jwt.encode(claims, key or development_private_key(), algorithm=algorithm, headers=header)


async def _verify(token: str, settings: SharedSettings = SETTINGS) -> Any:
    verifier = TokenVerifier(settings)
    try:
        return await verifier.verify(token)
    finally:
        await verifier.aclose()


async def test_a_development_token_names_its_holder_and_their_limits() -> None:
    manager = uuid.uuid4()
    token = issue_development_token(
        SETTINGS, role=Role.CUSTOMER_MANAGER, subject="m-7", manager_id=manager, branch="BJ001"
    )

    principal = await _verify(token)

    assert principal.subject == "m-7"
    assert principal.role is Role.CUSTOMER_MANAGER
    assert principal.manager_id == manager
    assert principal.branch == "BJ001"
    assert principal.scopes == ROLE_SCOPES[Role.CUSTOMER_MANAGER]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(lambda: _signed(_claims(exp=int(time.time()) - 120)), "expired", id="expired"),
        pytest.param(
            lambda: jwt.encode(_claims(), "", algorithm="none"), "signed with", id="unsigned"
        ),
        pytest.param(
            lambda: _signed(_claims(), ec.generate_private_key(ec.SECP256R1())),
            "not valid",
            id="another key",
        ),
        pytest.param(
            # A shared-secret token: whoever holds the secret could mint any role.
            lambda: jwt.encode(_claims(), "a secret every service would hold!", algorithm="HS256"),
            "signed with",
            id="HS256",
        ),
        pytest.param(lambda: _signed(_claims(aud="another-api")), "not valid", id="audience"),
        pytest.param(lambda: _signed(_claims(iss="someone-else")), "not valid", id="issuer"),
        pytest.param(lambda: _signed(_claims(sub=None)), "not valid", id="no subject"),
        pytest.param(lambda: _signed(_claims(role="root")), "no role", id="unknown role"),
        pytest.param(lambda: "not.a.jwt", "not a JWT", id="garbage"),
    ],
)
async def test_a_token_not_signed_by_the_bank_for_this_api_is_refused(
    token: Any, reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        await _verify(token())


async def test_a_token_may_carry_less_than_its_role_never_more() -> None:
    token = _signed(_claims(role="channel", scope="customers:identify rules:write"))

    principal = await _verify(token)

    assert principal.scopes == frozenset({"customers:identify"})


def _jwks_of(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    entries = []
    for kid, key in keys:
        entry = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        entries.append({**entry, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": entries}


async def test_keys_come_from_the_identity_provider_s_jwks_and_follow_its_rotation() -> None:
    old, new = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
    published = {"keys": _jwks_of(("k-old", old))}
    fetches = []

    def identity_provider(request: httpx.Request) -> httpx.Response:
        fetches.append(request.url.path)
        return httpx.Response(200, json=published["keys"])

    settings = SharedSettings(auth_jwks_url="https://idp.bank.example/jwks")
    verifier = TokenVerifier(
        settings, client=httpx.AsyncClient(transport=httpx.MockTransport(identity_provider))
    )
    try:
        first = await verifier.verify(_signed(_claims(), old, "RS256", kid="k-old"))
        again = await verifier.verify(_signed(_claims(), old, "RS256", kid="k-old"))
        assert (first.subject, again.subject, len(fetches)) == ("u-1", "u-1", 1)

        # The provider rotates: a token with a new key id makes the verifier look again...
        published["keys"] = _jwks_of(("k-old", old), ("k-new", new))
        verifier._jwks.fetched_at -= 60  # type: ignore[union-attr]  # past the refetch pause
        rotated = await verifier.verify(_signed(_claims(), new, "RS256", kid="k-new"))
        assert (rotated.subject, len(fetches)) == ("u-1", 2)

        # ...but a forged key id does not make it ask on every request.
        for _ in range(3):
            with pytest.raises(InvalidToken, match="does not list"):
                await verifier.verify(_signed(_claims(), new, "RS256", kid="k-forged"))
        assert len(fetches) == 2
        # The development key is not trusted once an identity provider is configured.
        with pytest.raises(InvalidToken):
            await verifier.verify(issue_development_token(settings, role=Role.SYSTEM, subject="x"))
    finally:
        await verifier.aclose()


async def test_a_configured_public_key_replaces_the_development_key() -> None:
    bank_key = ec.generate_private_key(ec.SECP256R1())
    pem = bank_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = SharedSettings(auth_public_key=pem.decode())

    assert (await _verify(_signed(_claims(), bank_key), settings)).subject == "u-1"
    with pytest.raises(InvalidToken):
        await _verify(_signed(_claims()), settings)


def test_production_refuses_to_trust_the_development_key() -> None:
    with pytest.raises(ValueError, match="CRM_AUTH_JWKS_URL or CRM_AUTH_PUBLIC_KEY"):
        SharedSettings(
            environment=Environment.PRODUCTION,
            database_url="postgresql+asyncpg://crm@db/crm",
            identifier_key="a-production-identifier-key",
        )
