"""Every forged, stale, mis-addressed or misused bearer token is a 401, over real HTTP.

Each case goes through the whole application (`GET /v1/tracing-requests`) and must come back as
the same refusal: 401, `application/problem+json` of type `urn:kintrace:problem:unauthorized`,
and a `WWW-Authenticate: Bearer error="invalid_token"` challenge. Hostile tokens are built by
hand (json + base64url + cryptography) or signed with the service's real private key where the
attack is a wrong claim rather than a wrong signature. A control case with a valid token gets
200 through the very same builders, so the suite cannot pass vacuously. The refusal also comes
before any other error: routing (404, 405), body parsing (400, 413), validation (422) and the
purpose check (400) only ever see authenticated callers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from service.auth import admin
from service.auth.jwt import generate_signing_key, sign_jwt
from service.auth.keys import SigningMaterial
from service.runtime import Runtime
from tests.conftest import TEST_PASSWORD, Staff, StaffFactory

PROTECTED = "/v1/tracing-requests"
TOKEN_ENDPOINT = "/v1/auth/token"
PROBLEM_JSON = "application/problem+json"
UNAUTHORIZED = "urn:kintrace:problem:unauthorized"
PURPOSE_REQUIRED = "urn:kintrace:problem:purpose-required"
LEEWAY_BEYOND = 120  # seconds past the verifier's 30 s leeway
MAX_BODY_BYTES = 65_536  # the conftest settings' body cap


# --- encoding and signing by hand ------------------------------------------------------------


def b64(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(segment: str) -> bytes:
    """Inverse of `b64`."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def segment(value: Any) -> str:
    """A JSON object as a compact JWS segment."""
    return b64(json.dumps(value, separators=(",", ":")).encode())


