"""Each person's choice per kind of message, digests waiting for 07:00, and the marks that
make scheduled messages go out once."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lap_market.modeling import fk, id_field, long_text, text, timestamp


class NotificationPreference(SQLModel, table=True):
    """How one person wants one kind of message: immediate, daily or off (absent: immediate)."""

    __table_args__ = (sa.UniqueConstraint("user_id", "kind"),)

    id: int | None = id_field()
    user_id: int = fk("user.id")
    kind: str = text(40)
    mode: str = text(20)
    updated_at: datetime = timestamp()


class DigestItem(SQLModel, table=True):
    """A message held for the recipient's daily digest (07:00 London time)."""

    __table_args__ = (sa.Index("ix_digestitem_user_id_sent_at", "user_id", "sent_at"),)

    id: int | None = id_field()
    user_id: int = fk("user.id", index=False)
    kind: str = text(40)
    subject: str = text(300)
    text: str = long_text()
    link_path: str | None = Field(default=None, max_length=500, nullable=True)
    created_at: datetime = timestamp()
    sent_at: datetime | None = timestamp(nullable=True)
    # Carried to the digest email, which stays out of the admins' outbox while it is sealed.
    sealed_tender_id: int | None = Field(default=None, foreign_key="tender.id", nullable=True)


class NotificationMark(SQLModel, table=True):
    """A scheduled message that has been sent (``reminder:3:tender:7``): its unique key lets
    exactly one of two workers scanning at once send it."""

    id: int | None = id_field()
    key: str = Field(max_length=200, unique=True)
    created_at: datetime = timestamp()
