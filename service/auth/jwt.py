"""The one place where Kintrace verifies and signs JWTs.

Access tokens of the built-in issuer, tokens of external OIDC issuers and partner client
assertions (RFC 7523 private_key_jwt) all go through `verify_jwt`. python-jose only checks the
signature, with the algorithm pinned to the key the service chose; everything jose is lax about
(token shape, header members, algorithm choice, required claims, time) is decided here. Why
jose and what this guarantees: docs/decisions/003-python-jose.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jws, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError

MAX_TOKEN_BYTES = 8192
DEFAULT_LEEWAY_SECONDS = 30
MAX_KID_LENGTH = 256
MIN_RSA_BITS = 2048
GENERATED_RSA_BITS = 3072

# (JWK crv, curve class, coordinate length in bytes); RFC 7518 §3.4 ties each ES* to one curve.
_EC_ALGORITHMS: dict[str, tuple[str, type[ec.EllipticCurve], int]] = {
    "ES256": ("P-256", ec.SECP256R1, 32),
    "ES384": ("P-384", ec.SECP384R1, 48),
    "ES512": ("P-521", ec.SECP521R1, 66),
}
_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
# python-jose 3.5.0 has no PS* or EdDSA, so they cannot be offered.
SUPPORTED_ALGORITHMS: frozenset[str] = frozenset(_EC_ALGORITHMS) | _RSA_ALGORITHMS
_GENERATABLE_ALGORITHMS = frozenset({"ES256", "RS256"})

MANDATORY_CLAIMS = frozenset({"iss", "aud", "exp"})
_TIME_CLAIMS = ("exp", "nbf", "iat")
# Header members that name or carry a key, or change how the token must be processed.
_FORBIDDEN_HEADER_MEMBERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit", "zip"})
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")

# jose checks the signature only; every claim is checked below against the caller's `now`.
# The require_* flags stay False: in jose they silently switch the matching verify_* back on.
_JOSE_OPTIONS: dict[str, Any] = {
    "verify_signature": True,
    **{
        f"verify_{name}": False
        for name in ("aud", "iat", "exp", "nbf", "iss", "sub", "jti", "at_hash")
    },
    **{
        f"require_{name}": False
        for name in ("aud", "iat", "exp", "nbf", "iss", "sub", "jti", "at_hash")
    },
    "leeway": 0,
}


class InvalidToken(Exception):
    """Why a token was refused.

    `reason` is a short machine slug for logs and metrics: 'malformed', 'too_large', 'jwe',
    'header', 'algorithm', 'unknown_issuer', 'issuer', 'unknown_kid', 'signature',
    'missing_claim', 'invalid_claim', 'expired', 'not_yet_valid', 'audience', 'type',
    'lifetime'. `str(err)` is a human sentence. Neither ever contains the token or values
    copied from it, so both are safe to log.
    """

    reason: str

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key the service trusts for one issuer, bound to exactly one algorithm.

    Binding the algorithm to the key (not taking it from the token) is what closes algorithm
    confusion. The JWK is checked and turned into a jose key once, so a bad key fails at
    configuration time instead of looking like a bad token.
    """

    kid: str
    alg: str
    public_jwk: Mapping[str, Any]
    _jose_key: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_kid(self.kid)
        if self.alg not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"Unsupported verification algorithm {self.alg!r}.")
        public = dict(self.public_jwk)
        _check_public_jwk(public, kid=self.kid, alg=self.alg)
        try:
            jose_key = jwk.construct(public, self.alg)
        except (JOSEError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"Key {self.kid!r} is not a usable {self.alg} JWK: {exc}") from None
        object.__setattr__(self, "public_jwk", MappingProxyType(public))
        object.__setattr__(self, "_jose_key", jose_key)


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """Everything the service accepts from one issuer, fixed by configuration.

    Nothing here can be widened by a token: the algorithms are pinned and asymmetric only,
    `iss`, `aud` and `exp` are always required, and `typ` (RFC 8725 §3.11) keeps a token
    minted for one purpose (e.g. an ID token) from being replayed as another (an access token).
    """

    issuer: str
    audiences: frozenset[str]
    algorithms: frozenset[str]
    token_types: frozenset[str]
    required_claims: tuple[str, ...] = ("iss", "aud", "exp", "iat", "sub")
    max_lifetime_seconds: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise ValueError("issuer must be a non-empty string.")
        audiences = _string_set(self.audiences, "audiences")
        if not audiences:
            raise ValueError("audiences must not be empty: every token must name its audience.")
        algorithms = _string_set(self.algorithms, "algorithms")
        if not algorithms:
            raise ValueError("algorithms must not be empty.")
        for alg in algorithms:
            if alg.upper().startswith("HS") or alg.lower() == "none":
                raise ValueError(f"{alg!r} is never accepted: only asymmetric algorithms.")
            if alg not in SUPPORTED_ALGORITHMS:
                raise ValueError(
                    f"{alg!r} is not supported (python-jose 3.5.0 offers "
                    f"{', '.join(sorted(SUPPORTED_ALGORITHMS))})."
                )
        token_types = frozenset(_normalize_typ(t) for t in _string_set(self.token_types, "typ"))
        if isinstance(self.required_claims, str):
            raise ValueError("required_claims must be a sequence of claim names.")
        required = tuple(self.required_claims)
        if not all(isinstance(name, str) and name for name in required):
            raise ValueError("required_claims must contain non-empty strings.")
        if missing := MANDATORY_CLAIMS.difference(required):
            raise ValueError(f"required_claims must include {sorted(missing)}.")
        lifetime = self.max_lifetime_seconds
        if lifetime is not None and (
            not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime <= 0
        ):
            raise ValueError("max_lifetime_seconds must be a positive integer or None.")
        object.__setattr__(self, "audiences", audiences)
        object.__setattr__(self, "algorithms", algorithms)
        object.__setattr__(self, "token_types", token_types)
        object.__setattr__(self, "required_claims", required)


