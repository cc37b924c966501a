"""Administration of societies, users, partner clients and signing keys (used by the CLI).

Societies are created by the owner connection (no request role may insert one); everything else
runs under the issuer's role.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from schemas.enums import StaffRole
from service.auth import credentials, repository
from service.auth.issuer import ASSERTION_ALGORITHMS, client_keys
from service.auth.jwt import VerificationKey
from service.auth.scopes import SECOND_FACTOR_ROLES
from service.db.engine import OWNER_ROLE, SessionFactory, auth_session, scoped_session
from service.db.models import ApiClient, AppUser, Society
from service.societies import repository as societies


class AdminError(ValueError):
    """An administrative request that cannot be carried out; the message says why."""


async def create_society(sessions: SessionFactory, code: str, name: str) -> Society:
    """Create a society (or return the existing one with this code)."""
    async with scoped_session(sessions, role=OWNER_ROLE) as session:
        society = await societies.get_or_create(session, code=code, name=name)
        await session.commit()
    return society


async def _society(session: Any, code: str) -> Society:
    society = await societies.get_by_code(session, code)
    if society is None:
        raise AdminError(f"no society with code {code!r}; create it first")
    return society


def _roles(roles: list[str]) -> list[str]:
    valid = {role.value for role in StaffRole}
    unknown = sorted(set(roles) - valid)
    if unknown or not roles:
        raise AdminError(f"unknown or missing roles {unknown}; choose from {sorted(valid)}")
    return sorted(set(roles))


@dataclass(frozen=True, slots=True)
class NewUser:
    """A created account and, when enrolled, its TOTP secret and provisioning URI."""

    user: AppUser
    totp_secret: str | None
    totp_uri: str | None


async def create_user(
    sessions: SessionFactory,
    *,
    society_code: str,
    username: str,
    roles: list[str],
    password: str,
    service_secret: bytes,
    display_name: str | None = None,
    second_factor: bool = False,
) -> NewUser:
    """Create an account; admins and supervisors always get a TOTP second factor.

    The TOTP secret is stored encrypted under `service_secret` and returned once here.
    """
    chosen = _roles(roles)
    try:
        password_hash = credentials.hash_password(password)
    except ValueError as err:
        raise AdminError(str(err)) from None
    needs_totp = second_factor or any(role in SECOND_FACTOR_ROLES for role in chosen)
    secret = credentials.new_totp_secret() if needs_totp else None
    async with auth_session(sessions) as session:
        society = await _society(session, society_code)
        if await repository.user_by_username(session, username) is not None:
            raise AdminError(f"the username {username!r} is taken")
        user = await repository.insert_user(
            session,
            AppUser(
                society_id=society.id,
                username=username.lower(),
                display_name=display_name,
                roles=chosen,
                password_hash=password_hash,
                totp_secret=credentials.seal_totp_secret(secret, service_secret)
                if secret
                else None,
            ),
        )
        await session.commit()
    uri = credentials.provisioning_uri(secret, user.username) if secret else None
    return NewUser(user, secret, uri)


async def set_password(sessions: SessionFactory, username: str, password: str) -> None:
    """Replace an account's password (and unlock it)."""
    try:
        password_hash = credentials.hash_password(password)
    except ValueError as err:
        raise AdminError(str(err)) from None
    async with auth_session(sessions) as session:
        user = await repository.user_by_username(session, username)
        if user is None:
            raise AdminError(f"no user {username!r}")
        await repository.set_password(session, user.id, password_hash)
        await session.commit()


async def disable_user(sessions: SessionFactory, username: str) -> None:
    """Disable an account and revoke its refresh tokens at once."""
    async with auth_session(sessions) as session:
        user = await repository.user_by_username(session, username)
        if user is None:
            raise AdminError(f"no user {username!r}")
        await repository.disable_user(session, user.id)
        await session.commit()


async def disable_client(sessions: SessionFactory, client_id: str) -> None:
    """Disable a partner client: no new tokens, and its current ones are refused at once."""
    async with auth_session(sessions) as session:
        if not await repository.disable_client(session, client_id):
            if await repository.client_by_client_id(session, client_id) is None:
                raise AdminError(f"no client {client_id!r}")
        await session.commit()


async def set_client_keys(sessions: SessionFactory, client_id: str, jwks: Any) -> list[str]:
    """Replace a partner client's public keys; the `kid`s now accepted.

    Rotation without downtime takes three calls: register the old and the new key together,
    let the partner sign its assertions with the new one, then register the new one alone.
    Tokens already issued stay valid until they expire (minutes)."""
    document = validate_jwks(jwks)
    async with auth_session(sessions) as session:
        if not await repository.set_client_jwks(session, client_id, document):
            raise AdminError(f"no client {client_id!r}")
        await session.commit()
    return [key["kid"] for key in document["keys"]]


def validate_jwks(jwks: Any) -> dict[str, Any]:
    """A client's JWK Set: public signing keys only, each with `kid` and a supported `alg`."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise AdminError('the JWKS must be an object with a non-empty "keys" list')
    for jwk in jwks["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            raise AdminError("every key needs a `kid`")
        if jwk.get("alg") not in ASSERTION_ALGORITHMS:
            raise AdminError(
                f"key {jwk['kid']!r}: `alg` must be one of {sorted(ASSERTION_ALGORITHMS)}"
            )
        try:
            VerificationKey(kid=jwk["kid"], alg=jwk["alg"], public_jwk=jwk)
        except ValueError as err:
            raise AdminError(f"key {jwk['kid']!r}: {err}") from None
    assert client_keys(jwks)
    return jwks


async def create_client(
    sessions: SessionFactory,
    *,
    society_code: str,
    name: str,
    jwks: Any,
    roles: list[str] | None = None,
    client_id: str | None = None,
) -> ApiClient:
    """Register a partner system of one society with its public keys."""
    document = validate_jwks(jwks)
    chosen = _roles(roles or [StaffRole.PARTNER.value])
    async with auth_session(sessions) as session:
        society = await _society(session, society_code)
        identifier = client_id or f"kc-{society.code}-{secrets.token_hex(8)}"
        if await repository.client_by_client_id(session, identifier) is not None:
            raise AdminError(f"the client id {identifier!r} is taken")
        client = await repository.insert_client(
            session,
            ApiClient(
                society_id=society.id, client_id=identifier, name=name, roles=chosen, jwks=document
            ),
        )
        await session.commit()
    return client
