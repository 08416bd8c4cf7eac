"""The email outbox: every message written in the transaction that caused it."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.audit.models import new_public_id
from lap_market.modeling import id_field, long_text, text, timestamp


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    """One email. Its ``message_id`` never changes, so a re-send is recognisably the same.

    ``id`` stays internal (a gap in it would show a hidden message); pages use ``public_id``.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: int | None = id_field()
    public_id: str = Field(default_factory=new_public_id, max_length=32, unique=True, index=True)
    message_id: str = Field(max_length=200, unique=True)
    to_address: str = text(254)
    to_user_id: int | None = Field(default=None, foreign_key="user.id", index=True, nullable=True)
    kind: str = text(80)
    subject: str = text(300)
    text_body: str = long_text()
    html_body: str = long_text()
    link_url: str | None = Field(default=None, max_length=1000, nullable=True)
    unsubscribe_url: str = text(1000, default="")
    status: str = text(20, default=OutboxStatus.PENDING)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = timestamp()
    lease_until: datetime | None = timestamp(nullable=True)
    claim_token: str | None = Field(default=None, max_length=40, nullable=True)
    last_error: str | None = long_text(nullable=True)
    created_at: datetime = timestamp()
    sent_at: datetime | None = timestamp(nullable=True)
    # The same notification is queued once: a second queue_email with the key is a no-op.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True, nullable=True)
    # A bid receipt names who bid: hidden from the outbox until this tender's submission
    # deadline has passed (read live, as for sealed audit events).
    sealed_tender_id: int | None = Field(
        default=None, foreign_key="tender.id", index=True, nullable=True
    )