@cache
def stranger_key(alg: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """A private key nobody registered anywhere (one per algorithm, made once)."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def raw_signature(signing_input: bytes, key: Any, alg: str) -> bytes:
    """A JWS signature (ES*: raw r||s; RS256: PKCS#1 v1.5) made with `cryptography` alone."""
    if alg in ("ES256", "ES384"):
        digest, size = (hashes.SHA256(), 32) if alg == "ES256" else (hashes.SHA384(), 48)
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    signature: bytes = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signature


def hand_signed(header: dict[str, Any], claims: dict[str, Any], key: Any, alg: str) -> str:
    """A compact JWS with any header, signed by hand with `key` under `alg`."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64(raw_signature(signing_input.encode(), key, alg))}"


def hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token whose HMAC key is `secret` (the algorithm-confusion attack)."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def public_key_bytes(jwk: dict[str, Any], encoding: serialization.Encoding) -> bytes:
    """The SubjectPublicKeyInfo of a published EC P-256 JWK, as PEM or DER."""
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64decode(jwk["x"]), "big"),
        int.from_bytes(b64decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    return numbers.public_key().public_bytes(
        encoding, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def bearer(token: str) -> dict[str, str]:
    """`Authorization: Bearer` and the purpose, so the token is the only thing wrong."""
    return {"Authorization": f"Bearer {token}", "Kintrace-Purpose": "tracing"}


def assert_unauthorized(response: httpx.Response) -> None:
    """The one refusal every bad token gets."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == UNAUTHORIZED
    challenge = response.headers["www-authenticate"]
    assert "Bearer" in challenge
    assert 'error="invalid_token"' in challenge


# --- the context every case builds from ------------------------------------------------------


@dataclass(frozen=True)
class Forge:
    """What a forger (or the test, playing the service) has at hand."""

    runtime: Runtime
    caller: Staff
    signing: SigningMaterial
    published: dict[str, Any]
    http: httpx.AsyncClient

    def claims(self, **changes: Any) -> dict[str, Any]:
        """The claims the issuer would sign for `caller`; a change to None removes the claim."""
        now = int(time.time())
        settings = self.runtime.settings
        base: dict[str, Any] = {
            "iss": settings.issuer,
            "sub": f"user:{self.caller.user_id}",
            "aud": settings.audience,
            "iat": now,
            "nbf": now,
            "exp": now + settings.access_token_ttl_seconds,
            "jti": str(uuid.uuid4()),
            "client_id": "kintrace-local",
            "scope": "tracing:close tracing:read tracing:write",
            "roles": ["caseworker"],
            "society": self.caller.society_code,
            "society_id": str(self.caller.society_id),
        }
        base.update(changes)
        return {name: value for name, value in base.items() if value is not None}

    def sign(self, claims: dict[str, Any], *, typ: str = "at+jwt", kid: str | None = None) -> str:
        """Sign with the service's real private key (the attack is in the claims)."""
        return sign_jwt(
            claims,
            private_key_pem=self.signing.private_pem,
            kid=kid or self.signing.kid,
            alg=self.signing.alg,
            typ=typ,
        )

    def header(self, **changes: Any) -> dict[str, Any]:
        """The service's access-token header with changes."""
        return {"alg": self.signing.alg, "kid": self.signing.kid, "typ": "at+jwt", **changes}

    def valid(self) -> str:
        """A token the service accepts."""
        return self.sign(self.claims())


@pytest.fixture
async def forge(runtime: Runtime, caseworker: Staff, bare_client: httpx.AsyncClient) -> Forge:
    """The signing material, the published keys and the signed-in caseworker."""
    signing = (await runtime.keys.keyring()).signing
    assert signing is not None
    published = (await bare_client.get("/.well-known/jwks.json")).json()
    return Forge(runtime, caseworker, signing, published, bare_client)


async def password_grant(http: httpx.AsyncClient, username: str) -> dict[str, Any]:
    """A real sign-in with the password grant; its token response."""
    response = await http.post(
        TOKEN_ENDPOINT,
        data={"grant_type": "password", "username": username, "password": TEST_PASSWORD},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the cases ---------------------------------------------------------------------------------

Headers = dict[str, str]
Case = Callable[[Forge], Awaitable[Headers]]


async def no_header(_: Forge) -> Headers:
    return {"Kintrace-Purpose": "tracing"}


async def basic_scheme(_: Forge) -> Headers:
    credentials = base64.b64encode(f"someone:{TEST_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {credentials}", "Kintrace-Purpose": "tracing"}


async def empty_bearer(_: Forge) -> Headers:
    return {"Authorization": "Bearer ", "Kintrace-Purpose": "tracing"}


async def bare_scheme(_: Forge) -> Headers:
    return {"Authorization": "Bearer", "Kintrace-Purpose": "tracing"}


async def alg_none_unsigned(f: Forge) -> Headers:
    return bearer(f"{segment(f.header(alg='none'))}.{segment(f.claims())}.")


async def alg_none_with_signature(f: Forge) -> Headers:
    signature = f.valid().rsplit(".", 1)[1]
    return bearer(f"{segment(f.header(alg='none'))}.{segment(f.claims())}.{signature}")


def _published_key(f: Forge) -> dict[str, Any]:
    """The service's current public JWK, as `/.well-known/jwks.json` publishes it."""
    [key] = [k for k in f.published["keys"] if k["kid"] == f.signing.kid]
    found: dict[str, Any] = key
    return found


async def hs256_public_pem(f: Forge) -> Headers:
    secret = public_key_bytes(_published_key(f), serialization.Encoding.PEM)
    return bearer(hmac_signed(f.header(alg="HS256"), f.claims(), secret))


async def hs256_public_der(f: Forge) -> Headers:
    secret = public_key_bytes(_published_key(f), serialization.Encoding.DER)
    return bearer(hmac_signed(f.header(alg="HS256"), f.claims(), secret))


async def stranger_under_real_kid(f: Forge) -> Headers:
    return bearer(hand_signed(f.header(), f.claims(), stranger_key("ES256"), "ES256"))


async def stranger_pem_under_real_kid(f: Forge) -> Headers:
    pem, _ = generate_signing_key("ES256")
    return bearer(
        sign_jwt(f.claims(), private_key_pem=pem, kid=f.signing.kid, alg="ES256", typ="at+jwt")
    )


async def rs256_header_ec_kid(f: Forge) -> Headers:
    return bearer(hand_signed(f.header(alg="RS256"), f.claims(), stranger_key("RS256"), "RS256"))


async def es384_header_ec_kid(f: Forge) -> Headers:
    return bearer(hand_signed(f.header(alg="ES384"), f.claims(), stranger_key("ES384"), "ES384"))


def _missing(claim: str) -> Case:
    async def build(f: Forge) -> Headers:
        return bearer(f.sign(f.claims(**{claim: None})))

    return build


def _signed_with(**changes: Any) -> Case:
    """Real key, valid token, some claims changed (callables get the current time)."""

    async def build(f: Forge) -> Headers:
        now = int(time.time())
        values = {k: v(now) if callable(v) else v for k, v in changes.items()}
        return bearer(f.sign(f.claims(**values)))

    return build


async def issuer_with_slash(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(iss=f.runtime.settings.issuer + "/")))


async def typ_jwt(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(), typ="JWT"))


async def typ_id_token(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(), typ="id_token+jwt"))