KeyLookup = Callable[[str, str], VerificationKey | None]


def verify_jwt(
    token: str,
    *,
    issuers: Mapping[str, TrustedIssuer],
    keys: KeyLookup,
    now: float | None = None,
    leeway: int = DEFAULT_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Return the verified claims or raise InvalidToken.

    Everything read before the signature check (shape, header, unverified `iss`) only narrows
    the choice of issuer and key among those the caller already trusts; nothing from the token
    can supply a key or an algorithm. `now` (seconds since the epoch) drives every time check,
    so tests and replays of recorded traffic are exact; `leeway` absorbs clock skew.
    """
    if not isinstance(leeway, int) or isinstance(leeway, bool) or leeway < 0:
        raise ValueError("leeway must be a non-negative integer.")
    current = time.time() if now is None else now

    header_segment, payload_segment, signature_segment = _split(token)
    try:
        _b64decode(signature_segment)
    except (ValueError, binascii.Error):
        raise InvalidToken("malformed", "The token signature is not base64url.") from None
    header = _json_object(header_segment, "header")
    alg = _check_header(header)
    unverified = _json_object(payload_segment, "payload")

    if "iss" not in unverified:
        raise InvalidToken("missing_claim", "The token has no issuer (iss).")
    iss = unverified["iss"]
    if not isinstance(iss, str):
        raise InvalidToken("issuer", "The issuer (iss) is not a string.")
    trusted = issuers.get(iss)
    if trusted is None:
        raise InvalidToken("unknown_issuer", "The token's issuer is not trusted.")
    if trusted.issuer != iss:
        raise InvalidToken("issuer", "The issuer configuration does not match the token issuer.")
    if alg not in trusted.algorithms:
        raise InvalidToken("algorithm", "The token's algorithm is not allowed for its issuer.")

    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise InvalidToken("unknown_kid", "The token has no usable key id (kid).")
    key = keys(iss, kid)
    if key is None or key.kid != kid:
        raise InvalidToken("unknown_kid", "No trusted key matches the token's key id.")
    if key.alg != alg or key.alg not in trusted.algorithms:
        raise InvalidToken("algorithm", "The token's algorithm does not match its key.")

    claims = _verify_signature(token, key)
    _check_claims(claims, trusted, current, leeway)
    _check_type(header, trusted)
    _check_lifetime(claims, trusted)
    return claims


def unverified_issuer(token: str) -> str | None:
    """The token's `iss` without verifying anything, or None if it cannot be read.

    For routing only (e.g. choosing which issuer's keys to refresh); never for a decision.
    The size and shape checks of `verify_jwt` run first, so it is as cheap to call on hostile
    input as the verifier itself.
    """
    try:
        _, payload_segment, _ = _split(token)
        claims = _json_object(payload_segment, "payload")
    except InvalidToken:
        return None
    iss = claims.get("iss")
    return iss if isinstance(iss, str) and iss else None


def unverified_kid(token: str) -> str | None:
    """The token's header `kid` without verifying anything, or None if it cannot be read.

    For choosing which key set to refresh only; the verifier looks the key up again.
    """
    try:
        header_segment, _, _ = _split(token)
        header = _json_object(header_segment, "header")
    except InvalidToken:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) and 0 < len(kid) <= MAX_KID_LENGTH else None


def sign_jwt(
    claims: Mapping[str, Any],
    *,
    private_key_pem: bytes | str,
    kid: str,
    alg: str,
    typ: str,
) -> str:
    """Sign with an asymmetric private key (headers: alg, kid, typ).

    The key is checked against `alg` before signing, so the service can never mint a token
    its own verifier would refuse, or one signed under a symmetric algorithm. Claims are
    serialized here (not by jose, which rewrites datetimes in the caller's dict) and must be
    plain JSON.
    """
    if alg not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"Unsupported signing algorithm {alg!r}.")
    _check_kid(kid)
    if not isinstance(typ, str) or not typ:
        raise ValueError("typ must be a non-empty string.")
    key = _load_private_key(private_key_pem, alg)
    payload = json.dumps(dict(claims), separators=(",", ":"), allow_nan=False).encode("utf-8")
    token: str = jws.sign(payload, key, headers={"kid": kid, "typ": typ}, algorithm=alg)
    return token


def generate_signing_key(alg: str = "ES256") -> tuple[bytes, dict[str, Any]]:
    """A new private key as unencrypted PKCS8 PEM and its public JWK.

    The JWK's `kid` is its RFC 7638 thumbprint, so a kid can never point at two different
    keys and rotation needs no counter. ES256 is the default (small, fast); RS256 (3072-bit)
    is for partners that cannot verify EC signatures.
    """
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if alg == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_RSA_BITS)
    else:
        raise ValueError(f"Can only generate {sorted(_GENERATABLE_ALGORITHMS)} keys, not {alg!r}.")
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, _public_jwk(private_key, alg)


def public_jwk_from_pem(private_key_pem: bytes | str, *, alg: str) -> dict[str, Any]:
    """The public JWK (kid = RFC 7638 thumbprint, `alg`, `use: sig`) of a PEM private key.

    Lets the JWKS endpoint and the verifier's key table be derived from the signing key
    itself, so they cannot drift from it.
    """
    if alg not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"Unsupported algorithm {alg!r}.")
    return _public_jwk(_load_private_key(private_key_pem, alg), alg)


def check_cryptography_backend() -> None:
    """Raise RuntimeError unless python-jose uses its `cryptography` backend.

    Without `cryptography` jose silently falls back to the pure-Python `rsa`/`ecdsa` backends
    (timing side channels, CVE-2024-23342 in ecdsa). A key class registered over the
    built-in ones through `jwk.register_key` is refused as well. Called at start-up.
    """
    try:
        from jose import backends
        from jose.backends.cryptography_backend import CryptographyECKey, CryptographyRSAKey
    except ImportError as exc:
        raise RuntimeError(f"python-jose's cryptography backend is unavailable: {exc}") from exc
    if backends.RSAKey is not CryptographyRSAKey or backends.ECKey is not CryptographyECKey:
        raise RuntimeError("python-jose is not using its cryptography backend.")
    for alg in SUPPORTED_ALGORITHMS:
        expected = CryptographyECKey if alg in _EC_ALGORITHMS else CryptographyRSAKey
        if jwk.get_key(alg) is not expected:
            raise RuntimeError(f"python-jose resolves {alg} to a non-cryptography key class.")


def _split(token: object) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise InvalidToken("malformed", "The token is not a string.")
    if len(token) > MAX_TOKEN_BYTES or (
        len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES
    ):
        raise InvalidToken("too_large", f"The token is larger than {MAX_TOKEN_BYTES} bytes.")
    parts = token.split(".")
    if len(parts) == 5:
        raise InvalidToken("jwe", "Encrypted tokens (JWE) are not accepted.")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise InvalidToken("malformed", "The token is not a compact JWS.")
    return parts[0], parts[1], parts[2]


def _b64decode(segment: str) -> bytes:
    # Non-canonical encodings (unused trailing bits set) would let one signature be written
    # as several distinct token strings, defeating caches and deny-lists keyed by the token.
    if len(segment) % 4 == 1:
        raise ValueError("impossible base64url length")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if _b64encode(data) != segment:
        raise ValueError("non-canonical base64url")
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    return value


def _reject_constant(text: str) -> NoReturn:
    raise ValueError("non-finite number")


def _json_object(segment: str, part: str) -> dict[str, Any]:
    # Duplicate members are refused: a reader picking the other one would see other claims.
    try:
        value = json.loads(
            _b64decode(segment).decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_float=_finite_float,
            parse_constant=_reject_constant,
        )
    except (ValueError, binascii.Error, RecursionError):
        raise InvalidToken("malformed", f"The token {part} is not valid JSON.") from None
    if not isinstance(value, dict):
        raise InvalidToken("malformed", f"The token {part} is not a JSON object.")
    return value


def _check_header(header: Mapping[str, Any]) -> str:
    if "enc" in header:
        raise InvalidToken("jwe", "Encrypted tokens (JWE) are not accepted.")
    if _FORBIDDEN_HEADER_MEMBERS.intersection(header):
        raise InvalidToken(
            "header", "The token header carries a key reference, key or critical extension."
        )
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise InvalidToken("algorithm", "The token header has no algorithm.")
    if alg.lower() == "none":
        raise InvalidToken("algorithm", "Unsigned tokens are not accepted.")
    if alg.upper().startswith("HS"):
        raise InvalidToken("algorithm", "Symmetric (HMAC) tokens are not accepted.")
    if alg not in SUPPORTED_ALGORITHMS:
        raise InvalidToken("algorithm", "The token's algorithm is not supported.")
    return alg


def _verify_signature(token: str, key: VerificationKey) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, key._jose_key, algorithms=[key.alg], options=_JOSE_OPTIONS)
    except ExpiredSignatureError:
        raise InvalidToken("expired", "The token has expired.") from None
    except JWTClaimsError:
        raise InvalidToken("invalid_claim", "The token's claims are invalid.") from None
    except JOSEError:
        raise InvalidToken("signature", "The token's signature is not valid.") from None
    if not isinstance(claims, dict):
        raise InvalidToken("malformed", "The token payload is not a JSON object.")
    return claims


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _check_claims(
    claims: Mapping[str, Any], trusted: TrustedIssuer, now: float, leeway: int
) -> None:
    # TrustedIssuer guarantees iss, aud and exp are among the required claims.
    for name in trusted.required_claims:
        if name not in claims:
            raise InvalidToken("missing_claim", f"The token lacks the required claim {name!r}.")

    if claims["iss"] != trusted.issuer:
        raise InvalidToken("issuer", "The token was not issued by the expected issuer.")

    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise InvalidToken("audience", "The token's audience (aud) is not a string or list.")
    if trusted.audiences.isdisjoint(audiences):
        raise InvalidToken("audience", "The token is not intended for this service.")

    for name in _TIME_CLAIMS:
        if name in claims and not _is_number(claims[name]):
            raise InvalidToken("invalid_claim", f"The claim {name!r} is not a NumericDate.")
    if now >= claims["exp"] + leeway:
        raise InvalidToken("expired", "The token has expired.")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise InvalidToken("not_yet_valid", "The token is not valid yet (nbf).")
    if "iat" in claims and claims["iat"] > now + leeway:
        raise InvalidToken("not_yet_valid", "The token claims to be issued in the future (iat).")

    for name in ("sub", "jti"):
        if name in claims and (not isinstance(claims[name], str) or not claims[name]):
            raise InvalidToken("invalid_claim", f"The claim {name!r} is not a non-empty string.")


def _check_type(header: Mapping[str, Any], trusted: TrustedIssuer) -> None:
    if not trusted.token_types:
        return
    typ = header.get("typ")
    if not isinstance(typ, str) or _normalize_typ(typ) not in trusted.token_types:
        raise InvalidToken("type", "The token is not of an accepted type (typ).")


def _check_lifetime(claims: Mapping[str, Any], trusted: TrustedIssuer) -> None:
    if trusted.max_lifetime_seconds is None:
        return
    if "iat" not in claims:
        raise InvalidToken("missing_claim", "The token lacks 'iat', needed to bound its lifetime.")
    if claims["exp"] - claims["iat"] > trusted.max_lifetime_seconds:
        raise InvalidToken("lifetime", "The token's lifetime exceeds the allowed maximum.")


def _normalize_typ(value: str) -> str:
    # RFC 7515 §4.1.9: media types compare case-insensitively and may omit "application/".
    lowered = value.lower()
    return lowered.removeprefix("application/")


def _string_set(values: Iterable[str], what: str) -> frozenset[str]:
    if isinstance(values, str):
        raise ValueError(f"{what} must be a set of strings, not a single string.")
    result = frozenset(values)
    if not all(isinstance(v, str) and v for v in result):
        raise ValueError(f"{what} must contain non-empty strings.")
    return result


def _check_kid(kid: object) -> None:
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise ValueError(f"kid must be a non-empty string of at most {MAX_KID_LENGTH} chars.")


def _check_public_jwk(public: Mapping[str, Any], *, kid: str, alg: str) -> None:
    if private := _PRIVATE_JWK_MEMBERS.intersection(public):
        raise ValueError(f"Key {kid!r} has private or symmetric members {sorted(private)}.")
    for member, expected in (("alg", alg), ("kid", kid), ("use", "sig")):
        if member in public and public[member] != expected:
            raise ValueError(f"Key {kid!r} has {member}={public[member]!r}, expected {expected!r}.")
    if alg in _EC_ALGORITHMS:
        crv = _EC_ALGORITHMS[alg][0]
        if public.get("kty") != "EC" or public.get("crv") != crv:
            raise ValueError(f"Key {kid!r} must be an EC {crv} key for {alg}.")
        return
    if public.get("kty") != "RSA":
        raise ValueError(f"Key {kid!r} must be an RSA key for {alg}.")
    try:
        bits = int.from_bytes(_b64decode(str(public["n"])), "big").bit_length()
    except (KeyError, ValueError, binascii.Error):
        raise ValueError(f"Key {kid!r} has no valid RSA modulus.") from None
    if bits < MIN_RSA_BITS:
        raise ValueError(f"Key {kid!r} is a {bits}-bit RSA key; at least {MIN_RSA_BITS} needed.")


def _load_private_key(
    private_key_pem: bytes | str, alg: str
) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    data = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("Not an unencrypted PEM private key.") from None
    if alg in _EC_ALGORITHMS:
        curve = _EC_ALGORITHMS[alg][1]
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, curve):
            raise ValueError(f"{alg} needs an EC {_EC_ALGORITHMS[alg][0]} private key.")
        return key
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{alg} needs an RSA private key.")
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits.")
    return key


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_jwk(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, alg: str) -> dict[str, Any]:
    members: dict[str, str]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        crv, _, size = _EC_ALGORITHMS[alg]
        numbers = key.public_key().public_numbers()
        members = {
            "crv": crv,
            "kty": "EC",
            "x": _b64encode(numbers.x.to_bytes(size, "big")),
            "y": _b64encode(numbers.y.to_bytes(size, "big")),
        }
    else:
        rsa_numbers = key.public_key().public_numbers()
        members = {
            "e": _b64encode(rsa_numbers.e.to_bytes((rsa_numbers.e.bit_length() + 7) // 8, "big")),
            "kty": "RSA",
            "n": _b64encode(rsa_numbers.n.to_bytes((rsa_numbers.n.bit_length() + 7) // 8, "big")),
        }
    # RFC 7638: required members only, lexicographic order, no whitespace.
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    thumbprint = _b64encode(hashlib.sha256(canonical).digest())
    return {**members, "kid": thumbprint, "alg": alg, "use": "sig"}
