"""Delivery by each person's choice: an email now (through the outbox), a line in tomorrow's
07:00 digest, or nothing. Everything is written in the caller's transaction."""

from collections.abc import Iterable

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from lap_market import mail
from lap_market.accounts.models import User
from lap_market.clock import clock
from lap_market.modeling import pk, table_of
from lap_market.notifications.kinds import Mode
from lap_market.notifications.messages import Rendered
from lap_market.notifications.models import DigestItem, NotificationMark
from lap_market.notifications.preferences import modes


def send_many(session: Session, sends: list[tuple[Rendered, list[User], str]]) -> int:
    """Several messages of one kind, each to its own people (with its key), reading
    everyone's choices in one query."""
    if not sends:
        return 0
    everyone = {pk(user) for _m, users, _k in sends for user in users}
    chosen = modes(session, everyone, sends[0][0].kind)
    return sum(send(session, message, users, key=key, chosen=chosen)
               for message, users, key in sends)


def send(session: Session, message: Rendered, users: Iterable[User], *,
         key: str | None = None, now_only: bool = False,
         chosen: dict[int, Mode] | None = None, sealed_tender_id: int | None = None) -> int:
    """Send ``message`` to each user as they chose; returns how many emails were queued.

    ``key`` (when given) makes re-sending the same message to the same person a no-op;
    ``chosen`` are the modes when already loaded; ``now_only`` ignores the choice (a
    deactivated account gets no digest, so it is told at once); ``sealed_tender_id`` keeps
    the email (or the digest carrying it) out of the admins' outbox until that tender's
    submission deadline (a bid receipt tells who bid)."""
    recipients = {pk(user): user for user in users}
    if now_only:
        chosen = {user_id: Mode.IMMEDIATE for user_id in recipients}
    elif chosen is None:
        chosen = modes(session, recipients, message.kind)
    queued = 0
    now = clock.now()
    for user_id, user in recipients.items():
        mode = chosen[user_id]
        if mode == Mode.OFF:
            continue
        if mode == Mode.DAILY:
            session.add(DigestItem(user_id=user_id, kind=message.kind, subject=message.subject,
                                   text=message.text, link_path=message.link_path,
                                   created_at=now, sealed_tender_id=sealed_tender_id))
            continue
        mail.queue_email(
            session, to_user=user, kind=message.kind, subject=message.subject,
            text=message.text, html=message.html, link_path=message.link_path,
            key=f"{key}:user:{user_id}" if key else None, sealed_tender_id=sealed_tender_id,
        )
        queued += 1
    return queued


def claim(session: Session, key: str) -> bool:
    """Mark a scheduled message as sent; False if it already was (by this or another worker).

    ``INSERT … ON CONFLICT DO NOTHING`` rather than a savepoint: a second worker waits for the
    first one's commit and inserts nothing, and SQLite's driver would commit a savepoint
    opened as the transaction's first statement."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = table_of(NotificationMark)
    statement = (
        insert(table).values(key=key, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )
    return session.execute(statement).first() is not None