async def unknown_kid(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(), kid="no-such-key-" + secrets.token_hex(8)))


async def tampered_payload(f: Forge) -> Headers:
    header, _, signature = f.valid().split(".")
    forged = f.claims(sub=f"user:{uuid.uuid4()}", roles=["admin", "auditor", "supervisor"])
    return bearer(f"{header}.{segment(forged)}.{signature}")


async def tampered_roles_only(f: Forge) -> Headers:
    header, payload, signature = f.valid().split(".")
    claims = json.loads(b64decode(payload))
    claims["roles"] = ["data_protection_officer"]
    return bearer(f"{header}.{segment(claims)}.{signature}")


async def oversized(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(padding="x" * 12 * 1024)))


async def jwe_shaped(f: Forge) -> Headers:
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": f.signing.kid, "typ": "at+jwt"}
    parts = [segment(header), *(b64(secrets.token_bytes(n)) for n in (256, 12, 64, 16))]
    return bearer(".".join(parts))


async def refresh_as_bearer(f: Forge) -> Headers:
    tokens = await password_grant(f.http, f.caller.username)
    return bearer(tokens["refresh_token"])


async def unknown_user(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(sub=f"user:{uuid.uuid4()}")))


async def unknown_client(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(sub="client:kc-local-0000000000000000")))


async def unrecognised_subject(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(sub="root")))


async def other_society(f: Forge) -> Headers:
    elsewhere = await admin.create_society(f.runtime.sessions, "elsewhere", "Elsewhere")
    claims = f.claims(society=elsewhere.code, society_id=str(elsewhere.id))
    return bearer(f.sign(claims))


async def random_society(f: Forge) -> Headers:
    return bearer(f.sign(f.claims(society_id=str(uuid.uuid4()))))


async def garbage(_: Forge) -> Headers:
    return bearer("not-a-jwt")


