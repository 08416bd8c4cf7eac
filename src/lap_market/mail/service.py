"""Queueing email in the caller's transaction, and the admins' view of the outbox."""

import uuid
from html import escape
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from lap_market.accounts.models import User
from lap_market.audit import service as audit
from lap_market.audit.models import new_public_id
from lap_market.clock import clock
from lap_market.config import get_settings
from lap_market.errors import Conflict, Invalid, NotFound
from lap_market.mail.models import OutboxMessage, OutboxStatus
from lap_market.mail.policy import require_outbox_reader
from lap_market.modeling import rowcount, table_of
from lap_market.tenders.models import Tender

PREFERENCES_PATH = "/account/notifications"
OUTBOX: sa.Table = table_of(OutboxMessage)


def absolute_url(path: str, public_url: str | None = None) -> str:
    """``path`` on the public site (``LAP_PUBLIC_URL``)."""
    base = (public_url or get_settings().public_url).rstrip("/")
    return base + "/" + path.lstrip("/")


def new_message_id() -> str:
    """A Message-ID made once per message and kept across every re-send."""
    return f"<{uuid.uuid4().hex}@lap-market>"


def _text_body(text: str, link: str | None, preferences: str) -> str:
    parts = [text.rstrip()]
    if link:
        parts.append(f"Open it in LAP Market: {link}")
    parts.append(f"--\nLAP Market, London Archives Partnership.\n"
                 f"Choose which emails you get: {preferences}")
    return "\n\n".join(parts) + "\n"


def _html_body(html: str, subject: str, link: str | None, preferences: str) -> str:
    link_html = f'<p><a href="{escape(link)}">Open it in LAP Market</a></p>' if link else ""
    return (
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>{html}{link_html}"
        f'<hr><p style="font-size:small">LAP Market, London Archives Partnership. '
        f'<a href="{escape(preferences)}">Choose which emails you get</a>.</p></body></html>'
    )


def queue_email(
    session: Session,
    *,
    to_user: User | None = None,
    to_address: str | None = None,
    kind: str,
    subject: str,
    text: str,
    html: str,
    link_path: str | None = None,
    key: str | None = None,
    sealed_tender_id: int | None = None,
) -> None:
    """Write one email to the outbox in the caller's transaction (sent after it commits).

    ``html`` is trusted markup (escape what you put in it); ``link_path`` becomes an
    absolute link to the page; the footer and ``List-Unsubscribe`` lead to the
    recipient's preferences. With ``key``, a message already queued under it is kept.
    ``sealed_tender_id``: the message tells who bid, so admins do not see it in the outbox
    until that tender's submission deadline has passed (it is delivered as usual).
    """
    address = to_address or (to_user.email if to_user else None)
    if not address:
        raise Invalid("An email needs a recipient.", field="to_address")
    link = absolute_url(link_path) if link_path else None
    preferences = absolute_url(PREFERENCES_PATH)
    now = clock.now()
    values: dict[str, Any] = {
        "public_id": new_public_id(), "sealed_tender_id": sealed_tender_id,
        "message_id": new_message_id(), "to_address": address,
        "to_user_id": to_user.id if to_user else None, "kind": kind, "subject": subject,
        "text_body": _text_body(text, link, preferences),
        "html_body": _html_body(html, subject, link, preferences),
        "link_url": link, "unsubscribe_url": preferences, "status": OutboxStatus.PENDING.value,
        "attempts": 0, "next_attempt_at": now, "created_at": now, "dedupe_key": key,
    }
    if key is None:
        session.execute(sa.insert(OUTBOX).values(**values))
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(OUTBOX).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


STATUSES = [s.value for s in OutboxStatus]


def unsealed() -> sa.ColumnElement[bool]:
    """Messages admins may read now: not sealed, or sealed to a tender whose submission
    deadline has passed. Sealed ones are left out of the list and the counts alike, and
    nothing numeric is shown, so nothing on the page tells that one exists."""
    closed = select(Tender.id).where(
        col(Tender.submission_deadline).is_not(None),
        col(Tender.submission_deadline) <= clock.now(),
    )
    sealed_to = col(OutboxMessage.sealed_tender_id)
    return sa.or_(sealed_to.is_(None), sealed_to.in_(closed))


def list_outbox(
    session: Session, actor: User, *, status: str | None = None, limit: int = 200
) -> tuple[list[OutboxMessage], dict[str, int]]:
    """The newest messages (optionally of one status) and the count per status, for admins."""
    require_outbox_reader(actor)
    if status and status not in STATUSES:
        raise Invalid(f"Status must be one of {', '.join(STATUSES)}.", field="status")
    query = (
        select(OutboxMessage).where(unsealed())
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(limit)
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    counts = dict(session.exec(
        select(OutboxMessage.status, func.count()).where(unsealed())
        .group_by(col(OutboxMessage.status))
    ).all())
    return list(session.exec(query).all()), {s: int(counts.get(s, 0)) for s in STATUSES}


def resend(session: Session, actor: User, public_id: str) -> OutboxMessage:
    """Queue a failed or sent message again, with the same Message-ID (admins).

    A sealed message answers 404, as a message that does not exist."""
    require_outbox_reader(actor)
    message = session.exec(
        select(OutboxMessage).where(OutboxMessage.public_id == public_id, unsealed())
    ).first()
    if message is None:
        raise NotFound("No such message.", field="message_id")
    changed = session.execute(
        sa.update(OUTBOX)
        .where(OUTBOX.c.id == message.id,
               OUTBOX.c.status.in_([OutboxStatus.FAILED.value, OutboxStatus.SENT.value]))
        .values(status=OutboxStatus.PENDING.value, next_attempt_at=clock.now(), attempts=0,
                lease_until=None)
    )
    if not rowcount(changed):
        raise Conflict("This message is still waiting to be sent.", field="status")
    session.refresh(message)
    audit.record(session, actor, action="email.resend", object_type="outbox_message",
                 object_id=message.public_id,
                 details={"message_id": message.message_id, "to": message.to_address})
    return message
