"""The JWT verifier: every known attack on a JWT consumer is refused, with the right reason.

Hostile tokens are built by hand (json + base64url + cryptography), not with the code under
test, so a bug in the signer cannot hide a bug in the verifier. All times come from `NOW`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from jose import jwt as jose_jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from service.auth.jwt import (
    MAX_TOKEN_BYTES,
    InvalidToken,
    TrustedIssuer,
    VerificationKey,
    check_cryptography_backend,
    generate_signing_key,
    public_jwk_from_pem,
    sign_jwt,
    unverified_issuer,
    verify_jwt,
)

NOW = 1_700_000_000
SERVICE = "https://id.kintrace.test"
PARTNER = "https://partner.example"
MULTI = "https://multi.example"
API = "kintrace-api"
TOKEN_ENDPOINT = "https://kintrace.test/oauth/token"

ES_PEM, ES_JWK = generate_signing_key("ES256")
RS_PEM, RS_JWK = generate_signing_key("RS256")
STRANGER_PEM, _ = generate_signing_key("ES256")
ES_KID: str = ES_JWK["kid"]
RS_KID: str = RS_JWK["kid"]


def _public_pem(private_pem: bytes, encoding: serialization.Encoding) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)


ES_PUBLIC_PEM = _public_pem(ES_PEM, serialization.Encoding.PEM)
ES_PUBLIC_DER = _public_pem(ES_PEM, serialization.Encoding.DER)

ISSUERS = {
    SERVICE: TrustedIssuer(
        issuer=SERVICE,
        audiences=frozenset({API}),
        algorithms=frozenset({"ES256"}),
        token_types=frozenset({"at+jwt"}),
    ),
    # RFC 7523 client assertions: short-lived, replay-protected by jti, typ not checked.
    PARTNER: TrustedIssuer(
        issuer=PARTNER,
        audiences=frozenset({TOKEN_ENDPOINT}),
        algorithms=frozenset({"RS256"}),
        token_types=frozenset(),
        required_claims=("iss", "aud", "exp", "iat", "sub", "jti"),
        max_lifetime_seconds=300,
    ),
    MULTI: TrustedIssuer(
        issuer=MULTI,
        audiences=frozenset({API}),
        algorithms=frozenset({"ES256", "RS256"}),
        token_types=frozenset(),
    ),
    "https://alias.example": TrustedIssuer(
        issuer=SERVICE,
        audiences=frozenset({API}),
        algorithms=frozenset({"ES256"}),
        token_types=frozenset(),
    ),
}
KEYS = {
    (SERVICE, ES_KID): VerificationKey(kid=ES_KID, alg="ES256", public_jwk=ES_JWK),
    (PARTNER, RS_KID): VerificationKey(kid=RS_KID, alg="RS256", public_jwk=RS_JWK),
    (MULTI, ES_KID): VerificationKey(kid=ES_KID, alg="ES256", public_jwk=ES_JWK),
    (MULTI, RS_KID): VerificationKey(kid=RS_KID, alg="RS256", public_jwk=RS_JWK),
    ("https://alias.example", ES_KID): VerificationKey(kid=ES_KID, alg="ES256", public_jwk=ES_JWK),
}


def lookup(issuer: str, kid: str) -> VerificationKey | None:
    return KEYS.get((issuer, kid))


def verify(token: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("now", NOW)
    return verify_jwt(token, issuers=ISSUERS, keys=lookup, **kwargs)


# --- hand-built tokens ---------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def raw_sign(signing_input: bytes, private_pem: bytes, alg: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def claims(issuer: str = SERVICE, **changes: Any) -> dict[str, Any]:
    """Valid claims for `issuer`; a change to None removes the claim."""
    base: dict[str, Any] = {
        "iss": issuer,
        "aud": TOKEN_ENDPOINT if issuer == PARTNER else API,
        "sub": "caseworker-17" if issuer != PARTNER else "partner-client",
        "iat": NOW - 60,
        "exp": NOW + 200,
        "jti": "3f9c2a",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def token(
    body: dict[str, Any] | None = None,
    *,
    alg: str = "ES256",
    key: bytes = ES_PEM,
    **header_changes: Any,
) -> str:
    """A token signed by hand; header defaults to the service's ES256 access-token header."""
    header: dict[str, Any] = {"alg": alg, "kid": ES_KID, "typ": "at+jwt"}
    header.update(header_changes)
    header = {name: value for name, value in header.items() if value is not None}
    signing_input = f"{segment(header)}.{segment(claims() if body is None else body)}"
    return f"{signing_input}.{b64(raw_sign(signing_input.encode(), key, alg))}"