NO_CREDENTIALS = "Send an access token"
# (case, a fragment of the refusal's detail naming the verifier's reason)
NEGATIVE_CASES = [
    pytest.param(no_header, NO_CREDENTIALS, id="no Authorization header"),
    pytest.param(basic_scheme, NO_CREDENTIALS, id="Basic scheme"),
    pytest.param(empty_bearer, NO_CREDENTIALS, id="empty bearer"),
    pytest.param(bare_scheme, NO_CREDENTIALS, id="Bearer without token"),
    pytest.param(garbage, "(malformed)", id="not a JWT"),
    pytest.param(alg_none_unsigned, "(malformed)", id="alg none, no signature"),
    pytest.param(alg_none_with_signature, "(algorithm)", id="alg none, with a signature"),
    pytest.param(hs256_public_pem, "(algorithm)", id="HS256 keyed with the public key (PEM)"),
    pytest.param(hs256_public_der, "(algorithm)", id="HS256 keyed with the public key (DER)"),
    pytest.param(stranger_under_real_kid, "(signature)", id="stranger's key under the real kid"),
    pytest.param(
        stranger_pem_under_real_kid, "(signature)", id="stranger's key via sign_jwt, real kid"
    ),
    pytest.param(rs256_header_ec_kid, "(algorithm)", id="RS256 header with the EC kid"),
    pytest.param(es384_header_ec_kid, "(algorithm)", id="ES384 header with the EC kid"),
    pytest.param(_missing("aud"), "(missing_claim)", id="missing aud"),
    pytest.param(_missing("exp"), "(missing_claim)", id="missing exp"),
    pytest.param(_missing("iss"), "(missing_claim)", id="missing iss"),
    pytest.param(_missing("sub"), "(missing_claim)", id="missing sub"),
    pytest.param(_missing("iat"), "(missing_claim)", id="missing iat"),
    pytest.param(_missing("jti"), "(missing_claim)", id="missing jti"),
    pytest.param(
        _signed_with(iat=lambda n: n - 900, nbf=lambda n: n - 900, exp=lambda n: n - 600),
        "(expired)",
        id="expired",
    ),
    pytest.param(
        _signed_with(iat=lambda n: n - 400, nbf=lambda n: n - 400, exp=lambda n: n - 31),
        "(expired)",
        id="expired just past the leeway",
    ),
    pytest.param(
        _signed_with(nbf=lambda n: n + LEEWAY_BEYOND, exp=lambda n: n + 600),
        "(not_yet_valid)",
        id="nbf in the future",
    ),
    pytest.param(
        _signed_with(iat=lambda n: n + LEEWAY_BEYOND, nbf=None, exp=lambda n: n + 600),
        "(not_yet_valid)",
        id="iat in the future",
    ),
    pytest.param(_signed_with(aud="urn:someone-else:api"), "(audience)", id="wrong audience"),
    pytest.param(
        _signed_with(aud=["urn:someone-else:api"]), "(audience)", id="wrong audience list"
    ),
    pytest.param(_signed_with(iss="https://evil.example"), "(unknown_issuer)", id="wrong issuer"),
    pytest.param(issuer_with_slash, "(unknown_issuer)", id="issuer with a trailing slash"),
    pytest.param(_signed_with(exp="9999999999"), "(invalid_claim)", id="exp as a string"),
    pytest.param(_signed_with(sub=""), "(invalid_claim)", id="empty sub"),
    pytest.param(unknown_kid, "(unknown_kid)", id="unknown kid"),
    pytest.param(tampered_payload, "(signature)", id="tampered payload (sub and roles)"),
    pytest.param(tampered_roles_only, "(signature)", id="tampered payload (roles only)"),
    pytest.param(oversized, "too large", id="12 KB token"),
    pytest.param(jwe_shaped, "(jwe)", id="JWE-shaped 5-part token"),
    pytest.param(typ_jwt, "(type)", id="typ JWT"),
    pytest.param(typ_id_token, "(type)", id="typ id_token+jwt"),
    pytest.param(refresh_as_bearer, "(malformed)", id="refresh token as bearer"),
    pytest.param(unknown_user, "(subject)", id="sub is a user that does not exist"),
    pytest.param(unknown_client, "(subject)", id="sub is a client that does not exist"),
    pytest.param(unrecognised_subject, "(subject)", id="sub of no known kind"),
    pytest.param(other_society, "(subject)", id="society_id of another society"),
    pytest.param(random_society, "(subject)", id="society_id of no society"),
]


@pytest.mark.parametrize(("case", "reason"), NEGATIVE_CASES)
async def test_bad_token_is_401(forge: Forge, case: Case, reason: str) -> None:
    """Refused with the one 401, and for the reason the case is about (not by accident)."""
    response = await forge.http.get(PROTECTED, headers=await case(forge))
    assert_unauthorized(response)
    assert reason in response.json()["detail"]


CONTROL_CASES = [
    pytest.param(lambda f: f.valid(), id="forged by the test with the real key"),
    pytest.param(lambda f: f.caller.token, id="issued by the service"),
    pytest.param(lambda f: f.sign(f.claims(), typ="application/at+jwt"), id="typ with prefix"),
]


