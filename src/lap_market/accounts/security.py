"""Password hashing (argon2id) and access tokens (JWT, HS256)."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from lap_market.errors import Unauthenticated

ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))  # argon2id is pwdlib's Argon2 default
# Verifying against this keeps unknown-email logins as slow as wrong-password ones.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; constant work when there is no hash."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # noqa: BLE001 - a malformed stored hash is simply a mismatch
        return False


def create_access_token(*, user_id: int, secret: str, now: datetime, minutes: int) -> str:
    """A signed token naming the user, with issue and expiry times."""
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str, now: datetime) -> int:
    """The user id in a valid token; anything else is Unauthenticated."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("Token algorithm not accepted.")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # python-jose's require_* options force its own wall-clock expiry check; expiry is
            # checked below against the application clock instead, so tests can move time.
            options={"verify_exp": False},
        )
    except JWTError as exc:
        raise Unauthenticated("Invalid token.") from exc
    for claim in ("sub", "iat", "exp"):
        if claim not in claims:
            raise Unauthenticated(f"Token lacks the required claim {claim!r}.")
    if not isinstance(claims["exp"], int) or claims["exp"] <= int(now.timestamp()):
        raise Unauthenticated("Token has expired.")
    try:
        return int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise Unauthenticated("Invalid token subject.") from exc


def csrf_token_for(secret: str, csrf_cookie: str) -> str:
    """The form token that matches a browser's CSRF cookie (signed double submit)."""
    return hmac.new(secret.encode(), f"csrf:{csrf_cookie}".encode(), hashlib.sha256).hexdigest()


def csrf_token_valid(secret: str, csrf_cookie: str | None, token: str | None) -> bool:
    """Whether ``token`` was issued for this browser's CSRF cookie."""
    if not csrf_cookie or not token:
        return False
    return hmac.compare_digest(csrf_token_for(secret, csrf_cookie), token)