def partner_token(body: dict[str, Any] | None = None, **header: Any) -> str:
    header.setdefault("kid", RS_KID)
    header.setdefault("typ", "JWT")
    return token(claims(PARTNER) if body is None else body, alg="RS256", key=RS_PEM, **header)


def hs256(secret: bytes) -> str:
    """An HS256 token whose HMAC secret is `secret` (the algorithm-confusion attack)."""
    signing_input = f"{segment({'alg': 'HS256', 'kid': ES_KID, 'typ': 'at+jwt'})}."
    signing_input += segment(claims())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def unsigned(signature: str = "") -> str:
    header = segment({"alg": "none", "kid": ES_KID, "typ": "at+jwt"})
    return f"{header}.{segment(claims())}.{signature}"


def tampered() -> str:
    header, _, signature = token().split(".")
    return f"{header}.{segment(claims(sub='admin'))}.{signature}"


def duplicate_claim() -> str:
    return raw_payload((json.dumps(claims())[:-1] + ', "sub": "admin"}').encode())


def signed_by_hand(header: dict[str, Any], payload: bytes) -> str:
    signing_input = f"{segment(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(raw_sign(signing_input.encode(), ES_PEM, 'ES256'))}"


def raw_payload(payload: bytes) -> str:
    return signed_by_hand({"alg": "ES256", "kid": ES_KID, "typ": "at+jwt"}, payload)


def with_alg(alg: Any) -> str:
    """Header `alg` set to anything, signature made with the real ES256 key."""
    header = {"alg": alg, "kid": ES_KID, "typ": "at+jwt"}
    if alg is None:
        del header["alg"]
    return signed_by_hand(header, json.dumps(claims()).encode())


