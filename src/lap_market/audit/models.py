"""The append-only audit trail."""

import secrets
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from lap_market.modeling import id_field, json_field, text, timestamp


def new_public_id() -> str:
    """22 random URL-safe characters (128 bits): they count nothing and order nothing."""
    return secrets.token_urlsafe(16)


class AuditEvent(SQLModel, table=True):
    """One recorded action. ``id`` is one global sequence and stays internal: a gap in it
    would show that a hidden (sealed) event happened. Readers see ``public_id`` only."""

    id: int | None = id_field()
    public_id: str = Field(default_factory=new_public_id, max_length=32, unique=True, index=True)
    at: datetime = timestamp()
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True, nullable=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, nullable=True
    )
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(max_length=40, index=True)
    object_id: str = text(40)
    details: dict[str, Any] = json_field()
    # Set on sealed-bid events: hidden from every reader until this tender's submission
    # deadline has passed (read live, so an amended deadline moves the seal with it).
    sealed_tender_id: int | None = Field(
        default=None, foreign_key="tender.id", index=True, nullable=True
    )
