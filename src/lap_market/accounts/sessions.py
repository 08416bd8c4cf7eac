"""Signed-in sessions held on the server: start, check on each request, end.

A token is honoured only while the session named by its ``sid`` claim is open and its user
active, so signing out, deactivation, a password change or an admin ends sessions at once,
in every worker process.
"""

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lap_market.accounts.models import AuthSession, User
from lap_market.accounts.security import (
    TokenClaims,
    create_access_token,
    hash_password,
    new_session_id,
    verify_password,
)
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.errors import Conflict, Invalid, Unauthenticated
from lap_market.modeling import rowcount


def start_session(session: Session, settings: Settings, user: User, *, client_address: str) -> str:
    """Open a session for ``user`` and return its signed token.

    The sign-in stamp is a conditional UPDATE on the user row: it refuses a user deactivated
    since the password check, and it waits for (or makes wait) a concurrent deactivation or
    password change, so that one ends this session too and cannot miss it.
    """
    now = clock.now()
    user_id = user.id
    assert user_id is not None
    stamped = session.execute(
        sa.update(User)
        .where(
            col(User.id) == user_id,
            col(User.is_active).is_(True),
            col(User.password_hash) == user.password_hash,
        )
        .values(last_signed_in_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(stamped) != 1:
        raise Unauthenticated("This account has changed since the password was checked.")
    session.execute(  # the user's long-expired sessions: nothing refers to them any more
        sa.delete(AuthSession).where(
            col(AuthSession.user_id) == user_id, col(AuthSession.expires_at) < now
        )
    )
    sid = new_session_id()
    session.add(
        AuthSession(
            sid=sid, user_id=user_id, client_address=client_address, created_at=now,
            expires_at=now + timedelta(minutes=settings.token_minutes),
        )
    )
    session.flush()
    return create_access_token(
        user_id=user_id, sid=sid, secret=settings.secret_key, now=now,
        minutes=settings.token_minutes,
    )


# Built once: constructing the statement per request costs more than running it.
_OPEN_SESSION_USER = (
    select(User)
    .join(AuthSession, col(AuthSession.user_id) == col(User.id))
    .where(
        col(AuthSession.sid) == sa.bindparam("sid"),
        col(User.id) == sa.bindparam("user_id"),
        col(AuthSession.ended_at).is_(None),
        col(User.is_active).is_(True),
    )
)


def user_for_token(session: Session, claims: TokenClaims) -> User:
    """The active user whose open session the token names: one read by unique index."""
    user = session.exec(
        _OPEN_SESSION_USER, params={"sid": claims.sid, "user_id": claims.user_id}
    ).first()
    if user is None:
        raise Unauthenticated("Signed out, or the account is deactivated.")
    return user


def sign_out(session: Session, user: User, *, sid: str) -> None:
    """End the caller's own session."""
    row = session.exec(
        select(AuthSession).where(col(AuthSession.sid) == sid, col(AuthSession.user_id) == user.id)
    ).first()
    if row is None or not _end(session, [col(AuthSession.id) == row.id], "signed_out"):
        return  # already ended: signing out twice changes nothing
    audit.record(
        session, user, action="user.signed_out", object_type="user", object_id=user.id,
        details={"session_id": row.id},
    )


def end_sessions(
    session: Session, actor: User | None, user: User, *, reason: str, keep_sid: str | None = None
) -> int:
    """End every open session of ``user`` (but ``keep_sid``), audited; how many ended."""
    where: list[Any] = [col(AuthSession.user_id) == user.id]
    if keep_sid is not None:
        where.append(col(AuthSession.sid) != keep_sid)
    ended = _end(session, where, reason)
    audit.record(
        session, actor, action="user.sessions_ended", object_type="user", object_id=user.id,
        details={"reason": reason, "sessions_ended": ended},
        organisation_id=actor.organisation_id if actor else user.organisation_id,
    )
    return ended


def _end(session: Session, where: list[Any], reason: str) -> int:
    result = session.execute(
        sa.update(AuthSession)
        .where(*where, col(AuthSession.ended_at).is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(rowcount(result))


def change_password(
    session: Session, user: User, *, current_sid: str, current_password: str, new_password: str
) -> int:
    """Replace the user's own password; every other session ends. How many ended.

    The caller has already counted this as a password attempt (throttle.begin_attempt).
    """
    old_hash = user.password_hash
    if not verify_password(current_password, old_hash):
        raise Invalid("Your current password is not correct.", field="current_password")
    changed = session.execute(  # conditional: of two concurrent changes exactly one wins
        sa.update(User)
        .where(col(User.id) == user.id, col(User.password_hash) == old_hash)
        .values(password_hash=hash_password(new_password))
        .execution_options(synchronize_session=False)
    )
    if rowcount(changed) != 1:
        raise Conflict("Your password was changed elsewhere meanwhile.", field="current_password")
    session.expire(user, ["password_hash"])
    ended = end_sessions(session, user, user, reason="password_changed", keep_sid=current_sid)
    audit.record(
        session, user, action="user.password_changed", object_type="user", object_id=user.id,
        details={"other_sessions_ended": ended},
    )
    return ended


def active_session_counts(session: Session, user_ids: list[int]) -> dict[int, int]:
    """How many open, unexpired sessions each of ``user_ids`` has (for the admin list)."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(AuthSession.user_id, sa.func.count())
        .where(
            col(AuthSession.user_id).in_(user_ids),
            col(AuthSession.ended_at).is_(None),
            col(AuthSession.expires_at) > clock.now(),
        )
        .group_by(col(AuthSession.user_id))
    ).all()
    return {int(user_id): int(count) for user_id, count in rows}