def non_canonical_signature() -> str:
    valid = token()
    # 64 signature bytes take 86 characters; the last one carries 4 unused bits.
    last = valid[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return valid[:-1] + alphabet[alphabet.index(last) ^ 1]


def truncated_signature() -> str:
    header, payload, signature = token().split(".")
    return f"{header}.{payload}.{b64(base64.urlsafe_b64decode(signature + '==')[:60])}"


def der_signature() -> str:
    """ES256 signatures are raw r||s (RFC 7518 §3.4); the DER form must not verify."""
    signing_input = f"{segment({'alg': 'ES256', 'kid': ES_KID, 'typ': 'at+jwt'})}."
    signing_input += segment(claims())
    key = serialization.load_pem_private_key(ES_PEM, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return f"{signing_input}.{b64(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))}"


def oversized() -> str:
    return token(claims(padding="x" * 12 * 1024))


# --- refusals --------------------------------------------------------------------------------

REFUSALS: list[tuple[str, Callable[[], Any], str]] = [
    # shape
    ("not a string", lambda: token().encode(), "malformed"),
    ("opaque refresh token", lambda: secrets.token_urlsafe(32), "malformed"),
    ("empty", lambda: "", "malformed"),
    ("two segments", lambda: token().rsplit(".", 1)[0], "malformed"),
    ("four segments", lambda: token() + ".AAAA", "malformed"),
    ("padded base64", lambda: token() + "==", "malformed"),
    ("non-base64url character", lambda: token().replace(".", ".+", 1), "malformed"),
    ("12 KB token", oversized, "too_large"),
    ("just over the limit", lambda: "a" * (MAX_TOKEN_BYTES + 1), "too_large"),
    ("multi-byte over the limit", lambda: "é" * (MAX_TOKEN_BYTES // 2 + 1), "too_large"),
    ("JWE shape", lambda: f"{segment({'alg': 'RSA-OAEP', 'enc': 'A256GCM'})}.a.b.c.d", "jwe"),
    ("enc header on a JWS", lambda: token(enc="A256GCM"), "jwe"),
    ("header not an object", lambda: f"{segment(['ES256'])}.{segment(claims())}.AAAA", "malformed"),
    ("payload not an object", lambda: raw_payload(b'"sub"'), "malformed"),
    ("duplicate claim", duplicate_claim, "malformed"),
    ("NaN in payload", lambda: raw_payload(b'{"exp":NaN}'), "malformed"),
    ("infinite number in payload", lambda: raw_payload(b'{"exp":1e999}'), "malformed"),
    ("payload not UTF-8", lambda: raw_payload(b'{"sub":"\xff"}'), "malformed"),
    ("non-canonical signature encoding", non_canonical_signature, "malformed"),
    # header members that would let the token choose its key or processing
    ("jku header", lambda: token(jku="https://evil.example/jwks"), "header"),
    ("x5u header", lambda: token(x5u="https://evil.example/cert"), "header"),
    ("jwk header", lambda: token(jwk=ES_JWK), "header"),
    ("x5c header", lambda: token(x5c=["MIIB"]), "header"),
    ("crit header", lambda: token(crit=["exp"]), "header"),
    # algorithm
    ("alg none, empty signature", unsigned, "malformed"),
    ("alg none, junk signature", lambda: unsigned("AAAA"), "algorithm"),
    ("alg None capitalised", lambda: with_alg("None"), "algorithm"),
    ("alg not a string", lambda: with_alg(["ES256"]), "algorithm"),
    ("no alg", lambda: with_alg(None), "algorithm"),
    ("HS256 keyed with own public key PEM", lambda: hs256(ES_PUBLIC_PEM), "algorithm"),
    ("HS256 keyed with own public key DER", lambda: hs256(ES_PUBLIC_DER), "algorithm"),
    (
        "HS256 by jose keyed with DER",
        lambda: jose_jwt.encode(claims(), ES_PUBLIC_DER, "HS256", headers={"kid": ES_KID}),
        "algorithm",
    ),
    (
        "RS256 header for an ES256-only issuer",
        lambda: partner_token(claims(SERVICE), kid=ES_KID),
        "algorithm",
    ),
    ("RS256 header on the EC key", lambda: partner_token(claims(MULTI), kid=ES_KID), "algorithm"),
    ("ES256 header on the RSA key", lambda: token(claims(MULTI), kid=RS_KID), "algorithm"),
    ("PS256 header", lambda: with_alg("PS256"), "algorithm"),
    ("HS512 header", lambda: with_alg("HS512"), "algorithm"),
    # issuer and key
    ("unknown issuer", lambda: token(claims(iss="https://evil.example")), "unknown_issuer"),
    ("issuer not a string", lambda: token(claims(iss=[SERVICE])), "issuer"),
    ("issuer entry for another iss", lambda: token(claims(iss="https://alias.example")), "issuer"),
    ("unknown kid", lambda: token(kid="not-a-known-kid"), "unknown_kid"),
    ("no kid", lambda: token(kid=None), "unknown_kid"),
    ("kid not a string", lambda: token(kid=7), "unknown_kid"),
    ("overlong kid", lambda: token(kid="k" * 257), "unknown_kid"),
    ("stranger's key under our kid", lambda: token(key=STRANGER_PEM), "signature"),
    ("tampered payload", tampered, "signature"),
    ("signature truncated", truncated_signature, "signature"),
    ("signature as DER", der_signature, "signature"),
    # claims
    ("missing aud", lambda: token(claims(aud=None)), "missing_claim"),
    ("missing exp", lambda: token(claims(exp=None)), "missing_claim"),
    ("missing iss", lambda: token(claims(iss=None)), "missing_claim"),
    ("missing sub", lambda: token(claims(sub=None)), "missing_claim"),
    ("missing iat", lambda: token(claims(iat=None)), "missing_claim"),
    (
        "missing jti (client assertion)",
        lambda: partner_token(claims(PARTNER, jti=None)),
        "missing_claim",
    ),
    ("expired", lambda: token(claims(exp=NOW - 31)), "expired"),
    ("expires exactly at the leeway", lambda: token(claims(exp=NOW - 30)), "expired"),
    ("nbf in the future", lambda: token(claims(nbf=NOW + 31)), "not_yet_valid"),
    ("iat in the future", lambda: token(claims(iat=NOW + 31)), "not_yet_valid"),
    ("exp as a string", lambda: token(claims(exp=str(NOW + 200))), "invalid_claim"),
    ("exp as a boolean", lambda: token(claims(exp=True)), "invalid_claim"),
    ("exp null", lambda: token(claims(exp=None) | {"exp": None}), "invalid_claim"),
    ("nbf as a string", lambda: token(claims(nbf="0")), "invalid_claim"),
    ("sub empty", lambda: token(claims(sub="")), "invalid_claim"),
    ("sub not a string", lambda: token(claims(sub=17)), "invalid_claim"),
    ("jti not a string", lambda: token(claims(jti=5)), "invalid_claim"),
    ("wrong audience", lambda: token(claims(aud="another-api")), "audience"),
    ("audience list without us", lambda: token(claims(aud=["a", "b"])), "audience"),
    ("empty audience list", lambda: token(claims(aud=[])), "audience"),
    ("audience as object", lambda: token(claims(aud={API: True})), "audience"),
    ("audience list with non-string", lambda: token(claims(aud=[API, 1])), "audience"),
    # explicit typing and lifetime
    ("wrong typ", lambda: token(typ="JWT"), "type"),
    ("ID token as access token", lambda: token(typ="id_token+jwt"), "type"),
    ("missing typ", lambda: token(typ=None), "type"),
    ("typ not a string", lambda: token(typ=["at+jwt"]), "type"),
    (
        "lifetime over max",
        lambda: partner_token(claims(PARTNER, iat=NOW - 1, exp=NOW + 300)),
        "lifetime",
    ),
]


@pytest.mark.parametrize(
    ("make", "reason"), [pytest.param(make, reason, id=name) for name, make, reason in REFUSALS]
)
def test_refused(make: Callable[[], Any], reason: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        verify(make())
    assert caught.value.reason == reason, str(caught.value)


@pytest.mark.parametrize("make", [pytest.param(make, id=name) for name, make, _ in REFUSALS])
def test_refusal_message_never_contains_the_token(make: Callable[[], Any]) -> None:
    hostile = make()
    with pytest.raises(InvalidToken) as caught:
        verify(hostile)
    message = str(caught.value)
    if isinstance(hostile, str):
        for part in hostile.split("."):
            assert len(part) < 8 or part not in message


# --- acceptance ------------------------------------------------------------------------------


def test_valid_access_token_verifies() -> None:
    assert verify(token()) == claims()


def test_valid_client_assertion_verifies() -> None:
    body = claims(PARTNER, iat=NOW, exp=NOW + 300)
    assert verify(partner_token(body)) == body


def test_issuer_with_two_algorithms_accepts_each_key_with_its_own() -> None:
    assert verify(token(claims(MULTI)))["iss"] == MULTI
    assert verify(partner_token(claims(MULTI)))["iss"] == MULTI


def test_audience_list_with_one_match() -> None:
    assert verify(token(claims(aud=["other", API])))["aud"] == ["other", API]


@pytest.mark.parametrize(
    ("changes", "leeway", "accepted"),
    [
        ({"exp": NOW - 29}, 30, True),
        ({"exp": NOW - 29}, 0, False),
        ({"exp": NOW + 1}, 0, True),
        ({"exp": NOW}, 0, False),
        ({"nbf": NOW + 29}, 30, True),
        ({"nbf": NOW + 1}, 0, False),
        ({"iat": NOW + 29}, 30, True),
        ({"iat": NOW + 1}, 0, False),
        ({"exp": NOW + 0.5}, 0, True),
    ],
)
def test_leeway_honoured(changes: dict[str, Any], leeway: int, accepted: bool) -> None:
    hand_built = token(claims(**changes))
    if accepted:
        verify(hand_built, leeway=leeway)
    else:
        with pytest.raises(InvalidToken):
            verify(hand_built, leeway=leeway)


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT", "Application/At+JWT"])
def test_typ_compared_as_media_type(typ: str) -> None:
    verify(token(typ=typ))


def test_configured_typ_is_normalised_too() -> None:
    issuers = {
        SERVICE: TrustedIssuer(
            issuer=SERVICE,
            audiences=frozenset({API}),
            algorithms=frozenset({"ES256"}),
            token_types=frozenset({"application/AT+JWT"}),
        )
    }
    verify_jwt(token(typ="at+jwt"), issuers=issuers, keys=lookup, now=NOW)


def test_now_defaults_to_the_clock() -> None:
    import time

    current = int(time.time())
    fresh = sign_jwt(
        claims(iat=current, exp=current + 60),
        private_key_pem=ES_PEM,
        kid=ES_KID,
        alg="ES256",
        typ="at+jwt",
    )
    verify_jwt(fresh, issuers=ISSUERS, keys=lookup)
    with pytest.raises(InvalidToken) as caught:
        verify_jwt(token(), issuers=ISSUERS, keys=lookup)
    assert caught.value.reason == "expired"


def test_extra_header_members_are_ignored() -> None:
    verify(token(cty="JWT-ignored", x5t="abc"))


def test_lifetime_at_the_maximum_is_accepted() -> None:
    verify(partner_token(claims(PARTNER, iat=NOW - 100, exp=NOW + 200)))


def test_lifetime_needs_iat() -> None:
    issuers = {
        PARTNER: TrustedIssuer(
            issuer=PARTNER,
            audiences=frozenset({TOKEN_ENDPOINT}),
            algorithms=frozenset({"RS256"}),
            token_types=frozenset(),
            required_claims=("iss", "aud", "exp"),
            max_lifetime_seconds=300,
        )
    }
    with pytest.raises(InvalidToken) as caught:
        verify_jwt(partner_token(claims(PARTNER, iat=None)), issuers=issuers, keys=lookup, now=NOW)
    assert caught.value.reason == "missing_claim"


def test_required_nbf() -> None:
    issuers = {
        SERVICE: TrustedIssuer(
            issuer=SERVICE,
            audiences=frozenset({API}),
            algorithms=frozenset({"ES256"}),
            token_types=frozenset(),
            required_claims=("iss", "aud", "exp", "nbf"),
        )
    }
    verify_jwt(token(claims(nbf=NOW)), issuers=issuers, keys=lookup, now=NOW)
    with pytest.raises(InvalidToken) as caught:
        verify_jwt(token(), issuers=issuers, keys=lookup, now=NOW)
    assert caught.value.reason == "missing_claim"


# --- signing and keys ------------------------------------------------------------------------


def rfc7638(public_jwk: dict[str, Any]) -> str:
    required = ("crv", "kty", "x", "y") if public_jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: public_jwk[m] for m in required}, separators=(",", ":"))
    return b64(hashlib.sha256(canonical.encode()).digest())


@pytest.mark.parametrize(
    ("pem", "public_jwk", "alg"), [(ES_PEM, ES_JWK, "ES256"), (RS_PEM, RS_JWK, "RS256")]
)
def test_generated_key(pem: bytes, public_jwk: dict[str, Any], alg: str) -> None:
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_jwk["kid"] == rfc7638(public_jwk)
    assert public_jwk["alg"] == alg and public_jwk["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & public_jwk.keys()
    assert public_jwk_from_pem(pem, alg=alg) == public_jwk


def test_generated_rsa_key_is_3072_bits() -> None:
    key = serialization.load_pem_private_key(RS_PEM, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 3072


def test_generate_refuses_other_algorithms() -> None:
    with pytest.raises(ValueError):
        generate_signing_key("HS256")


def test_sign_jwt_round_trip_and_header() -> None:
    body = claims()
    signed = sign_jwt(body, private_key_pem=ES_PEM.decode(), kid=ES_KID, alg="ES256", typ="at+jwt")
    header = json.loads(base64.urlsafe_b64decode(signed.split(".")[0] + "=="))
    assert header == {"alg": "ES256", "kid": ES_KID, "typ": "at+jwt"}
    assert verify(signed) == body
    partner = sign_jwt(claims(PARTNER), private_key_pem=RS_PEM, kid=RS_KID, alg="RS256", typ="JWT")
    assert verify(partner)["iss"] == PARTNER


@pytest.mark.parametrize(
    ("pem", "alg"),
    [
        (ES_PEM, "RS256"),
        (RS_PEM, "ES256"),
        (ES_PEM, "ES384"),
        (ES_PEM, "HS256"),
        (ES_PEM, "none"),
        (ES_PUBLIC_PEM, "ES256"),
        (b"not a key", "ES256"),
    ],
)
def test_sign_jwt_refuses_mismatched_keys(pem: bytes, alg: str) -> None:
    with pytest.raises(ValueError):
        sign_jwt(claims(), private_key_pem=pem, kid=ES_KID, alg=alg, typ="at+jwt")


def test_unverified_issuer() -> None:
    assert unverified_issuer(token()) == SERVICE
    assert unverified_issuer(secrets.token_urlsafe(32)) is None
    assert unverified_issuer(oversized()) is None
    assert unverified_issuer(token(claims(iss=None))) is None
    assert unverified_issuer(token(claims(iss=5))) is None


def test_cryptography_backend() -> None:
    check_cryptography_backend()


# --- configuration is validated up front -----------------------------------------------------


def issuer(**changes: Any) -> TrustedIssuer:
    fields: dict[str, Any] = {
        "issuer": SERVICE,
        "audiences": frozenset({API}),
        "algorithms": frozenset({"ES256"}),
        "token_types": frozenset(),
    }
    fields.update(changes)
    return TrustedIssuer(**fields)


@pytest.mark.parametrize(
    "changes",
    [
        {"algorithms": frozenset({"HS256"})},
        {"algorithms": frozenset({"ES256", "hs512"})},
        {"algorithms": frozenset({"none"})},
        {"algorithms": frozenset({"PS256"})},
        {"algorithms": frozenset()},
        {"audiences": frozenset()},
        {"audiences": API},
        {"issuer": ""},
        {"required_claims": ("iss", "aud")},
        {"required_claims": ("iss", "exp")},
        {"max_lifetime_seconds": 0},
    ],
)
def test_trusted_issuer_refuses_unsafe_configuration(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        issuer(**changes)


def test_trusted_issuer_accepts_jti_and_nbf_requirements() -> None:
    required = ("iss", "aud", "exp", "iat", "sub", "jti", "nbf")
    assert issuer(required_claims=list(required)).required_claims == required


P384_JWK = {
    "kty": "EC",
    "crv": "P-384",
    "x": b64(b"\x01" * 48),
    "y": b64(b"\x02" * 48),
}


@pytest.mark.parametrize(
    ("alg", "public_jwk"),
    [
        ("ES256", ES_JWK | {"d": "AAAA"}),
        ("ES256", {"kty": "oct", "k": "c2VjcmV0"}),
        ("RS256", ES_JWK),
        ("ES256", RS_JWK),
        ("ES256", P384_JWK),
        ("ES256", ES_JWK | {"alg": "RS256"}),
        ("ES256", ES_JWK | {"use": "enc"}),
        ("HS256", ES_JWK),
        ("RS256", RS_JWK | {"n": b64(b"\xff" * 128)}),
        ("ES256", ES_JWK | {"x": "not-a-point"}),
    ],
)
def test_verification_key_refuses_unsafe_keys(alg: str, public_jwk: dict[str, Any]) -> None:
    kid = public_jwk.get("kid", "k1")
    with pytest.raises(ValueError):
        VerificationKey(kid=kid, alg=alg, public_jwk=public_jwk)


def test_verification_key_is_a_frozen_copy() -> None:
    source = dict(ES_JWK)
    key = VerificationKey(kid=ES_KID, alg="ES256", public_jwk=source)
    source["x"] = "changed"
    assert key.public_jwk["x"] == ES_JWK["x"]
    with pytest.raises(TypeError):
        key.public_jwk["x"] = "changed"  # type: ignore[index]


def test_negative_leeway_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        verify(token(), leeway=-1)


# --- hostile input never escapes as anything but InvalidToken ---------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ABCabc012_-.=+/ é{}"', max_size=300))
def test_arbitrary_text_is_refused_cleanly(text: str) -> None:
    with pytest.raises(InvalidToken):
        verify(text)


VALID = token()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.sampled_from("AQgw_-."))
def test_any_single_character_change_is_refused(position: int, replacement: str) -> None:
    mutated = VALID[:position] + replacement + VALID[position + 1 :]
    if mutated == VALID:
        return
    with pytest.raises(InvalidToken):
        verify(mutated)


@settings(max_examples=50, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    )
)
def test_arbitrary_json_payload_is_refused_cleanly(body: Any) -> None:
    hostile = f"{segment({'alg': 'ES256', 'kid': ES_KID})}.{segment(body)}.AAAA"
    with pytest.raises(InvalidToken):
        verify(hostile)


def test_deeply_nested_payload_is_refused_cleanly() -> None:
    hostile = f"{segment({'alg': 'ES256', 'kid': ES_KID})}.{b64(b'[' * 5000)}.AAAA"
    with pytest.raises(InvalidToken) as caught:
        verify(hostile)
    assert caught.value.reason in {"malformed", "too_large"}


# --- the python-jose 3.5.0 traps the wrapper exists for ---------------------------------------


def test_raw_jose_accepts_hs256_keyed_with_a_der_public_key_when_not_pinned() -> None:
    forged = hs256(ES_PUBLIC_DER)
    # The classic `jwt.decode(token, public_key)` call: no algorithms list.
    options = {"verify_exp": False}  # NOW is in the past; the point is the key confusion
    assert jose_jwt.decode(forged, ES_PUBLIC_DER, audience=API, options=options) == claims()
    with pytest.raises(InvalidToken):
        verify(forged)


def test_raw_jose_refuses_hs256_keyed_with_a_pem_public_key() -> None:
    # The CVE-2024-33663 fix (3.4.0) refuses PEM/SSH keys as HMAC secrets, but only those.
    with pytest.raises(JOSEError):
        jose_jwt.decode(hs256(ES_PUBLIC_PEM), ES_PUBLIC_PEM, options={"verify_exp": False})
    with pytest.raises(JOSEError):
        jose_jwt.encode(claims(), ES_PUBLIC_PEM, algorithm="HS256")


def test_raw_jose_accepts_tokens_without_aud_or_exp() -> None:
    bare = token({"iss": SERVICE, "sub": "x"})
    assert jose_jwt.decode(bare, ES_PUBLIC_PEM, algorithms=["ES256"], audience=API) == {
        "iss": SERVICE,
        "sub": "x",
    }
    with pytest.raises(InvalidToken):
        verify(bare)


def test_raw_jose_require_flag_switches_its_wall_clock_check_back_on() -> None:
    old = token(claims(exp=1))
    with pytest.raises(ExpiredSignatureError):
        jose_jwt.decode(
            old,
            ES_PUBLIC_PEM,
            algorithms=["ES256"],
            audience=API,
            options={"verify_exp": False, "require_exp": True},
        )


def test_raw_jose_accepts_a_string_exp_and_crashes_on_null() -> None:
    as_string = token(claims(exp="99999999999"))
    assert jose_jwt.decode(as_string, ES_PUBLIC_PEM, algorithms=["ES256"], audience=API)
    with pytest.raises(TypeError):
        jose_jwt.decode(
            token(claims() | {"exp": None}), ES_PUBLIC_PEM, algorithms=["ES256"], audience=API
        )


def test_raw_jose_accepts_es256_on_a_p384_key() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    pem = p384.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = p384.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = jose_jwt.encode({"a": 1}, pem, algorithm="ES256")
    assert jose_jwt.decode(signed, public, algorithms=["ES256"]) == {"a": 1}
