"""Delivering the outbox by SMTP: claim a batch under a lease, send, mark each sent.

A message is marked ``sending`` (with a lease) in a committed transaction before the SMTP
conversation, and ``sent`` in another right after it. A worker killed in between leaves the
lease to lapse; the message is then sent again with the same Message-ID, so a recipient's
mail client shows it once. Claims are exclusive (SKIP LOCKED on PostgreSQL, a conditional
UPDATE on SQLite), so several workers never send the same message at once.
"""

import contextlib
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.jobs.queue import backoff
from lap_market.mail.models import OutboxMessage, OutboxStatus
from lap_market.modeling import pk, table_of

log = logging.getLogger("lap_market.mail")
OUTBOX: sa.Table = table_of(OutboxMessage)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool  # TLS from the first byte (smtps://)
    starttls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:587?starttls=1`` or ``smtps://user:pass@host:465``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("LAP_SMTP_URL must look like smtp://user:pass@host:587?starttls=1")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname, port=parts.port or (465 if tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls, starttls=starttls,
    )


def build_email(message: OutboxMessage, mail_from: str) -> EmailMessage:
    """The MIME message: plain text and HTML alternatives, the stable Message-ID."""
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(clock.now())
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
    email["X-LAP-Kind"] = message.kind
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


def _due(now: datetime) -> sa.ColumnElement[bool]:
    pending = (OUTBOX.c.status == OutboxStatus.PENDING.value) & (OUTBOX.c.next_attempt_at <= now)
    lapsed = (OUTBOX.c.status == OutboxStatus.SENDING.value) & (OUTBOX.c.lease_until < now)
    return pending | lapsed


def claim_batch(engine: Engine, *, limit: int, lease: timedelta) -> list[int]:
    """Mark up to ``limit`` due messages ``sending`` under a lease; commits; returns ids."""
    with Session(engine) as session:
        now = clock.now()
        query = sa.select(OUTBOX.c.id).where(_due(now)).order_by(OUTBOX.c.id)
        if engine.dialect.name == "postgresql":
            ids = list(session.execute(
                query.limit(limit).with_for_update(skip_locked=True)).scalars())
        else:
            ids = list(session.execute(query.limit(limit)).scalars())
        # On SQLite another worker may claim some between the select and the update.
        condition = OUTBOX.c.id.in_(ids) & _due(now)
        if not ids:
            return []
        token = uuid.uuid4().hex
        session.execute(
            sa.update(OUTBOX).where(condition).values(
                status=OutboxStatus.SENDING.value, lease_until=now + lease, claim_token=token,
                attempts=OUTBOX.c.attempts + 1)
        )
        claimed = list(session.execute(
            sa.select(OUTBOX.c.id).where(OUTBOX.c.claim_token == token).order_by(OUTBOX.c.id)
        ).scalars())
        session.commit()
        return claimed


def _connect(target: SmtpTarget, timeout: float) -> smtplib.SMTP:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if target.tls:
        smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=timeout)
        if target.starttls:
            smtp.starttls(context=context)
    if target.username:
        smtp.login(target.username, target.password or "")
    return smtp


def _mark_sent(engine: Engine, message_id: int) -> None:
    with Session(engine) as session:
        session.execute(
            sa.update(OUTBOX)
            .where(OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.SENT.value, sent_at=clock.now(), lease_until=None,
                    last_error=None)
        )
        session.commit()


def _mark_failed(engine: Engine, message_id: int, error: str, settings: Settings) -> None:
    """Retry later with exponential backoff, or give up after ``mail_max_attempts``."""
    with Session(engine) as session:
        attempts = session.execute(
            sa.select(OUTBOX.c.attempts).where(OUTBOX.c.id == message_id)).scalar_one()
        now = clock.now()
        values: dict[str, object] = {"last_error": error[:2000], "lease_until": None}
        if attempts >= settings.mail_max_attempts:
            values["status"] = OutboxStatus.FAILED.value
        else:
            values["status"] = OutboxStatus.PENDING.value
            values["next_attempt_at"] = now + backoff(attempts, settings.mail_retry_seconds)
        session.execute(
            sa.update(OUTBOX)
            .where(OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.SENDING.value)
            .values(**values)
        )
        session.commit()


def _load(engine: Engine, ids: list[int]) -> list[OutboxMessage]:
    with Session(engine, expire_on_commit=False) as session:
        rows = session.execute(
            sa.select(OutboxMessage).where(sa.column("id").in_(ids)).order_by(sa.column("id"))
        ).scalars()
        return list(rows)


def deliver_due(engine: Engine, settings: Settings) -> int:
    """Send one batch of due messages; returns how many were attempted (0: none or no SMTP)."""
    if not settings.smtp_url:
        return 0
    lease = timedelta(seconds=max(settings.job_lease_seconds, settings.smtp_timeout_seconds * 2))
    ids = claim_batch(engine, limit=settings.mail_batch_size, lease=lease)
    if not ids:
        return 0
    messages = _load(engine, ids)
    try:
        smtp = _connect(parse_smtp_url(settings.smtp_url), settings.smtp_timeout_seconds)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        log.warning("SMTP unreachable, %d messages wait: %s", len(messages), exc)
        for message in messages:
            _mark_failed(engine, pk(message), f"SMTP connection: {exc}", settings)
        return len(messages)
    try:
        for message in messages:
            _send_one(engine, smtp, message, settings)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return len(messages)


def _send_one(engine: Engine, smtp: smtplib.SMTP, message: OutboxMessage,
              settings: Settings) -> None:
    try:
        smtp.send_message(build_email(message, settings.mail_from))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("email %s to %s failed: %s", message.message_id, message.to_address, exc)
        _mark_failed(engine, pk(message), f"{type(exc).__name__}: {exc}", settings)
        return
    _mark_sent(engine, pk(message))
