"""Passwords (argon2id) and one-time codes (TOTP, RFC 6238; secrets encrypted at rest).

Verification costs the same whether or not the account exists: an unknown username is checked
against a fixed dummy hash, so neither the answer nor its timing says which usernames exist.
"""

from __future__ import annotations

import base64
import os
import time
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_PASSWORD_LENGTH = 12
TOTP_WINDOW_STEPS = 1  # accept the previous and next 30-second code too (clock drift)
TOTP_ISSUER = "Kintrace"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """argon2id with the library's RFC 9106 low-memory profile (64 MiB, 3 passes)."""
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("kintrace-no-such-user-" + "x" * 16)


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no stored hash, burn the same time and say no."""
    try:
        return _hasher().verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _totp_cipher(service_secret: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kintrace totp").derive(
        service_secret
    )
    return AESGCM(key)


def seal_totp_secret(totp_secret: str, service_secret: bytes) -> str:
    """The TOTP secret encrypted (AES-GCM) under a key derived from the service secret."""
    nonce = os.urandom(12)
    sealed = _totp_cipher(service_secret).encrypt(nonce, totp_secret.encode(), b"totp")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_totp_secret(stored: str, service_secret: bytes) -> str:
    """The TOTP secret of a stored, encrypted one."""
    raw = base64.urlsafe_b64decode(stored.encode())
    return _totp_cipher(service_secret).decrypt(raw[:12], raw[12:], b"totp").decode()


def new_totp_secret() -> str:
    """A random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The `otpauth://` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int:
    """The time step `code` belongs to, or -1 if it is wrong or was already used.

    Remembering the last step used makes each code single-use (RFC 6238 §5.2).
    """
    if not (code.isdigit() and len(code) == 6):
        return -1
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    current = int(moment // totp.interval)
    for step in range(current - TOTP_WINDOW_STEPS, current + TOTP_WINDOW_STEPS + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step if last_step is None or step > last_step else -1
    return -1