@pytest.mark.parametrize("token", CONTROL_CASES)
async def test_valid_token_is_200(forge: Forge, token: Callable[[Forge], str]) -> None:
    """The control: the builders above make tokens the service accepts when nothing is wrong."""
    response = await forge.http.get(PROTECTED, headers=bearer(token(forge)))
    assert response.status_code == 200, response.text


async def test_disabled_users_fresh_token_after_refresh(
    runtime: Runtime, staff: StaffFactory, bare_client: httpx.AsyncClient
) -> None:
    """Disabling a user ends at once both a freshly refreshed access token and the refresh."""
    user = await staff()
    first = await password_grant(bare_client, user.username)
    refreshed = await bare_client.post(
        TOKEN_ENDPOINT,
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert (
        await bare_client.get(PROTECTED, headers=bearer(fresh["access_token"]))
    ).status_code == 200

    await admin.disable_user(runtime.sessions, user.username)

    assert_unauthorized(await bare_client.get(PROTECTED, headers=bearer(fresh["access_token"])))
    again = await bare_client.post(
        TOKEN_ENDPOINT,
        data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
    )
    assert again.status_code == 400, again.text
    assert again.json()["error"] == "invalid_grant"


# --- 401 before anything else ------------------------------------------------------------------

OVERSIZED = b'{"notes": "' + b"a" * (MAX_BODY_BYTES + 1024) + b'"}'


@dataclass(frozen=True)
class Probe:
    """A request that, once authenticated, fails with `authorized_status`."""

    method: str
    path: str
    authorized_status: int
    content: bytes | None = None

    async def send(self, http: httpx.AsyncClient, headers: Headers) -> httpx.Response:
        """Send it with `headers` (and a JSON content type when it has a body)."""
        if self.content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        return await http.request(self.method, self.path, headers=headers, content=self.content)


PROBES = [
    pytest.param(Probe("GET", f"{PROTECTED}/not-a-uuid", 422), id="invalid path parameter"),
    pytest.param(Probe("GET", "/v1/nope", 404), id="unknown route"),
    pytest.param(Probe("DELETE", PROTECTED, 405), id="method not allowed"),
    pytest.param(Probe("POST", PROTECTED, 400, b'{"enquirer": '), id="malformed JSON"),
    pytest.param(Probe("POST", PROTECTED, 413, OVERSIZED), id="oversized body"),
]

NO_OR_BAD_TOKEN = [
    pytest.param(no_header, id="no token"),
    pytest.param(stranger_under_real_kid, id="forged token"),
    pytest.param(
        _signed_with(iat=lambda n: n - 900, nbf=None, exp=lambda n: n - 600), id="expired"
    ),
]


@pytest.mark.parametrize("credentials", NO_OR_BAD_TOKEN)
@pytest.mark.parametrize("probe", PROBES)
async def test_401_comes_before_other_errors(forge: Forge, probe: Probe, credentials: Case) -> None:
    assert_unauthorized(await probe.send(forge.http, await credentials(forge)))


@pytest.mark.parametrize("probe", PROBES)
async def test_probe_fails_otherwise_when_authenticated(forge: Forge, probe: Probe) -> None:
    """The control of the precedence test: with a valid token each probe is its own error."""
    response = await probe.send(forge.http, bearer(forge.valid()))
    assert response.status_code == probe.authorized_status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize(
    "purpose",
    [pytest.param(None, id="no purpose"), pytest.param("curiosity", id="unknown purpose")],
)
async def test_purpose_is_checked_after_authentication(forge: Forge, purpose: str | None) -> None:
    purpose_header = {} if purpose is None else {"Kintrace-Purpose": purpose}
    authenticated = await forge.http.get(
        PROTECTED, headers={"Authorization": f"Bearer {forge.valid()}", **purpose_header}
    )
    assert authenticated.status_code == 400, authenticated.text
    assert authenticated.headers["content-type"] == PROBLEM_JSON
    assert authenticated.json()["type"] == PURPOSE_REQUIRED

    anonymous = await forge.http.get(PROTECTED, headers=purpose_header)
    assert_unauthorized(anonymous)
