"""Password hashing (argon2id) and access tokens (JWT, HS256)."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, NamedTuple

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


REQUIRED_CLAIMS = ("sub", "sid", "iat", "exp")
MAX_ID = 2**31 - 1  # PostgreSQL's integer: a larger subject would fail in the query, not 401


class TokenClaims(NamedTuple):
    """What a valid token says: whose it is and which server-side session it belongs to."""

    user_id: int
    sid: str


def new_session_id() -> str:
    """A random, unguessable session id (the token's ``sid`` claim)."""
    return secrets.token_urlsafe(24)


def create_access_token(
    *, user_id: int, sid: str, secret: str, now: datetime, minutes: int
) -> str:
    """A signed token naming the user and their session, with issue and expiry times."""
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "sid": sid,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": secrets.token_urlsafe(12),
    }
    return str(jwt.encode(claims, secret, algorithm=ALGORITHM))


def decode_access_token(token: str, *, secret: str, now: datetime) -> TokenClaims:
    """The user id and session id of a well-signed, unexpired token; else Unauthenticated.

    Whether the session is still open is the database's answer (sessions.user_for_token).
    """
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
    for claim in REQUIRED_CLAIMS:
        if claim not in claims:
            raise Unauthenticated(f"Token lacks the required claim {claim!r}.")
    if not isinstance(claims["exp"], int) or claims["exp"] <= int(now.timestamp()):
        raise Unauthenticated("Token has expired.")
    if not isinstance(claims["sid"], str) or not 0 < len(claims["sid"]) <= 64:
        raise Unauthenticated("Invalid token session.")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise Unauthenticated("Invalid token subject.") from exc
    if not 0 < user_id <= MAX_ID:
        raise Unauthenticated("Invalid token subject.")
    return TokenClaims(user_id=user_id, sid=claims["sid"])


def csrf_token_for(secret: str, csrf_cookie: str) -> str:
    """The form token that matches a browser's CSRF cookie (signed double submit)."""
    return hmac.new(secret.encode(), f"csrf:{csrf_cookie}".encode(), hashlib.sha256).hexdigest()


def csrf_token_valid(secret: str, csrf_cookie: str | None, token: str | None) -> bool:
    """Whether ``token`` was issued for this browser's CSRF cookie."""
    if not csrf_cookie or not token:
        return False
    return hmac.compare_digest(csrf_token_for(secret, csrf_cookie), token)
