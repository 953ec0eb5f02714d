"""Bearer tokens: who the caller is, proven by the bank's identity provider's signature.

Tokens are JWTs signed with an asymmetric key (RS256 or ES256): the services hold only public
keys, so none of them can mint a token. The keys come from the identity provider's JWKS URL
(fetched, cached, fetched again when a token names a key id not yet seen: key rotation) or
from one configured PEM public key.

For the embedded run and the tests there is a development key: an EC P-256 key derived from a
published constant, so ``crm token`` and every service agree on it without a file to share.
Anyone can sign with it, which is why the settings refuse it in production.
"""

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth.roles import ROLE_SCOPES, Role
from shared.settings import SharedSettings

DEVELOPMENT_KEY_ID = "crm-development"
DEVELOPMENT_ISSUER = "crm-development"
DEVELOPMENT_TOKEN_SECONDS = 8 * 3600  # a working day
# A token naming an unknown key id makes us fetch the JWKS again, but not more often than
# this: a flood of forged tokens must not become a flood of requests to the identity provider.
JWKS_REFETCH_SECONDS = 30.0


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by a key we trust."""


@dataclass(frozen=True)
class Principal:
    """The caller, as the token describes them."""

    subject: str
    role: Role
    scopes: frozenset[str]
    branch: str | None = None
    manager_id: uuid.UUID | None = None
    department: str | None = None
    client: str | None = None  # the OAuth client (azp) the token was issued to

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def development_private_key() -> ec.EllipticCurvePrivateKey:
    # Deterministic on purpose (see the module docstring); never trusted in production.
    seed = hashlib.sha256(b"bank-crm development token signing key").digest()
    return ec.derive_private_key(int.from_bytes(seed, "big"), ec.SECP256R1())


def development_public_key_pem() -> str:
    public = development_private_key().public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


def issue_development_token(
    settings: SharedSettings,
    *,
    role: Role,
    subject: str,
    branch: str | None = None,
    manager_id: uuid.UUID | None = None,
    department: str | None = None,
    seconds: int = DEVELOPMENT_TOKEN_SECONDS,
    now: float | None = None,
) -> str:
    """A token signed with the development key, as the identity provider would issue one."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "sub": subject,
        "role": role.value,
        "iat": issued,
        "exp": issued + seconds,
        "jti": str(uuid.uuid4()),
        "azp": "crm-cli",
    }
    for name, value in (("branch", branch), ("manager_id", manager_id), ("department", department)):
        if value is not None:
            claims[name] = str(value)
    return jwt.encode(
        claims, development_private_key(), algorithm="ES256", headers={"kid": DEVELOPMENT_KEY_ID}
    )


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    try:
        role = Role(claims["role"])
    except (KeyError, ValueError) as error:
        raise InvalidToken("the token names no role this bank knows") from error
    granted = ROLE_SCOPES[role]
    # A token may carry a narrower "scope" than its role (OAuth2 scope-down); never a wider one.
    asked = claims.get("scope")
    scopes = granted & frozenset(asked.split()) if isinstance(asked, str) else granted
    manager = claims.get("manager_id")
    try:
        manager_id = uuid.UUID(manager) if manager else None
    except (TypeError, ValueError) as error:
        raise InvalidToken("manager_id is not a UUID") from error
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        scopes=scopes,
        branch=_optional_str(claims.get("branch")),
        manager_id=manager_id,
        department=_optional_str(claims.get("department")),
        client=_optional_str(claims.get("azp") or claims.get("client_id")),
    )


def _optional_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass
class _JwksCache:
    url: str
    client: httpx.AsyncClient
    ttl_seconds: float
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float = float("-inf")

    async def key(self, key_id: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        stale = now - self.fetched_at > self.ttl_seconds
        unknown = key_id not in self.keys and now - self.fetched_at > JWKS_REFETCH_SECONDS
        if stale or unknown:
            await self._fetch()
        if key_id is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        if key_id is None or key_id not in self.keys:
            raise InvalidToken("the token is signed by a key the identity provider does not list")
        return self.keys[key_id]

    async def _fetch(self) -> None:
        try:
            response = await self.client.get(self.url)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            if not self.keys:  # no key at all: nothing can be verified
                raise InvalidToken("the identity provider's keys are unavailable") from error
            return  # keep verifying with the keys we have
        self.keys = {key.key_id: key for key in key_set.keys if key.key_id}
        self.fetched_at = time.monotonic()


class TokenVerifier:
    """Verifies bearer tokens against the configured keys; one per service process."""

    def __init__(self, settings: SharedSettings, *, client: httpx.AsyncClient | None = None):
        self._settings = settings
        self._algorithms = list(settings.auth_algorithms)
        self._client = client or httpx.AsyncClient(timeout=5)
        # One source of keys: the identity provider's JWKS, else one PEM key (or the
        # development key), loaded once here.
        self._jwks: _JwksCache | None = None
        self._static_key: Any = None
        if settings.auth_jwks_url:
            self._jwks = _JwksCache(
                settings.auth_jwks_url, self._client, settings.auth_jwks_cache_seconds
            )
        else:
            pem = settings.auth_public_key or development_public_key_pem()
            self._static_key = serialization.load_pem_public_key(pem.encode())

    async def aclose(self) -> None:
        await self._client.aclose()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken("the token is not a JWT") from error
        if header.get("alg") not in self._algorithms:
            raise InvalidToken(f"tokens must be signed with one of {self._algorithms}")
        key = (await self._jwks.key(header.get("kid"))).key if self._jwks else self._static_key
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._settings.auth_audience,
                issuer=self._settings.auth_issuer,
                leeway=self._settings.auth_leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the token has expired") from error
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            # TypeError/ValueError: an RS256 header over an EC key and the like.
            raise InvalidToken(f"the token is not valid: {error}") from error
        return principal_from_claims(claims)


def development_bearer(
    role: Role = Role.SYSTEM, *, subject: str = "crm-cli", **claims: Any
) -> dict[str, str]:
    """The Authorization header of a development token (tools, benchmarks, tests)."""
    token = issue_development_token(SharedSettings(), role=role, subject=subject, **claims)
    return {"Authorization": f"Bearer {token}"}
